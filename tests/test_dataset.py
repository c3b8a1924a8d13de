"""load_examples: labeled datasets from wire folders, records and weak rules; group-safe stratified splits."""

from __future__ import annotations

import json
import logging
from collections import Counter

import datasets
import pytest

from nlp_wire import Story, WireFormatError, load_examples, read_stories
from nlp_wire.config import DEFAULT_LABELS, DataConfig
from nlp_wire.dataset import COLUMNS, group_split, read_labels_file
from nlp_wire.story import story_group
from nlp_wire.text import model_input

# -- tiny invented corpus: four story groups per label, the first with (LEAD) and (2nd LD) versions --
HEADLINES = {
    "diplomacy": ["Foreign ministers hold talks on alliance", "Envoy urges denuclearization talks",
                  "Summit to discuss bilateral ties", "Ambassador meets vice foreign minister"],
    "covid": ["New COVID-19 cases fall again", "Coronavirus vaccine rollout widens",
              "Social distancing rules eased", "Quarantine ends for travelers"],
    "crime": ["Police arrest two fraud suspects", "Prosecutors indict bribery ring",
              "Man sentenced to prison for robbery", "Phishing scam suspects detained"],
    "entertainment": ["Boy band tops album charts", "Actress wins film award",
                      "K-pop singer announces comeback", "Drama series premiere draws fans"],
    "other": ["Bread prices hold steady", "Ferry timetable changes for spring",
              "Shipyard orders climb", "Rainy season starts early"],
}
RELATED = [["(LEAD) Police arrest harbor fraud suspects", "Bread prices hold steady"], ["New COVID-19 cases rise"]]


def wire(headline: str, lead: str, related: list[list[str]] | None = None) -> str:
    text = f" date 2024-03-04 {headline}\nSEOUL, March 4 (Yonhap) -- {lead}\nDetails followed.\n(END)\n"
    for block in related or []:
        text += "".join(f"-\n{i}\n{h}\n" for i, h in enumerate(block, 1))
    return text


def corpus_files(related_on: str | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """Wire files and their gold labels: 30 stories, 20 groups."""
    files, gold = {}, {}
    for label, heads in HEADLINES.items():
        for i, head in enumerate(heads):
            sid = f"{label}-{i}"
            files[f"{sid}.txt"] = wire(head, "Officials gave the details on Monday.",
                                       RELATED if sid == related_on else None)
            gold[sid] = label
        for tag, sid in (("LEAD", f"{label}-0-lead"), ("2nd LD", f"{label}-0-2nd")):
            files[f"{sid}.txt"] = wire(f"({tag}) {heads[0]}", f"More details emerged in the {tag} version.")
            gold[sid] = label
    return files, gold


def labels_csv(gold: dict[str, str]) -> str:
    return "id,label\n" + "".join(f"{k},{v}\n" for k, v in gold.items())


@pytest.fixture
def folder(make_folder):
    files, gold = corpus_files()
    return make_folder({**files, "labels.csv": labels_csv(gold)})


@pytest.fixture
def gold():
    return corpus_files()[1]


def as_dicts(ds) -> list[dict]:
    names = ds.features["label"].names
    return [{**row, "label": names[row["label"]]} for row in ds]


# -- a folder with labels.csv --------------------------------------------------------------------
def test_folder_with_labels_csv(folder, gold):
    ds = load_examples(folder)
    assert isinstance(ds, datasets.Dataset) and len(ds) == 30
    assert tuple(ds.column_names) == COLUMNS
    assert isinstance(ds.features["label"], datasets.ClassLabel)
    assert ds.features["label"].names == list(DEFAULT_LABELS)
    rows = {r["id"]: r for r in as_dicts(ds)}
    assert {k: r["label"] for k, r in rows.items()} == gold
    story = Story.from_file(folder / "crime-1.txt")
    assert rows["crime-1"]["text"] == model_input(story) and rows["crime-1"]["headline"] == story.headline
    assert rows["covid-0"]["group"] == rows["covid-0-lead"]["group"] == rows["covid-0-2nd"]["group"]
    assert {r["source"] for r in rows.values()} == {folder.name} and {r["weight"] for r in rows.values()} == {1.0}


def test_the_labels_file_beside_the_stories_is_not_logged_as_not_read(make_folder, gold, caplog):
    files, _ = corpus_files()
    folder = make_folder({**files, "labels.csv": labels_csv(gold), "notes.md": "x"})
    with caplog.at_level("INFO"):
        load_examples(folder)
    assert "notes.md: not .txt" in caplog.text and "labels.csv" not in caplog.text


def test_an_explicit_labels_file(make_folder, tmp_path, gold):
    files, _ = corpus_files()
    plain = make_folder(files)
    lf = tmp_path / "gold.csv"
    lf.write_text(labels_csv(gold), encoding="utf-8")
    assert len(load_examples(plain, lf)) == 30
    with pytest.raises(WireFormatError, match="labels file not found"):
        load_examples(plain, tmp_path / "missing.csv")
    with pytest.raises(WireFormatError, match="weak_labels=True"):
        load_examples(plain)


def test_stories_without_a_label_are_left_out(make_folder, gold, caplog):
    files, _ = corpus_files()
    some = dict(list(gold.items())[:10])
    some["covid-0"] = ""  # an abstention written by `nlp-wire label`
    folder = make_folder({**files, "labels.csv": labels_csv(some) + "ghost-story,other\n"})
    assert len(load_examples(folder)) == 9
    assert "no label" in caplog.text and "ghost-story" in caplog.text  # ids in labels.csv that match no story
    assert "without .txt" not in caplog.text
    caplog.clear()
    named = make_folder({**files, "labels.csv": "".join(f"{k}.txt,{v}\n" for k, v in gold.items()).join(["id,label\n", ""])})
    with pytest.raises(WireFormatError):  # no example at all
        load_examples(named)
    assert "a story's id is its file name without .txt" in caplog.text


@pytest.mark.parametrize("content, line, message", [
    ("id,label\ncovid-0,covid\ncrime-0,sports\n", 3, "unknown label 'sports'"),
    ("story,topic\ncovid-0,covid\n", 1, "header"),
    ("id,label\ncovid-0,covid\n\ncovid-0,crime\n", 4, "labeled twice"),
    ("id,label\ncovid-0\n", 2, "expected 'id,label'"),
])
def test_bad_labels_files_name_file_and_line(tmp_path, folder, content, line, message):
    lf = tmp_path / "labels-bad.csv"
    lf.write_text(content, encoding="utf-8")
    with pytest.raises(WireFormatError, match=message) as info:
        load_examples(folder, lf)
    assert str(info.value).startswith(f"{lf}:{line}: ")


def test_read_labels_file_keeps_extra_columns_out(tmp_path):
    lf = tmp_path / "labels.csv"
    lf.write_bytes(b"\xef\xbb\xbfid,label,confidence\r\na,covid,0.9\r\nb,,0.0\r\n")
    assert read_labels_file(lf, list(DEFAULT_LABELS)) == {"a": "covid"}
    lf.write_bytes(b"id,label\nc,caf\xe9\n")
    with pytest.raises(WireFormatError, match="labels.csv"):
        read_labels_file(lf)


def test_bad_story_files_are_skipped_or_raised(make_folder, gold, caplog):
    files, _ = corpus_files()
    folder = make_folder({**files, "zz-broken.txt": b"\x00\x01", "labels.csv": labels_csv(gold)})
    assert len(load_examples(folder)) == 30
    assert "zz-broken.txt:1" in caplog.text
    with pytest.raises(WireFormatError, match="binary"):
        load_examples(folder, errors="raise")


def test_missing_source(tmp_path):
    with pytest.raises(WireFormatError, match="no such file"):
        load_examples(tmp_path / "nowhere")


# -- records --------------------------------------------------------------------------------------
RECORDS = [
    {"id": "r1", "source": "feed-a", "headline": "Police arrest two fraud suspects", "body": "Officers acted.\nMore.",
     "label": "crime"},
    {"id": "r2", "source": "feed-b", "headline": "Boy band tops album charts", "body": "Fans cheered.", "label": "entertainment"},
    {"id": "r3", "headline": "Bread prices hold steady", "body": "SEOUL, May 2 (Yonhap) -- Prices held.", "label": "other"},
    {"id": "r4", "headline": "Unlabeled story", "body": "No label here.", "label": None},
]


def test_jsonl_records(tmp_path):
    p = tmp_path / "train.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in RECORDS), encoding="utf-8")
    rows = as_dicts(load_examples(p))
    assert [(r["id"], r["label"], r["source"]) for r in rows] == [
        ("r1", "crime", "feed-a"), ("r2", "entertainment", "feed-b"), ("r3", "other", "train")]
    assert rows[2]["text"] == "Bread prices hold steady. Prices held."


def test_csv_records(tmp_path):
    p = tmp_path / "train.csv"
    p.write_text('id,headline,body,label\nr1,Police arrest two fraud suspects,"Officers acted.\nMore.",crime\n'
                 "r2,Bread prices hold steady,Prices held.,other\n", encoding="utf-8")
    rows = as_dicts(load_examples(p))
    assert [(r["id"], r["label"]) for r in rows] == [("r1", "crime"), ("r2", "other")]
    assert rows[0]["text"] == "Police arrest two fraud suspects. Officers acted. More."


def test_bad_records(tmp_path):
    p = tmp_path / "train.jsonl"
    lines = [json.dumps(RECORDS[0]), "{broken", json.dumps(["a", "list"]), json.dumps(RECORDS[2])]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert [r["id"] for r in load_examples(p)] == ["r1", "r3"]  # bad lines reported and skipped
    with pytest.raises(WireFormatError, match="invalid JSON") as info:
        load_examples(p, errors="raise")
    assert str(info.value).startswith(f"{p}:2: ")
    p.write_text(json.dumps(RECORDS[0]) + "\n" + json.dumps({**RECORDS[1], "label": "sports"}) + "\n", encoding="utf-8")
    with pytest.raises(WireFormatError, match="unknown label 'sports'") as info:
        load_examples(p)
    assert str(info.value).startswith(f"{p}:2: ")


# -- weak labels and related headlines ----------------------------------------------------------------
def test_weak_labels_from_the_topic_rules(make_folder, gold):
    files, _ = corpus_files()
    rows = as_dicts(load_examples(make_folder(files), weak_labels=True, drop_duplicates=False))
    assert {r["id"]: r["label"] for r in rows} == gold


def test_gold_labels_win_over_weak_ones(make_folder):
    files, _ = corpus_files()
    folder = make_folder({**files, "labels.csv": "id,label\ncrime-0,other\n"})
    rows = {r["id"]: r["label"] for r in as_dicts(load_examples(folder, weak_labels=True))}
    assert rows["crime-0"] == "other" and rows["crime-1"] == "crime"


def test_weak_labels_from_a_rules_file(make_folder, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("topics:\n  crime: {words: {police: 3}}\n", encoding="utf-8")
    files, _ = corpus_files()
    rows = as_dicts(load_examples(make_folder(files), weak_labels=rules))
    assert {r["label"] for r in rows if r["id"].startswith("crime-0")} == {"crime"}
    assert Counter(r["label"] for r in rows) == Counter({"other": 27, "crime": 3})
    rules.write_text("topics:\n  sport: {words: {goal: 3}}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="sport"):
        load_examples(make_folder(files), weak_labels=rules)


@pytest.mark.parametrize("weak", [True, False])
def test_related_headlines_as_extra_examples(make_folder, gold, weak):
    files, _ = corpus_files(related_on="other-2")
    folder = make_folder({**files, "labels.csv": labels_csv(gold)})
    assert len(load_examples(folder, weak_labels=weak)) == 30  # off by default
    rows = as_dicts(load_examples(folder, weak_labels=weak, include_related=True, drop_duplicates=False))
    extra = [r for r in rows if r["source"].endswith(":related")]
    assert [(r["headline"], r["label"]) for r in extra] == [
        ("Police arrest harbor fraud suspects", "crime"), ("Bread prices hold steady", "other"),
        ("New COVID-19 cases rise", "covid")]
    assert extra[0]["text"] == "Police arrest harbor fraud suspects."
    assert extra[1]["group"] == story_group("Bread prices hold steady")  # one group with the story itself
    assert len({r["id"] for r in rows}) == len(rows)


# -- duplicates, limit, shuffle ------------------------------------------------------------------------
def test_exact_duplicates_are_dropped(make_folder, gold):
    files, _ = corpus_files()
    folder = make_folder({**files, "copy.txt": files["crime-1.txt"], "labels.csv": labels_csv({**gold, "copy": "crime"})})
    assert len(load_examples(folder)) == 30
    assert len(load_examples(folder, drop_duplicates=False)) == 31


def test_limit_shuffle_and_seed(folder):
    plain = [r["id"] for r in load_examples(folder)]
    assert [r["id"] for r in load_examples(folder, limit=7)] == plain[:7]
    first = [r["id"] for r in load_examples(folder, shuffle=True, seed=1)]
    assert first == [r["id"] for r in load_examples(folder, shuffle=True, seed=1)]
    assert first != plain and sorted(first) == sorted(plain)
    assert first != [r["id"] for r in load_examples(folder, shuffle=True, seed=2)]
    assert [r["id"] for r in load_examples(folder, shuffle=True, seed=1, limit=5)] == first[:5]


def test_limit_without_shuffle_reads_only_what_it_needs(folder, count_reads):
    assert len(load_examples(folder, limit=4)) == 4
    assert len(count_reads) == 4


# -- splits ---------------------------------------------------------------------------------------
def split_groups(dd) -> dict[str, set[str]]:
    return {name: set(part["group"]) for name, part in dd.items()}


def test_split_sizes_stratification_and_group_safety(folder):
    dd = load_examples(folder, split=True, val_size=0.25, test_size=0.25)
    assert isinstance(dd, datasets.DatasetDict) and list(dd) == ["train", "validation", "test"]
    assert sum(len(p) for p in dd.values()) == 30
    # Four groups per label: two in train, one in validation, one in test.
    for part, groups in (("train", 10), ("validation", 5), ("test", 5)):
        assert len(set(dd[part]["group"])) == groups
        assert sorted(set(dd[part]["label"])) == [0, 1, 2, 3, 4], part
    groups = split_groups(dd)
    assert not (groups["train"] & groups["validation"] or groups["train"] & groups["test"]
                or groups["validation"] & groups["test"])
    versions = {part for part, p in dd.items() for r in p if r["id"].startswith("crime-0")}
    assert len(versions) == 1  # (LEAD) and (2nd LD) versions stay together
    again = load_examples(folder, split=True, val_size=0.25, test_size=0.25)
    assert {k: v["id"] for k, v in again.items()} == {k: v["id"] for k, v in dd.items()}


def test_default_split_is_train_and_validation(folder):
    dd = load_examples(folder, split=True)
    assert list(dd) == ["train", "validation"]
    assert dd["train"].features["label"].names == list(DEFAULT_LABELS)


def _records(tmp_path, per_label: int):
    p = tmp_path / f"r{per_label}.jsonl"
    rows = [{"id": f"{label}{i}", "headline": f"{label} story {i}", "body": f"Text {i} about {label}.", "label": label}
            for label in ("crime", "covid", "diplomacy", "other") for i in range(per_label)]
    p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return p


def test_a_split_that_small_data_cannot_give_is_warned_about(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="nlp_wire.dataset")
    dd = load_examples(_records(tmp_path, 1), split=True)  # one story group per label: none to spare
    assert len(dd["validation"]) == 0
    assert "the validation split is empty" in caplog.text and "train 4, validation 0" in caplog.text
    caplog.clear()
    dd = load_examples(_records(tmp_path, 2), split=True)  # two per label: val_size 0.1 holds out half
    assert len(dd["validation"]) == 4
    assert "50% of the stories, where 10% was asked" in caplog.text
    caplog.clear()
    load_examples(_records(tmp_path, 30), split=True)  # enough: nothing said
    assert caplog.text == ""


def test_no_held_out_fractions_means_train_only(folder):
    dd = load_examples(folder, split=True, val_size=0.0)
    assert list(dd) == ["train"] and len(dd["train"]) == 30


def test_group_split_keeps_every_label_in_train():
    labels = ["a", "a", "b", "b", "b", "c"]
    groups = ["g1", "g2", "g3", "g4", "g5", "g6"]
    parts = group_split(labels, groups, {"validation": 0.4, "test": 0.4}, seed=0)
    assert sorted(parts) == ["test", "train", "validation"]
    assert sorted(i for p in parts.values() for i in p) == list(range(6))
    assert {labels[i] for i in parts["train"]} == {"a", "b", "c"}


def test_group_split_uses_the_majority_label_of_a_group():
    labels = ["a", "a", "b"] + ["b"] * 4
    groups = ["g1", "g1", "g1", "g2", "g3", "g4", "g5"]
    parts = group_split(labels, groups, {"validation": 0.5}, seed=3)
    assert sorted(parts["train"] + parts["validation"]) == list(range(7))
    assert {0, 1, 2} <= set(parts["train"]) or {0, 1, 2} <= set(parts["validation"])


# -- custom labels --------------------------------------------------------------------------------
def test_custom_labels_and_order(make_folder):
    files = {"a.txt": wire("Late goal wins the cup", "The hosts won."), "b.txt": wire("Storm warning issued", "Rain is due."),
             "c.txt": wire("Bread prices hold steady", "Prices held.")}
    folder = make_folder({**files, "labels.csv": "id,label\na,sport\nb,weather\nc,misc\n"})
    cfg = DataConfig(labels=["weather", "sport", "misc"], default_label="misc")
    ds = load_examples(folder, config=cfg)
    assert ds.features["label"].names == ["weather", "sport", "misc"]
    assert ds["label"] == [1, 0, 2]
    same = load_examples(folder, labels=["weather", "sport", "misc"], default_label="misc")
    assert same["label"] == ds["label"]
    with pytest.raises(WireFormatError, match="unknown label 'sport'"):
        load_examples(folder)  # the default labels do not know 'sport'


# -- the real data (read at test time only) ------------------------------------------------------------
def test_korea_dev_gold_split(korea_dev):
    dd = load_examples(korea_dev, split=True, val_size=0.2, test_size=0.2)
    total = sum(len(p) for p in dd.values())
    assert 200 <= total <= 225  # exact duplicates dropped
    for part in dd.values():
        assert part.features["label"].names == list(DEFAULT_LABELS)
        assert sorted(set(part["label"])) == [0, 1, 2, 3, 4]
    groups = split_groups(dd)
    assert not (groups["train"] & groups["validation"] or groups["train"] & groups["test"]
                or groups["validation"] & groups["test"])
    ids = {i for p in dd.values() for i in p["id"]}
    assert ids <= {s.id for s in read_stories(korea_dev)}


def test_public_jsonl(public_train):
    ds = load_examples(public_train, limit=300)
    assert len(ds) == 300 and ds.features["label"].names == list(DEFAULT_LABELS)
    assert all(t.strip() for t in ds["text"])
    dd = load_examples(public_train, limit=1000, shuffle=True, split=True, seed=5)
    assert sum(len(p) for p in dd.values()) == 1000
    assert set(dd["train"]["group"]).isdisjoint(dd["validation"]["group"])


def test_labels_file_beside_a_records_file(tmp_path):
    """Our labels for records whose text lives elsewhere: SOURCE::LABELS.csv, matched on id; records it
    does not list are left out, whatever label they carry."""
    import json

    from nlp_wire.classify.train import load_training_data
    from nlp_wire.dataset import split_labels
    from nlp_wire.config import DataConfig, TrainConfig
    from nlp_wire.dataset import load_examples
    from nlp_wire.story import WireFormatError

    src = tmp_path / "pool.jsonl"
    src.write_text("".join(json.dumps({"id": f"s{i}", "headline": f"Headline {i}", "body": f"Body number {i}.",
                                       "label": "other" if i == 3 else None}) + "\n" for i in range(4)))
    (tmp_path / "ours.csv").write_text("id,label\ns0,crime\ns2,diplomacy\nnot_there,covid\n")
    ds = load_examples(src, tmp_path / "ours.csv", config=DataConfig(val_size=0.0))
    assert ds["id"] == ["s0", "s2"] and [ds.features["label"].int2str(v) for v in ds["label"]] == ["crime", "diplomacy"]
    assert split_labels(f"{src}::{tmp_path / 'ours.csv'}") == (str(src), str(tmp_path / "ours.csv"))
    assert split_labels(str(src)) == (str(src), None)
    full, _ = load_training_data(TrainConfig(data=DataConfig(val_size=0.0)), [f"{src}::{tmp_path / 'ours.csv'}@2"])
    assert full["id"] == ["s0", "s2"] and full["weight"] == [2.0, 2.0]
    with pytest.raises(WireFormatError, match="labels file not found"):
        load_examples(src, tmp_path / "missing.csv")


def test_labels_beside_records_match_story_ids_and_name_what_matched_nothing(tmp_path, caplog):
    import json

    from nlp_wire.dataset import split_labels

    src = tmp_path / "pool.jsonl"
    src.write_text(json.dumps({"headline": "No id here", "body": "Text one."}) + "\n"
                   + json.dumps({"id": "s1", "headline": "Has an id", "body": "Text two."}) + "\n")
    (tmp_path / "ours.csv").write_text("id,label\npool:1,crime\ns1,other\nghost,covid\n")
    with caplog.at_level("WARNING"):
        ds = load_examples(src, tmp_path / "ours.csv", config=DataConfig(val_size=0.0))
    assert ds["id"] == ["pool:1", "s1"]  # an id-less record is labeled by its story id (file stem:line)
    assert "1 labeled ids match no record (ghost)" in caplog.text
    # '::' that is not a labels file: a path that exists as written, or no .csv after the last '::'
    odd = tmp_path / "a::b.jsonl"
    odd.write_text("")
    assert split_labels(str(odd)) == (str(odd), None)
    assert split_labels("x::y/p.jsonl") == ("x::y/p.jsonl", None)
    assert split_labels("x::y/p.jsonl::l.csv") == ("x::y/p.jsonl", "l.csv")


def test_a_data_spec_weight_must_be_a_finite_positive_number():
    from nlp_wire.dataset import parse_data_spec

    assert parse_data_spec("runs/a@3") == ("runs/a", 3.0) and parse_data_spec("runs/a") == ("runs/a", 1.0)
    assert parse_data_spec("me@example/stories") == ("me@example/stories", 1.0)  # not a number: part of the path
    for bad in ("0", "-1", "nan", "inf", "-inf"):
        with pytest.raises(ValueError, match=f"weight after @ must be a finite number above 0, not '{bad}'"):
            parse_data_spec(f"runs/a@{bad}")


def test_records_without_a_label_are_left_out_with_a_warning(tmp_path, caplog):
    p = tmp_path / "r.jsonl"
    rows = [{"headline": "Envoys meet", "body": "Talks.", "label": "diplomacy"},
            {"headline": "No label", "body": "Text."}, {"headline": "Null", "body": "Text.", "label": None},
            {"headline": "Empty", "body": "Text.", "label": " "}, {"headline": "Arrest", "body": "Police.", "label": "crime"}]
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with caplog.at_level("WARNING", logger="nlp_wire.dataset"):
        ds = load_examples(p)
    assert len(ds) == 2
    assert "3 records have no label (none, null or empty) and were left out (lines 2, 3, 4)" in caplog.text


def test_one_labeled_id_on_stories_of_two_folders_is_warned(make_folder, caplog):
    """a/0001.txt and b/0001.txt share the id 0001: one labels.csv row labeled both, without a word."""
    root = make_folder({"a/0001.txt": wire("Police arrest a robber", "Police arrested a man on Monday."),
                        "b/0001.txt": wire("Singer starts a tour", "The singer began a tour on Monday."),
                        "b/0002.txt": wire("Rain ends", "Rain ended on Monday."),
                        "labels.csv": "id,label\n0001,crime\n0002,other\n"}, "dupe")
    ds = load_examples(root)
    assert sorted(ds["id"]) == ["0001", "0001", "0002"]
    warned = [r.getMessage() for r in caplog.records if "more than one story" in r.getMessage()]
    assert len(warned) == 1 and "1 labeled ids" in warned[0] and "a/0001.txt" in warned[0] and "b/0001.txt" in warned[0]


# -- guards the r16 mutation review found missing -------------------------------------------------------------
def test_a_rare_label_gets_a_validation_group_and_the_split_ignores_row_order():
    from nlp_wire.dataset import group_split

    labels = ["a"] * 40 + ["r"] * 3
    groups = [f"g{i}" for i in range(43)]
    parts = group_split(labels, groups, {"validation": 0.1}, 0)
    assert any(labels[i] == "r" for i in parts["validation"]) and any(labels[i] == "r" for i in parts["train"])
    # the same stories in another order: every group lands in the same part (majority label, sorted groups)
    order = list(reversed(range(43)))
    shuffled = group_split([labels[i] for i in order], [groups[i] for i in order], {"validation": 0.1}, 0)
    where = {groups[i]: part for part, rows in parts.items() for i in rows}
    assert all(where[groups[order[j]]] == part for part, rows in shuffled.items() for j in rows)


def test_drop_duplicates_keeps_the_same_text_under_another_label():
    from nlp_wire.dataset import _drop_duplicates

    rows = [{"text": "same words", "label": "covid"}, {"text": "same words", "label": "crime"},
            {"text": "same words", "label": "covid"}]
    assert [r["label"] for r in _drop_duplicates(rows)] == ["covid", "crime"]
