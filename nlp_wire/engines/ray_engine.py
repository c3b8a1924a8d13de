"""Batch classify and summarize on Ray Data: the local engines' own steps, spread over a cluster.

Only the orchestration is Ray's; each step calls what the local engine calls:

* **list** (driver): the input files (and JSONL lines, for summaries) in the local engine's order, each
  numbered (``seq``) and assigned to a shard of ``shard_size`` inputs;
* **read + parse** (Ray tasks): :func:`nlp_wire.reader.read_stories` on each file, bad inputs becoming
  error rows (``{"path", "line", "reason"}``) instead of stopping anything;
* **predict** (an actor pool, ``map_batches`` with a callable class): each actor loads the model once
  (``num_gpus`` each) and calls its ``predict``; summaries are plain tasks running the local summarizer;
* **write** (driver): rows stream back in input order; each finished shard is written (records and
  errors, atomically) under ``.OUT.ray/`` and recorded in its manifest, so a rerun after a crash skips
  finished shards; at the end the shards are merged into ``OUT`` and ``OUT``'s errors file (the local
  engine's ``<out>.errors.jsonl``).

Python form, for chaining into other Ray pipelines: :func:`list_inputs` -> :func:`read_stories_ds`
-> :func:`classify_ds` (or :func:`summarize_ds` on the listed inputs) -> :func:`write_ordered`, each taking
or returning a ``ray.data.Dataset``. Workers must see the input paths (a shared file system) and have
nlp_wire installed. Relative paths (inputs and the model folder) are the driver's: every task and actor works in
the driver's folder, wherever its node's Ray was started, so output records name inputs as the local engine does.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import pickle
import shutil
import signal
import socket
import time
from itertools import islice
from pathlib import Path
from typing import Iterable, Sequence

from ..atomic import atomic_write
from ..checks import whole_number
from ..classify.base import ModelLoadError
from ..classify.files import prediction_lines
from ..outputs import check_errors_file, check_not_input, counted, error_entry, inputs_only, ray_shards_path_for
from ..reader import FirstSight, iter_files, read_stories
from ..story import WireFormatError
from ..summarize import get_summarizer
from ..summarize.batch import (UNWRITTEN_SHOWN, BatchReport, _init_worker, _iter_units, _Job, _lock, _process_chunk,
                               _unlock, check_out_replaceable, digest_line, discard_interrupted_local_run, done_path_for,
                               entry_line, errors_path_for, input_stamp, skip_entries)
from ..workers import Interrupted, stopped_by

__all__ = ["connect", "check_gpus", "list_inputs", "read_stories_ds", "classify_ds", "summarize_ds", "write_ordered",
           "classify_to_file", "summarize_to_file", "DEFAULT_SHARD_SIZE"]

logger = logging.getLogger(__name__)

DEFAULT_SHARD_SIZE = 1000  # inputs (files or JSONL lines) per shard: what a crash can cost
MANIFEST_VERSION = 1
_UNITS_PER_TASK = 256  # inputs read and parsed by one Ray task: enough to hide its overhead


def _ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise ImportError("the Ray engine needs Ray Data: pip install 'nlp_wire[ray]'") from None
    return ray


def connect(num_cpus: int | None = None):
    """Join the Ray cluster at ``RAY_ADDRESS`` when it is set, else start a local Ray with ``num_cpus`` (default:
    the CPUs Ray finds here, container limits included), even when a ``ray start`` cluster runs on this machine (join that one with
    ``RAY_ADDRESS=auto``).

    Returns:
        The ``ray`` module, initialised (a running session is kept as it is).

    Raises:
        ValueError: No Ray cluster answers at ``RAY_ADDRESS`` (found within seconds: ``ray.init`` waits for minutes),
            or with ``RAY_ADDRESS=auto`` none runs on this machine.
    """
    ray = _ray()
    if not ray.is_initialized():
        address = os.environ.get("RAY_ADDRESS")
        started = time.perf_counter()
        with _keeping_sigterm_handler():
            _init(ray, address, num_cpus)
        resources = ray.cluster_resources()
        logger.info("%s Ray in %.1f s: %g CPUs, %g GPUs", f"joined the cluster at {address}:" if address else "started a local",
                    time.perf_counter() - started, resources.get("CPU", 0), resources.get("GPU", 0))
    logging.getLogger("ray.data").setLevel(logging.WARNING)  # one line per dataset run otherwise
    # "Progress bars disabled. To enable, set ...": ours are off on purpose (the driver shows one bar of its own)
    logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True  # rows come back in input order: shards finish in turn
    context.enable_progress_bars = False  # the driver shows one bar of stories
    return ray


class _Dropping(logging.Filter):
    """Drops the log records whose message starts with ``prefix``."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefix)


def _init(ray, address: str | None, num_cpus: int | None) -> None:
    if address:
        _check_address(address)
        try:
            ray.init(address=address, logging_level=logging.WARNING)
        except ConnectionError as exc:  # Ray's own words name an --address flag nlp-wire does not have
            if "Could not find any running Ray instance" in str(exc):
                raise ValueError(_no_cluster(address, "no Ray cluster runs on this machine")) from None
            raise ValueError(f"RAY_ADDRESS={address}: {exc}") from None
    else:  # "local": not the cluster a `ray start` recorded here, which refuses num_cpus
        # Ray's notice that its own local cluster uses a token is not news to our users (a warning that one runs
        # without a token is kept)
        notice = logging.getLogger("ray._private.authentication.authentication_token_setup")
        quiet = _Dropping("Token authentication is enabled")
        notice.addFilter(quiet)
        try:
            ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, logging_level=logging.WARNING)
        finally:
            notice.removeFilter(quiet)


@contextlib.contextmanager
def _keeping_sigterm_handler():
    """Put back the caller's Python SIGTERM handler after ``ray.init``, which installs its own (a native stack dump,
    then exit 15): the CLI's (nlp_wire.workers.sigterm_as_interrupt) stops a run as Ctrl-C does. A default
    handler is left to Ray's, which shuts Ray down on the way out."""
    import threading

    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM) if main else None
    try:
        yield
    finally:
        if callable(previous):
            signal.signal(signal.SIGTERM, previous)


_PROBE_SECONDS = 5.0  # to open a connection to RAY_ADDRESS: a cluster answers in well under a second


def _no_cluster(address: str, what: str) -> str:
    return f"RAY_ADDRESS={address}: {what} (start one with ray start --head, or unset RAY_ADDRESS for a local Ray)"


def _check_address(address: str) -> None:
    """Refuse a ``RAY_ADDRESS`` (``host:port``, ``ray://host[:port]``) where nothing answers, before ``ray.init``
    retries it for minutes. ``auto`` and ``local`` are Ray's to look up; an address of another form, Ray's to refuse.

    Raises:
        ValueError: Naming ``RAY_ADDRESS``.
    """
    if address in ("auto", "local"):
        return
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "", address
    hostport = rest.split("/", 1)[0]
    host, sep, port = hostport.rpartition(":")
    if not sep:  # a Ray client's default port; a GCS address needs its port
        host, port = hostport, "10001" if scheme == "ray" else ""
    if not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=_PROBE_SECONDS).close()
    except socket.gaierror:
        raise ValueError(f"RAY_ADDRESS={address}: unknown host {host!r}") from None
    except OSError:  # refused, unreachable, or no answer within the timeout
        raise ValueError(_no_cluster(address, "no Ray cluster answers there")) from None


# -- list ---------------------------------------------------------------------------------------
def _unit_rows(task: str, paths: Sequence[str | Path], exclude: Path | None, on_skip=None) -> Iterable[dict]:
    """The inputs as rows ``kind, path, line, raw, offset, reason`` in the local engine's order; paths not read at
    all (hidden, another suffix, ...) go to ``on_skip``, as in the local engine. A JSONL line's row has its bytes
    (``raw``) and where they are in the file (``offset``; None in a UTF-16 file)."""
    if task == "summarize":  # a unit per wire file and per JSONL line, exactly as summarize_folder
        for unit in _iter_units(Path(paths[0]), exclude, on_skip, offsets=True):
            kind, path = unit[0], unit[1]
            yield {"kind": kind, "path": path, "line": unit[2] if kind != "t" else None,
                   "raw": unit[3] if kind == "j" else None, "offset": unit[4] if kind == "j" else None,
                   "size": None, "sha1": None, "reason": unit[3] if kind == "x" else None}
        return
    first_sight = FirstSight(list(paths), on_skip)  # a file under two paths given: read once, as locally
    for root in paths:  # classify: a unit per file, read by read_stories as the local engine does
        if not os.path.lexists(root):  # a dangling symlink given by name is a path not read, as locally
            yield {"kind": "x", "path": str(root), "line": None, "raw": None, "reason": "no such file or folder"}
            continue
        for path in iter_files(root, on_skip=on_skip):
            if not first_sight(path):
                continue
            yield {"kind": "f", "path": str(path), "line": None, "raw": None, "reason": None}


def _listing(task: str, paths: Sequence[str | Path], shard_size: int, exclude: Path | None,
             on_skip=None) -> tuple[list[dict], str]:
    """The numbered input rows and a digest of the inputs: their list, and each file's size and modification time
    (a JSONL line's text), so that a rerun on other or edited inputs starts over instead of merging stale shards."""
    digest = hashlib.sha1()
    rows = []
    for seq, row in enumerate(_unit_rows(task, paths, exclude, on_skip)):
        stamp = input_stamp(row["path"], row["raw"])
        digest.update(digest_line(row["path"], row["line"], stamp))
        if row.get("offset") is not None:  # the task reads the line again: the driver keeps where, not the bytes
            row["size"], row["sha1"], row["raw"] = len(row["raw"]), stamp, None  # (148 MB of JSONL took 563 MB)
        rows.append({"seq": seq, "shard": seq // shard_size, **row})
    return rows, digest.hexdigest()


def model_stamp(model: str) -> str:
    """Sizes and modification times of the files of a model and of the models it loads: a retrain into the same
    folder changes it, so a rerun does not merge shards the earlier model wrote."""
    from ..classify.catalog import model_files, resolve_model

    digest = hashlib.sha1()
    for f in model_files(resolve_model(None if model == "default" else model)):
        st = f.stat()
        digest.update(f"{f}\0{st.st_size}\0{st.st_mtime_ns}\n".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _units_per_task(n: int) -> int:
    """Inputs per read (or summarize) task: ``_UNITS_PER_TASK``, fewer when that would leave CPUs of the cluster
    idle (400 files in blocks of 256 ran on one worker)."""
    cpus = max(1, int(connect().cluster_resources().get("CPU", 1)))
    return max(1, min(_UNITS_PER_TASK, -(-n // cpus)))


def check_gpus(num_gpus: float) -> None:
    """Refuse GPU actors a local Ray cannot have (Ray would wait for a GPU node forever); on a cluster without
    one now, warn (an autoscaler may still add one).

    Raises:
        ValueError: ``num_gpus`` above the local Ray's GPUs.
    """
    if not num_gpus:
        return
    have = connect().cluster_resources().get("GPU", 0)
    if have >= num_gpus:
        return
    if not os.environ.get("RAY_ADDRESS"):
        raise ValueError(f"num_gpus {num_gpus:g}: this machine's Ray has {have:g} GPUs (set RAY_ADDRESS to use a cluster)")
    if (num_gpus, have) not in _GPU_WARNED:  # the CLI checks before listing, classify_ds again: one warning
        _GPU_WARNED.add((num_gpus, have))
        logger.warning("num_gpus %g: the Ray cluster has %g GPUs now; the job waits until a GPU node joins", num_gpus, have)


_GPU_WARNED: set[tuple[float, float]] = set()


def _task_size(inputs) -> int:
    """Rows per task over ``inputs``: a listing of ours (materialized, counted for free) is cut as
    :func:`_units_per_task` says; a dataset of yours in batches of ``_UNITS_PER_TASK`` (counting it could run it)."""
    from ray.data.dataset import MaterializedDataset as materialized
    return _units_per_task(inputs.count()) if isinstance(inputs, materialized) else _UNITS_PER_TASK


def _dataset(rows: list[dict]):
    per_task = _units_per_task(len(rows))
    return connect().data.from_items(rows, override_num_blocks=max(1, min(-(-len(rows) // per_task), 10_000)))


@contextlib.contextmanager
def _in_driver_folder(cwd: str | None):
    """Work in the driver's folder for the block, so its relative paths mean here what they meant there (a worker
    starts in the folder its node's ``ray start`` ran in), then go back: Ray reuses workers for other tasks. A node
    without that folder carries on where it is (absolute paths still work; a relative one fails as that input's
    "no such file")."""
    try:
        before = os.getcwd()
    except OSError:  # the folder this worker was left in is gone
        before = None
    moved = False
    if cwd and cwd != before and os.path.isdir(cwd):
        os.chdir(cwd)
        moved = True
    try:
        yield
    finally:
        if moved and before is not None:
            with contextlib.suppress(OSError):
                os.chdir(before)


def list_inputs(task: str, paths: Sequence[str | Path], shard_size: int = DEFAULT_SHARD_SIZE,
                exclude: Path | None = None, skip_shards: Iterable[int] = ()):
    """The inputs of a run, numbered, as a ``ray.data.Dataset`` (listed on the driver).

    Args:
        task: ``"classify"`` (a row per file) or ``"summarize"`` (a row per wire file and JSONL line).
        paths: Files or folders (``summarize``: one).
        shard_size: Inputs per shard.
        exclude: A folder never to read (the output's own folder).
        skip_shards: Shards already written; their inputs are left out.

    Returns:
        A dataset of rows ``seq, shard, kind, path, line, raw, reason``.
    """
    skip = set(skip_shards)
    return _dataset([row for row in _listing(task, paths, shard_size, exclude)[0] if row["shard"] not in skip])


# -- read + parse -------------------------------------------------------------------------------
def _error(err: WireFormatError, path: str, line) -> str:
    return json.dumps(error_entry(err.path or path, err.line if err.path else line, err.message), ensure_ascii=False)


def _read_batch(table, cwd: str | None = None) -> dict:
    """Ray task: parse the files of a batch of inputs (relative paths: from ``cwd``) into pickled stories and error
    rows."""
    with _in_driver_folder(cwd):
        return _read_rows(table)


def _read_rows(table) -> dict:
    batch = table.to_pydict()
    out = {"seq": [], "shard": [], "sub": [], "story": [], "error": []}

    def emit(seq, shard, sub, story=None, error=None):
        for key, value in zip(out, (seq, shard, sub, story, error)):
            out[key].append(value)

    for seq, shard, kind, path, reason in zip(batch["seq"], batch["shard"], batch["kind"], batch["path"], batch["reason"]):
        if kind == "x":
            emit(seq, shard, 0, error=_error(WireFormatError(reason, path), path, None))
            continue
        errors: list[WireFormatError] = []
        try:  # a file not read (too large, a FIFO ...) is listed as failed, not only logged inside the actor
            stories = list(read_stories(path, on_error=errors.append,
                                        on_skip=lambda skip: errors.append(WireFormatError(skip.message(), skip.path))))
        except Exception as exc:  # a bug must not stop the run: the file is listed as failed
            stories, errors = [], [WireFormatError(f"{type(exc).__name__}: {exc}", path)]
        for k, story in enumerate(stories):
            emit(seq, shard, k, story=pickle.dumps(story))
        for k, err in enumerate(errors, len(stories)):
            emit(seq, shard, k, error=_error(err, path, None))
    return out


def read_stories_ds(inputs):
    """Read and parse every listed file in Ray tasks.

    Args:
        inputs: The dataset of :func:`list_inputs` (``task="classify"``).

    Returns:
        A dataset of ``seq, shard, sub, story`` (a pickled :class:`~nlp_wire.story.Story`) or ``error``
        (JSON ``{"path", "line", "reason"}``) rows, ``(seq, sub)`` giving the output order.
    """
    return inputs.map_batches(_read_batch, batch_size=_task_size(inputs), batch_format="pyarrow",
                              fn_kwargs={"cwd": os.getcwd()})


# -- predict ------------------------------------------------------------------------------------
class _Classifier:
    """Ray actor: loads the model once, then classifies batches of story rows.

    A model this node cannot load (not at the driver's path here, a broken copy) does not fail the actor, which Ray
    would restart again and again, printing a traceback each time: each row it is given carries the reason in
    ``fatal``, and :func:`write_ordered` stops the run with it in one line."""

    def __init__(self, model: str, device: str, threshold: float | None, batch_size: int, options: dict,
                 cwd: str | None = None):
        from ..classify import load_classifier

        self.batch_size, self.fatal = batch_size, None
        try:
            with _in_driver_folder(cwd):
                self.model = load_classifier(None if model == "default" else model, device=device,
                                             threshold=threshold, **options)
        except Exception as exc:  # what a model folder can raise here, and bugs: the run stops all the same
            self.fatal = _not_loaded(model, exc, cwd)

    def __call__(self, table) -> dict:
        batch = table.to_pydict()
        if self.fatal:
            n = len(batch["seq"])
            return {"seq": batch["seq"], "shard": batch["shard"], "sub": batch["sub"], "record": [None] * n,
                    "error": [None] * n, "empty": [False] * n, "fatal": [self.fatal] * n}
        rows = [i for i, story in enumerate(batch["story"]) if story is not None]
        stories = [pickle.loads(batch["story"][i]) for i in rows]
        records = [None] * len(batch["seq"])
        for i, line in zip(rows, prediction_lines(self.model, stories, self.batch_size)[0] if stories else []):
            records[i] = line[:-1]  # the local engine's line, without its newline
        return {"seq": batch["seq"], "shard": batch["shard"], "sub": batch["sub"], "record": records,
                "error": batch["error"], "empty": [False] * len(records), "fatal": [None] * len(records)}


def _not_loaded(model: str, exc: Exception, cwd: str | None) -> str:
    """Why a worker node could not load ``model``, in one line."""
    import ray

    why = str(exc) if isinstance(exc, (ModelLoadError, ImportError)) else f"{type(exc).__name__}: {exc}"
    where = f" (relative to {cwd} there)" if cwd and model != "default" and not os.path.isabs(model) else ""
    return (f"model {model}: could not be loaded on the Ray node {ray.util.get_node_ip_address()}{where}: {why}; "
            "every node needs the model at the same path")


def classify_ds(stories, model: str, *, device: str = "cpu", num_gpus: float = 0, actors: int | None = None,
                batch_size: int = 256, threshold: float | None = None, **load_options):
    """Classify parsed stories with a pool of actors that each load ``model`` once.

    Args:
        stories: The dataset of :func:`read_stories_ds`.
        model: Model folder or shipped name (``"default"``: the catalog's default model, loaded by
            :func:`~nlp_wire.classify.load_classifier` with ``load_options``; the CLI passes ``runtime="torch"``,
            so not the local engine's ``"auto"`` choice of bfloat16); every worker must see it.
        device: Device on CPU actors; actors with GPUs use theirs (``cuda``).
        num_gpus: GPUs per actor (0: CPU actors).
        actors: Pool size (default: the cluster's GPUs / ``num_gpus``, else one per CPU). CPU actors also
            parse (Ray fuses the read tasks into them); GPU actors get their stories from CPU read tasks.
        batch_size: Stories per prediction batch.
        threshold: Confidence threshold of :meth:`predict`.
        **load_options: ``quantize``, ``runtime``, ``dtype`` as for :func:`nlp_wire.classify.load_classifier`.

    Returns:
        A dataset of ``seq, shard, sub, record`` (the local engine's JSON line) or ``error`` rows; on a node that
        could not load the model, rows with the reason in ``fatal`` (:func:`write_ordered` stops the run on them).
    """
    ray = connect()
    check_gpus(num_gpus)
    resources = ray.cluster_resources()
    if actors is None:
        actors = int(resources.get("GPU", 0) // num_gpus) if num_gpus else int(resources.get("CPU", 1))
    actors = max(1, actors)
    return stories.map_batches(
        _Classifier, batch_size=batch_size, batch_format="pyarrow", num_gpus=num_gpus or None,
        compute=ray.data.ActorPoolStrategy(size=actors),
        fn_constructor_kwargs={"model": str(model), "device": "cuda" if num_gpus else device, "threshold": threshold,
                               "batch_size": batch_size, "options": load_options, "cwd": os.getcwd()})


def _summarize_batch(table, sentences: int, max_words: int | None, method: str, cwd: str | None = None) -> dict:
    """Ray task: the local engine's read + parse + summarize + render on a batch of inputs (relative paths: from
    ``cwd``)."""
    with _in_driver_folder(cwd):
        return _summarize_rows(table, sentences, max_words, method)


def _summarize_rows(table, sentences: int, max_words: int | None, method: str) -> dict:
    batch = table.to_pydict()
    _init_worker(_Job("jsonl", method, sentences, max_words))
    with contextlib.ExitStack() as files:
        raws = _line_bytes(batch, files)
    units = [("t", path) if kind == "t" else (kind, path, int(line) if line is not None else None,
                                                raw if kind == "j" else reason)
             for kind, path, line, raw, reason in zip(batch["kind"], batch["path"], batch["line"], raws,
                                                      batch["reason"])]
    out = {"seq": [], "shard": [], "sub": [], "record": [], "error": [], "empty": []}
    for seq, shard, unit, (outputs, empty_ids, error) in zip(batch["seq"], batch["shard"], units, _process_chunk(units)):
        # as the local writer lists them: a failure, or each story with no prose (named, not written)
        rows = ([(line.rstrip("\n"), None, False) for line in outputs]
                + [(None, entry_line(entry), True) for entry in skip_entries(unit, empty_ids)]
                + ([(None, entry_line(error), False)] if error else []))
        for k, (record, err, empty) in enumerate(rows):
            for key, value in zip(out, (seq, shard, k, record, err, empty)):
                out[key].append(value)
    return out


def _line_bytes(batch: dict, files: contextlib.ExitStack) -> list:
    """Each row's JSONL line bytes: as listed, or read again at the offset the driver kept (one open per file).

    A line that is not what the listing saw (its file was edited since) is an ``x`` row, with that reason."""
    raws, opened = [], {}
    for i, (kind, path, raw, offset, size, sha1) in enumerate(zip(
            batch["kind"], batch["path"], batch["raw"], batch["offset"], batch["size"], batch["sha1"])):
        if kind == "j" and raw is None:
            try:
                if path not in opened:
                    opened[path] = files.enter_context(open(path, "rb"))
                opened[path].seek(offset)
                raw = opened[path].read(size)
                if input_stamp(path, raw) != sha1:
                    batch["kind"][i], batch["reason"][i] = "x", "the file changed after the run listed it; rerun"
            except OSError as exc:
                batch["kind"][i], batch["reason"][i] = "x", f"cannot read: {exc.strerror or exc}"
        raws.append(raw)
    return raws


def summarize_ds(inputs, *, sentences: int = 3, max_words: int | None = None, method: str = "lead"):
    """Summarize the listed inputs (``list_inputs("summarize", ...)``) in Ray tasks.

    Returns:
        A dataset of ``seq, shard, sub, record`` (the local engine's JSONL line) or ``error`` rows.
    """
    get_summarizer(method)  # fail early on an unknown name
    return inputs.map_batches(_summarize_batch, batch_size=_task_size(inputs), batch_format="pyarrow",
                              fn_kwargs={"sentences": sentences, "max_words": max_words, "method": method,
                                         "cwd": os.getcwd()})


# -- write --------------------------------------------------------------------------------------
def _shard_dir(out: Path) -> Path:
    """The shard folder beside ``out``: there while a run on ``out`` is unfinished."""
    return ray_shards_path_for(out)


class _Shards:
    """The shard folder beside ``out``: finished shards, their manifest, and the final merge."""

    def __init__(self, out: Path, header: dict):
        self.out, self.header = out, header
        self.dir = _shard_dir(out)
        self.manifest = self.dir / "manifest.jsonl"
        self.done: dict[int, dict] = {}
        entries = []
        with contextlib.suppress(FileNotFoundError):
            for text in self.manifest.read_text(encoding="utf-8").splitlines():
                try:
                    entries.append(json.loads(text))
                except json.JSONDecodeError:
                    break  # a torn last line: that shard is redone
        if entries and entries[0] == header:
            self.done = {e["shard"]: e for e in entries[1:] if self._path(e["shard"]).exists()}
            logger.info("%d of %d shards already written by an earlier run: skipped", len(self.done), header["shards"])
        else:
            if entries:
                logger.warning("%s: shards of a run with other inputs or settings: starting over", self.dir)
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir.mkdir(parents=True)
            self._append(header)

    def _path(self, shard: int, suffix: str = "jsonl") -> Path:
        return self.dir / f"shard-{shard:06d}.{suffix}"

    def _append(self, entry: dict) -> None:
        with open(self.manifest, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def write(self, shard: int, rows: list[tuple]) -> dict:
        rows.sort(key=lambda r: (r[0], r[1]))
        records = [r[2] for r in rows if r[2] is not None]
        errors = [r[3] for r in rows if r[3] is not None]
        with atomic_write(self._path(shard, "errors.jsonl")) as fh:
            fh.writelines(e + "\n" for e in errors)
        with atomic_write(self._path(shard)) as fh:  # written last: its presence marks the shard done
            fh.writelines(r + "\n" for r in records)
        empty = sum(r[4] for r in rows)  # listed in the errors file, counted as skipped, not as failed
        entry = {"shard": shard, "records": len(records), "errors": len(errors) - empty, "empty": empty}
        self._append(entry)
        self.done[shard] = entry
        return entry

    def merge(self) -> tuple[int, int, int]:
        """Concatenate every shard in order into ``out`` and its errors file; drop the shard folder.

        With no story in any shard, ``out`` and its errors file are left as they were (as the local engines
        do) and the first error entries are kept in ``self.unwritten`` for the caller to show."""
        order = range(self.header["shards"])
        counts = tuple(sum(self.done[s][key] for s in order) for key in ("records", "errors", "empty"))
        self.unwritten: list[dict] = []
        if not counts[0]:
            for s in order:
                with open(self._path(s, "errors.jsonl"), encoding="utf-8") as part:
                    self.unwritten += [json.loads(line) for line in islice(part, UNWRITTEN_SHOWN - len(self.unwritten))]
            shutil.rmtree(self.dir, ignore_errors=True)
            return counts
        self._check_room(order)
        for target, suffix in ((self.out, "jsonl"), (errors_path_for(self.out), "errors.jsonl")):
            if suffix == "errors.jsonl" and not any(self.done[s]["errors"] or self.done[s]["empty"] for s in order):
                with contextlib.suppress(FileNotFoundError):
                    target.unlink()  # a stale list from an earlier run
                continue
            try:
                with atomic_write(target) as fh:
                    for s in order:
                        with open(self._path(s, suffix), encoding="utf-8") as part:
                            shutil.copyfileobj(part, fh)
            except OSError as exc:  # a bare "[Errno 28] No space left on device", after the whole job
                raise OSError(exc.errno, f"cannot write {target}: {exc.strerror or exc}; {self._kept()}") from None
        shutil.rmtree(self.dir, ignore_errors=True)
        return counts

    def _kept(self) -> str:
        return (f"the {counted(self.header['shards'], 'finished shard')} stay in {self.dir}: rerun the same command "
                "once that is fixed (it only merges them)")

    def _check_room(self, order) -> None:
        """Refuse, before writing, a merge the disk has no room for: it copies every shard while they all exist."""
        need = sum(p.stat().st_size for s in order for p in (self._path(s, "jsonl"), self._path(s, "errors.jsonl"))
                   if p.exists())
        free = shutil.disk_usage(self.out.parent).free
        if need > free:
            size = lambda n: f"{n / 1e6:,.1f} MB" if n >= 100_000 else f"{n:,} bytes"  # noqa: E731
            raise OSError(errno.ENOSPC, f"cannot write {self.out}: merging the shards needs {size(need)} free beside "
                                        f"it, and {size(free)} are; {self._kept()}")


def write_ordered(results, shards: "_Shards", progress: bool = True, inputs: int | None = None) -> BatchReport:
    """Stream ``results`` (rows ``seq, shard, sub, record | error, empty``) into shards, then merge them.

    Args:
        results: The dataset of :func:`classify_ds` or :func:`summarize_ds`, built from inputs listed
            without the shards already written (``skip_shards=shards.done``), or None when none is left.
        shards: The output's shard folder, from :func:`prepare_shards`.
        progress: Show a progress bar of inputs (files or JSONL lines), of all the run's.
        inputs: How many inputs ``results`` holds, when known: the bar then starts at those of the shards
            already written.

    Returns:
        A :class:`~nlp_wire.summarize.batch.BatchReport`.

    Raises:
        ModelLoadError: A worker node could not load the model (the shards finished before are kept).
        nlp_wire.workers.Interrupted: Ctrl-C; the message says how many shards are kept for a rerun.
    """
    from tqdm import tqdm

    started = time.perf_counter()
    out, header = shards.out, shards.header
    pending = [s for s in range(header["shards"]) if s not in shards.done]
    resumed = sum(e["records"] for e in shards.done.values())  # stories with no prose are not records
    total = header["inputs"]
    bar = tqdm(desc=header["task"], unit=" inputs", total=total, initial=total - inputs if inputs is not None else 0,
               disable=None if progress else True)
    rows: list[tuple] = []
    position = 0  # index in pending of the shard being filled
    last = None  # seq of the last input seen: rows arrive in input order, one or more per input
    # batches of rows small enough for the bar to move every few seconds with a transformer on CPUs
    batches = results.iter_batches(batch_size=64, batch_format="pyarrow") if results is not None else ()
    try:
        for table in batches:
            batch = table.to_pydict()
            fatal = next(filter(None, batch.get("fatal", ())), None)
            if fatal:  # a worker without the model: every shard would fail the same way
                if not shards.done:  # nothing kept: no shard folder left behind either
                    shutil.rmtree(shards.dir, ignore_errors=True)
                raise ModelLoadError(fatal)
            fresh = 0  # inputs first seen in this batch
            for seq, shard, sub, record, error, empty in zip(batch["seq"], batch["shard"], batch["sub"],
                                                             batch["record"], batch["error"], batch["empty"]):
                while pending[position] != shard:  # rows arrive in input order: earlier shards are complete
                    shards.write(pending[position], rows)
                    rows, position = [], position + 1
                rows.append((int(seq), int(sub), record, error, bool(empty)))
                fresh, last = fresh + (seq != last), seq
            bar.update(fresh)
        for shard in pending[position:]:
            shards.write(shard, rows)
            rows = []
        bar.update(total - bar.n)  # inputs with no row at all (none is known to exist) count as done
        bar.close()
        records, errors, empty = shards.merge()  # an interrupted merge is done again by a rerun
    except KeyboardInterrupt as exc:  # Ray has no checkpoint to make: the finished shards are what a rerun keeps
        kept = sum(e["records"] for e in shards.done.values())
        signum = getattr(exc, "signum", signal.SIGINT)  # SIGTERM: see sigterm_as_interrupt and connect
        raise Interrupted(f"{stopped_by(signum)}: {len(shards.done)} of {counted(header['shards'], 'shard')} "
                          f"({counted(kept, 'story')}) kept in {shards.dir}; rerun the same command (with --engine ray) "
                          "to continue", signum) from None
    finally:
        bar.close()
    report = BatchReport(done=records, skipped=empty, failed=errors, resumed=resumed, out=str(out),
                         errors_path=str(errors_path_for(out)) if (errors or empty) and records else None,
                         kept_out=not records, unwritten=shards.unwritten)
    report.seconds = time.perf_counter() - started
    return report


def prepare_shards(out: str | Path, header: dict) -> _Shards:
    """The shard folder of ``out`` for this run: finished shards are kept when ``header`` (the run's
    task, settings, input count and digest, shard count) is the one they were written under."""
    out = Path(out)
    if out.suffix.lower() != ".jsonl":
        raise ValueError(f"{out}: the Ray engine writes a .jsonl file")
    out.parent.mkdir(parents=True, exist_ok=True)
    return _Shards(out, {"version": MANIFEST_VERSION, **header})


def _run(task: str, paths: Sequence[str | Path], out: str | Path, settings: dict, build, shard_size: int,
         exclude: Path | None, progress: bool, check=None) -> BatchReport:
    """List the inputs, run ``build`` on Ray and write the shards into ``out``; ``check()`` (the task's own refusal
    of ``out``) runs after the common checks, before Ray starts."""
    shard_size = whole_number("shard_size", shard_size, 1)  # an int: it goes into the shard manifest
    check_not_input(out, paths)
    if Path(out).suffix.lower() != ".jsonl":  # before Ray starts
        raise ValueError(f"{out}: the Ray engine writes a .jsonl file")
    if Path(out).is_dir():  # found before the run, not at its last rename
        raise ValueError(f"{out} is a folder; name a .jsonl file whose path is free")
    check_errors_file(out)
    if check is not None:
        check()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    # One run per OUT, whatever its engine: the local engine's lock. Two Ray runs on one OUT mixed their shards
    # (a run with other settings wrote into the first one's, which then finished with exit 0).
    lock = _lock(Path(out))
    try:
        connect()
        not_read: list = []  # an OUT inside an input folder: its own files are not inputs left unread
        rows, digest = _listing(task, paths, shard_size, exclude, inputs_only(out, not_read.append))
        header = {"task": task, "settings": settings, "inputs": len(rows), "digest": digest,
                  "shards": -(-len(rows) // shard_size)}
        shards = prepare_shards(out, header)
        rows = [row for row in rows if row["shard"] not in shards.done]
        report = write_ordered(build(_dataset(rows)) if rows else None, shards, progress, len(rows))
        report.not_read = not_read
        discard_interrupted_local_run(out)  # stale now that Ray has done every input (under the lock: none writes them)
        return report
    finally:
        _unlock(lock)


def classify_to_file(model: str, paths: Sequence[str | Path], out: str | Path, *, shard_size: int = DEFAULT_SHARD_SIZE,
                     progress: bool = True, **options) -> BatchReport:
    """``nlp-wire classify MODEL PATH... --engine ray --out OUT``: every story's label in ``out`` (JSONL).

    Args:
        model: Model folder or ``"default"``.
        paths: Wire files, folders or JSONL files.
        out: The merged ``.jsonl`` output (bad inputs in ``<out>.errors.jsonl``).
        shard_size: Files per shard.
        progress: Show a progress bar.
        **options: As for :func:`classify_ds`.
    """
    from ..classify.base import read_model_card
    from ..classify.catalog import resolve_model
    from ..device import check_device_spec

    check_device_spec(options.get("device", "cpu"))  # the form only: the hardware is the workers'
    check_gpus(options.get("num_gpus", 0))  # before the inputs are listed and the shard folder made
    read_model_card(resolve_model(None if model == "default" else model))  # a misspelt model: one line, not a Ray traceback per actor
    settings = {"model": os.path.abspath(model) if model != "default" else model, "model_files": model_stamp(model),
                "paths": [os.path.abspath(p) for p in paths], **{k: v for k, v in options.items() if k != "actors"}}
    return _run("classify", paths, out, settings, lambda ds: classify_ds(read_stories_ds(ds), model, **options),
                shard_size, None, progress)


def summarize_to_file(src: str | Path, out: str | Path, *, sentences: int = 3, max_words: int | None = None,
                      method: str = "lead", shard_size: int = DEFAULT_SHARD_SIZE, progress: bool = True,
                      force: bool = False) -> BatchReport:
    """``nlp-wire summarize PATH --out OUT --engine ray``: the local engine's JSONL records, on Ray.

    Args:
        src: A folder, a wire file or a JSONL file.
        out: The merged ``.jsonl`` output (bad inputs in ``<out>.errors.jsonl``).
        sentences, max_words, method: As for :func:`nlp_wire.summarize.batch.summarize_folder`.
        shard_size: Inputs (files or JSONL lines) per shard.
        progress: Show a progress bar.
        force: Replace an existing ``out`` that no summarize run wrote (see
            :func:`~nlp_wire.summarize.batch.check_out_replaceable`; a run whose shards are beside ``out``
            goes on without it).

    Raises:
        ValueError: ``out`` exists and no summarize run wrote it (without ``force``), or it is a labels.csv.
    """
    if not Path(src).exists():
        raise WireFormatError("no such file or folder", src)
    out = Path(out)
    sentences, max_words = whole_number("sentences", sentences, 1), whole_number("max_words", max_words, 1, optional=True)
    get_summarizer(method)  # before Ray starts: an unknown name, not a failure in every task

    def replaceable():  # after the .jsonl rule, so that --force is not asked for first
        if not _shard_dir(out).is_dir():  # shards of a run in progress: it passed this check
            check_out_replaceable(out, src, force=force)

    settings = {"src": os.path.abspath(src), "sentences": sentences, "max_words": max_words, "method": method}
    report = _run("summarize", [src], out, settings,
                  lambda ds: summarize_ds(ds, sentences=sentences, max_words=max_words, method=method),
                  shard_size, None, progress, check=replaceable)
    if not report.kept_out:  # OUT is summarize's own now: a rerun replaces it without force, as locally
        with atomic_write(done_path_for(out)) as fh:  # (a local --resume sees other settings)
            json.dump({"params": {"engine": "ray", **settings},
                       "counts": {"done": report.done, "skipped": report.skipped, "failed": report.failed}}, fh)
    return report
