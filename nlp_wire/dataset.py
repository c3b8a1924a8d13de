"""Labeled examples as Hugging Face ``datasets``: from wire folders, JSONL/CSV records or weak rules."""

from __future__ import annotations

import csv
import io
import itertools
import logging
import os
import random
from collections import Counter, defaultdict
from pathlib import Path
from typing import Iterable, Iterator

from .checks import whole_number
from .config import DataConfig
from .reader import _log_skip, is_record_file, iter_records, read_stories
from .story import Story, WireFormatError, _read_bytes, split_tags, story_group
from .text import model_input
from .weak_labels import TopicRules

__all__ = ["load_examples", "read_labels_file", "group_split", "parse_data_spec", "split_labels", "COLUMNS"]

logger = logging.getLogger(__name__)

COLUMNS = ("id", "group", "text", "headline", "label", "source", "weight")


def parse_data_spec(spec: str) -> tuple[str, float]:
    """``"path"`` or ``"path@weight"`` -> (path, weight). (A path may be ``SOURCE::LABELS.csv``: see
    :func:`split_labels`.) An ``@`` followed by something that is not a number is part of the path.

    Raises:
        ValueError: A weight that is not a finite number above 0 (``@0``, ``@-1``, ``@nan``, ``@inf``).
    """
    import math

    path, sep, weight = spec.rpartition("@")
    if sep and path:
        try:
            value = float(weight)
        except ValueError:
            return spec, 1.0
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"{spec}: the weight after @ must be a finite number above 0, not {weight!r}")
        return path, value
    return spec, 1.0


def split_labels(path: str) -> tuple[str, str | None]:
    """``"SOURCE::LABELS.csv"`` -> (SOURCE, LABELS.csv): a labels file given beside a source, e.g. our own
    labels for stories in ``../shared`` whose text may not be copied here. A path that exists as written,
    or whose part after the last ``::`` is not a ``.csv`` file name, is a plain source: (path, None)."""
    source, sep, labels = path.rpartition("::")
    if not sep or not source or not labels.lower().endswith(".csv") or Path(path).exists():
        return path, None
    return source, labels


def read_labels_file(path: str | Path, labels: list[str] | None = None) -> dict[str, str]:
    """Read a ``labels.csv`` (``id,label`` header; extra columns such as ``confidence`` allowed).

    Rows with an empty label (a rule abstention) are skipped.

    Raises:
        WireFormatError: Missing header, unknown label, or duplicate id, naming file and line.
    """
    path = Path(path)
    data = _read_bytes(path)
    try:
        text = data.decode("utf-8-sig")  # strict: a mangled label must not pass silently
    except UnicodeDecodeError as exc:
        raise WireFormatError("labels file is not UTF-8 text", path, data.count(b"\n", 0, exc.start) + 1) from None
    out: dict[str, str] = {}
    with io.StringIO(text, newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if not header or [h.strip().lower() for h in header[:2]] != ["id", "label"]:
            raise WireFormatError("a labels file must start with the header 'id,label'", path, 1)
        for row in reader:
            line = reader.line_num
            if not row or not any(c.strip() for c in row):
                continue
            if len(row) < 2:
                raise WireFormatError("expected 'id,label'", path, line)
            sid, label = row[0].strip(), row[1].strip()
            if not label:
                continue
            if labels is not None and label not in labels:
                raise WireFormatError(f"unknown label {label!r} (labels: {', '.join(labels)})", path, line)
            if sid in out and out[sid] != label:
                raise WireFormatError(f"id {sid!r} is labeled twice, {out[sid]!r} and {label!r}", path, line)
            out[sid] = label
    return out


def _examples_from_records(path: Path, labels: list[str], cfg: DataConfig, on_error, fields: dict,
                           gold: dict[str, str] | None = None) -> Iterator[dict]:
    """Examples of a records file: each record's own ``label``, or with ``gold`` (a labels file) the label
    it gives the record's story id; labels-file ids that match no record, and ids labeled twice, are
    logged."""
    seen: dict[str, int] = {}
    unlabeled: list[int] = []
    for no, rec in iter_records(path, on_error):
        if gold is None:
            label = rec.get("label")
            label = label.strip() if isinstance(label, str) else label
            if label is None or label == "":
                unlabeled.append(no)
                continue
        try:
            story = Story.from_record(rec, id=f"{path.stem}:{no}", path=str(path), line=no, **fields)
        except WireFormatError as err:
            if on_error is None:
                raise
            on_error(err)
            continue
        if gold is not None:
            label = gold.get(story.id)
            if label is None:
                continue
            seen[story.id] = seen.get(story.id, 0) + 1
        if label not in labels:
            raise WireFormatError(f"unknown label {label!r} (labels: {', '.join(labels)})", path, no)
        yield _example(story, label, source=str(rec.get("source") or path.stem), cfg=cfg)
    if unlabeled:  # only reached when every record was read
        logger.warning("%s: %d records have no label (none, null or empty) and were left out (lines %s%s)", path,
                       len(unlabeled), ", ".join(map(str, unlabeled[:5])), ", ..." if len(unlabeled) > 5 else "")
    if gold is not None:
        missing = [i for i in gold if i not in seen]
        twice = [i for i, n in seen.items() if n > 1]
        if missing:
            logger.warning("%s: %d labeled ids match no record (%s)", path, len(missing), ", ".join(missing[:5]))
        if twice:
            logger.warning("%s: %d labeled ids occur in more than one record (%s)", path, len(twice),
                           ", ".join(twice[:5]))


def _example(story: Story, label: str, source: str, cfg: DataConfig, weight: float = 1.0) -> dict:
    return {
        "id": story.id,
        "group": story.group or story.id,
        "text": model_input(story, cfg.max_words, cfg.lead_paragraphs),
        "headline": story.headline,
        "label": label,
        "source": source,
        "weight": weight,
    }


def _examples_from_stories(
    stories: Iterable[Story], gold: dict[str, str] | None, rules: TopicRules | None, cfg: DataConfig, source: str
) -> Iterator[dict]:
    # Related headlines carry no gold label: they always take the rules' weak one.
    related_rules = (rules or TopicRules.from_yaml()) if cfg.include_related else None
    unlabeled = abstained = 0
    seen: dict[str, str | None] = {}  # id -> the file of its first story
    twice: dict[str, list] = {}  # labeled ids that more than one story carries (same file name in two folders)
    for story in stories:
        if story.id in seen and gold is not None and story.id in gold:
            twice.setdefault(story.id, [seen[story.id]]).append(story.path)
        seen.setdefault(story.id, story.path)
        label = gold.get(story.id) if gold is not None else None
        if label is None and rules is not None:
            label = rules(story).label
            abstained += label is None
        elif label is None:
            unlabeled += 1
        if label is not None:
            yield _example(story, label, source, cfg)
        for headline in (h for block in story.related_headlines for h in block) if related_rules else ():
            tags, text = split_tags(headline)
            item = Story(id=f"{story.id}~{story_group(text)[:40]}", date=story.date, headline=text, tags=tags)
            weak = related_rules(item).label
            if weak is not None:
                yield _example(item, weak, source + ":related", cfg)
    # Only reached when every story was read (not when a limit stopped early).
    if unlabeled:
        logger.warning("%s: %d stories have no label in the labels file (or an empty one: the rules abstained) "
                       "and were left out", source, unlabeled)
    if abstained:
        logger.info("%s: the rules abstained on %d stories", source, abstained)
    if twice:
        first, paths = next(iter(twice.items()))
        logger.warning("%s: %d labeled ids belong to more than one story, and each of them got the id's label "
                       "(first: %s in %s); a story's id is its file name without .txt, so give files in different "
                       "folders different names", source, len(twice), first, ", ".join(map(str, paths[:3])))
    missing = sorted(set(gold or ()) - set(seen))
    if missing:
        hint = ("; a story's id is its file name without .txt" if any(i.lower().endswith(".txt") for i in missing)
                else "")
        logger.warning("%s: %d ids of the labels file match no story (first: %s)%s", source, len(missing),
                       ", ".join(missing[:5]), hint)


def _warn_on_small_parts(parts: dict[str, list[int]], fractions: dict[str, float], labels: list[str], source) -> None:
    """Say so when a held-out part came out empty, without a label train has, or far from its fraction.

    Small data does that: :func:`group_split` keeps a story group of each label in train and gives each
    held-out part one group per label when it can, so one group per label leaves validation empty and two
    groups per label hold out half of them.
    """
    total = len(labels)
    counts = ", ".join(f"{name} {len(idx):,}" for name, idx in parts.items())
    for part, frac in fractions.items():
        rows = parts[part]
        if not rows:
            logger.warning("%s: the %s split is empty (no label has a story group to spare for it; %s stories): "
                           "scores on it mean nothing", source, part, counts)
            continue
        missing = sorted({labels[i] for i in parts["train"]} - {labels[i] for i in rows})
        share = len(rows) / total
        what = [f"{share:.0%} of the stories, where {frac:.0%} was asked"] if not (
            frac / 2 - 0.02 <= share <= 2 * frac + 0.02) else []
        what += [f"no {', '.join(missing)}"] if missing else []
        if what:
            logger.warning("%s: the %s split has %s (%s stories): too few story groups per label for that split",
                           source, part, "; ".join(what), counts)


def group_split(labels: list[str], groups: list[str], fractions: dict[str, float], seed: int) -> dict[str, list[int]]:
    """Split row indices so that no group spans two parts, stratified by each group's majority label.

    Args:
        labels: Label of each row.
        groups: Group key of each row (versions of one story share one).
        fractions: ``{"validation": 0.1, "test": 0.1}``; the rest is ``train``.
        seed: Seed of the shuffle.

    Returns:
        ``{"train": [...], "validation": [...], ...}`` row indices in original order.
    """
    by_group: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(groups):
        by_group[g].append(i)
    by_label: dict[str, list[str]] = defaultdict(list)
    for g, rows in by_group.items():
        label = Counter(labels[i] for i in rows).most_common(1)[0][0]
        by_label[label].append(g)
    rng = random.Random(seed)
    assign: dict[str, str] = {}
    for label in sorted(by_label):
        gs = sorted(by_label[label])
        rng.shuffle(gs)
        start = 0
        for part, frac in fractions.items():
            n = int(round(frac * len(gs)))
            if frac > 0 and n == 0:
                n = 1  # every label shows up in each held-out part when it can
            n = max(0, min(n, len(gs) - start - 1))  # ... and always keeps a group in train
            for g in gs[start:start + n]:
                assign[g] = part
            start += n
        for g in gs[start:]:
            assign[g] = "train"
    parts: dict[str, list[int]] = {"train": [], **{p: [] for p in fractions}}
    for i, g in enumerate(groups):
        parts[assign[g]].append(i)
    return parts


def _drop_duplicates(rows: Iterable[dict]) -> Iterator[dict]:
    seen: set[tuple[str, str]] = set()
    dropped = 0
    for r in rows:
        key = (r["text"], r["label"])
        if key in seen:
            dropped += 1
            continue
        seen.add(key)
        yield r
    if dropped:
        logger.info("dropped %d examples whose model input and label repeat an earlier one's (data.drop_duplicates)",
                    dropped)


def load_examples(
    source: str | Path,
    labels_file: str | Path | None = None,
    *,
    weak_labels: bool | str | Path = False,
    split: bool = False,
    config: DataConfig | None = None,
    limit: int | None = None,
    shuffle: bool = False,
    errors: str = "report",
    text_field: str | None = None,
    headline_field: str | None = None,
    **overrides,
):
    """Load labeled examples as a ``datasets.Dataset`` (or a ``DatasetDict`` when ``split=True``).

    Args:
        source: A folder of wire files (with ``labels.csv`` unless ``labels_file`` or weak labels are
            given), a single wire file, or a JSONL/CSV file of records (``headline``, ``body``, ``label``).
        labels_file: A labels CSV (``id,label``); default ``SOURCE/labels.csv`` for a folder. For a
            JSONL/CSV file of records it replaces the records' own ``label`` (matched on ``id``; records
            it does not list are left out): labels we gave stories whose text lives elsewhere.
        weak_labels: Label stories with the topic rules: ``True`` for ``configs/topics.yaml`` or a path
            to a rules file. Gold labels, when present, take precedence.
        split: Return ``train``/``validation``(/``test``) split by story group, stratified by label.
        config: Data settings; keyword ``overrides`` (``max_words=64``, ``seed=1``...) replace fields.
        limit: Keep at most this many examples (after shuffling, before splitting).
        shuffle: Shuffle the examples (seeded).
        errors: ``"report"`` (log and skip) or ``"raise"`` for bad story files and bad record lines.
        text_field: In records, the field holding the story's text (``"article"``); None: ``body``,
            else ``text``. A record without it is a bad line.
        headline_field: In records, the field holding the headline; None: ``headline`` (optional).

    Returns:
        Columns ``id, group, text, headline, label (ClassLabel), source, weight``.

    Raises:
        WireFormatError: Missing source, labels file problems, unknown labels.
    """
    limit = whole_number("limit", limit, 0, optional=True)  # a numpy integer too
    import datasets

    cfg = config or DataConfig()
    if overrides:
        from dataclasses import replace

        cfg = replace(cfg, **overrides)
    labels = list(cfg.labels)
    source = Path(source)
    if not source.exists():
        raise WireFormatError("no such file or folder", source)

    rules = None
    if weak_labels:
        rules = TopicRules.from_yaml(None if weak_labels is True else weak_labels)
        missing = set(rules.labels) - set(labels)
        if missing:
            raise ValueError(f"the topic rules answer labels not configured: {sorted(missing)}")

    def report(err: WireFormatError) -> None:
        logger.warning("skipped %s", err)

    fields = {"text_field": text_field, "headline_field": headline_field}
    if labels_file is not None and not Path(labels_file).exists():
        raise WireFormatError("labels file not found", labels_file)
    if source.is_file() and is_record_file(source):
        gold = read_labels_file(labels_file, labels) if labels_file is not None else None
        rows = _examples_from_records(source, labels, cfg, None if errors == "raise" else report, fields, gold)
    else:
        gold = None
        lf = Path(labels_file) if labels_file else (source / "labels.csv" if source.is_dir() else None)
        if lf is not None and lf.exists():
            gold = read_labels_file(lf, labels)
        elif rules is None:
            raise WireFormatError(
                "no labels: put labels.csv (id,label) in the folder (`nlp-wire label FOLDER` writes one from the topic "
                "rules), give a labels file, or in Python use weak_labels=True",
                source,
            )
        labels_read = os.path.realpath(lf) if gold is not None else None

        def on_skip(skip) -> None:  # the labels file read beside the stories is no news among the paths not read
            if os.path.realpath(skip.path) != labels_read:
                _log_skip(skip)

        stories = read_stories(source, errors=errors, on_skip=on_skip, **fields)
        rows = _examples_from_stories(stories, gold, rules, cfg, source.name)

    if cfg.drop_duplicates:
        rows = _drop_duplicates(rows)
    if shuffle:
        rows = list(rows)
        random.Random(cfg.seed).shuffle(rows)
    # Without a shuffle, a limit stops the reading early: quick runs on big folders stay quick.
    rows = list(itertools.islice(rows, limit))
    if not rows:
        raise WireFormatError("no labeled examples found", source)

    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "group": datasets.Value("string"),
            "text": datasets.Value("string"),
            "headline": datasets.Value("string"),
            "label": datasets.ClassLabel(names=labels),
            "source": datasets.Value("string"),
            "weight": datasets.Value("float32"),
        }
    )
    columns = {c: [r[c] for r in rows] for c in COLUMNS}
    columns["label"] = [labels.index(v) for v in columns["label"]]
    if not split:
        return datasets.Dataset.from_dict(columns, features=features)
    fractions = {k: v for k, v in (("validation", cfg.val_size), ("test", cfg.test_size)) if v > 0}
    row_labels = [r["label"] for r in rows]
    parts = group_split(row_labels, columns["group"], fractions, cfg.seed)
    _warn_on_small_parts(parts, fractions, row_labels, source)
    full = datasets.Dataset.from_dict(columns, features=features)
    return datasets.DatasetDict({name: full.select(idx) for name, idx in parts.items()})
