"""Hostile inputs to the Python API (review r18): nothing dropped or blamed on the wrong thing in silence."""

from __future__ import annotations

import pytest

import nlp_wire
from nlp_wire import WireFormatError, read_stories
from nlp_wire.story import Story

TWO = (" date 2020-03-31 Police arrest fraud suspect\nSEOUL, March 31 (Yonhap) -- Police arrested a man on fraud "
       "charges.\n(END)\n date 2020-03-31 Singer tops album chart\nSEOUL, March 31 (Yonhap) -- A singer topped "
       "the album chart.\n(END)\n")


def test_a_text_of_several_stories_is_refused_by_line_not_cut_to_its_first():
    with pytest.raises(WireFormatError, match=r"item 0 of the input.*expected one story, found 2"):
        nlp_wire.load_classifier("baseline").predict([TWO])
    with pytest.raises(WireFormatError, match=r":4: expected one story, found 2 .*read_stories"):
        nlp_wire.summarize(TWO)
    assert len(list(nlp_wire.story.parse_stories(TWO))) == 2  # the way to read it, named in the message


def test_a_header_date_without_zero_padding_is_read():
    story = Story.from_string(" date 2020-3-1 Harbor cranes get new paint\nINCHEON, March 1 (Yonhap) -- Crews "
                              "repainted the cranes.\n(END)\n")
    assert str(story.date) == "2020-03-01"
    with pytest.raises(WireFormatError, match="invalid date '2020-2-30'"):
        Story.from_string(" date 2020-2-30 No such day\nSEOUL, Feb. 30 (Yonhap) -- Nothing.\n(END)\n")


def test_an_empty_dataframe_cell_is_a_missing_field():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"headline": ["Police arrest fraud suspect", float("nan"), "Minister visits flood area"],
                          "body": ["Police arrested a man on fraud charges.", "A singer topped the album chart.",
                                   pd.NA]})
    preds = nlp_wire.load_classifier("baseline").predict(frame)
    assert len(preds) == 3
    assert Story.from_record({"headline": float("nan"), "body": "Text here."}).headline == ""
    with pytest.raises(WireFormatError, match="neither 'headline' nor 'body'"):
        Story.from_record({"headline": float("nan"), "body": None})


@pytest.mark.parametrize("kwargs, message", [
    ({"sentences": 2.5}, "sentences must be a whole number >= 1, not 2.5"),
    ({"sentences": "3"}, "sentences must be a whole number >= 1, not '3'"),
    ({"max_words": 2.5}, "max_words must be a whole number >= 1 or None, not 2.5"),
    ({"workers": 1.0}, "workers must be a whole number >= 0, not 1.0"),
    ({"sentences": True}, "sentences must be a whole number >= 1, not True"),
])
def test_summarize_folder_refuses_a_bad_number_before_any_work(tmp_path, kwargs, message):
    from nlp_wire.resources import sample_stories
    from nlp_wire.summarize.batch import summarize_folder

    out = tmp_path / "s.jsonl"
    with pytest.raises(ValueError, match=message):
        summarize_folder(sample_stories(), out, progress=False, **{"workers": 1, **kwargs})
    assert not out.exists()


def test_a_summarizer_callable_must_return_sentences():
    summarize = nlp_wire.summarize
    text = "First sentence here. Second sentence there. Third one."
    with pytest.raises(TypeError, match="returned str, not a list of sentences"):
        summarize(text, method=lambda story, n: "First sentence here.")
    with pytest.raises(TypeError, match="returned NoneType"):
        summarize(text, method=lambda story, n: None)
    with pytest.raises(TypeError, match="not a string: 3"):
        summarize(text, method=lambda story, n: [3])
    gen = summarize(text, sentences=1, method=lambda story, n: (s for s in ["A.", "B."]))
    assert gen.sentences == ["A."] and gen.text == "A."  # a list, cut to the sentences asked for


def test_read_stories_reads_the_same_csv_the_dataframe_came_from(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("headline,body\n,A singer topped the album chart.\n", encoding="utf-8")
    assert [s.headline for s in read_stories(path)] == [""]


def test_a_path_meant_to_be_read_and_skipped_is_a_warning_without_a_report(tmp_path, caplog):
    import logging

    (tmp_path / "big.txt").write_text(" date 2020-03-31 Big story\nSEOUL, March 31 (Yonhap) -- " + "Words. " * 50
                                      + "\n(END)\n", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("x", encoding="utf-8")
    caplog.set_level(logging.INFO, logger="nlp_wire")
    assert list(read_stories(tmp_path, max_bytes=100)) == []
    by_level = {level: [r.getMessage() for r in caplog.records if r.levelno == level]
                for level in (logging.INFO, logging.WARNING)}
    assert len(by_level[logging.WARNING]) == 1 and "big.txt: too large" in by_level[logging.WARNING][0]
    assert any(".hidden.txt: hidden" in m for m in by_level[logging.INFO])  # a folder's other files: quiet


@pytest.mark.parametrize("call, message", [
    (lambda: list(read_stories(None)), "takes a path .* not NoneType"),
    (lambda: list(read_stories(123)), "takes a path .* not int"),
    (lambda: list(read_stories(["a.txt", None])), "paths as str or Path, not NoneType"),
    (lambda: list(read_stories("a", max_bytes=1.5)), "max_bytes must be a whole number >= 1"),
    (lambda: nlp_wire.Corpus("a", limit=-1), "limit must be a whole number >= 0"),
])
def test_bad_arguments_get_a_message_that_names_them(call, message):
    with pytest.raises((TypeError, ValueError), match=message):
        call()


def test_whole_number_arguments_take_numpy_integers_and_refuse_floats_and_bools(tmp_path):
    """One check (nlp_wire.checks.whole_number) for every count the API takes: numpy integers, as from an
    array's shape or an argmax, are whole numbers; 2.0 and True are mistakes."""
    import numpy as np

    from nlp_wire.checks import whole_number
    from nlp_wire.resources import sample_stories

    assert whole_number("n", np.int64(3), 1) == 3 and type(whole_number("n", np.int64(3), 1)) is int
    assert whole_number("n", None, 1, optional=True) is None
    for bad in (2.0, True, "3", -1, None):
        with pytest.raises(ValueError, match=r"^n must be a whole number >= 0, not "):
            whole_number("n", bad)
    (tmp_path / "labels.csv").write_text("id,label\n", encoding="utf-8")
    with pytest.raises(ValueError, match="limit must be a whole number >= 0 or None, not 1.0"):
        nlp_wire.load_examples(str(tmp_path), limit=1.0)
    assert len(nlp_wire.load_examples(str(sample_stories()), limit=np.int64(3))) == 3  # was refused
    assert nlp_wire.Corpus("a", limit=np.int64(2)).limit == 2 and type(nlp_wire.Corpus("a", limit=np.int64(2)).limit) is int


def test_summarize_folder_takes_numpy_integer_counts(tmp_path):
    """np.int64(2) passed the check, then failed the journal's JSON ("int64 is not JSON serializable"), leaving
    partial files that the next run called an interrupted run."""
    np = pytest.importorskip("numpy")
    from nlp_wire.summarize.batch import summarize_folder

    src = tmp_path / "wire"
    src.mkdir()
    (src / "a.txt").write_text(" date 2021-06-01 Harbor cranes repainted\nBUSAN, June 1 (Hanwire) -- Crews repainted "
                               "the harbor cranes on Tuesday. Work ended on Friday.\n(END)\n", encoding="utf-8")
    report = summarize_folder(src, tmp_path / "s.jsonl", sentences=np.int64(1), workers=np.int64(1), progress=False)
    assert report.done == 1 and [p.name for p in tmp_path.iterdir() if p.name.startswith(".s.jsonl.")] == [
        ".s.jsonl.done"]


def test_story_from_file_refuses_a_fifo_at_once(tmp_path):
    import os

    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    import threading

    outcome = []

    def read():
        try:
            Story.from_file(fifo)
        except WireFormatError as exc:
            outcome.append(str(exc))

    reader = threading.Thread(target=read, daemon=True)  # it waited for a writer forever: fail, do not hang
    reader.start()
    reader.join(timeout=20)
    assert outcome and "not a regular file" in outcome[0]
    with pytest.raises(WireFormatError, match="is a folder"):
        Story.from_file(tmp_path)


def test_an_unfitted_baseline_is_not_saved_and_numpy_thresholds_are_taken(tmp_path):
    np = pytest.importorskip("numpy")
    from sklearn.exceptions import NotFittedError

    from nlp_wire.classify.base import check_threshold
    from nlp_wire.classify.baseline import TfidfClassifier

    with pytest.raises(NotFittedError):
        TfidfClassifier().save_pretrained(tmp_path / "m")
    assert not (tmp_path / "m").exists()
    assert check_threshold(np.int64(0)) == 0.0 and check_threshold(np.float32(0.5)) == 0.5


def test_baseline_fit_mistakes_are_named_in_the_callers_terms():
    from nlp_wire.classify.baseline import TfidfClassifier
    from nlp_wire.config import ConfigError

    X = [f"Story {i} about the harbor cranes." for i in range(8)]
    with pytest.raises(ValueError, match=r"at least two labels \(classes\); y holds 'crime' only \(8 stories\)"):
        TfidfClassifier().fit(X, ["crime"] * 8)  # it named the class by its index: np.int64(2)
    with pytest.raises(ValueError, match=r"y mixes label names and indices \(item 0 is 2, item 1 'crime'\)"):
        TfidfClassifier().fit(X, [2, "crime"] * 4)  # it showed the 2 as '2', a name it never was
    with pytest.raises(ConfigError, match=r"'other' is not in data.labels \['a', 'b'\]: include it in labels, or pass "
                                          r"data_config=DataConfig"):
        TfidfClassifier(labels=["a", "b"]).fit(X, ["a", "b"] * 4)  # the user passed no data config at all


def test_summarize_folder_names_a_csv_of_records_as_unsupported(tmp_path):
    from nlp_wire.summarize.batch import summarize_folder

    records = tmp_path / "recs.csv"
    records.write_text('id,headline,body\nr1,Harbor cranes,"Crews repainted the cranes. Work ended."\n', encoding="utf-8")
    with pytest.raises(ValueError, match="not CSV: write the records as JSONL"):
        summarize_folder(records, tmp_path / "out.jsonl", progress=False, workers=1)
    assert not (tmp_path / "out.jsonl").exists()
