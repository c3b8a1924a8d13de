"""Corrupted model folders: each either loads and predicts valid probabilities or raises one ModelLoadError
naming the folder; never another exception.

Deterministic fuzz over a tiny baseline, a tiny random transformer and an ensemble of the two, all written
to ``tmp_path``: every file truncated, overwritten with random bytes or with valid JSON of the wrong type;
every JSON field (card, vocabulary, encoder config, tokenizer files) removed, null, a string, negative,
huge; label lists empty, duplicated, not strings; tensors missing, reshaped, NaN; ensemble members missing,
the ensemble itself, or an ensemble of itself.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from nlp_wire.classify import ModelLoadError, load_classifier  # noqa: E402
from nlp_wire.classify.baseline import TfidfClassifier  # noqa: E402
from nlp_wire.classify.ensemble import EnsembleClassifier  # noqa: E402
from nlp_wire.classify.transformer import TopicModel, TransformerClassifier  # noqa: E402
from nlp_wire.cli.main import main  # noqa: E402
from nlp_wire.config import DataConfig, TransformerConfig  # noqa: E402

LABELS = ["sport", "weather", "other"]
# Invented one-line stories.
X = ["The visiting side scored late to win the cup final",
     "Two goals from the captain sealed a league title for the club",
     "Thunderstorms and gusty wind will reach the coast by evening",
     "A cold front brings snow and frost to the mountains overnight",
     "The town opened a new bus route to the hospital this week",
     "Library hours were extended for students during the exam season"]
Y = ["sport", "sport", "weather", "weather", "other", "other"]
NEW = ["Snow and wind reach the coast tonight", "The club won the cup final"]
WORDS = sorted({w.lower() for text in X + NEW for w in text.split()})

MISSING = object()  # a field removed
FIELD_VALUES = {"removed": MISSING, "null": None, "string": "x", "negative": -1, "huge": 10 ** 30}


# -- the pristine folders ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pristine")
    baseline = TfidfClassifier(labels=LABELS, min_df=1, C=10.0).fit(X, Y)
    baseline.save_pretrained(root / "baseline")

    vocab = root / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS) + "\n", encoding="utf-8")
    try:  # transformers 5 takes ``vocab``, 4.x ``vocab_file``
        tokenizer = transformers.BertTokenizerFast(vocab=str(vocab), do_lower_case=True)
    except TypeError:
        tokenizer = transformers.BertTokenizerFast(vocab_file=str(vocab), do_lower_case=True)
    config = transformers.BertConfig(vocab_size=len(WORDS) + 5, hidden_size=16, num_hidden_layers=1,
                                     num_attention_heads=2, intermediate_size=20, max_position_embeddings=40)
    torch.manual_seed(0)
    data = DataConfig(labels=LABELS)
    tiny = TransformerClassifier(TopicModel(transformers.BertModel(config), len(LABELS)), tokenizer, LABELS,
                                 TransformerConfig(name_or_path="tiny", max_length=32), data)
    tiny.save_pretrained(root / "transformer")

    # baseline members only: each ensemble case loads its members, and the transformer is fuzzed on its own
    smooth = TfidfClassifier(labels=LABELS, min_df=1, C=0.1, word_ngram_range=(1, 1)).fit(X, Y)
    EnsembleClassifier({"sharp": baseline, "smooth": smooth}, {"sharp": 2.0, "smooth": 1.0}).save_pretrained(root / "ensemble")
    return {"baseline": root / "baseline", "transformer": root / "transformer", "ensemble": root / "ensemble"}


def _files(kind: str, folder: Path) -> list[str]:
    """The files to corrupt (an ensemble's members are fuzzed on their own)."""
    return ["nlp_wire_model.json"] if kind == "ensemble" else sorted(p.name for p in folder.iterdir())


def _check_outcome(folder: Path) -> str | None:
    """None when the folder loads and predicts valid probabilities or is refused by one ModelLoadError
    naming it; else what went wrong."""
    try:
        model = load_classifier(folder)
    except ModelLoadError as exc:
        return None if str(folder) in str(exc) else f"ModelLoadError without the folder: {exc}"
    except BaseException as exc:  # noqa: BLE001 (a Rust panic is a BaseException)
        return f"{type(exc).__name__}: {str(exc)[:200]}"
    try:
        proba = model.predict_proba(NEW)
        predictions = model.predict(NEW)
    except BaseException as exc:  # noqa: BLE001
        return f"loaded, then predict raised {type(exc).__name__}: {str(exc)[:200]}"
    if (proba.shape != (len(NEW), len(model.labels)) or not np.isfinite(proba).all() or (proba < 0).any()
            or not np.allclose(proba.sum(axis=1), 1.0, atol=1e-4)):
        return f"loaded, answers invalid probabilities {proba.tolist()}"
    if len(set(model.labels)) != len(model.labels) or not all(isinstance(l, str) and l for l in model.labels):
        return f"loaded with bad labels {model.labels!r}"
    if any(p.label not in model.labels and p.label != model.data_config.default_label for p in predictions):
        return f"loaded, answers labels outside its label set: {[p.label for p in predictions]}"
    return None


def _run(pristine_folder: Path, tmp_path: Path, corruptions) -> None:
    """Apply each ``(name, mutate)`` to a fresh copy of the folder; fail listing every bad outcome."""
    failures = []
    for i, (name, mutate) in enumerate(corruptions):
        root = tmp_path / f"case{i}"
        folder = root / pristine_folder.name
        shutil.copytree(pristine_folder, folder, symlinks=True)
        mutate(folder)
        problem = _check_outcome(folder)
        if problem:
            failures.append(f"{name}: {problem}")
        shutil.rmtree(root)
    assert not failures, f"{len(failures)} corrupted folders misbehaved:\n" + "\n".join(failures)


# -- corruptions ---------------------------------------------------------------------------------
def _truncate(name: str, size):
    def mutate(folder: Path) -> None:
        data = (folder / name).read_bytes()
        (folder / name).write_bytes(data[:size(len(data))])
    return mutate


def _random_bytes(name: str, seed: int):
    def mutate(folder: Path) -> None:
        size = (folder / name).stat().st_size
        (folder / name).write_bytes(random.Random(seed).randbytes(max(size, 64)))
    return mutate


def _write_json(name: str, value):
    def mutate(folder: Path) -> None:
        (folder / name).write_text(json.dumps(value), encoding="utf-8")
    return mutate


def _edit_json(name: str, path: tuple, value):
    def mutate(folder: Path) -> None:
        doc = json.loads((folder / name).read_text(encoding="utf-8"))
        node = doc
        for key in path[:-1]:
            node = node[key]
        if value is MISSING:
            del node[path[-1]]
        else:
            node[path[-1]] = value
        (folder / name).write_text(json.dumps(doc), encoding="utf-8")
    return mutate


def _field_paths(doc, prefix=()):
    """Key paths into nested mappings (not into lists, nor into large mappings such as a vocabulary)."""
    if isinstance(doc, dict) and len(doc) <= 40:
        for key, value in doc.items():
            yield prefix + (key,)
            yield from _field_paths(value, prefix + (key,))


def _list_paths(doc, prefix=()):
    """Key paths of the lists of strings (labels, vocabulary terms) inside nested mappings."""
    if isinstance(doc, dict) and len(doc) <= 40:
        for key, value in doc.items():
            if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                yield prefix + (key,)
            yield from _list_paths(value, prefix + (key,))


def _edit_tensors(name: str, how: str):
    from safetensors.numpy import load_file, save_file

    def mutate(folder: Path) -> None:
        tensors = {k: np.array(v) for k, v in load_file(str(folder / name)).items()}
        key = sorted(tensors)[-1]
        if how == "removed":
            del tensors[key]
        elif how == "reshaped":
            tensors[key] = np.zeros((3, 5, 7), dtype=tensors[key].dtype)
        elif how == "nan":
            for k, v in tensors.items():
                if v.dtype.kind == "f":
                    tensors[k] = np.full_like(v, np.nan)
        elif how == "int_dtype":
            tensors = {k: np.ones(v.shape, dtype=np.int64) for k, v in tensors.items()}
        save_file(tensors, str(folder / name))
    return mutate


def _file_corruptions(folder: Path, name: str, way: str):
    path = folder / name
    if way == "truncated":
        return [(f"{name} truncated to {n}", _truncate(name, size))
                for n, size in [("0", lambda s: 0), ("10", lambda s: 10), ("half", lambda s: s // 2)]]
    if way == "random":
        return [(f"{name} random bytes #{seed}", _random_bytes(name, seed)) for seed in range(3)]
    if not name.endswith(".json"):
        if way == "tensors" and name.endswith(".safetensors"):
            return [(f"{name} tensor {how}", _edit_tensors(name, how))
                    for how in ("removed", "reshaped", "nan", "int_dtype")]
        return []
    doc = json.loads(path.read_text(encoding="utf-8"))
    if way == "wrong_type":
        return [(f"{name} is {type(v).__name__}", _write_json(name, v)) for v in ([doc], "text", 3, None, True)]
    if way == "fields":
        return [(f"{name} {'.'.join(map(str, p))} {what}", _edit_json(name, p, value))
                for p in _field_paths(doc) for what, value in FIELD_VALUES.items()]
    if way == "lists":
        out = []
        for p in _list_paths(doc):
            items = _get(doc, p)
            for what, value in [("empty", []), ("duplicated", items + items[:1]), ("not strings", [1] * len(items)),
                                ("nested", [items]), ("one item", items[:1])]:
                out.append((f"{name} {'.'.join(map(str, p))} {what}", _edit_json(name, p, value)))
        return out
    return []


def _get(doc, path):
    for key in path:
        doc = doc[key]
    return doc


WAYS = ["truncated", "random", "wrong_type", "fields", "lists", "tensors"]


@pytest.mark.parametrize("kind,way", [(kind, way) for kind in ("baseline", "transformer", "ensemble") for way in WAYS
                                      if (kind, way) != ("ensemble", "tensors")])  # an ensemble holds no tensors
def test_a_corrupted_model_folder_loads_and_answers_well_or_is_one_named_error(pristine, tmp_path, kind, way):
    folder = pristine[kind]
    assert _check_outcome(folder) is None  # the pristine folder loads and answers
    corruptions = [c for name in _files(kind, folder) for c in _file_corruptions(folder, name, way)]
    assert corruptions
    _run(folder, tmp_path, corruptions)


def _members(*paths):
    def mutate(folder: Path) -> None:
        card = json.loads((folder / "nlp_wire_model.json").read_text(encoding="utf-8"))
        card["members"] = [{"path": p, "weight": 1.0} for p in paths]
        (folder / "nlp_wire_model.json").write_text(json.dumps(card), encoding="utf-8")
    return mutate


def _member_is_an_ensemble_of_itself(folder: Path) -> None:
    inner = folder / "inner"
    inner.mkdir()
    card = json.loads((folder / "nlp_wire_model.json").read_text(encoding="utf-8"))
    (inner / "nlp_wire_model.json").write_text(json.dumps({**card, "members": [{"path": "."}]}), encoding="utf-8")
    _members("inner")(folder)


def test_bad_ensemble_members_are_one_named_error(pristine, tmp_path):
    _run(pristine["ensemble"], tmp_path, [
        ("member missing", _members("missing")), ("member is the ensemble", _members(".")),
        ("member is the ensemble by its own name", _members("../ensemble")),
        ("member is an ensemble of itself", _member_is_an_ensemble_of_itself),
        ("member is a file", _members("nlp_wire_model.json")), ("member path empty", _members("")),
        ("member path absolute", _members(str(pristine["baseline"].resolve()))),
        ("member is a transformer by absolute path", _members(str(pristine["transformer"].resolve()))),
    ])


def test_cli_classify_on_a_corrupted_folder_exits_2_with_one_line(pristine, tmp_path, capsys):
    folder = tmp_path / "baseline"
    shutil.copytree(pristine["baseline"], folder)
    weights = folder / "baseline.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    story = tmp_path / "x.txt"
    story.write_text("The club won the final\n", encoding="utf-8")
    assert main(["classify", str(folder), str(story)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(folder) in err[0] and "baseline.safetensors" in err[0]


def test_a_max_length_over_the_encoders_positions_is_refused(pristine, tmp_path):
    folder = tmp_path / "transformer"
    shutil.copytree(pristine["transformer"], folder)
    _edit_json("nlp_wire_model.json", ("model", "max_length"), 64)(folder)  # the tiny encoder has 40 positions
    with pytest.raises(ModelLoadError, match="max_position_embeddings"):
        load_classifier(folder)
