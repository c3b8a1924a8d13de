"""The error a command raises for the user's own mistakes; :func:`nlp_wire.cli.main.main` prints it in one line.

Its own module, so that the command modules need not import ``main``, which imports them.
"""

from __future__ import annotations


class UserError(Exception):
    """An error caused by the user's input: printed as one line, exit code 2."""
