"""``classify_paths`` / ``nlp-wire classify --workers N``: the same output for any number of workers,
bad inputs named, inputs consumed lazily, a killed worker stops the run instead of hanging."""

from __future__ import annotations

import json
import os
import signal

import pytest

from nlp_wire import ReadReport, read_stories
from nlp_wire.classify import load_classifier
from nlp_wire.classify.stream import classify_paths
from nlp_wire.parallel import WorkerDied, ordered_map

TOPICS = [
    ("Police arrest two suspects in phone fraud ring", "Officers detained the pair after a raid on Monday."),
    ("New COVID-19 cases fall for third day", "Health officials urged people to keep distancing."),
    ("Foreign ministers meet on trade talks", "The ministers discussed tariffs and a summit plan."),
    ("Singer tops music charts with new album", "The album sold a record number of copies in a week."),
    ("Bread prices hold steady this spring", "Bakers kept prices flat as flour costs eased."),
]


def wire(i: int) -> str:
    head, body = TOPICS[i % len(TOPICS)]
    return f" date 2024-04-{1 + i % 28:02d} {head} ({i})\nSEOUL, April 1 (Yonhap) -- {body}\n(END)\n"


@pytest.fixture(scope="module")
def model():
    return load_classifier("baseline")


@pytest.fixture
def folder(make_folder):
    files = {f"d{i % 3}/s{i:03d}.txt": wire(i) for i in range(40)}
    records = [json.dumps({"headline": TOPICS[i][0], "body": TOPICS[i][1]}) for i in range(5)]
    files.update({
        "d1/empty.txt": "",
        "d2/binary.txt": b" date 2024-01-01 Head\nText.\x00\x00\n",
        "d2/two.txt": wire(1) + wire(2),
        ".hidden.txt": wire(3),
        "big.txt": wire(4) + "x" * 4000 + "\n",
    })
    root = make_folder(files, name="stream")
    jsonl = root.parent / "records.jsonl"
    jsonl.write_text("\n".join(records[:2] + ["{not json", "[1, 2]", "x" * 3000] + records[2:]) + "\n", encoding="utf-8")
    return root, jsonl


def run(model, paths, workers, batch_size=7):
    report = ReadReport()
    out = [(i, p.label, round(p.score, 6)) for i, p in
           classify_paths(model, paths, workers=workers, batch_size=batch_size, report=report, max_bytes=2000)]
    return out, report


def test_two_workers_give_the_output_of_one(model, folder):
    root, jsonl = folder
    one, r1 = run(model, [root, jsonl], 1)
    two, r2 = run(model, [root, jsonl], 2)
    assert one == two and len(one) == 40 + 2 + 5
    assert [str(e) for e in r1.errors] == [str(e) for e in r2.errors]
    assert [(os.path.basename(e.path), e.line) for e in r1.errors] == [
        ("empty.txt", 1), ("binary.txt", 2), ("records.jsonl", 3), ("records.jsonl", 4), ("records.jsonl", 5)]
    assert r1.skipped == r2.skipped and {s.reason for s in r1.skipped} == {"hidden", "too large"}
    assert (r1.files, r1.stories) == (r2.files, r2.stories) == (44, 47)


def test_one_worker_equals_read_stories_then_predict(model, folder):
    root, jsonl = folder
    report = ReadReport()
    stories = list(read_stories([root, jsonl], on_error=report, max_bytes=2000))
    expected = [(s.id, p.label, round(p.score, 6)) for s, p in zip(stories, model.predict(stories))]
    got, streamed = run(model, [root, jsonl], 1, batch_size=5)
    assert got == expected
    assert [str(e) for e in streamed.errors] == [str(e) for e in report.errors]
    assert streamed.skipped == report.skipped and (streamed.files, streamed.stories) == (report.files, report.stories)


def test_a_chunk_of_large_files_is_predicted_in_parts(model, folder, monkeypatch):
    import nlp_wire.classify.stream as stream

    root, jsonl = folder
    whole, _ = run(model, [root, jsonl], 1, batch_size=50)
    calls = []
    real = stream._predict
    monkeypatch.setattr(stream, "_predict", lambda m, waiting, b: (calls.append(len(waiting)), real(m, waiting, b)))
    monkeypatch.setattr(stream, "_TEXT_BUDGET", 200)  # about two stories
    parts, _ = run(model, [root, jsonl], 1, batch_size=50)
    assert parts == whole
    assert max(calls) <= 3 and sum(calls) == len(whole)


def test_cli_workers_same_stdout_and_bad_files_named(folder, capsys):
    from nlp_wire.cli.main import main

    root, _ = folder
    outputs = []
    for workers in ("1", "2"):
        assert main(["-q", "classify", "baseline", str(root), "--workers", workers, "--max-bytes", "2000"]) == 0
        out, err = capsys.readouterr()
        outputs.append(out)
        assert f"skipped: {root / 'd1' / 'empty.txt'}:1: " in err and "binary.txt:2: " in err
        assert f"not read: {root / 'big.txt'}: too large (" in err
        assert "classified 42 stories; 2 bad inputs skipped; 2 paths not read (" in err
    assert outputs[0] == outputs[1]
    assert [json.loads(line)["id"] for line in outputs[0].splitlines()][:3] == ["s000", "s003", "s006"]


def _square(x):
    return x * x


def _die_on_three(x):
    if x == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return x


def test_ordered_map_keeps_order_and_pulls_lazily():
    pulled = []

    def items():
        for i in range(100):
            pulled.append(i)
            yield i

    results = ordered_map(_square, items(), workers=2, in_flight_per_worker=3)
    assert next(results) == 0
    assert len(pulled) <= 2 * 3 + 1  # a bounded number in flight, not the whole stream
    assert list(results) == [i * i for i in range(1, 100)]


def test_a_killed_worker_stops_the_run():
    with pytest.raises(WorkerDied, match="died"):
        list(ordered_map(_die_on_three, range(10), workers=2))
