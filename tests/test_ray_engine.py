"""The Ray engine against the local one, on a local 2-CPU Ray: the same records in the same order, the
same errors file, and a rerun after a crash that skips the shards already written."""

from __future__ import annotations

import json
import logging
import shutil
from importlib.resources import files
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")

from nlp_wire.cli.main import main  # noqa: E402
from nlp_wire.engines import ray_engine  # noqa: E402
from nlp_wire.summarize.batch import summarize_folder  # noqa: E402

SAMPLE = Path(str(files("nlp_wire") / "sample_data" / "stories"))

# Invented hostile inputs, one failure each, beside two good stories.
GOOD = ("date 2021-03-04 Rain expected across the coast\nSEOUL, March 4 (Testwire) -- Heavy rain is expected on "
        "Friday. Forecasters said the wind would ease by the weekend.\nCoastal roads may close.\n(END)\n")
HOSTILE = {
    "a/good.txt": GOOD,
    "a/empty.txt": "",
    "a/binary.txt": b"\x00\xff\xfe\x00garbage\x00" * 20,
    "a/no_header.txt": "Just a line of text with no wire header at all.\n",
    "b/records.jsonl": (json.dumps({"id": "r1", "headline": "Council approves library budget",
                                    "body": "The city council approved a budget. It passed easily."}) + "\n"
                        + "{not json\n" + "[1, 2]\n" + json.dumps({"headline": 5}) + "\n"
                        + json.dumps({"headline": "Museum opens map exhibition", "body": "Old maps are shown."}) + "\n"),
    "b/c/second.txt": GOOD.replace("Rain expected", "Snow expected"),
}


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray with 2 CPUs for the module (a cluster at RAY_ADDRESS is not used by tests)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("RAY_ADDRESS", raising=False)
        ray.shutdown()
        ray_engine.connect(num_cpus=2)
        yield
        ray.shutdown()


@pytest.fixture
def hostile(make_folder):
    return make_folder(HOSTILE, "hostile")


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_classify_matches_the_local_engine(local_ray, hostile, tmp_path, capsys):
    paths = [str(SAMPLE), str(hostile), str(hostile / "b" / "records.jsonl"), str(tmp_path / "missing")]
    assert main(["-q", "classify", "baseline", *paths]) == 2  # a missing input path fails the run, the rest is done
    local = capsys.readouterr()
    out = tmp_path / "labels.jsonl"
    assert main(["-q", "classify", "baseline", *paths, "--engine", "ray", "--out", str(out)]) == 2
    ours = _lines(out)
    assert ours == local.out.splitlines()  # same records, same order
    assert len(ours) == 543 + 4 and {"good", "second"} <= {json.loads(line)["id"] for line in ours}
    local_errors = sorted(line[len("skipped: "):] for line in local.err.splitlines() if line.startswith("skipped: "))
    errors = [json.loads(line) for line in _lines(tmp_path / "labels.jsonl.errors.jsonl")]
    assert sorted(f"{e['path']}:{e['line']}: {e['reason']}" if e["line"] else f"{e['path']}: {e['reason']}"
                  for e in errors) == local_errors
    assert len(errors) == 4 + 3 and not list(tmp_path.glob(".labels.jsonl.ray"))  # shards merged and removed


def test_summarize_matches_the_local_engine(local_ray, hostile, tmp_path):
    src = tmp_path / "src"
    shutil.copytree(SAMPLE, src / "sample")
    shutil.copytree(hostile, src / "hostile")
    (src / "no_prose.txt").write_text(" date 2021-06-03 Headline only\n(END)\n", encoding="utf-8")  # listed, not written
    for name, path, failures, skipped in (("folder", src, 3, 1), ("records", hostile / "b" / "records.jsonl", 3, 0)):
        local = summarize_folder(path, tmp_path / f"{name}-local.jsonl", workers=1, progress=False)
        ours = ray_engine.summarize_to_file(path, tmp_path / f"{name}-ray.jsonl", shard_size=50, progress=False)
        assert (tmp_path / f"{name}-ray.jsonl").read_bytes() == (tmp_path / f"{name}-local.jsonl").read_bytes()
        errors = (tmp_path / f"{name}-ray.jsonl.errors.jsonl").read_bytes()
        assert errors == (tmp_path / f"{name}-local.jsonl.errors.jsonl").read_bytes()
        assert errors.count(b"\n") == failures + skipped
        assert (ours.done, ours.skipped, ours.failed) == (local.done, local.skipped, local.failed) and ours.skipped == skipped


def test_jsonl_lines_are_read_again_in_the_tasks_as_the_local_engine_reads_them(local_ray, tmp_path):
    """The driver keeps a JSONL line's offset, not its bytes (a 118 MB JSONL took 491 MB of it, now 262 MB; the
    driver alone is 214 MB): UTF-16, an over-cap line and CRLF ends still give the local engine's output."""
    from nlp_wire.reader import DEFAULT_MAX_BYTES

    src = tmp_path / "src"  # summarize reads one JSONL file (a folder's JSONL files are not stories)
    src.mkdir()
    rec = lambda i: json.dumps({"id": f"r{i}", "headline": f"Harbor {i} reopens",  # noqa: E731
                                "body": f"The harbor {i} reopened on Monday. Ferries ran again."})
    (src / "a.jsonl").write_text("\r\n".join([rec(1), rec(2), json.dumps({"body": "x" * (DEFAULT_MAX_BYTES + 10)}),
                                               rec(3), "", rec(4)]) + "\n", encoding="utf-8", newline="")
    (src / "b.jsonl").write_text("\n".join([rec(5), rec(6)]) + "\n", encoding="utf-16")
    for name, counts in (("a", (4, 1)), ("b", (2, 0))):
        local = summarize_folder(src / f"{name}.jsonl", tmp_path / f"{name}-local.jsonl", workers=1, progress=False)
        ours = ray_engine.summarize_to_file(src / f"{name}.jsonl", tmp_path / f"{name}-ray.jsonl", shard_size=2,
                                            progress=False)
        assert (tmp_path / f"{name}-ray.jsonl").read_bytes() == (tmp_path / f"{name}-local.jsonl").read_bytes()
        if counts[1]:
            assert ((tmp_path / f"{name}-ray.jsonl.errors.jsonl").read_bytes()
                    == (tmp_path / f"{name}-local.jsonl.errors.jsonl").read_bytes())
        assert (ours.done, ours.failed) == (local.done, local.failed) == counts


def test_a_jsonl_line_edited_after_the_listing_is_a_failure_not_another_story(tmp_path):
    import pyarrow as pa

    src = tmp_path / "a.jsonl"
    lines = [json.dumps({"id": f"r{i}", "headline": f"Harbor {i} reopens", "body": "Ferries ran again."})
             for i in range(3)]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows, _ = ray_engine._listing("summarize", [src], 10, None)
    assert all(row["raw"] is None and row["offset"] is not None for row in rows)  # where, not the bytes
    src.write_text("\n".join([lines[0], lines[1].replace("Ferries", "Boats"), lines[2]]) + "\n", encoding="utf-8")
    out = ray_engine._summarize_rows(pa.Table.from_pylist(rows), 2, None, "lead")
    assert [json.loads(r)["id"] for r in out["record"] if r] == ["r0"]  # r2 sits at another offset now
    assert [json.loads(e)["line"] for e in out["error"] if e] == [2, 3]
    assert all("the file changed after the run listed it" in json.loads(e)["reason"] for e in out["error"] if e)


def test_summarize_on_ray_replaces_only_its_own_output(local_ray, hostile, tmp_path):
    """The local engine refuses an existing OUT no summarize run wrote; Ray replaced it (a user's own JSONL, say).
    Ray's finished OUT is its own (a rerun replaces it) and --force replaces another file, as locally."""
    out = tmp_path / "mine.jsonl"
    out.write_text('{"mine": true}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="was not written by nlp-wire summarize"):
        ray_engine.summarize_to_file(hostile, out, progress=False)
    assert out.read_text(encoding="utf-8") == '{"mine": true}\n' and not (tmp_path / ".mine.jsonl.ray").exists()
    first = ray_engine.summarize_to_file(hostile, out, progress=False, force=True)
    assert first.done and "mine" not in out.read_text(encoding="utf-8")
    assert ray_engine.summarize_to_file(hostile, out, progress=False).done == first.done  # its own: no --force
    assert main(["-q", "summarize", str(hostile), "--out", str(tmp_path / "mine.jsonl"), "--engine", "ray"]) == 0
    (tmp_path / "mine.csv").write_text("a,b\n")  # the format is said first, not --force and then the format
    with pytest.raises(ValueError, match="the Ray engine writes a .jsonl file"):
        ray_engine.summarize_to_file(hostile, tmp_path / "mine.csv", progress=False)


def test_a_rerun_after_a_crash_skips_finished_shards(local_ray, hostile, tmp_path, monkeypatch, caplog):
    out = tmp_path / "sums.jsonl"
    real_write = ray_engine._Shards.write
    written: list[int] = []

    def crash_after_two(self, shard, rows):
        if len(written) == 2:
            raise KeyboardInterrupt  # killed with shards in flight
        written.append(shard)
        return real_write(self, shard, rows)

    monkeypatch.setattr(ray_engine._Shards, "write", crash_after_two)
    with pytest.raises(KeyboardInterrupt):
        ray_engine.summarize_to_file(hostile, out, shard_size=1, progress=False)
    assert not out.exists() and written == [0, 1]
    manifest = _lines(tmp_path / ".sums.jsonl.ray" / "manifest.jsonl")
    assert [json.loads(line).get("shard") for line in manifest[1:]] == [0, 1]

    written.clear()
    monkeypatch.setattr(ray_engine._Shards, "write", lambda self, shard, rows: written.append(shard) or real_write(self, shard, rows))
    caplog.set_level(logging.INFO, logger="nlp_wire")
    report = ray_engine.summarize_to_file(hostile, out, shard_size=1, progress=False)
    assert "2 of 5 shards already written by an earlier run" in caplog.text
    assert written == [2, 3, 4]  # shards 0-1 (two bad files) came from the manifest
    fresh = summarize_folder(hostile, tmp_path / "fresh.jsonl", workers=1, progress=False)
    assert out.read_bytes() == (tmp_path / "fresh.jsonl").read_bytes()
    assert (report.done, report.failed) == (fresh.done, fresh.failed)

    # other settings: the old shards are not reused
    written.clear()
    ray_engine.summarize_to_file(hostile, tmp_path / "two.jsonl", sentences=1, shard_size=1, progress=False)
    assert written == [0, 1, 2, 3, 4]


def test_joins_the_cluster_at_ray_address(local_ray, hostile, tmp_path):
    """A second driver (the CLI) joins the running Ray through RAY_ADDRESS instead of starting its own."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, RAY_ADDRESS=ray.get_runtime_context().gcs_address,
               PYTHONPATH=os.pathsep.join([str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")]))
    out = tmp_path / "sums.jsonl"
    proc = subprocess.run([sys.executable, "-m", "nlp_wire", "summarize", str(hostile), "--out", str(out),
                           "--engine", "ray", "--no-progress"], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"joined the cluster at {env['RAY_ADDRESS']}" in proc.stderr and "started a local Ray" not in proc.stderr
    assert len(_lines(out)) == 2 and len(_lines(tmp_path / "sums.jsonl.errors.jsonl")) == 3


@pytest.mark.parametrize("command", ["classify", "summarize"])
def test_paths_not_read_are_counted_and_listed_as_by_the_local_engine(local_ray, make_folder, tmp_path, capsys,
                                                                      command):
    src = make_folder({"good.txt": GOOD, ".hidden.txt": GOOD, "notes.md": "x"}, "skips")
    args = ["classify", "baseline", str(src)] if command == "classify" else ["summarize", str(src)]
    assert main(["-q", *args, "--out", str(tmp_path / "local.jsonl")]) == 0
    local = capsys.readouterr().err
    for _ in range(2):  # OUT inside the input folder: neither it nor its shard folder is an unread input
        assert main(["-q", *args, "--out", str(src / "ray.jsonl"), "--engine", "ray", "-v"]) == 0
        err = capsys.readouterr().err
        assert "2 paths not read (hidden 1, not .txt 1)" in local and "2 paths not read (hidden 1, not .txt 1)" in err
        assert ".hidden.txt" in err and "notes.md" in err  # --verbose lists them
    assert _lines(src / "ray.jsonl") == _lines(tmp_path / "local.jsonl")


def test_a_file_over_the_size_cap_is_listed_not_lost(local_ray, make_folder, tmp_path):
    """The Ray engine reads with the default cap (10,000,000 bytes); a file over it only reached a log line inside
    the actor: in neither the output, the errors file nor the counts."""
    src = make_folder({"good.txt": GOOD, "big.txt": GOOD + "x" * 10_000_001}, "capped")
    report = ray_engine.classify_to_file("baseline", [str(src)], tmp_path / "o.jsonl", progress=False)
    assert report.done == 1 and report.failed == 1
    (entry,) = [json.loads(line) for line in _lines(tmp_path / "o.jsonl.errors.jsonl")]
    assert entry["path"].endswith("big.txt") and entry["reason"].startswith("not read: too large (")


def test_cli_checks(tmp_path, capsys):
    assert main(["classify", "default", str(SAMPLE), "--engine", "ray"]) == 2
    assert "--engine ray needs --out" in capsys.readouterr().err
    assert main(["summarize", str(SAMPLE), "--out", str(tmp_path / "x.csv"), "--engine", "ray"]) == 2
    assert "writes a .jsonl file" in capsys.readouterr().err
    records = tmp_path / "r.jsonl"
    records.write_text('{"id": "r1", "headline": "Council approves budget", "body": "It passed."}\n')
    for command in (["classify", "baseline"], ["summarize"]):  # an output over an input is refused, not written
        assert main([*command, str(records), "--out", str(records), "--engine", "ray"]) == 2
        assert "the output would overwrite the input" in capsys.readouterr().err and "r1" in records.read_text()


@pytest.mark.parametrize("command, options, named", [
    ("classify", ["--max-bytes", "5"], "--max-bytes works"),
    ("classify", ["--follow-symlinks", "--workers", "2"], "--follow-symlinks, --workers work"),
    ("classify", ["--text-field", "article", "--max-bytes", "0"], "--text-field, --max-bytes work"),
    ("summarize", ["--workers", "1"], "--workers works"),
    ("summarize", ["--headline-field", "title", "--follow-symlinks"], "--headline-field, --follow-symlinks work"),
])
def test_cli_refuses_the_options_only_the_local_engine_reads(tmp_path, capsys, command, options, named):
    # the Ray engine reads with the default cap and fields, follows no symlink out and sizes its own pool:
    # these options were ignored in silence
    args = ["classify", "baseline", str(SAMPLE)] if command == "classify" else ["summarize", str(SAMPLE)]
    out = tmp_path / "x.jsonl"
    assert main([*args, "--engine", "ray", "--out", str(out), *options]) == 2
    # a Ray process of an earlier test may still log to this stderr ("(pid=gcs_server) ... Failed to kill actor")
    ours = [line for line in capsys.readouterr().err.splitlines() if "(pid=" not in line]
    assert ours == [f"nlp-wire {command}: error: {named} with the local engine only (not --engine ray)"]
    assert not out.exists() and not (tmp_path / ".x.jsonl.ray").exists()


@pytest.mark.slow
def test_classify_korea_dev_like_the_local_engine(local_ray, korea_dev, tmp_path, capsys):
    assert main(["-q", "classify", "baseline", str(korea_dev)]) == 0
    local = capsys.readouterr().out.splitlines()
    out = tmp_path / "labels.jsonl"
    assert main(["-q", "classify", "baseline", str(korea_dev), "--engine", "ray", "--out", str(out)]) == 0
    assert _lines(out) == local and len(local) >= 225


@pytest.mark.parametrize("command", ["classify", "summarize"])
def test_a_run_with_no_story_leaves_out_as_it_was(local_ray, make_folder, tmp_path, capsys, command):
    """Every input missing or bad: the Ray engine replaced OUT with an empty file (the local engines keep it)."""
    src = make_folder({"bad.txt": "just notes\n"}, "nostory")
    out = tmp_path / "o.jsonl"
    out.write_text('{"id": "earlier"}\n')
    args = ["classify", "baseline", str(src), str(tmp_path / "missing")] if command == "classify" else ["summarize", str(src), "--force"]
    main(["-q", *args, "--out", str(out), "--engine", "ray"])  # (--force: OUT is no summarize run's own)
    err = capsys.readouterr().err
    assert out.read_text() == '{"id": "earlier"}\n' and not (tmp_path / "o.jsonl.errors.jsonl").exists()
    assert f"skipped: {src / 'bad.txt'}:1: not a wire story" in err and "nothing written" in err
    if command == "classify":
        assert "classified 0 stories; " in err and "(no prose)" not in err  # in classify's words


def test_a_rerun_after_an_input_or_the_model_changed_starts_over(local_ray, hostile, tmp_path, monkeypatch):
    """Shards were keyed on input paths and the model path only: editing an input (or retraining into the same
    folder) between a crash and the rerun merged stale shards with fresh ones."""
    import os

    out = tmp_path / "sums.jsonl"
    real_write = ray_engine._Shards.write
    written: list[int] = []

    def crash_after_two(self, shard, rows):
        if len(written) == 2:
            raise KeyboardInterrupt
        written.append(shard)
        return real_write(self, shard, rows)

    monkeypatch.setattr(ray_engine._Shards, "write", crash_after_two)
    with pytest.raises(KeyboardInterrupt):
        ray_engine.summarize_to_file(hostile, out, shard_size=1, progress=False)
    first = sorted(p for p in hostile.rglob("*.txt"))[0]
    os.utime(first, ns=(first.stat().st_atime_ns, first.stat().st_mtime_ns + 10**9))  # edited since the crash
    written.clear()
    monkeypatch.setattr(ray_engine._Shards, "write", lambda self, shard, rows: written.append(shard) or real_write(self, shard, rows))
    ray_engine.summarize_to_file(hostile, out, shard_size=1, progress=False)
    assert written == [0, 1, 2, 3, 4]  # nothing reused

    model = tmp_path / "model"
    from nlp_wire.classify import load_classifier

    load_classifier("baseline").save_pretrained(model)
    before = ray_engine.model_stamp(str(model))
    weights = next(model.glob("*.safetensors"))
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 10**9))  # retrained in place
    assert ray_engine.model_stamp(str(model)) != before and ray_engine.model_stamp("default")


def test_workers_read_relative_paths_in_the_drivers_folder(local_ray, hostile, tmp_path, monkeypatch):
    """On a cluster a worker starts in the folder its node's `ray start` ran in: relative inputs and model folders
    are the driver's, and the records name them as the local engine does (they failed as "no such file")."""
    monkeypatch.chdir(hostile)
    rows, _ = ray_engine._listing("classify", ["a"], 1000, None)
    import pyarrow as pa

    table = pa.Table.from_pylist(rows)
    elsewhere = tmp_path / "raylet_cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # where a worker would start
    out = ray_engine._read_batch(table, cwd=str(hostile))
    assert [json.loads(e)["path"] for e in out["error"] if e] and sum(s is not None for s in out["story"]) == 1
    assert all(not json.loads(e)["reason"].startswith("no such file") for e in out["error"] if e)
    assert Path.cwd() == elsewhere  # back where it was: Ray reuses the worker for other tasks
    # a node without the driver's folder carries on: absolute inputs read, relative ones fail one by one
    good = next(row for row in rows if row["path"].endswith("good.txt"))
    absolute = pa.Table.from_pylist([{**good, "path": str(hostile / good["path"])}, good])
    out = ray_engine._read_batch(absolute, cwd=str(tmp_path / "not_on_this_node"))
    assert sum(s is not None for s in out["story"]) == 1 and "no such file" in " ".join(e for e in out["error"] if e)
    gone = tmp_path / "gone"  # a worker left in a folder since deleted still runs the next task
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    assert sum(s is not None for s in ray_engine._read_batch(table, cwd=str(hostile))["story"]) == 1
    monkeypatch.chdir(hostile)  # end to end: relative input, relative model folder, relative out
    shutil.copytree(files("nlp_wire") / "models" / "baseline", hostile / "bl")
    assert main(["-q", "classify", "bl", "a", "--engine", "ray", "--out", "labels.jsonl"]) == 0
    assert [json.loads(line)["path"] for line in _lines(hostile / "labels.jsonl")] == ["a/good.txt"]


def test_ray_refusals_come_before_any_work_in_one_line(local_ray, tmp_path, capsys):
    # more GPUs per actor than the cluster has: Ray would wait for a GPU node forever
    assert main(["classify", "baseline", str(SAMPLE), "--engine", "ray", "--num-gpus", "1",
                 "--out", str(tmp_path / "g.jsonl")]) == 2
    assert "num_gpus 1: this machine's Ray has 0 GPUs" in capsys.readouterr().err
    assert not list(tmp_path.glob(".g.jsonl.ray"))  # refused before the inputs were listed
    # a misspelt model: the local engine's one line, not a traceback per actor, and no shard folder left
    assert main(["classify", "no_such_model", str(SAMPLE), "--engine", "ray", "--out", str(tmp_path / "m.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "no_such_model" in err and "Traceback" not in err and not list(tmp_path.glob(".m.jsonl.ray"))
    assert main(["classify", "baseline", str(SAMPLE), "--engine", "ray", "--device", "gpu",
                 "--out", str(tmp_path / "d.jsonl")]) == 2
    assert "gpu" in capsys.readouterr().err


def test_small_jobs_are_cut_so_every_cpu_gets_work(local_ray):
    assert ray_engine._units_per_task(400) == 200  # 2 CPUs: two tasks, not one block of 400 on one worker
    assert ray_engine._units_per_task(5000) == ray_engine._UNITS_PER_TASK and ray_engine._units_per_task(1) == 1
    assert ray_engine._dataset([{"a": i} for i in range(400)]).num_blocks() == 2


def test_a_local_ray_is_started_even_beside_a_ray_start_cluster(monkeypatch):
    """Without RAY_ADDRESS, ray.init() would join a cluster `ray start` recorded on this machine and then refuse
    num_cpus ("When connecting to an existing cluster, num_cpus ... must not be provided")."""
    calls = []
    fake = type("FakeRay", (), {"is_initialized": staticmethod(lambda: False),
                                "init": staticmethod(lambda **kw: calls.append(kw)),
                                "cluster_resources": staticmethod(lambda: {"CPU": 4.0}), "data": ray.data})
    monkeypatch.setattr(ray_engine, "_ray", lambda: fake)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    ray_engine.connect()
    assert calls[0]["address"] == "local" and calls[0]["num_cpus"] is None  # Ray counts the CPUs (cgroup limits too)


def test_a_cluster_short_of_gpus_is_warned_once(monkeypatch, caplog):
    """On a cluster (RAY_ADDRESS set) GPU actors may wait for an autoscaled node: warn, once per job, though the
    CLI checks before listing and classify_ds checks again."""
    class Cluster:
        @staticmethod
        def cluster_resources():
            return {"CPU": 8.0}

    monkeypatch.setenv("RAY_ADDRESS", "ray://head:10001")
    monkeypatch.setattr(ray_engine, "connect", lambda num_cpus=None: Cluster)
    monkeypatch.setattr(ray_engine, "_GPU_WARNED", set())
    with caplog.at_level(logging.WARNING, logger=ray_engine.logger.name):
        ray_engine.check_gpus(1)
        ray_engine.check_gpus(1)
        ray_engine.check_gpus(0)  # no GPU asked: nothing to say
    assert [r.getMessage() for r in caplog.records] == [
        "num_gpus 1: the Ray cluster has 0 GPUs now; the job waits until a GPU node joins"]


def test_a_file_under_two_paths_given_is_one_unit_as_locally():
    """The Ray listing reads a file given twice (a folder and a file in it) once, and says so as the local engine does."""
    one = sorted(SAMPLE.glob("*.txt"))[0]
    skipped = []
    rows, _ = ray_engine._listing("classify", [str(SAMPLE), str(one)], 1000, None, on_skip=skipped.append)
    alone, _ = ray_engine._listing("classify", [str(SAMPLE)], 1000, None)
    assert [r["path"] for r in rows] == [r["path"] for r in alone]
    assert [(s.path, s.reason) for s in skipped if s.reason == "given twice"] == [(str(one), "given twice")]


def test_a_ray_run_refuses_an_out_another_run_is_writing(tmp_path, monkeypatch):
    """Two runs on one OUT mixed their shards (one with other settings wrote into the other's, which ended with
    exit 0): a Ray run takes the local engine's lock, before it connects."""
    from nlp_wire.summarize.batch import _lock, _unlock

    monkeypatch.setattr(ray_engine, "connect", lambda *a, **k: pytest.fail("connected while OUT was locked"))
    out = tmp_path / "o" / "summaries.jsonl"
    out.parent.mkdir()
    held = _lock(out)
    try:
        for run in (lambda: ray_engine.summarize_to_file(SAMPLE, out, progress=False),
                    lambda: ray_engine.classify_to_file("baseline", [SAMPLE], out, progress=False)):
            with pytest.raises(ValueError, match="another nlp-wire run is writing it"):
                run()
    finally:
        _unlock(held)
    assert not out.exists()


@pytest.mark.parametrize("folder", ["summaries.jsonl", "summaries.jsonl.errors.jsonl"])
def test_a_ray_out_or_errors_file_that_is_a_folder_is_refused_before_the_run(tmp_path, monkeypatch, folder):
    """Found at the last rename, after the whole job (exit 1; with the errors file a folder, OUT was replaced and
    the list of bad inputs lost); the local engine refuses both up front."""
    monkeypatch.setattr(ray_engine, "connect", lambda *a, **k: pytest.fail("started although OUT cannot be written"))
    (tmp_path / folder).mkdir()
    out = tmp_path / "summaries.jsonl"
    with pytest.raises(ValueError, match="is a folder"):
        ray_engine.summarize_to_file(SAMPLE, out, progress=False)
    with pytest.raises(ValueError, match="is a folder"):
        ray_engine.classify_to_file("baseline", [SAMPLE], out, progress=False)
    with pytest.raises(ValueError, match="is a folder"):
        summarize_folder(SAMPLE, out, progress=False, workers=1)


def test_an_empty_folder_exits_2_on_ray_as_locally(local_ray, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    for argv in (["summarize", str(empty), "--out", str(tmp_path / "s.jsonl")],
                 ["classify", "baseline", str(empty), "--out", str(tmp_path / "c.jsonl")]):
        assert main(["-q", *argv]) == 2
        assert main(["-q", *argv, "--engine", "ray"]) == 2
        assert "no stories found" in capsys.readouterr().err


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fake_ray(init):
    return type("FakeRay", (), {"is_initialized": staticmethod(lambda: False), "init": staticmethod(init),
                                "cluster_resources": staticmethod(lambda: {"CPU": 1.0}), "data": ray.data})


@pytest.mark.parametrize("scheme", ["", "ray://"])
def test_a_ray_address_where_nothing_answers_is_refused_before_ray_init(monkeypatch, scheme):
    """ray.init retried an address with no cluster for more than 5 minutes, printing only Ray's warnings."""
    address = f"{scheme}127.0.0.1:{_closed_port()}"
    monkeypatch.setattr(ray_engine, "_ray", lambda: _fake_ray(lambda **kw: pytest.fail("ray.init was called")))
    monkeypatch.setenv("RAY_ADDRESS", address)
    with pytest.raises(ValueError) as info:
        ray_engine.connect()
    assert str(info.value) == (f"RAY_ADDRESS={address}: no Ray cluster answers there (start one with ray start --head, "
                               "or unset RAY_ADDRESS for a local Ray)")


def test_ray_address_auto_without_a_cluster_names_ray_address_only(monkeypatch):
    """Ray's own message named an `--address` flag nlp-wire does not have."""
    def init(**kw):
        raise ConnectionError("Could not find any running Ray instance. Please specify the one to connect to by "
                              "setting `--address` flag or `RAY_ADDRESS` environment variable.")

    monkeypatch.setattr(ray_engine, "_ray", lambda: _fake_ray(init))
    monkeypatch.setenv("RAY_ADDRESS", "auto")
    with pytest.raises(ValueError, match=r"^RAY_ADDRESS=auto: no Ray cluster runs on this machine \(start one with "
                                         r"ray start --head, or unset RAY_ADDRESS for a local Ray\)$"):
        ray_engine.connect()


def test_the_cli_refuses_a_ray_address_with_no_cluster_in_seconds(hostile, tmp_path):
    import os
    import subprocess
    import sys
    import time

    address = f"127.0.0.1:{_closed_port()}"
    env = dict(os.environ, RAY_ADDRESS=address,
               PYTHONPATH=os.pathsep.join([str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")]))
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "nlp_wire", "summarize", str(hostile), "--out", str(tmp_path / "s.jsonl"),
                           "--engine", "ray", "--no-progress"], env=env, capture_output=True, text=True, timeout=90)
    assert time.monotonic() - started < 60
    assert proc.returncode == 2 and proc.stderr.splitlines() == [
        f"nlp-wire summarize: error: RAY_ADDRESS={address}: no Ray cluster answers there (start one with ray start "
        "--head, or unset RAY_ADDRESS for a local Ray)"]
    assert not list(tmp_path.glob(".s.jsonl*"))


def test_a_ray_run_prints_our_lines_only(make_folder, tmp_path):
    """Every Ray run printed Ray's notice that its local cluster uses a token and "Progress bars disabled. To enable,
    set ..." (we disabled them: the driver shows a bar of its own)."""
    import os
    import subprocess
    import sys

    src = make_folder({"a.txt": GOOD, "b.txt": GOOD.replace("Rain", "Snow")}, "src")
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")])
    proc = subprocess.run([sys.executable, "-m", "nlp_wire", "summarize", str(src), "--out", str(tmp_path / "s.jsonl"),
                           "--engine", "ray", "--no-progress"], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[-1].startswith("done 2, skipped 0") and all(line.startswith("INFO nlp_wire") for line in lines[:-1]), \
        proc.stderr


def test_a_model_the_workers_cannot_load_stops_the_run_in_one_line(local_ray, tmp_path, capsys):
    """A model the driver's checks pass (its card reads, its files are there) but the actors cannot load (a node
    without it at that path, or, here, broken weights) gave ~250 lines of tracebacks and actor restarts, and
    "unexpected ActorDiedError", exit 1."""
    from nlp_wire.resources import models_dir

    model = tmp_path / "broken"
    shutil.copytree(models_dir() / "baseline", model)
    (model / "baseline.safetensors").write_bytes(b"not the weights")
    out = tmp_path / "labels.jsonl"
    assert main(["-q", "classify", str(model), str(SAMPLE), "--engine", "ray", "--out", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"nlp-wire classify: error: model {model}: could not be loaded on the "
                                               "Ray node "), err
    assert "unreadable weights" in err[0] and err[0].endswith("every node needs the model at the same path")
    assert not out.exists() and not (tmp_path / ".labels.jsonl.ray").exists()


NO_PROSE = "date 2021-06-03 Headline only\n(END)\n"


def _interrupt_after(monkeypatch, n: int, signal_=None) -> list[int]:
    """Ctrl-C in the driver once ``n`` shards are written (or what the CLI's SIGTERM handler raises)."""
    from nlp_wire.workers import Interrupted, stopped_by

    real_write, written = ray_engine._Shards.write, []

    def write(self, shard, rows):
        if len(written) == n:
            raise KeyboardInterrupt if signal_ is None else Interrupted(stopped_by(signal_), signal_)
        written.append(shard)
        return real_write(self, shard, rows)

    monkeypatch.setattr(ray_engine._Shards, "write", write)
    return written


def _interrupted_ray_run(make_folder, tmp_path, monkeypatch, signal_=None):
    """A Ray summarize of four files in shards of two, interrupted after the first shard: (src, out, the error)."""
    src = make_folder({"a.txt": GOOD, "b.txt": NO_PROSE, "c.txt": GOOD.replace("Rain", "Snow"),
                       "d.txt": GOOD.replace("Rain", "Hail")}, "src")
    out = tmp_path / "sums.jsonl"
    _interrupt_after(monkeypatch, 1, signal_)
    with pytest.raises(KeyboardInterrupt) as info:
        ray_engine.summarize_to_file(src, out, shard_size=2, progress=False)
    monkeypatch.undo()
    return src, out, info.value


def test_ctrl_c_on_ray_says_what_is_kept_and_how_to_go_on(local_ray, make_folder, tmp_path, monkeypatch):
    """Ray said only "interrupted"."""
    from nlp_wire.workers import Interrupted

    src, out, exc = _interrupted_ray_run(make_folder, tmp_path, monkeypatch)
    assert isinstance(exc, Interrupted) and str(exc) == (
        f"interrupted: 1 of 2 shards (1 story) kept in {tmp_path / '.sums.jsonl.ray'}; "
        "rerun the same command (with --engine ray) to continue")


def test_sigterm_on_ray_says_terminated_and_keeps_the_shards(local_ray, make_folder, tmp_path, monkeypatch):
    """A scheduler's stop gave Ray's native stack dump and exit 15."""
    import signal

    from nlp_wire.workers import Interrupted

    src, out, exc = _interrupted_ray_run(make_folder, tmp_path, monkeypatch, signal.SIGTERM)
    assert isinstance(exc, Interrupted) and exc.signum == signal.SIGTERM and str(exc).startswith(
        "terminated (SIGTERM): 1 of 2 shards (1 story) kept in ")


@pytest.mark.parametrize("how", ["no room", "full during the merge"])
def test_a_merge_the_disk_cannot_hold_names_out_and_keeps_the_shards(local_ray, make_folder, tmp_path, monkeypatch,
                                                                      how):
    """The merge copies every shard while all exist: on a nearly full disk it failed after the whole job with a bare
    "[Errno 28] No space left on device" naming no file."""
    import errno
    from collections import namedtuple

    src = make_folder({"a.txt": GOOD, "c.txt": GOOD.replace("Rain", "Snow")}, "src")
    out = tmp_path / "sums.jsonl"
    if how == "no room":
        usage = namedtuple("usage", "total used free")
        monkeypatch.setattr(ray_engine.shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 100, 100))
    else:
        def full(*args, **kwargs):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(ray_engine.shutil, "copyfileobj", full)
    with pytest.raises(OSError) as info:
        ray_engine.summarize_to_file(src, out, shard_size=1, progress=False)
    said = str(info.value)
    assert info.value.errno == errno.ENOSPC and said.startswith(f"[Errno 28] cannot write {out}: ")
    assert f"the 2 finished shards stay in {tmp_path / '.sums.jsonl.ray'}: rerun the same command" in said
    if how == "no room":
        assert "merging the shards needs " in said and " bytes free beside it, and 100 bytes are" in said
    assert not out.exists() and len(list((tmp_path / ".sums.jsonl.ray").glob("shard-*.jsonl"))) >= 2
    monkeypatch.undo()
    assert ray_engine.summarize_to_file(src, out, shard_size=1, progress=False).done == 2  # the rerun merges
    assert not (tmp_path / ".sums.jsonl.ray").exists()


def test_connect_keeps_the_callers_sigterm_handler(monkeypatch):
    """ray.init installs its own SIGTERM handler (a native stack dump, then exit 15) over the CLI's."""
    import signal

    def ray_init(**kw):
        signal.signal(signal.SIGTERM, lambda *a: None)  # as Ray's driver does

    monkeypatch.setattr(ray_engine, "_ray", lambda: _fake_ray(ray_init))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    mine = lambda *a: None  # noqa: E731
    previous = signal.signal(signal.SIGTERM, mine)
    try:
        ray_engine.connect()
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt_local_after(monkeypatch, n: int) -> None:
    """Ctrl-C in a local summarize once ``n`` inputs are written."""
    from nlp_wire.summarize import batch

    real = batch._Writer.write

    def write(self, unit, result):
        if self.report.units >= n:
            raise KeyboardInterrupt
        real(self, unit, result)

    monkeypatch.setattr(batch._Writer, "write", write)


def test_a_local_resume_after_ray_says_ray_ran(local_ray, make_folder, tmp_path, monkeypatch, capsys):
    """A local --resume after an interrupted Ray run started over and left the shards beside OUT; on an OUT Ray
    finished it named a setting ("fmt None, now 'jsonl'") that was not the difference."""
    src, out, _ = _interrupted_ray_run(make_folder, tmp_path, monkeypatch)
    assert main(["-q", "summarize", str(src), "--out", str(out), "--resume"]) == 2
    assert (f"cannot resume {out} with the local engine: {tmp_path / '.sums.jsonl.ray'} holds the shards of an "
            "interrupted Ray run; rerun with --engine ray") in capsys.readouterr().err
    assert not out.exists() and (tmp_path / ".sums.jsonl.ray").is_dir()
    with monkeypatch.context() as m:  # a local run that does not finish leaves them: --engine ray still continues
        _interrupt_local_after(m, 1)
        assert main(["-q", "summarize", str(src), "--out", str(out), "--workers", "1"]) == 130
    assert (tmp_path / ".sums.jsonl.ray").is_dir()
    assert main(["-q", "summarize", str(src), "--out", str(out), "--workers", "1"]) == 0  # finished: stale now
    assert not (tmp_path / ".sums.jsonl.ray").exists()  # they stayed beside the OUT the local run wrote
    _interrupt_after(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):
        ray_engine.summarize_to_file(src, out, shard_size=2, progress=False)
    monkeypatch.undo()

    assert main(["-q", "summarize", str(src), "--out", str(out), "--engine", "ray"]) == 0
    capsys.readouterr()
    assert main(["summarize", str(src), "--out", str(out), "--resume"]) == 0  # finished by Ray, with these settings
    assert f"nothing to resume: {out} was finished by the Ray engine with these settings (done 3, skipped 1" in (
        capsys.readouterr().err)
    assert main(["summarize", str(src), "--out", str(out), "--resume", "--sentences", "2"]) == 2
    assert (f"cannot resume {out}: the run that finished it (the Ray engine) used other settings (sentences 3, now 2)"
            in capsys.readouterr().err)


def test_a_ray_run_after_an_interrupted_local_run_discards_its_partial_files(local_ray, make_folder, tmp_path,
                                                                            monkeypatch, capsys, caplog):
    """They stayed beside the OUT Ray finished, and a local --resume then resumed them over Ray's output."""

    src = make_folder({"a.txt": GOOD, "c.txt": GOOD.replace("Rain", "Snow"), "d.txt": GOOD.replace("Rain", "Hail")},
                      "src")
    out = tmp_path / "sums.jsonl"
    with monkeypatch.context() as m:
        _interrupt_local_after(m, 2)
        with pytest.raises(KeyboardInterrupt):
            summarize_folder(src, out, workers=1, progress=False, checkpoint_every=0)
    assert (tmp_path / ".sums.jsonl.journal").exists()

    def no_cluster(*args, **kwargs):
        raise ValueError("RAY_ADDRESS=auto: no Ray cluster runs on this machine")

    with monkeypatch.context() as m:  # a Ray run that never starts keeps them: a local --resume still finishes
        m.setattr(ray_engine, "connect", no_cluster)
        with pytest.raises(ValueError, match="no Ray cluster"):
            ray_engine.summarize_to_file(src, out, progress=False)
    assert (tmp_path / ".sums.jsonl.journal").exists() and (tmp_path / ".sums.jsonl.partial").exists()
    ray_engine.summarize_to_file(src, out, progress=False)
    assert "discarded the partial output an interrupted local run" in caplog.text
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".sums")) == [".sums.jsonl.done"]
    capsys.readouterr()
    assert main(["summarize", str(src), "--out", str(out), "--resume"]) == 0
    assert "was finished by the Ray engine" in capsys.readouterr().err


def test_a_rerun_counts_the_stories_resumed_and_the_bar_counts_inputs(local_ray, make_folder, tmp_path, monkeypatch):
    """The rerun's "resumed" count left out the no-prose stories twice (records already leave them out), and the
    bar, of rows in batches of 1,024, had no total and started from 0 on a rerun."""
    import io

    import tqdm

    src, out, _ = _interrupted_ray_run(make_folder, tmp_path, monkeypatch)  # shard 0: a.txt (1 story), b.txt (no prose)
    bars = []

    class Bar(tqdm.tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **{**kwargs, "disable": False, "file": io.StringIO()})
            bars.append(self)

    monkeypatch.setattr(tqdm, "tqdm", Bar)
    report = ray_engine.summarize_to_file(src, out, shard_size=2)
    assert (report.done, report.skipped, report.resumed) == (3, 1, 1)
    assert "1 resumed from the interrupted run" in report.line()
    [bar] = bars
    assert (bar.initial, bar.n, bar.total, bar.unit) == (2, 4, 4, " inputs")  # the 2 inputs of shard 0 were done


def test_shard_size_is_a_whole_number_for_both_tasks(local_ray, make_folder, tmp_path):
    """classify_to_file took np.int64(2) and failed writing its manifest ("int64 is not JSON serializable")."""
    import numpy as np

    src = make_folder({"a.txt": GOOD, "c.txt": GOOD.replace("Rain", "Snow"), "d.txt": GOOD.replace("Rain", "Hail")},
                      "src")
    with pytest.raises(ValueError, match=r"shard_size must be a whole number >= 1, not 1.5"):
        ray_engine.classify_to_file("baseline", [src], tmp_path / "c.jsonl", shard_size=1.5, progress=False)
    assert ray_engine.classify_to_file("baseline", [src], tmp_path / "c.jsonl", shard_size=np.int64(2),
                                       progress=False).done == 3
