"""Runs that meet trouble: a second run on one output, Ctrl-C, killed workers and main processes, a full
disk, colliding names, a finished output resumed, hostile JSONL and file names. Nothing is lost, nothing
hangs, one line says what happened and ``--resume`` goes on."""

import contextlib
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nlp_wire.cli.main import main as cli
from nlp_wire.reader import read_stories
from nlp_wire.summarize import batch
from nlp_wire.summarize.batch import errors_path_for, safe_name, summarize_folder
from nlp_wire.workers import Interrupted, WorkerDied, ordered_map

REPO = Path(__file__).resolve().parents[1]


def story(n: int) -> str:
    """An invented wire story numbered ``n``."""
    return (
        f" date 2021-06-01 Village {n} plants a cherry orchard\n"
        f"JEONJU, June 1 (Hanwire) -- Village {n} planted {n + 100} cherry trees on Tuesday, officials said.\n"
        "Volunteers from three schools helped with the planting. The first harvest is due in four years.\n(END)\n"
    )


def write_folder(root: Path, n: int, per_folder: int = 500) -> Path:
    for i in range(n):
        sub = root / f"{i // per_folder:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"s{i:05d}.txt").write_text(story(i), encoding="utf-8")
    return root


def record(i, **extra) -> str:
    return json.dumps({"id": f"r{i}", "headline": f"Village {i} plants trees",
                       "body": f"Village {i} planted trees on Tuesday. Schools helped.", **extra}) + "\n"


@contextlib.contextmanager
def interrupted_after(monkeypatch, n_units: int, trouble=KeyboardInterrupt):
    """Within the block, the writer raises ``trouble`` (a Ctrl-C by default) when it reaches input ``n_units``."""
    real = batch._Writer.write

    def write(self, unit, result):
        if self.report.units >= n_units:
            raise trouble()
        real(self, unit, result)

    with monkeypatch.context() as m:
        m.setattr(batch._Writer, "write", write)
        yield


def run_cli(capsys, *args):
    code = cli([str(a) for a in args])
    return code, capsys.readouterr().err


# -- one run per output ------------------------------------------------------------------------
def test_a_second_run_on_the_same_out_is_refused_while_the_first_lives(tmp_path):
    src = write_folder(tmp_path / "in", 3)
    out = tmp_path / "sums.jsonl"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys, time; fh = open(sys.argv[1], 'a+'); "
         "fcntl.lockf(fh, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)", str(tmp_path / ".sums.jsonl.lock")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ValueError, match="another nlp-wire run is writing it"):
            summarize_folder(src, out, workers=1, progress=False)
        assert not out.exists() and not (tmp_path / ".sums.jsonl.journal").exists()
    finally:
        holder.kill()
        holder.wait()
    assert summarize_folder(src, out, workers=1, progress=False).done == 3  # free again once it is gone
    assert not (tmp_path / ".sums.jsonl.lock").exists()


def test_folders_whose_safe_names_would_meet_get_two_folders(tmp_path):
    src = tmp_path / "in"
    clash = safe_name("x y")  # x_y-<hash>: a name a folder could have on its own
    for i, folder in enumerate(["x y", clash]):
        (src / folder).mkdir(parents=True)
        (src / folder / "a.txt").write_text(story(i), encoding="utf-8")
    out = tmp_path / "sums"
    report = summarize_folder(src, out, workers=1, progress=False)
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.txt"))
    assert report.done == 2 and len(written) == 2 and len({Path(w).parent for w in written}) == 2


def test_safe_name_keeps_clean_names_and_never_maps_two_names_to_one():
    names = ["a", "a b", safe_name("a b"), safe_name(safe_name("a b")), "a_b", "a~2", safe_name("a~2"), "x-0123abcd"]
    assert safe_name("plain-name_1.2") == "plain-name_1.2"
    assert len({safe_name(n) for n in names}) == len(names)


def test_outputs_side_by_side_have_their_own_errors_files(tmp_path):
    src = write_folder(tmp_path / "in", 2)
    (src / "00" / "bad.txt").write_text("not a story\n", encoding="utf-8")
    paths = {errors_path_for(tmp_path / n) for n in ("x.jsonl", "x.csv", "x")}
    assert len(paths) == 3
    for name in ("x.jsonl", "x.csv"):
        assert summarize_folder(src, tmp_path / name, workers=1, progress=False).failed == 1
    assert all(errors_path_for(tmp_path / n).exists() for n in ("x.jsonl", "x.csv"))


def test_a_txt_output_folder_holding_the_input_is_refused(tmp_path):
    src = write_folder(tmp_path / "in", 2)
    for out in (src, tmp_path):
        with pytest.raises(ValueError, match="holds the input"):
            summarize_folder(src, out, workers=1, progress=False)


# -- Ctrl-C, killed workers, killed commits ----------------------------------------------------
# Each story's summary waits this long in these runs (tests/data/slow_summaries.py): 2 workers do at most 400
# stories a second, so a run of thousands is still going when the test's signal lands, on any machine.
STORY_SECONDS = 0.005


def _summarize_process(src, out, *extra):
    """``nlp-wire summarize SRC --out OUT --workers 2`` in its own process group, at the slowed pace."""
    return subprocess.Popen([sys.executable, str(REPO / "tests" / "data" / "slow_summaries.py"), str(STORY_SECONDS),
                             "summarize", str(src), "--out", str(out), "--workers", "2", "--no-progress",
                             *map(str, extra)], stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})


def _wait_for_progress(partial: Path, proc, size: int = 50_000) -> None:
    """Return once the run has written ``size`` bytes of output; fail, with its stderr, when it ended first."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if partial.exists() and partial.stat().st_size >= size:
            return
        time.sleep(0.005)
    proc.kill()
    pytest.fail(f"the run made no progress (exit code {proc.poll()}): {proc.communicate()[1][-2000:]}")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("how", ["group", "main"])
def test_ctrl_c_stops_at_once_with_one_line_and_resume_finishes(tmp_path, how, sig):
    """Ctrl-C, and the SIGTERM of `timeout`, Slurm or `docker stop` (a stack dump or a bare exit 143 before)."""
    src = tmp_path / "recs.jsonl"
    src.write_text("".join(record(i) for i in range(40000)), encoding="utf-8")
    out = tmp_path / "o.jsonl"
    proc = _summarize_process(src, out, "--set", "chunk_size=16")
    partial = tmp_path / ".o.jsonl.partial"
    _wait_for_progress(partial, proc)
    written = partial.read_bytes().count(b"\n")
    if how == "group":  # a terminal's Ctrl-C (or `timeout`'s SIGTERM) reaches every process of the group
        os.killpg(proc.pid, sig)
    else:  # timeout -s INT --foreground, docker stop: the main process only
        os.kill(proc.pid, sig)
    _, err = proc.communicate(timeout=60)  # only against a hang: the whole run would take 100 s
    assert proc.returncode == 128 + sig
    lines = err.strip().splitlines()
    said = "interrupted" if sig == signal.SIGINT else "terminated (SIGTERM)"
    assert len(lines) == 1 and said in lines[0] and "--resume" in lines[0], err
    report = summarize_folder(src, out, workers=2, progress=False, resume=True)
    # The checkpoint is the one taken at Ctrl-C, not one from before, and the run stopped at once: counted in
    # stories, at most 2,000 more (5 s at the slowed pace, slower still on a busy machine) of the 40,000.
    assert written <= report.resumed < written + 2_000 and report.done == 40000
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == [f"r{i}" for i in range(40000)]


def test_sigterm_stops_classify_with_one_line_and_no_partial_output(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(record(i) for i in range(100_000)), encoding="utf-8")  # about 3 s of work
    out = tmp_path / "c.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "nlp_wire", "classify", "baseline", str(src), "--out", str(out),
                             "--workers", "2"],
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + 60
    # until it writes (a signal during the pool's forks is lost: Python ignores exceptions in fork handlers)
    while time.monotonic() < deadline and proc.poll() is None and not any(
            p.stat().st_size > 100_000 for p in tmp_path.glob(".c.jsonl*")):
        time.sleep(0.005)
    assert proc.poll() is None, proc.communicate()[1][-2000:]
    os.killpg(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and err.strip().splitlines() == ["nlp-wire classify: terminated (SIGTERM)"], err
    assert [p.name for p in tmp_path.iterdir()] == ["in.jsonl"]  # no half-written OUT, no temporary file left


def test_a_killed_worker_stops_the_run_with_an_error_resume_can_finish(tmp_path):
    src = write_folder(tmp_path / "in", 6000)
    clean, out = tmp_path / "clean.jsonl", tmp_path / "o.jsonl"
    summarize_folder(src, clean, workers=1, progress=False)
    proc = _summarize_process(src, out, "--set", "chunk_size=8")
    _wait_for_progress(tmp_path / ".o.jsonl.partial", proc)
    workers = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
    assert workers, "no worker process found"
    os.kill(int(workers[0]), signal.SIGKILL)  # as the out-of-memory killer would
    _, err = proc.communicate(timeout=60)  # the whole run would take 15 s: it cannot end before the kill
    assert proc.returncode == 1 and "worker process died" in err and "--resume" in err
    assert summarize_folder(src, out, workers=2, progress=False, resume=True).done == 6000
    assert out.read_bytes() == clean.read_bytes()


def _die(_):
    os.kill(os.getpid(), signal.SIGKILL)


def test_ordered_map_raises_worker_died_instead_of_waiting_forever():
    with pytest.raises(WorkerDied, match="worker process died"):
        list(ordered_map(_die, range(4), workers=2))


@pytest.mark.parametrize("fn", [abs, _die])
def test_ordered_map_leaves_no_worker_alive_once_it_has_ended(fn):
    """The pool's own thread reaps killed workers too: racing it must not leave one looking alive."""
    import multiprocessing

    before = set(multiprocessing.active_children())
    for _ in range(10):
        with contextlib.suppress(WorkerDied):
            list(ordered_map(fn, range(-4, 4), workers=2))
        assert set(multiprocessing.active_children()) <= before


def test_a_run_killed_while_renaming_its_files_is_finished_by_resume(tmp_path, monkeypatch):
    src = write_folder(tmp_path / "in", 5)
    (src / "00" / "bad.txt").write_text("not a story\n", encoding="utf-8")
    clean, out = tmp_path / "clean.jsonl", tmp_path / "o.jsonl"
    summarize_folder(src, clean, workers=1, progress=False)
    real_replace = os.replace

    def replace_then_die(a, b):  # the output is renamed into place, then the process "dies"
        real_replace(a, b)
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(batch.os, "replace", replace_then_die)
        with pytest.raises(KeyboardInterrupt):
            summarize_folder(src, out, workers=1, progress=False)
    assert (tmp_path / ".o.jsonl.journal").exists() and not (tmp_path / "o.jsonl.errors.jsonl").exists()
    report = summarize_folder(src, out, workers=1, progress=False, resume=True)
    assert report.finished_before and (report.done, report.failed) == (5, 1)
    assert out.read_bytes() == clean.read_bytes()
    assert errors_path_for(out).read_bytes() == errors_path_for(clean).read_bytes()
    assert not (tmp_path / ".o.jsonl.journal").exists()


def test_resume_on_a_finished_output_does_nothing(tmp_path, capsys):
    src = write_folder(tmp_path / "in", 3)
    out = tmp_path / "o.jsonl"
    summarize_folder(src, out, workers=1, progress=False)
    before = out.stat().st_mtime_ns
    code, err = run_cli(capsys, "summarize", src, "--out", out, "--resume", "--workers", 1, "--no-progress")
    assert code == 0 and "nothing to resume" in err and "finished by an earlier run with these settings (done 3," in err
    assert out.stat().st_mtime_ns == before
    code, err = run_cli(capsys, "summarize", src, "--out", out, "--resume", "--sentences", 2, "--no-progress")
    assert code == 2 and "the run that finished it used other settings (sentences 3, now 2)" in err
    assert out.stat().st_mtime_ns == before


def test_resume_with_other_settings_is_refused_by_the_cli(tmp_path, capsys, monkeypatch):
    src = write_folder(tmp_path / "in", 6)
    out = tmp_path / "o.jsonl"
    with interrupted_after(monkeypatch, 3):
        code, err = run_cli(capsys, "summarize", src, "--out", out, "--workers", 1, "--no-progress")
    assert code == 130 and "3 stories written so far" in err
    code, err = run_cli(capsys, "summarize", src, "--out", out, "--resume", "--sentences", 2, "--workers", 1)
    assert code == 2 and "other settings (sentences 3, now 2)" in err


def test_after_a_second_ctrl_c_the_message_counts_what_resume_keeps(tmp_path, capsys, monkeypatch):
    """A second Ctrl-C skips the last checkpoint: the message said every story written, --resume kept fewer."""
    from nlp_wire import workers

    src = write_folder(tmp_path / "in", 6)
    out = tmp_path / "o.jsonl"
    monkeypatch.setattr(workers._Flag, "twice", lambda self: True)  # as if Ctrl-C came twice
    with interrupted_after(monkeypatch, 3):
        code, err = run_cli(capsys, "summarize", src, "--out", out, "--workers", 1, "--no-progress")
    assert code == 130 and "interrupted: 0 stories written so far" in err  # no checkpoint was made
    monkeypatch.undo()
    code, err = run_cli(capsys, "summarize", src, "--out", out, "--resume", "--workers", 1, "--no-progress")
    assert code == 0 and "resuming after" not in err and "done 6," in err


def test_killed_txt_runs_leave_no_temporary_files_behind(tmp_path):
    src = write_folder(tmp_path / "in", 4)
    out = tmp_path / "sums"
    staging = out / ".nlp_wire-tmp"
    staging.mkdir(parents=True)
    (staging / "0123456789abcdef.tmp").write_text("")  # what a SIGKILL mid-write leaves
    (out / batch.SUMMARIES_MARK).write_text("")  # which the killed run had planted first
    summarize_folder(src, out, workers=1, progress=False)
    assert not staging.exists()
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def test_a_full_disk_names_the_output_and_how_to_go_on(tmp_path, monkeypatch, capsys):
    src = write_folder(tmp_path / "in", 4)
    out = tmp_path / "o.jsonl"

    def full(self, key, force=False):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(batch._Writer, "checkpoint", full)
    code, err = run_cli(capsys, "summarize", src, "--out", out, "--workers", 1, "--no-progress")
    assert code == 1 and "unexpected" not in err
    assert f"cannot write {out}: No space left on device" in err and "--resume" in err


# -- hostile JSONL and file names --------------------------------------------------------------
@pytest.fixture
def hostile(tmp_path):
    """A JSONL with a line nested 100k deep and lone surrogates; a folder with a file with a non-UTF-8 name."""
    root = tmp_path / "in"
    root.mkdir()
    with open(tmp_path / "recs.jsonl", "w", encoding="utf-8") as fh:
        fh.write("[" * 100_000 + "\n")
        fh.write('{"id": "r1\\ud800", "headline": "Village\\ud800 plants trees", "body": "Trees. More trees."}\n')
        fh.write('{"id": "r2", "headline": "Lone low", "body": "A lone \\udcff surrogate. Then more."}\n')
    (root / os.fsdecode(b"caf\xe9-\xff.txt")).write_text(story(7), encoding="utf-8")
    return {"jsonl": tmp_path / "recs.jsonl", "folder": root}


def test_hostile_jsonl_lines_and_file_names_are_read_or_named(hostile):
    errors = []
    stories = list(read_stories([hostile["jsonl"], hostile["folder"]], on_error=errors.append, warn=False))
    assert len(stories) == 3 and len(errors) == 1
    assert errors[0].line == 1 and "nested too deeply" in errors[0].message
    for s in stories:  # every field can be written as UTF-8
        for value in (s.id, s.path, s.headline, " ".join(s.paragraphs)):
            value.encode("utf-8")
    assert stories[0].id == "r1\ufffd" and "\ufffd" in stories[1].paragraphs[0]
    assert "\ufffd" in stories[2].id  # the file name's undecodable bytes, shown as U+FFFD


@pytest.mark.parametrize("source", ["jsonl", "folder"])
@pytest.mark.parametrize("command", [["summarize", "--out", "{tmp}/o.jsonl"], ["summarize", "--out", "{tmp}/o.csv"],
                                     ["summarize", "--out", "{tmp}/o"], ["label", "--out", "{tmp}/lab"],
                                     ["classify", "baseline"]])
def test_hostile_inputs_never_stop_a_command(hostile, tmp_path, capsys, command, source):
    args = [a.format(tmp=tmp_path) for a in command]
    if command[0] == "classify":
        args = [*args, hostile[source]]
    else:
        args = [args[0], hostile[source], *args[1:]] + (["--workers", "2", "--no-progress"] if command[0] == "summarize" else [])
    code = cli([str(a) for a in args])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "unexpected" not in captured.err and "Traceback" not in captured.err
    if command[0] == "classify":
        assert len(captured.out.splitlines()) == (2 if source == "jsonl" else 1)


def test_classify_files_with_a_killed_worker_ends_with_one_error(tmp_path, monkeypatch, capsys):
    from nlp_wire.classify import files

    src = write_folder(tmp_path / "in", 40, per_folder=10)
    monkeypatch.setattr(files, "_classify_chunk", _die)  # forked workers inherit it
    with pytest.raises(WorkerDied, match="0 stories' lines were written"):
        list(files.classify_files({"path": "baseline"}, [src], workers=2, chunk_files=5))
    code, err = run_cli(capsys, "classify", "baseline", src, "--workers", 2)
    assert code == 1 and err.strip().splitlines()[-1].startswith("nlp-wire classify: error: a worker process died")
    out = tmp_path / "labels.jsonl"
    out.write_text("an earlier run's lines\n")
    code, err = run_cli(capsys, "classify", "baseline", src, "--workers", 2, "--out", out)
    assert code == 1 and err.strip().endswith(f"out of memory?); nothing was written: {out} was left as it was")
    assert out.read_text() == "an earlier run's lines\n" and sorted(p.name for p in tmp_path.iterdir()) == ["in", out.name]


# -- workers: PID 1, lock within one process, what an early stop leaves ------------------------
def _unshare_works() -> bool:
    try:
        return subprocess.run(["unshare", "-Urpf", "--mount-proc", "true"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_a_pool_works_when_the_main_process_is_pid_1(method):
    """``docker run`` without an init makes nlp-wire PID 1: its workers' parent is PID 1 and alive."""
    if not sys.platform.startswith("linux") or not _unshare_works():
        pytest.skip("needs Linux user and PID namespaces (unshare -Urpf)")
    code = ("import multiprocessing, os; from nlp_wire.workers import ordered_map; assert os.getpid() == 1; "
            f"ctx = multiprocessing.get_context({method!r}); "
            "print([r for _, r in ordered_map(abs, [-1, -2, -3], workers=2, mp_context=ctx)])")
    done = subprocess.run(["unshare", "-Urpf", "--mount-proc", sys.executable, "-c", code], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0 and done.stdout.strip() == "[1, 2, 3]", done.stderr


def test_pool_workers_die_with_a_killed_main_process(tmp_path):
    if not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux only")
    code = ("import os, sys, time; from nlp_wire.workers import ordered_map; "
            "it = ordered_map(time.sleep, [60] * 4, workers=2); "
            "import threading; threading.Thread(target=lambda: next(it), daemon=True).start(); "
            "import multiprocessing; deadline = time.monotonic() + 60\n"
            "while len(multiprocessing.active_children()) < 2 and time.monotonic() < deadline: time.sleep(0.05)\n"
            "print(' '.join(str(p.pid) for p in multiprocessing.active_children()), flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        pids = [int(p) for p in proc.stdout.readline().split()]
    finally:
        proc.kill()
        proc.wait()
    assert pids
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}") and "Z" not in _state(p) for p in pids):
        time.sleep(0.05)
    assert not [p for p in pids if os.path.exists(f"/proc/{p}") and "Z" not in _state(p)]


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def _locked_elsewhere(lock: Path) -> bool:
    """Whether another process finds ``lock`` locked."""
    code = ("import fcntl, sys; fh = open(sys.argv[1], 'a+')\n"
            "try:\n    fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)\nexcept OSError:\n    sys.exit(3)")
    return subprocess.run([sys.executable, "-c", code, str(lock)]).returncode == 3


@pytest.mark.skipif(sys.platform == "win32", reason="no fcntl")
def test_a_second_run_in_the_same_process_is_refused_and_leaves_the_first_its_lock(tmp_path):
    """POSIX record locks belong to a process: a thread (or nested call) of the holder must be refused too."""
    src = write_folder(tmp_path / "in", 3)
    out = tmp_path / "sums.jsonl"
    lock = tmp_path / ".sums.jsonl.lock"
    held = batch._lock(out)  # a first run, still writing
    try:
        with pytest.raises(ValueError, match="another nlp-wire run is writing it"):
            summarize_folder(src, out, workers=1, progress=False)
        assert lock.exists() and _locked_elsewhere(lock)  # the refused run took nothing from the first
    finally:
        batch._unlock(held)
    assert summarize_folder(src, out, workers=1, progress=False).done == 3
    assert not lock.exists()


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open files through /proc")
def test_a_refused_resume_releases_its_lock_and_files(tmp_path):
    src = write_folder(tmp_path / "in", 3)
    out = tmp_path / "o.jsonl"
    summarize_folder(src, out, workers=1, progress=False)
    before = len(os.listdir("/proc/self/fd"))
    with pytest.raises(ValueError, match="other settings") as info:
        summarize_folder(src, out, workers=1, progress=False, resume=True, sentences=2)
    assert len(os.listdir("/proc/self/fd")) == before, info  # still held while the exception lives
    assert not (tmp_path / ".o.jsonl.lock").exists()


@pytest.mark.parametrize("trouble", [KeyboardInterrupt, lambda: OSError(errno.ENOSPC, "No space left on device")])
def test_a_pool_run_stopped_in_the_main_process_leaves_no_worker_running(tmp_path, monkeypatch, trouble):
    """Ctrl-C seen between chunks, a full disk: the workers are stopped at once, not when the exception is dropped."""
    import multiprocessing

    src = write_folder(tmp_path / "in", 40)
    with interrupted_after(monkeypatch, 5, trouble), pytest.raises((KeyboardInterrupt, OSError)) as info:
        summarize_folder(src, tmp_path / "o.jsonl", workers=2, chunk_size=1, progress=False)
    assert multiprocessing.active_children() == [], info


def test_resume_after_the_finished_txt_folder_was_deleted_writes_it_again(tmp_path):
    src = write_folder(tmp_path / "in", 3)
    for out in (tmp_path / "sums", tmp_path / "sums.jsonl"):  # the same for a folder as for a file
        summarize_folder(src, out, workers=1, progress=False)
        shutil.rmtree(out) if out.is_dir() else out.unlink()
        report = summarize_folder(src, out, workers=1, progress=False, resume=True)
        assert not report.finished_before and report.done == 3
        assert out.exists()
    assert len(list((tmp_path / "sums").rglob("*.txt"))) == 3


def test_a_file_in_the_way_inside_a_txt_output_is_named(tmp_path, capsys):
    src = write_folder(tmp_path / "in", 3)  # in/00/s0000x.txt
    out = tmp_path / "sums"
    out.mkdir()
    (out / batch.SUMMARIES_MARK).write_text("")  # an earlier run's folder (another one is refused: not ours)
    (out / "00").write_text("not a folder\n")
    code, err = run_cli(capsys, "summarize", src, "--out", out, "--workers", 1, "--no-progress")
    assert code == 2 and "None" not in err and f"{out / '00'}: a file is in the way" in err, err


@pytest.mark.parametrize("name", [b"out", b"out-\xff", b"out\tx", b"out\nx"])
def test_resume_into_a_txt_folder_keeps_the_names_repeated_ids_got(tmp_path, monkeypatch, name):
    """A resumed run gives repeated ids the names an uninterrupted one does, however OUT is spelled
    (the names log must not depend on non-UTF-8 bytes, a tab or a newline in OUT's name)."""
    src = tmp_path / "recs.jsonl"
    src.write_text("".join(record(i % 3) for i in range(9)), encoding="utf-8")  # r0 r1 r2 r0 r1 r2 ...
    clean, out = tmp_path / "clean", tmp_path / os.fsdecode(name)
    summarize_folder(src, clean, workers=1, progress=False)
    with interrupted_after(monkeypatch, 5):
        with pytest.raises(KeyboardInterrupt):
            summarize_folder(src, out, workers=1, chunk_size=1, progress=False, checkpoint_every=0)
    report = summarize_folder(src, out, workers=1, progress=False, resume=True)
    read = lambda root: {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*.txt")}
    assert report.done == 9 and len(read(out)) == 9 and read(out) == read(clean)


@pytest.mark.parametrize("other", [{"max_bytes": 100}, {"follow_symlinks": True}])
def test_resume_with_another_size_cap_or_symlink_choice_is_refused(tmp_path, monkeypatch, other):
    """Both change what is read: a resumed run with another value would mix two runs' output."""
    src = write_folder(tmp_path / "in", 6)
    out = tmp_path / "o.jsonl"
    with interrupted_after(monkeypatch, 3):
        with pytest.raises(KeyboardInterrupt):
            summarize_folder(src, out, workers=1, chunk_size=1, progress=False, checkpoint_every=0)
    with pytest.raises(ValueError, match=f"other settings \\({next(iter(other))} "):
        summarize_folder(src, out, workers=1, progress=False, resume=True, **other)
    assert summarize_folder(src, out, workers=1, progress=False, resume=True).done == 6


@pytest.mark.parametrize("torn", ["", '{"version": 1, "par'])
def test_a_run_stopped_before_its_journal_header_was_written_is_resumed_from_the_start(tmp_path, monkeypatch, torn):
    """Killed between creating the journal and writing its first line: nothing was kept, so --resume starts over."""
    src = write_folder(tmp_path / "in", 4)
    out = tmp_path / "o.jsonl"

    def killed(self, obj):
        self.journal.write(torn)
        self.journal.flush()
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(batch._Writer, "_journal_line", killed)
        with pytest.raises(KeyboardInterrupt):
            summarize_folder(src, out, workers=1, progress=False)
    assert (tmp_path / ".o.jsonl.journal").read_text() == torn
    report = summarize_folder(src, out, workers=1, progress=False, resume=True)
    assert report.done == 4 and len(out.read_text().splitlines()) == 4


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a small tmpfs in a user namespace")
def test_a_really_full_disk_is_named_once_and_resume_finishes(tmp_path):
    """ENOSPC on a real (tiny) file system: closing the partial files on the way out fails again; that
    must neither hide the message naming OUT nor leave the lock file behind."""
    if not _unshare_works() or subprocess.run(["unshare", "-Urm", "mount", "-t", "tmpfs", "tmpfs", "/mnt"],
                                              capture_output=True).returncode != 0:
        pytest.skip("needs a user namespace that may mount a tmpfs")
    src = write_folder(tmp_path / "in", 1500)
    clean = tmp_path / "clean.jsonl"
    summarize_folder(src, clean, workers=1, progress=False)
    (tmp_path / "full").mkdir()
    nlp = f"{sys.executable} -m nlp_wire summarize {src} --out {tmp_path}/full/o.jsonl --workers 1 --no-progress"
    script = (f"set -e; mount -t tmpfs -o size=64k tmpfs {tmp_path}/full\n"
              f"{nlp} 2> {tmp_path}/err1 || echo $? > {tmp_path}/rc1\n"
              f"ls -a {tmp_path}/full > {tmp_path}/left\n"
              f"mount -o remount,size=8m {tmp_path}/full\n"
              f"{nlp} --resume 2> {tmp_path}/err2\n"
              f"cp {tmp_path}/full/o.jsonl {tmp_path}/resumed.jsonl\n")
    done = subprocess.run(["unshare", "-Urm", "sh", "-c", script], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    err1 = (tmp_path / "err1").read_text()
    assert done.returncode == 0, (done.stderr, err1)
    assert (tmp_path / "rc1").read_text().strip() == "1"
    lines = [line for line in err1.splitlines() if not line.startswith("INFO")]
    assert len(lines) == 1 and f"cannot write {tmp_path}/full/o.jsonl" in lines[0] and "--resume" in lines[0], err1
    assert "[Errno" not in lines[0]  # the user's words, not Python's
    assert ".o.jsonl.lock" not in (tmp_path / "left").read_text().split()
    assert (tmp_path / "resumed.jsonl").read_bytes() == clean.read_bytes()


def test_ids_that_differ_only_in_case_get_names_apart_on_any_file_system(tmp_path, monkeypatch):
    """macOS and Windows file systems ignore case: ``A.txt`` would overwrite ``a.txt`` there."""
    src = tmp_path / "recs.jsonl"
    ids = ["Seoul", "seoul", "SEOUL", "x", "X"]
    src.write_text("".join(record(i, id=rid) for i, rid in enumerate(ids)), encoding="utf-8")
    clean, out = tmp_path / "clean", tmp_path / "out"
    summarize_folder(src, clean, workers=1, progress=False)
    names = [p.name for p in clean.rglob("*.txt")]
    assert len(names) == 5 and len({n.lower() for n in names}) == 5
    with interrupted_after(monkeypatch, 2):  # and a resumed run gives the same names
        with pytest.raises(KeyboardInterrupt):
            summarize_folder(src, out, workers=1, chunk_size=1, progress=False, checkpoint_every=0)
    summarize_folder(src, out, workers=1, progress=False, resume=True)
    assert sorted(p.name for p in out.rglob("*.txt")) == sorted(names)


def test_windows_device_names_are_never_used_as_they_are():
    """``nul.txt`` or ``con.txt`` on Windows is the device, not a file: the summary would be lost."""
    devices = ["nul", "CON", "aux", "prn", "com1", "LPT9", "con.2021"]
    for name in devices:
        assert safe_name(name).split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT9"}
    names = devices + [safe_name(n) for n in devices] + ["console", "com10", "nul_"]
    assert len({safe_name(n) for n in names}) == len(names)
    assert safe_name("console") == "console" and safe_name("com10") == "com10"


def test_an_escaping_folder_is_listed_even_when_out_has_a_non_utf8_name(tmp_path):
    src = write_folder(tmp_path / "in", 2)  # in/00/...
    out = tmp_path / os.fsdecode(b"out-\xff")
    out.mkdir()
    (out / batch.SUMMARIES_MARK).write_text("")  # an earlier run's folder (another one is refused: not ours)
    (tmp_path / "elsewhere").mkdir()
    (out / "00").symlink_to(tmp_path / "elsewhere")  # a symlink that would lead the writes out of OUT
    report = summarize_folder(src, out, workers=1, progress=False)
    assert (report.done, report.failed) == (0, 2) and not list((tmp_path / "elsewhere").iterdir())
    # nothing summarized: no errors file beside the OUT left as it was; the caller is handed the entries
    assert report.kept_out and not errors_path_for(out).exists()
    reasons = [entry["reason"] for entry in report.unwritten]
    assert len(reasons) == 2 and all("resolves outside" in r for r in reasons)
    json.dumps(report.unwritten, ensure_ascii=False).encode("utf-8")  # printable: OUT's non-UTF-8 name is escaped


def test_ctrl_c_without_a_pool_stops_within_a_second_too(tmp_path, monkeypatch):
    """workers=1 (the default on one core): Ctrl-C must not wait for the rest of a chunk of slow inputs."""
    src = write_folder(tmp_path / "in", 64)
    real = batch.get_summarizer
    calls = []

    def slow(name):
        summarize = real(name)

        def run(story, n):
            calls.append(1)
            if len(calls) == 3:  # Ctrl-C while the third story is summarized
                os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.1)
            return summarize(story, n)
        return run

    monkeypatch.setattr(batch, "get_summarizer", slow)
    with pytest.raises(Interrupted):
        summarize_folder(src, tmp_path / "o.jsonl", workers=1, progress=False)
    assert len(calls) < 10  # before: the whole chunk of 64 first (counted in stories, so a slow machine cannot fail it)
    monkeypatch.setattr(batch, "get_summarizer", real)
    assert summarize_folder(src, tmp_path / "o.jsonl", workers=1, progress=False, resume=True).done == 64


def test_deferred_interrupt_takes_sigterm_over_only_from_the_default_or_the_cli():
    """A library caller's own SIGTERM handler (or SIG_IGN) was replaced for the run."""
    from nlp_wire.workers import deferred_interrupt, sigterm_as_interrupt

    own = lambda *a: None  # noqa: E731
    previous = signal.signal(signal.SIGTERM, own)
    try:
        with deferred_interrupt():
            assert signal.getsignal(signal.SIGTERM) is own
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        with deferred_interrupt() as flag:
            os.kill(os.getpid(), signal.SIGTERM)  # the default would end pytest: the flag rises instead
            time.sleep(0.05)
            assert flag() and flag.signum == signal.SIGTERM
        with sigterm_as_interrupt(), deferred_interrupt() as flag:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)
            assert flag()
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_os_errors_are_said_in_the_users_words():
    from nlp_wire.cli.main import _said

    assert _said(OSError(28, "cannot write o.jsonl: No space left on device")) == (
        "cannot write o.jsonl: No space left on device")
    assert _said(PermissionError(13, "Permission denied", "out.jsonl")) == "out.jsonl: Permission denied"
    assert _said(OSError(18, "Invalid cross-device link", "a", None, "b")) == "a -> b: Invalid cross-device link"
