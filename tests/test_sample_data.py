"""The bundled sample story folders keep their contract: one label per story file, labels from the
project's five, and every story readable with a date and a headline."""

import csv
from pathlib import Path

import pytest

import nlp_wire

SAMPLES = Path(__file__).resolve().parents[1] / "nlp_wire" / "sample_data"
LABELS = {"diplomacy", "covid", "crime", "entertainment", "other"}


@pytest.mark.parametrize("name", ["stories", "stories_defs", "stories_defs2", "stories_defs3"])
def test_sample_folder_labels_every_story_once(name):
    folder = SAMPLES / name
    with open(folder / "labels.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)), "an id labeled twice"
    assert {row["label"] for row in rows} <= LABELS
    stories = list(nlp_wire.read_stories(folder))
    assert sorted(s.id for s in stories) == sorted(ids)  # a file with two stories: FILE and FILE#2
    assert {i.split("#")[0] for i in ids} == {p.stem for p in folder.glob("*.txt")}
    assert all(s.date is not None and s.headline.strip() for s in stories)
