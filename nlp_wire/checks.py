"""Argument checks shared by the public functions (the lowest layer: it imports nothing of the package)."""

from __future__ import annotations

import numbers

__all__ = ["whole_number"]


def whole_number(name: str, value, least: int = 0, *, optional: bool = False, note: str = "") -> int | None:
    """``value`` as an ``int`` when it is a whole number ``>= least`` (a numpy integer too), else a ``ValueError``
    that names the argument.

    A bool or a float is refused, even ``2.0``: such a value is a mistake, and taken as is it fails far from
    here (a float cap skipped every file as too large; a float sentence count reached every worker, which blamed
    each input for it). With ``optional``, ``None`` passes through; ``note`` says what ``None`` means.
    """
    if value is None and optional:
        return None
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < least:
        none = f" or None{note}" if optional else ""
        raise ValueError(f"{name} must be a whole number >= {least}{none}, not {value!r}")
    return int(value)
