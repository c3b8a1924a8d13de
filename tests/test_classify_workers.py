"""nlp-wire classify --workers: the same output as one process, bad files named, order kept, bounded work in flight."""

from __future__ import annotations

import json

import pytest

from nlp_wire.classify import load_classifier
from nlp_wire.classify.files import classify_files
from nlp_wire.cli.main import main
from nlp_wire.reader import ReadReport, read_stories


def story(headline: str, body: str = "Officers detained the pair on Monday.") -> str:
    return f" date 2024-03-04 {headline}\nSEOUL, March 4 (Yonhap) -- {body}\n(END)\n"


HEADLINES = ["Police arrest two fraud suspects", "New COVID-19 cases fall", "Bread prices hold steady",
             "Minister visits flood area", "Exports rise for third month", "Court upholds ruling"]


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def folder(make_folder):
    files = {f"d{i % 3}/s{i:03d}.txt": story(HEADLINES[i % len(HEADLINES)]) for i in range(40)}
    files["d2/s005.txt"] = story("Two stories here") + story("(LEAD) Two stories here", "More came out.")
    files.update({
        ".hidden.txt": story("Hidden"),
        "notes.md": "notes",
        "big.txt": story("Long", "A long paragraph. " * 60),
        "d2/bad.txt": b"\x00\x01 binary",
        "d0/UPPER.TXT": story("Upper-case name"),
    })
    return make_folder(files)


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([*map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_classify_workers_give_the_same_output_and_name_bad_files(folder, capsys):
    outputs = {}
    for workers in (1, 2):
        code, out, err = run(capsys, "classify", "baseline", folder, "--workers", workers, "--max-bytes", 500)
        assert code == 0 and "Traceback" not in err
        outputs[workers] = out
        assert f"skipped: {folder / 'd2' / 'bad.txt'}:1: binary" in err
        assert "classified 42 stories; 1 bad input skipped; 3 paths not read (" in err
        assert "hidden 1" in err and "not .txt 1" in err and "too large 1" in err
        assert f"not read: {folder / 'big.txt'}: too large" in err
    assert outputs[1] == outputs[2]
    ids = [json.loads(line)["id"] for line in outputs[1].splitlines()]
    assert ids[:3] == ["UPPER", "s000", "s003"] and "s005#2" in ids and len(ids) == 42


def test_classify_files_keeps_the_order_across_chunks_and_jsonl_inputs(folder, make_folder):
    records = make_folder({"r.jsonl": '{"headline": "Ferry strike ends", "body": "Crews went back."}\n'
                                      '{"headline": "Port reopens"}\n'})
    load = {"path": "baseline"}
    paths = [folder / "d0", records / "r.jsonl", folder / "d1"]
    one = list(classify_files(load, paths, workers=1))
    report = ReadReport()
    two = list(classify_files(load, paths, workers=2, chunk_files=3, report=report))
    assert one == two and report.stories == len(two) == 15 + 2 + 13
    assert [json.loads(x)["id"] for x in two][15:17] == ["r:1", "r:2"]
    stories = list(read_stories(paths))  # the same answers as the Python API in this process
    preds = load_classifier("baseline").predict(stories)
    assert [json.loads(x) for x in two] == [{"id": s.id, "path": s.path, **p.to_dict()} for s, p in zip(stories, preds)]


def test_classify_memory_stays_bounded_in_flight(folder, monkeypatch):
    """At most a few chunks per worker are submitted ahead of what has been written."""
    import nlp_wire.classify.files as files

    listed, ahead = [], []
    real = files._chunks

    def counting(*args):
        for chunk in real(*args):
            listed.append(chunk)
            yield chunk

    monkeypatch.setattr(files, "_chunks", counting)
    lines = 0
    for _ in classify_files({"path": "baseline"}, [folder], workers=2, chunk_files=1):
        lines += 1
        ahead.append(len(listed) - lines)
    assert lines == 43 and len(listed) == 43  # one file a chunk (bad.txt gives no line, s005 two)
    # Never more chunks listed than the window beyond what was written (+1 for a file with no story).
    assert max(ahead) <= 2 * files._IN_FLIGHT_PER_WORKER + 1 and ahead[0] <= 2 * files._IN_FLIGHT_PER_WORKER


def test_a_chunk_of_large_files_is_predicted_in_parts(folder, monkeypatch):
    """A worker predicts once the text it holds passes the budget: same lines, never the whole chunk at once."""
    import nlp_wire.classify.files as files

    paths = [str(p) for p in sorted((folder / "d0").glob("*.txt"))]
    monkeypatch.setattr(files, "_worker", {})
    files._init_worker({"path": "baseline"}, 256, None)
    whole = files._classify_chunk(paths)
    sizes = []
    real = files.prediction_lines
    monkeypatch.setattr(files, "prediction_lines", lambda m, stories, b: (sizes.append(len(stories)), real(m, stories, b))[1])
    monkeypatch.setattr(files, "_TEXT_BUDGET", 150)  # about two stories
    assert files._classify_chunk(paths) == whole
    assert len(whole[0]) == len(paths) == 14 and max(sizes) <= 3 and sum(sizes) == 14


def test_a_given_model_is_shared_with_forked_workers_not_loaded_again(folder, monkeypatch):
    import multiprocessing

    import nlp_wire.classify as classify

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("workers are forked only where the system can")
    model = load_classifier("baseline")
    expected = list(classify_files({"path": "baseline"}, [folder / "d1"], workers=1, model=model))

    def no_loading(**load):
        raise AssertionError("the model was loaded again")

    monkeypatch.setattr(classify, "load_classifier", no_loading)  # inherited by the forked workers
    got = list(classify_files({"path": "baseline"}, [folder / "d1"], workers=2, chunk_files=2, model=model))
    assert got == expected and len(got) == 13


def test_forked_workers_run_torch_after_the_parent_did(folder):
    """A worker forked from a process that ran torch waited forever at its first parallel operation (OpenMP's
    threads do not survive a fork): ``nlp-wire classify minilm --workers 2`` hung. Run in a child with a timeout."""
    import multiprocessing
    import subprocess
    import sys

    pytest.importorskip("torch")
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("workers are forked only where the system can")
    code = f"""
import torch
from nlp_wire.classify import files
x = torch.randn(512, 512)
(x @ x).sum()  # the parent uses torch's thread pool, as loading and running a model does
real = files.prediction_lines
def heavy(model, stories, batch_size):
    (x @ x).sum()  # the work of a real-sized torch model, in the worker
    return real(model, stories, batch_size)
files.prediction_lines = heavy
print(len(list(files.classify_files({{"path": "baseline"}}, [{str(folder / "d1")!r}], workers=2, chunk_files=2))))
"""
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("forked workers hung at their first torch operation")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["13"]


def test_default_workers_of_a_loaded_model_does_not_look_it_up_again(folder, monkeypatch):
    import os

    import nlp_wire.classify.catalog as catalog
    from nlp_wire.classify import WireClassifier
    from nlp_wire.classify.files import default_workers

    model = load_classifier("baseline")

    def no_lookup(*args, **kwargs):
        raise AssertionError("the model was looked up again (and 'default model: ...' logged twice)")

    monkeypatch.setattr(catalog, "resolve_model", no_lookup)
    assert default_workers(model) == (os.cpu_count() or 1)
    assert default_workers(WireClassifier()) == 1  # any other kind runs torch threads in one process
    assert len(list(classify_files({"path": "default"}, [folder / "d1"], workers=0, model=model))) == 13


@pytest.mark.parametrize("workers", [1, 2])
def test_stories_without_words_are_counted_once_not_warned_per_batch(tmp_path, capsys, caplog, workers):
    records = [{"id": f"r{i}", "headline": "" if i % 3 == 0 else HEADLINES[i % len(HEADLINES)],
                "body": "SEOUL, March 4 (Yonhap) --" if i % 3 == 0 else "Officers detained the pair."}
               for i in range(300)]
    (tmp_path / "r.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    with caplog.at_level("WARNING"):
        code, out, err = run(capsys, "classify", "baseline", tmp_path / "r.jsonl", "--batch-size", 64,
                             "--workers", workers)
    assert code == 0 and "classified 300 stories; 0 bad inputs skipped; 100 without words got 'other'" in err
    assert "no words" not in caplog.text + err  # one count in the summary, not a warning per batch
    answers = [json.loads(line) for line in out.splitlines()]
    assert {a["label"] for a in answers[::3]} == {"other"} and len(answers) == 300


def test_classify_to_file_takes_a_model_name_as_the_readme_shows(tmp_path):
    """The README sends Python users to classify_to_file; a model name gave "'str' object has no attribute 'get'"."""
    from nlp_wire.classify.files import classify_to_file
    from nlp_wire.resources import sample_stories

    report = classify_to_file("baseline", sample_stories(), tmp_path / "o.jsonl", workers=1)
    assert report.stories == len((tmp_path / "o.jsonl").read_text().splitlines()) > 0
    with pytest.raises(TypeError, match="model folder or name"):
        classify_to_file(3, sample_stories(), tmp_path / "p.jsonl")


@pytest.mark.parametrize("workers", [1, 2])
def test_a_file_under_two_paths_given_is_read_once_and_named(folder, workers):
    """``classify wire/ wire/a.txt`` (or a folder given twice, or a link to a file met already): each story is
    answered once, the later meeting is a path not read ("given twice") naming the first."""
    one = folder / "d0" / "s000.txt"
    (folder.parent / "link.txt").symlink_to(one)
    report = ReadReport()
    lines = list(classify_files("baseline", [folder, one, folder / "d1", folder.parent / "link.txt"],
                                workers=workers, report=report, warn=False))
    alone = list(classify_files("baseline", [folder], workers=1, warn=False))
    assert lines == alone
    repeated = [s for s in report.skipped if s.reason == "given twice"]
    assert sorted(s.path for s in repeated) == sorted([str(one), str(folder.parent / "link.txt")]
                                                      + [str(p) for p in (folder / "d1").glob("*.txt")])
    assert all(s.detail.startswith(f"read as {folder}") for s in repeated)
    stories = list(read_stories([folder, one]))
    assert len(stories) == len(list(read_stories(folder)))
