"""The TF-IDF baseline, load_classifier and the train/evaluate/classify/demo commands."""

import json
import logging
import shutil

import numpy as np
import pytest

import nlp_wire
from nlp_wire.classify import ModelLoadError, load_classifier
from nlp_wire.classify.baseline import TfidfClassifier
from nlp_wire.cli.main import main

LABELS = ["diplomacy", "covid", "crime", "entertainment", "other"]
# Tiny invented corpus: three short texts per label.
TEXTS = {
    "diplomacy": ["Foreign ministers of the two states hold summit talks on the alliance",
                  "Envoy meets counterpart to discuss sanctions and denuclearization",
                  "Ambassador summoned as the two governments dispute the treaty"],
    "covid": ["New coronavirus cases rise as quarantine rules are extended",
              "Vaccine rollout speeds up amid a virus cluster at a call center",
              "Social distancing tightened after infections climb again"],
    "crime": ["Police arrest a suspect in a voice phishing fraud ring",
              "Prosecutors indict an executive on bribery and embezzlement charges",
              "Court sentences a man to prison for murder"],
    "entertainment": ["K-pop group tops the music chart with a new album",
                      "Actress wins an award for her role in the drama series",
                      "Film breaks the box office record on its opening weekend"],
    "other": ["Exports of chips rise for a third month as the won weakens",
              "Heavy rain floods roads in the southern port city",
              "Baseball team signs a pitcher to a two-year contract"],
}
X = [t for label in LABELS for t in TEXTS[label]]
Y = [label for label in LABELS for _ in TEXTS[label]]

STORY = """ date 2024-03-02 (LEAD) Police arrest suspect in phishing fraud ring
BUSAN, March 2 (Hanwire) -- Police arrested a suspect in a voice phishing fraud ring on Saturday.
The suspect faces fraud charges, police said.
kim@hanwire.example
(END)
"""


@pytest.fixture
def fitted():
    return TfidfClassifier(labels=LABELS, min_df=1, C=100.0).fit(X, Y)


def test_fit_follows_sklearn_contract(fitted):
    assert fitted.get_params()["C"] == 100.0
    assert list(fitted.classes_) == LABELS
    assert [p.label for p in fitted.predict(X)] == Y  # overfits the tiny corpus


def test_fit_leaves_the_hyperparameters_as_given_so_sklearn_tools_work():
    from sklearn.base import clone
    from sklearn.model_selection import cross_val_score

    model = TfidfClassifier(labels=tuple(LABELS), min_df=1, C=100.0)
    before = model.get_params()
    assert model.fit(X, Y) is model
    after = model.get_params()
    assert after.keys() == before.keys() and all(after[k] is before[k] for k in before), "fit changed a setting"
    assert clone(model).get_params() == before and not hasattr(clone(model), "pipeline_")
    assert model.input_config.labels == LABELS and model.input_config.default_label == "other"
    assert model.score(X, Y) == 1.0 and model.score(X, [LABELS.index(y) for y in Y]) == 1.0
    scores = cross_val_score(TfidfClassifier(labels=LABELS, min_df=1), X, Y, cv=3)
    assert np.isfinite(scores).all() and scores.mean() > 0.2, scores  # sklearn's default scorer calls score()
    with pytest.raises(Exception, match="default_label"):  # checked in fit, not at the first predict
        TfidfClassifier(labels=["a", "b"]).fit(["x y", "y z"], ["a", "b"])


def test_sklearn_scorers_metrics_and_checks_take_predict_as_it_is():
    """predict answers Predictions, which are their label strings: scorers, metrics and search work on them."""
    import pickle

    from sklearn.exceptions import NotFittedError
    from sklearn.metrics import classification_report, f1_score
    from sklearn.model_selection import GridSearchCV, cross_val_score

    model = TfidfClassifier(labels=LABELS, min_df=1, C=100.0)
    scores = cross_val_score(model, X, Y, cv=3, scoring="f1_macro")
    assert np.isfinite(scores).all(), scores  # was nan: the scorer could not compare Prediction objects
    search = GridSearchCV(model, {"C": [1.0, 100.0]}, scoring="f1_macro", cv=3).fit(X, Y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    pred = model.fit(X, Y).predict(X)
    assert f1_score(Y, pred, average="macro") == 1.0 and "crime" in classification_report(Y, pred)
    assert pred[0] == "diplomacy" and pred[0].label == "diplomacy" and np.asarray(pred).dtype.kind == "U"
    assert pickle.loads(pickle.dumps(pred)) == pred and repr(pred[0]).startswith("Prediction(label='diplomacy'")
    assert pred[0] != nlp_wire.Prediction("diplomacy", 0.1, {})  # equal Predictions: label, score and scores
    with pytest.raises(NotFittedError):
        TfidfClassifier().predict(["a story"])
    with pytest.raises(ValueError, match="indices 0..4"):
        TfidfClassifier(min_df=1).fit(X, [0, 7] * (len(X) // 2) + [0] * (len(X) % 2))


def test_fit_reads_stories_as_predict_does(fitted):
    """fit used X verbatim and predict read it as stories: a dateline or a long text scored against itself 0.5."""
    from nlp_wire.story import parse_stories

    wire = [f" date 2024-03-02 {t}\nSEOUL, March 2 (Hanwire) -- {t}.\n(END)\n" for t in X]
    model = TfidfClassifier(labels=LABELS, min_df=1, C=100.0).fit(wire, Y)
    assert model.score(wire, Y) == 1.0
    stories = [next(parse_stories(w)) for w in wire]
    assert TfidfClassifier(labels=LABELS, min_df=1, C=100.0).fit(stories, Y).score(stories, Y) == 1.0
    np.testing.assert_allclose(model.predict_proba(wire), model.predict_proba(stories))


def test_predict_reads_dataframes_and_datasets_row_by_row(fitted):
    import pandas as pd

    df = pd.DataFrame({"headline": X[:3], "body": X[:3]})
    assert len(fitted.predict(df)) == 3  # rows, not the two column names
    import datasets

    ds = datasets.Dataset.from_dict({"text": X, "headline": X})  # load_examples' columns: text is model input
    np.testing.assert_allclose(fitted.predict_proba(ds), fitted.predict_proba(X))  # the headline not added twice
    with pytest.raises(TypeError, match=r"one split of a DatasetDict, e.g. ds\['train'\]"):
        fitted.predict(datasets.DatasetDict({"train": ds}))


def test_probabilities_in_label_order_and_sum_to_one(fitted):
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(X), len(LABELS))
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)
    pred = fitted.predict(X[:1])[0]
    assert pred.scores["diplomacy"] == pytest.approx(pred.score)
    assert list(pred.scores) == LABELS


def test_accepts_stories_wire_strings_and_records(fitted):
    story = nlp_wire.Story.from_string(STORY)
    a, b, c = fitted.predict([story, STORY, {"headline": story.headline, "body": story.body}])
    assert a == b == c
    assert a.label == "crime"


@pytest.mark.parametrize("char_ngram_range", [(0, 0), (2, 3)])
def test_fast_features_give_the_pipelines_probabilities(char_ngram_range):
    model = TfidfClassifier(labels=LABELS, min_df=1, char_ngram_range=char_ngram_range).fit(X, Y)
    new = ["Police question the envoy about the album", "", STORY]
    np.testing.assert_allclose(model._proba_texts(new, 0), model.pipeline_.predict_proba(new), rtol=1e-5, atol=1e-6)


def test_batched_equals_one_by_one(fitted):
    batched = fitted.predict_proba(X, batch_size=4)
    single = np.vstack([fitted.predict_proba([x], batch_size=1) for x in X])
    np.testing.assert_allclose(batched, single, atol=1e-6)


def test_threshold_answers_default_label(fitted):
    assert all(p.label == "other" for p in fitted.predict(X, threshold=1.0))
    assert fitted.predict([], threshold=0.5) == []
    low = fitted.predict(X[:1], threshold=1.0)[0]  # a diplomacy story below the threshold
    assert low.label == "other" and low.score == pytest.approx(low.scores["other"])  # the answer's probability
    assert low.scores["other"] < low.scores["diplomacy"]


def test_a_story_without_words_gets_equal_scores_and_the_default_label(fitted, caplog, tmp_path):
    """The model never sees a text without words (it would answer whatever its bias prefers, confidently)."""
    import datasets

    from nlp_wire.classify.evaluate import evaluate

    seen = []
    real = fitted._proba_texts
    fitted._proba_texts = lambda texts, batch_size: seen.extend(texts) or real(texts, batch_size)
    from nlp_wire.classify.base import NoWordsWarning

    with pytest.warns(NoWordsWarning, match="3 of 4 stories have no words"):
        preds = fitted.predict(["", "  \n", "SEOUL, May 1 (Yonhap) --", X[6]])
    assert [p.label for p in preds] == ["other", "other", "other", "crime"]
    assert all(p.scores == pytest.approx(dict.fromkeys(LABELS, 0.2)) and p.score == pytest.approx(0.2)
               for p in preds[:3])
    assert seen == [X[6]]
    assert np.allclose(fitted.predict_proba(["", ""]), 0.2) and seen == [X[6]]
    ds = datasets.Dataset.from_dict({"id": ["a", "b"], "text": [" ", X[0]], "label": [2, 0]},
                                    features=datasets.Features({"id": datasets.Value("string"),
                                                                "text": datasets.Value("string"),
                                                                "label": datasets.ClassLabel(names=LABELS)}))
    evaluate(fitted, ds, tmp_path, progress=False)
    rows = [json.loads(line) for line in (tmp_path / "eval_misclassified.jsonl").read_text().splitlines()]
    assert [(r["id"], r["predicted"]) for r in rows] == [("a", "other")]


def test_evaluate_scores_the_answers_predict_gives(fitted, tmp_path):
    """A model with a threshold is scored on its fallback answers, as nlp-wire classify would give them."""
    import datasets

    from nlp_wire.classify.evaluate import evaluate

    ds = datasets.Dataset.from_dict({"id": [f"s{i}" for i in range(len(X))], "text": X,
                                     "label": [LABELS.index(y) for y in Y]},
                                    features=datasets.Features({"id": datasets.Value("string"),
                                                                "text": datasets.Value("string"),
                                                                "label": datasets.ClassLabel(names=LABELS)}))
    assert evaluate(fitted, ds, progress=False)["accuracy"] == 1.0
    fitted.threshold = 1.0
    metrics = evaluate(fitted, ds, tmp_path, progress=False)
    assert metrics["threshold"] == 1.0 and metrics["accuracy"] == pytest.approx(3 / 15)  # only "other" right
    rows = [json.loads(line) for line in (tmp_path / "eval_misclassified.jsonl").read_text().splitlines()]
    assert len(rows) == 12 and {r["predicted"] for r in rows} == {"other"}


def test_save_load_round_trip_without_pickle(fitted, tmp_path):
    fitted.save_pretrained(tmp_path / "m")
    files = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert files == ["baseline.safetensors", "nlp_wire_model.json", "vocabulary.json"]
    loaded = load_classifier(tmp_path / "m")
    assert isinstance(loaded, TfidfClassifier)
    assert loaded.labels == LABELS
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))


def test_custom_label_order_survives_save(tmp_path):
    labels = ["other", "crime", "covid", "entertainment", "diplomacy"]
    m = TfidfClassifier(labels=labels, min_df=1, C=100.0).fit(X, Y)
    m.save_pretrained(tmp_path / "m")
    loaded = load_classifier(tmp_path / "m")
    assert loaded.labels == labels
    assert [p.label for p in loaded.predict(X)] == Y


def test_label_missing_from_training_data_keeps_its_column(tmp_path):
    keep = [i for i, y in enumerate(Y) if y != "covid"]
    m = TfidfClassifier(labels=LABELS, min_df=1).fit([X[i] for i in keep], [Y[i] for i in keep])
    proba = m.predict_proba(X)
    assert proba.shape[1] == 5 and np.all(proba[:, 1] == 0)


def test_unknown_label_in_y_raises():
    with pytest.raises(ValueError, match="not in the label set"):
        TfidfClassifier(labels=LABELS).fit(X, Y[:-1] + ["sports"])


@pytest.mark.parametrize("setup", ["missing", "no_card", "bad_card", "no_weights"])
def test_bad_model_folder_gives_clear_error(tmp_path, fitted, setup):
    folder = tmp_path / "m"
    if setup != "missing":
        fitted.save_pretrained(folder)
        if setup == "no_card":
            (folder / "nlp_wire_model.json").unlink()
        elif setup == "bad_card":
            (folder / "nlp_wire_model.json").write_text("{not json")
        else:
            (folder / "baseline.safetensors").unlink()
    with pytest.raises(ModelLoadError, match=str(folder)):
        load_classifier(folder)


def test_default_model_loads_and_classifies():
    clf = load_classifier()
    pred = clf.predict([STORY])[0]
    assert pred.label == "crime"


# -- command line ------------------------------------------------------------------------------
def _write_folder(root):
    root.mkdir()
    rows = ["id,label"]
    for i, (text, label) in enumerate(zip(X, Y)):
        (root / f"s{i:02d}.txt").write_text(f" date 2024-01-0{1 + i % 9} {text}\n{text}, officials said.\n(END)\n")
        rows.append(f"s{i:02d},{label}")
    (root / "labels.csv").write_text("\n".join(rows) + "\n")
    return root


def test_cli_train_classify_evaluate(tmp_path, capsys):
    data = _write_folder(tmp_path / "wire")
    run = tmp_path / "run"
    assert main(["-q", "train", "baseline", "--data", str(data), "--out", str(run),
                 "--set", "baseline.min_df=1", "--set", "data.val_size=0.0"]) == 0
    for name in ("config.yaml", "labels.json", "versions.json", "metrics.json", "model/nlp_wire_model.json"):
        assert (run / name).exists(), name
    (data / "broken.txt").write_bytes(b"\x00\x01binary")
    capsys.readouterr()
    assert main(["-q", "classify", str(run / "model"), str(data)]) == 0
    out, err = capsys.readouterr()
    lines = [json.loads(x) for x in out.splitlines()]
    assert len(lines) == len(X) and list(lines[0]) == ["id", "path", "label", "score", "scores"]
    assert lines[0]["path"] == str(data / "s00.txt")  # which file: ids repeat across folders
    assert "broken.txt" in err and "Traceback" not in err
    # --out: the same lines in a file, the bad input in OUT.errors.jsonl, nothing on stdout
    assert main(["-q", "classify", str(run / "model"), str(data), "--out", str(tmp_path / "c.jsonl")]) == 0
    written, err_out = capsys.readouterr()
    assert written == "" and (tmp_path / "c.jsonl").read_text() == out and f"wrote {tmp_path / 'c.jsonl'}" in err_out
    (bad,) = [json.loads(x) for x in (tmp_path / "c.jsonl.errors.jsonl").read_text().splitlines()]
    assert bad["path"].endswith("broken.txt") and bad["reason"]
    (data / "broken.txt").unlink()  # a clean rerun leaves no stale errors file
    assert main(["-q", "classify", str(run / "model"), str(data), "--out", str(tmp_path / "c.jsonl")]) == 0
    assert not (tmp_path / "c.jsonl.errors.jsonl").exists()
    (tmp_path / "d.jsonl.errors.jsonl").mkdir()  # found after OUT was written, and the bad inputs' list lost
    for bad_out, named in ((tmp_path / "c.txt", "name a .jsonl file"), (tmp_path / "no" / "c.jsonl", "no such folder"),
                           (tmp_path / "d.jsonl", "its errors file")):
        assert main(["-q", "classify", str(run / "model"), str(data), "--out", str(bad_out)]) == 2
        assert named in capsys.readouterr().err and not bad_out.exists()
    # an OUT that is one of the inputs is refused before anything runs
    records = tmp_path / "records.jsonl"
    records.write_text('{"id": "r1", "headline": "Police arrest a suspect", "body": "Police said so."}\n')
    assert main(["-q", "classify", str(run / "model"), str(records), "--out", str(records)]) == 2
    assert "the output would overwrite the input" in capsys.readouterr().err and "r1" in records.read_text()
    # a run that classifies nothing (a typo in the only input, or only bad inputs) leaves OUT as it was
    before = (tmp_path / "c.jsonl").read_bytes()
    for inputs in ([str(tmp_path / "wyre")], [str(data / "broken.txt")]):
        (data / "broken.txt").write_bytes(b"\x00\x01binary")
        assert main(["-q", "classify", str(run / "model"), *inputs, "--out", str(tmp_path / "c.jsonl")]) == 2
        assert f"nothing written: {tmp_path / 'c.jsonl'} was left as it was" in capsys.readouterr().err
        assert (tmp_path / "c.jsonl").read_bytes() == before and not (tmp_path / "c.jsonl.errors.jsonl").exists()
    # a missing path beside real ones: the others are written, the missing one is listed, the run fails
    assert main(["-q", "classify", str(run / "model"), str(data), str(tmp_path / "wyre"),
                 "--out", str(tmp_path / "c.jsonl")]) == 2
    assert "1 bad input skipped" in capsys.readouterr().err and (tmp_path / "c.jsonl").read_text() == out
    listed = [json.loads(x)["path"] for x in (tmp_path / "c.jsonl.errors.jsonl").read_text().splitlines()]
    assert sorted(listed) == sorted([str(data / "broken.txt"), str(tmp_path / "wyre")])
    (data / "broken.txt").write_bytes(b"\x00\x01binary")
    assert main(["-q", "evaluate", str(run / "model"), "--data", str(data), "--out", str(tmp_path / "ev")]) == 0
    metrics = json.loads((tmp_path / "ev" / "eval_metrics.json").read_text())
    assert metrics["macro_f1"] == 1.0
    assert (tmp_path / "ev" / "eval_confusion.png").stat().st_size > 0
    ci = metrics["macro_f1_interval"]  # resampled by story group: every version of a story comes and goes together
    assert (ci["low"], ci["high"], ci["unit"], ci["level"]) == (1.0, 1.0, "story group", 0.95) and 0 < ci["units"] <= metrics["n"]
    assert "95% interval 1.000-1.000 (2,000 bootstrap resamples" in capsys.readouterr().err


def test_evaluate_says_when_a_model_has_no_training_record(fitted, tmp_path, capsys):
    """A model saved out of its run folder (save_pretrained copies no metrics.json) silently lost the trained-on
    warning; now evaluate says it cannot tell."""
    data = _write_folder(tmp_path / "wire")
    fitted.save_pretrained(tmp_path / "copy")
    assert main(["-q", "evaluate", str(tmp_path / "copy"), "--data", str(data)]) == 0
    assert "has no training record" in capsys.readouterr().err


def test_cli_bad_model_and_config_are_one_line_errors(tmp_path, capsys):
    assert main(["classify", str(tmp_path / "nope"), str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no such model folder" in err and "Traceback" not in err
    data = _write_folder(tmp_path / "wire")
    assert main(["train", "baseline", "--data", str(data), "--out", str(tmp_path / "r"), "--set", "baseline.CC=1"]) == 2
    assert "unknown config key" in capsys.readouterr().err


def test_demo_runs_from_any_folder_into_nlp_wire_demo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["-q", "demo"]) == 0
    assert (tmp_path / "nlp_wire_demo" / "predictions.jsonl").exists()


def test_demo_runs_on_sample_stories(tmp_path, capsys):
    assert main(["-q", "demo", "--out", str(tmp_path / "demo")]) == 0
    out = tmp_path / "demo"
    for name in ("weak_labels.csv", "predictions.jsonl", "summaries.jsonl", "baseline/model/nlp_wire_model.json",
                 "held_out/held_out_metrics.json"):
        assert (out / name).exists(), name
    held_out = json.loads((out / "held_out" / "held_out_metrics.json").read_text())
    assert 80 <= held_out["n"] <= 130  # a fifth of all labeled stories, those the rules abstained on too
    assert "abstaining on" in capsys.readouterr().err
    assert len((out / "predictions.jsonl").read_text().splitlines()) >= 200


def test_demo_on_a_folder_without_labels_says_so_before_writing(tmp_path, capsys):
    folder = _write_folder(tmp_path / "wire")
    (folder / "labels.csv").unlink()
    assert main(["demo", "--stories", str(folder), "--out", str(tmp_path / "demo")]) == 2
    assert "needs a labels.csv" in capsys.readouterr().err and not (tmp_path / "demo").exists()


def test_demo_names_a_bad_file_once_and_a_missing_folder_as_missing(tmp_path, capsys, caplog):
    """--stories with a bad file named it four times (each step read the folder again); a missing folder was
    said to need a labels.csv."""
    folder = _write_folder(tmp_path / "wire")
    (folder / "broken.txt").write_bytes(b"\x00\x01binary")
    caplog.set_level("WARNING")
    assert main(["demo", "--stories", str(folder), "--out", str(tmp_path / "demo")]) == 0
    assert sum("broken.txt" in r.getMessage() for r in caplog.records) == 1
    assert "(1 bad file skipped, named above)" in capsys.readouterr().err
    (tmp_path / "demo" / ".summaries.jsonl.done").unlink()
    (tmp_path / "demo" / "summaries.jsonl").write_text("left by hand\n")  # the demo's folder is its own: step 4
    assert main(["demo", "--stories", str(folder), "--out", str(tmp_path / "demo")]) == 0  # rewrites it as 1-3 do
    assert main(["demo", "--stories", str(tmp_path / "nowhere"), "--out", str(tmp_path / "d2")]) == 2
    assert "--stories " + str(tmp_path / "nowhere") + ": no such folder" in capsys.readouterr().err
    (folder / "labels.csv").write_text("id,label\ns00,crime\ns00,other\n")  # refused before step 1 writes
    assert main(["demo", "--stories", str(folder), "--out", str(tmp_path / "d3")]) == 2
    assert "labels.csv:3" in capsys.readouterr().err and not (tmp_path / "d3").exists()


def test_demo_rules_accuracy_joins_the_two_label_sets_by_id():
    import datasets

    from nlp_wire.cli.demo import rules_accuracy

    def examples(ids, labels, names):
        features = datasets.Features({"id": datasets.Value("string"), "label": datasets.ClassLabel(names=names)})
        return datasets.Dataset.from_dict({"id": ids, "label": [names.index(x) for x in labels]}, features=features)

    # "b" has no hand label and "d" no rules label: pairing the sorted rows gave a-a, b-c, c-e (1 of 3 right)
    weak = examples(["c", "a", "e", "b"], ["crime", "sport", "sport", "crime"], ["crime", "sport"])
    gold = examples(["a", "c", "d", "e"], ["sport", "crime", "other", "crime"], ["other", "crime", "sport"])
    assert rules_accuracy(weak, gold) == (2 / 4, 1)  # a and c agree, e does not, d abstained; b has no label
    assert rules_accuracy(weak.select([]), gold) == (0.0, 4)


def test_cross_validate_scores_every_gold_story_out_of_fold(tmp_path):
    from nlp_wire.classify.crossval import cross_validate
    from nlp_wire.config import TrainConfig, load_config

    base = _write_folder(tmp_path / "base")
    gold = _write_folder(tmp_path / "gold")
    cfg = load_config(TrainConfig, None, ["baseline.min_df=1", "data.val_size=0.0"])
    metrics = cross_validate(cfg, [str(base)], f"{gold}@2", folds=3)
    assert metrics["n"] == len(X)
    assert sum(map(sum, metrics["confusion_matrix"])) == len(X)
    assert len(metrics["misclassified"]) == len(X) - round(metrics["accuracy"] * len(X))
    oof = metrics["out_of_fold"]
    assert len({r["id"] for r in oof}) == len(X)
    predicted = [max(r["scores"], key=r["scores"].get) for r in oof]
    wrong = {m["id"] for m in metrics["misclassified"]}
    assert {r["id"] for r, p in zip(oof, predicted) if p != r["gold"]} == wrong
    assert all(abs(sum(r["scores"].values()) - 1) < 1e-3 for r in oof)

    # Combining runs averages their out-of-fold probabilities story by story.
    from nlp_wire.classify.crossval import combine_out_of_fold

    smooth = cross_validate(load_config(TrainConfig, None, ["baseline.min_df=1", "data.val_size=0.0",
                                                            "baseline.C=0.05"]), [str(base)], f"{gold}@2", folds=3)
    alone = combine_out_of_fold([metrics, smooth], [1.0, 0.0])
    assert {k: alone[k] for k in ("accuracy", "macro_f1", "confusion_matrix")} == \
        {k: metrics[k] for k in ("accuracy", "macro_f1", "confusion_matrix")}
    both = {r["id"]: r["scores"] for r in combine_out_of_fold([metrics, smooth], [3.0, 1.0])["out_of_fold"]}
    first, second = ({r["id"]: r["scores"] for r in run["out_of_fold"]} for run in (metrics, smooth))
    for i, scores in both.items():
        for label, p in scores.items():
            assert p == pytest.approx(0.75 * first[i][label] + 0.25 * second[i][label], abs=2e-5)
    with pytest.raises(ValueError, match="different stories"):
        combine_out_of_fold([metrics, {**smooth, "out_of_fold": smooth["out_of_fold"][1:]}])


def test_evaluate_in_progress_chunks_scores_every_story(fitted, monkeypatch, tmp_path):
    import datasets

    import nlp_wire.classify.evaluate as evaluate_module

    features = datasets.Features({"id": datasets.Value("string"), "text": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=LABELS)})
    ds = datasets.Dataset.from_dict({"id": [f"s{i}" for i in range(len(X))], "text": X,
                                     "label": [LABELS.index(y) for y in Y]}, features=features)
    whole = evaluate_module.score(ds["label"], fitted.predict_proba(X).argmax(1), LABELS)
    metrics = evaluate_module.evaluate(fitted, ds, tmp_path, batch_size=4, progress=False)  # batches 4, 4, 4, 3
    interval = metrics.pop("macro_f1_interval")
    assert metrics == whole and interval["unit"] == "story" and interval["units"] == len(X)  # no group column
    with pytest.raises(ValueError, match="no labeled examples"):
        evaluate_module.evaluate(fitted, ds.select([]))
    with pytest.raises(ValueError, match="batch_size must be a whole number >= 1"):
        evaluate_module.evaluate(fitted, ds, batch_size=0)
    (tmp_path / "afile").write_text("")
    calls = []
    monkeypatch.setattr(fitted, "_proba_texts", lambda *a: calls.append(1) or pytest.fail("predicted first"))
    with pytest.raises((FileExistsError, NotADirectoryError)):  # a bad --out fails before any prediction
        evaluate_module.evaluate(fitted, ds, tmp_path / "afile" / "out", progress=False)
    assert calls == []


def test_evaluate_tables_errors_by_publisher_when_ids_name_outlets(fitted, tmp_path):
    import datasets

    from nlp_wire.classify.evaluate import evaluate

    features = datasets.Features({"id": datasets.Value("string"), "text": datasets.Value("string"),
                                  "headline": datasets.Value("string"), "label": datasets.ClassLabel(names=LABELS)})
    ids = [("k001_%03d" if i % 2 else "h2020%03d") % i for i in range(len(X))]
    gold = [LABELS.index(y) for y in Y]
    gold[0] = LABELS.index("crime")  # one Korea Herald 2020 story the model must get wrong
    ds = datasets.Dataset.from_dict({"id": ids, "text": X, "headline": [f"H{i}" for i in range(len(X))],
                                     "label": gold}, features=features)
    metrics = evaluate(fitted, ds, tmp_path, progress=False)
    rows = {r["publisher"]: r for r in metrics["publishers"]}
    assert set(rows) == {"Yonhap", "Korea Herald 2020"} and rows["Yonhap"]["errors"] == 0
    assert rows["Korea Herald 2020"]["errors"] == 1 and rows["Korea Herald 2020"]["examples"][0]["headline"] == "H0"
    table = (tmp_path / "eval_publishers.md").read_text()
    assert "| Korea Herald 2020 | 8 |" in table and "H0 (crime -> diplomacy)" in table
    from nlp_wire.classify.publishers import publisher_markdown

    shown = publisher_markdown(metrics["publishers"], examples=False)  # what the terminal gets: no headlines
    assert "| Korea Herald 2020 | 8 |" in shown and "H0" not in shown and "e.g." not in shown
    plain = ds.map(lambda row: {"id": "story" + row["id"]})  # ids that name no outlet: no table
    assert "publishers" not in evaluate(fitted, plain, None, progress=False)


def test_cli_train_refuses_kind_in_set_and_a_limit_below_one(tmp_path, capsys):
    """`train baseline --set kind=minilm` trained MiniLM; `--unlabeled-limit -3` reached numpy's own message."""
    wire = _write_folder(tmp_path / "wire")
    args = ["train", "baseline", "--data", str(wire), "--out", str(tmp_path / "run")]
    assert main([*args, "--set", "kind=minilm"]) == 2
    assert "--set kind=minilm: the model kind is the first argument of train (baseline)" in capsys.readouterr().err
    assert main([*args, "--teacher", "baseline", "--unlabeled", str(wire), "--unlabeled-limit", "-3"]) == 2
    assert "--unlabeled-limit -3: give at least 1" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_cli_train_baseline_names_the_setting_scikit_learn_refused(tmp_path, capsys, caplog):
    """scikit-learn's own words ("max_df corresponds to < documents than min_df") reached the user without the key
    to change, and a solver stopping short printed a 10-line warning block."""
    wire = _write_folder(tmp_path / "wire")
    args = ["train", "baseline", "--data", str(wire), "--set", "data.val_size=0"]
    assert main([*args, "--out", str(tmp_path / "r1"), "--set", "baseline.min_df=100"]) == 2
    err = capsys.readouterr().err
    assert "training stories: max_df corresponds to < documents than min_df (baseline.min_df=100" in err
    caplog.set_level("WARNING")
    assert main([*args, "--out", str(tmp_path / "r2"), "--set", "baseline.min_df=1", "--set", "baseline.max_iter=1"]) == 0
    assert "stopped at baseline.max_iter=1 iterations" in caplog.text and "ConvergenceWarning" not in capsys.readouterr().err


def test_cli_train_names_out_when_its_folder_is_not_writable(tmp_path, capsys, monkeypatch):
    """The refusal named the hidden staging folder ('.run.partial'). (Root writes anywhere: refused by hand.)"""
    from pathlib import Path

    real = Path.mkdir

    def refuse_staging(self, *args, **kwargs):
        if self.name.endswith(".partial"):
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refuse_staging)
    wire = _write_folder(tmp_path / "wire")
    assert main(["train", "baseline", "--data", str(wire), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert f"--out {tmp_path / 'run'}: permission denied: no new folder may be made in {tmp_path}" in err
    assert ".partial" not in err


def test_cli_train_teacher_and_unlabeled_go_together(tmp_path, capsys):
    assert main(["train", "minilm", "--data", str(tmp_path), "--out", str(tmp_path / "run"),
                 "--teacher", str(tmp_path)]) == 2
    assert "--teacher and --unlabeled go together" in capsys.readouterr().err


def test_a_bare_string_is_one_story_and_batch_size_is_checked(fitted):
    one = fitted.predict("Police arrest a suspect in a voice phishing fraud ring")
    assert len(one) == 1 and one[0].label == "crime"
    assert fitted.predict_proba("Police arrest a suspect").shape == (1, len(LABELS))
    assert len(fitted.predict(STORY)) == 1  # a whole wire file as one string
    with pytest.raises(TypeError, match="not bytes"):
        fitted.predict(b"Police arrest a suspect")
    with pytest.raises(TypeError, match="a list of them, not int"):
        fitted.predict(123)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="batch_size must be a whole number >= 1"):
            fitted.predict(["x"], batch_size=bad)


def test_saved_weights_follow_the_umask_not_private_temp_files(fitted, tmp_path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        fitted.save_pretrained(tmp_path / "m")
    finally:
        os.umask(old)
    for f in (tmp_path / "m").iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o644, f.name


def _earlier_run(tmp_path):
    """A run folder holding a file, and the arguments that train a baseline into it."""
    folder = _write_folder(tmp_path / "wire")
    run = tmp_path / "run"
    (run / "model").mkdir(parents=True)
    (run / "model" / "old.safetensors").write_text("an earlier run")
    for name in ("config.yaml", "metrics.json"):  # what marks a folder as a run --overwrite may replace
        (run / name).write_text("{}")
    return run, ["train", "baseline", "--data", str(folder), "--out", str(run), "--set", "baseline.min_df=1",
                 "--set", "data.val_size=0"]


def test_cli_train_refuses_an_earlier_run_unless_overwrite(tmp_path, capsys):
    run, args = _earlier_run(tmp_path)
    assert main(args) == 2
    assert "holds an earlier run" in capsys.readouterr().err
    assert main(args + ["--overwrite"]) == 0
    assert not (run / "model" / "old.safetensors").exists() and (run / "model" / "nlp_wire_model.json").exists()
    err = capsys.readouterr().err
    assert "baseline.yaml (the shipped baseline recipe)" in err  # the run log names the config it used


@pytest.mark.parametrize("bad", [["--set", "training.lrr=1"], ["--set", "baseline.C=many"],
                                 ["--data", "{tmp}/nowhere"], ["--data", "{tmp}/wire::{tmp}/nolabels.csv"],
                                 ["--teacher", "{tmp}/wire"], ["--unlabeled", "{tmp}/wire"]])
def test_cli_train_overwrite_keeps_the_earlier_run_when_the_arguments_are_bad(bad, tmp_path, capsys):
    """--overwrite replaces a run only once everything the new run needs has been checked: a typo must not cost
    a trained model."""
    run, args = _earlier_run(tmp_path)
    assert main(args + [a.format(tmp=tmp_path) for a in bad] + ["--overwrite"]) == 2
    assert (run / "model" / "old.safetensors").read_text() == "an earlier run"
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("labels", ["s00,Other", "ONE_CLASS"])
def test_cli_train_keeps_the_earlier_run_when_the_data_cannot_be_read_or_fitted(labels, tmp_path, capsys):
    """The new run is written beside OUT and replaces it whole: a bad labels row, or data with one class, leaves
    an earlier run as it was and no half-written folder behind."""
    run, args = _earlier_run(tmp_path)
    csv_path = tmp_path / "wire" / "labels.csv"
    rows = csv_path.read_text().splitlines()
    rows = [rows[0], *(f"{r.split(',')[0]},other" for r in rows[1:])] if labels == "ONE_CLASS" else [rows[0], labels]
    csv_path.write_text("\n".join(rows) + "\n")
    assert main(args + ["--overwrite"]) == 2
    assert (run / "model" / "old.safetensors").read_text() == "an earlier run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "wire"]  # no .run.partial left
    fresh = tmp_path / "fresh"
    to_fresh = [str(fresh) if a == str(run) else a for a in args]
    assert main(to_fresh) == 2
    assert not fresh.exists() and "Traceback" not in capsys.readouterr().err
    assert main(to_fresh) == 2  # a rerun is not refused as an earlier run
    err = capsys.readouterr().err
    assert "holds an earlier run" not in err
    assert ("training needs examples of at least two labels; the data has other 15" in err if labels == "ONE_CLASS"
            else "unknown label 'Other'" in err)


def test_cli_train_leaves_the_run_folder_to_the_main_process(tmp_path, monkeypatch):
    """Under accelerate launch the main process checks, clears and writes --out: another process that found the
    main's first files must neither refuse them as an earlier run nor wipe them (--overwrite), nor write."""
    run, args = _earlier_run(tmp_path)  # here: the main process's first files
    monkeypatch.setenv("RANK", "1")
    assert main(args) == 0 and main(args + ["--overwrite"]) == 0
    assert sorted(p.name for p in run.rglob("*")) == ["config.yaml", "metrics.json", "model", "old.safetensors"]


def test_cli_classify_names_a_missing_path_once_and_fails(tmp_path, capsys):
    folder = _write_folder(tmp_path / "wire")
    assert main(["classify", "baseline", str(folder), str(tmp_path / "nope")]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("nope") == 1  # named once (the summary line counts it)
    assert "1 input path does not exist" in captured.err and captured.out.strip()  # the good folder still classified


@pytest.mark.parametrize("command", [
    ["demo", "--out", "{f}/sub"],
    ["label", "{wire}", "--out", "{f}/labels.csv"],
    ["summarize", "{wire}", "--out", "{f}/s.jsonl"],
    ["train", "baseline", "--data", "{wire}", "--out", "{f}/run", "--set", "baseline.min_df=1"],
    ["evaluate", "no_such_model", "--data", "{wire}", "--out", "{f}/eval"],  # checked before the model loads
])
def test_cli_out_under_a_file_is_one_clear_error(command, tmp_path, capsys):
    wire = _write_folder(tmp_path / "wire")
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    args = [a.format(f=blocker, wire=wire) for a in command]
    assert main(["-q", *args]) == 2
    err = capsys.readouterr().err
    assert "a file is in the way" in err or "is a file" in err
    assert "unexpected" not in err and "Traceback" not in err


def test_cli_evaluate_leaves_no_out_folder_when_it_stops_and_says_device_does_nothing_for_a_baseline(tmp_path, capsys):
    """A misspelt model left an empty --out folder behind; --device foo on a baseline passed in silence (classify
    warns)."""
    assert main(["evaluate", "no_such_model", "--data", str(tmp_path), "--out", str(tmp_path / "ev")]) == 2
    assert not (tmp_path / "ev").exists() and "no_such_model" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    assert main(["evaluate", "baseline", "--data", str(tmp_path), "--out", str(tmp_path / "file")]) == 2
    assert "--out " + str(tmp_path / "file") + ": is a file" in capsys.readouterr().err
    wire = _write_folder(tmp_path / "wire")
    assert main(["evaluate", "baseline", "--data", str(wire), "--device", "cuda"]) == 0
    assert "warning: --device ignored: baseline is made of TF-IDF baselines" in capsys.readouterr().err


def test_cli_evaluate_checks_the_batch_size_before_loading_the_model(tmp_path, capsys):
    assert main(["evaluate", "no_such_model", "--data", str(tmp_path), "--batch-size", "0"]) == 2
    assert "--batch-size must be >= 1" in capsys.readouterr().err


def test_global_flags_work_after_the_subcommand(tmp_path, capsys):
    from nlp_wire.story import WireFormatError

    args = ["evaluate", "baseline", "--data", str(tmp_path / "nope")]
    assert main(args) == 2  # one line
    capsys.readouterr()
    # --debug after the subcommand: the real exception's traceback, and the same exit code (it was 1: --debug
    # re-raised, so a script testing for 2, a user error, saw another code)
    assert main([*args, "--debug"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and f"{WireFormatError.__module__}.WireFormatError" in err


def test_cli_evaluate_warns_on_its_own_training_data_and_explains_missing_labels(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    wire = _write_folder(tmp_path / "wire")
    assert main(["-q", "train", "baseline", "--data", "wire", "--out", "run", "--set", "baseline.min_df=1",
                 "--set", "data.val_size=0"]) == 0
    capsys.readouterr()
    assert main(["-q", "evaluate", "run/model", "--data", str(wire)]) == 0
    err = capsys.readouterr().err
    assert "was trained on" in err and "not a held-out score" in err
    other = _write_folder(tmp_path / "other")
    keep = [row for row in (other / "labels.csv").read_text().splitlines() if not row.endswith(("diplomacy", "covid"))]
    (other / "labels.csv").write_text("\n".join(keep) + "\n")  # three of the five labels only
    assert main(["-q", "evaluate", "run/model", "--data", str(other)]) == 0
    err = capsys.readouterr().err
    assert "was trained on" not in err
    assert "labels occur in this data" in err  # the tiny folder holds fewer labels than the model knows


def test_external_scores_skip_a_model_trained_on_the_data_and_average_present_labels(tmp_path, monkeypatch):
    from nlp_wire.classify.evaluate import external_scores, present_macro_f1

    monkeypatch.chdir(tmp_path)
    wire = _write_folder(tmp_path / "wire")
    assert main(["-q", "train", "baseline", "--data", "wire", "--out", "run", "--set", "baseline.min_df=1",
                 "--set", "data.val_size=0"]) == 0
    other = _write_folder(tmp_path / "other")
    keep = [row for row in (other / "labels.csv").read_text().splitlines() if not row.endswith(("diplomacy", "covid"))]
    (other / "labels.csv").write_text("\n".join(keep) + "\n")
    got = external_scores(["run/model"], str(wire), progress=False)
    assert got == {"run/model": {"skipped": f"trained on {wire.resolve()}"}}
    m = external_scores(["run/model"], str(other), min_support=1, progress=False)["run/model"]
    present = [label for label, v in m["per_label"].items() if v["support"]]
    assert m["labels_scored"] == present and set(present) <= {"crime", "entertainment", "other"}
    assert m["macro_f1_present"] == round(sum(m["per_label"][k]["f1"] for k in present) / len(present), 4)
    assert m["macro_f1_present"] >= m["macro_f1"]  # the absent labels' zeros are left out
    with pytest.raises(ValueError, match="no label has 1000 or more"):
        present_macro_f1(m, 1000)


def test_a_run_folder_given_for_its_model_gets_a_did_you_mean(tmp_path):
    from nlp_wire.classify.base import MODEL_CARD

    (tmp_path / "run" / "model").mkdir(parents=True)
    (tmp_path / "run" / "model" / MODEL_CARD).write_text("{}")
    with pytest.raises(ModelLoadError, match=r"did you mean .*run/model"):
        load_classifier(tmp_path / "run")


def test_cli_help_names_every_choice(capsys):
    for command in (["train", "--help"], ["summarize", "--help"], ["classify", "--help"]):
        with pytest.raises(SystemExit):
            main(command)
    out = capsys.readouterr().out
    assert "TF-IDF + logistic regression" in out and "summarizer: lead" in out and "stories per prediction batch" in out


def test_cli_classify_says_which_options_a_baseline_ignores(tmp_path, capsys):
    folder = _write_folder(tmp_path / "wire")
    assert main(["-q", "classify", "baseline", str(folder), "--dtype", "bfloat16", "--device", "cuda"]) == 0
    assert "--dtype, --device ignored" in capsys.readouterr().err


def test_cli_classify_an_empty_folder_says_so_and_fails(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["-q", "classify", "baseline", str(tmp_path / "empty")]) == 2
    assert "no stories found" in capsys.readouterr().err


@pytest.mark.parametrize("key,value,message", [
    ("input", "filename", "not an accepted value"),
    ("token_pattern", "(a|aa)+$", "not an accepted value"),
    ("tokenizer", ["os.system"], "not an accepted value"),
    ("ngram_range", [1, 300000], "1 <= low <= high <= 10"),
    ("min_df", "two", "non-negative number"),
    ("frobnicate", True, "unknown parameter"),
])
def test_a_crafted_vocabulary_is_refused_at_load(fitted, tmp_path, key, value, message):
    fitted.save_pretrained(tmp_path / "m")
    path = tmp_path / "m" / "vocabulary.json"
    vocab = json.loads(path.read_text())
    next(iter(vocab.values()))["params"][key] = value
    path.write_text(json.dumps(vocab))
    with pytest.raises(ModelLoadError, match=message):
        load_classifier(tmp_path / "m")


def test_char_ngram_baselines_still_load(tmp_path):
    clf = TfidfClassifier(labels=LABELS, min_df=1, char_ngram_range=(2, 4)).fit(X, Y)
    clf.save_pretrained(tmp_path / "c")
    assert load_classifier(tmp_path / "c").predict(X[:3])[0].label == clf.predict(X[:3])[0].label


def test_a_baseline_run_folder_records_no_transformer_settings(tmp_path):
    import yaml

    run = tmp_path / "run"
    assert main(["-q", "train", "baseline", "--data", str(_write_folder(tmp_path / "wire")), "--out", str(run),
                 "--set", "baseline.min_df=1", "--set", "data.val_size=0.0"]) == 0
    recorded = yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8"))
    assert recorded["kind"] == "baseline" and recorded["baseline"]["min_df"] == 1
    assert not {"model", "training", "device"} & set(recorded)


def test_evaluate_batches_are_the_batches_of_one_call_with_wordless_stories_too():
    """bfloat16 and int8 answers depend on the batch: evaluate's bar-driven batches must be predict's batches."""
    from nlp_wire.classify.base import WireClassifier, proba_by_batch
    from nlp_wire.config import DataConfig

    class BatchEcho(WireClassifier):  # each row says which batch it came in and how long that batch was
        labels = ["a", "b", "other"]
        data_config = DataConfig(labels=labels)

        def __init__(self):
            self.calls = []

        def _proba_texts(self, texts, batch_size):
            rows = []
            order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
            for start in range(0, len(texts), batch_size):
                batch = order[start:start + batch_size]
                self.calls.append(sorted(texts[i] for i in batch))
                rows += [(i, [len(batch), sum(len(texts[j]) for j in batch), 1.0]) for i in batch]
            out = np.array([r for _, r in sorted(rows)], np.float32)
            return out / out.sum(1, keepdims=True)

    class Bar:
        def __init__(self):
            self.n = 0

        def update(self, n):
            self.n += n

    texts = ["", "ccc", "a", "  ", "bb", "dddd", "eeeee"]
    one, by_batch = BatchEcho(), BatchEcho()
    bar = Bar()
    np.testing.assert_array_equal(one.predict_proba(texts, batch_size=2), proba_by_batch(by_batch, texts, 2, bar))
    assert one.calls == by_batch.calls == [["a", "bb"], ["ccc", "dddd"], ["eeeee"]] and bar.n == len(texts)


@pytest.mark.parametrize("bad", [1.1, -0.1, float("nan"), True, "0.5"])
def test_predict_checks_its_threshold_as_load_classifier_does(fitted, bad):
    with pytest.raises(ValueError, match="threshold must be a probability between 0 and 1"):
        fitted.predict(X[:1], threshold=bad)
    with pytest.raises(ValueError, match="threshold must be a probability between 0 and 1"):
        load_classifier("baseline", threshold=bad)
    assert fitted.predict(X[:1], threshold=0.0)[0].label == "diplomacy"


def test_hand_set_threshold_bytes_paths_negative_limits_and_dataset_dicts_get_clear_errors(fitted, tmp_path):
    import datasets

    from nlp_wire.classify.evaluate import evaluate

    fitted.threshold = 2  # an attribute set by hand: checked when used, not silently 'other' for everything
    with pytest.raises(ValueError, match="threshold must be a probability"):
        fitted.predict(X[:1])
    fitted.threshold = None
    with pytest.raises(TypeError, match="not bytes"):
        list(nlp_wire.read_stories(b"wire"))
    with pytest.raises(ValueError, match="limit must be a whole number"):
        nlp_wire.load_examples(str(tmp_path), limit=-1)
    ds = datasets.Dataset.from_dict({"text": X, "label": [LABELS.index(y) for y in Y]},
                                    features=datasets.Features({"text": datasets.Value("string"),
                                                                "label": datasets.ClassLabel(names=LABELS)}))
    with pytest.raises(TypeError, match=r"one split of a DatasetDict, e.g. dataset\['test'\]"):
        evaluate(fitted, datasets.DatasetDict({"test": ds}))


def test_cross_validate_weighs_the_gold_training_stories_as_gold_at_weight_says(tmp_path, monkeypatch):
    """``gold@2``: every gold story a fold trains on weighs 2, the base sources keep theirs (review r16 mutation F2)."""
    import numpy as np

    from nlp_wire.classify import crossval
    from nlp_wire.config import TrainConfig, load_config

    base = _write_folder(tmp_path / "base")
    gold = _write_folder(tmp_path / "gold")
    seen = []

    class Stub:
        def _proba_texts(self, texts, batch_size):
            return np.full((len(texts), 5), 0.2)

    def spy(config, train, val, out, progress=False):
        seen.append((list(train["source"]), list(train["weight"])))
        return Stub()

    monkeypatch.setattr(crossval, "fit_classifier", spy)
    cfg = load_config(TrainConfig, None, ["baseline.min_df=1", "data.val_size=0.0"])
    crossval.cross_validate(cfg, [str(base)], f"{gold}@2", folds=3)
    assert len(seen) == 3
    for sources, weights in seen:
        by_source = {s: {w for s2, w in zip(sources, weights) if s2 == s} for s in set(sources)}
        assert {s: w for s, w in by_source.items() if "gold" in s} and all(
            w == ({2.0} if "gold" in s else {1.0}) for s, w in by_source.items()), by_source


def test_classify_out_names_its_errors_file_when_inputs_were_bad(tmp_path, capsys):
    from nlp_wire.cli.main import main

    data = _write_folder(tmp_path / "wire")
    (data / "broken.txt").write_bytes(b"\x00\x01 not a story")
    out = tmp_path / "labels.jsonl"
    assert main(["-q", "classify", "baseline", str(data), "--out", str(out)]) == 0
    assert f"failures listed in {out}.errors.jsonl" in capsys.readouterr().err
    (data / "broken.txt").unlink()
    assert main(["-q", "classify", "baseline", str(data), "--out", str(out)]) == 0
    assert "failures listed" not in capsys.readouterr().err


def test_cli_train_checks_the_device_early_without_saying_it_twice(tmp_path, caplog):
    """train resolves the device before reading data (a missing GPU is said at once) and again when it trains;
    only the second says "device auto -> cpu"."""
    with caplog.at_level(logging.INFO, logger="nlp_wire"):
        assert main(["train", "minilm", "--data", str(tmp_path), "--out", str(tmp_path / "run"), "--set", "device=auto",
                     "--teacher", str(tmp_path)]) == 2  # stops after the device check, before any training
    assert "device auto" not in caplog.text


def test_cli_train_overwrite_replaces_only_a_run_and_never_its_sources(tmp_path, capsys, monkeypatch):
    """--overwrite deleted whatever --out named: the training folder itself, with its stories and gold labels,
    or a folder around it, or one of the user's own."""
    wire = _write_folder(tmp_path / "wire")
    stories = sorted(p.name for p in wire.iterdir())
    base = ["train", "baseline", "--set", "baseline.min_df=1", "--set", "data.val_size=0", "--overwrite"]
    for out, data, said in [(wire, wire, "a source of this run"), (tmp_path, wire, "a source of this run"),
                            (wire, tmp_path / "copy", "not a run of nlp-wire train")]:
        if data != wire:
            shutil.copytree(wire, data, dirs_exist_ok=True)
        assert main([*base, "--data", str(data), "--out", str(out)]) == 2
        assert said in capsys.readouterr().err
        assert sorted(p.name for p in wire.iterdir()) == stories  # nothing deleted
    monkeypatch.chdir(wire)
    for out in (".", ".."):  # the current folder, or one around it, is never renamed away
        assert main([*base, "--data", str(wire), "--out", out]) == 2
        assert "the current folder" in capsys.readouterr().err
    assert sorted(p.name for p in wire.iterdir()) == stories


# -- what the estimator passes to scikit-learn, and what a save keeps (mutation review r17) -----------------------
def test_sample_weight_reaches_the_logistic_regression():
    """Dropping sample_weight in fit passed every test: each PATH@WEIGHT, gold weight and teacher-pool weight would
    have trained a baseline as if every weight were 1. Two texts of the same words and other labels: the heavier
    one wins."""
    texts, labels = [*X, "police talks", "police talks"], [*Y, "crime", "diplomacy"]
    for heavy in ("crime", "diplomacy"):
        weights = [1.0] * len(X) + [20.0 if heavy == "crime" else 1.0, 20.0 if heavy == "diplomacy" else 1.0]
        clf = TfidfClassifier(labels=LABELS, min_df=1).fit(texts, labels, sample_weight=weights)
        assert clf.predict(["police talks"])[0].label == heavy


def test_every_setting_reaches_scikit_learn():
    """C, class_weight, sublinear_tf and the char vectorizer's min_df could each be dropped on the way to
    scikit-learn without a failing test (configs whose settings do nothing)."""
    # values other than scikit-learn's defaults, so that a setting dropped on the way shows
    clf = TfidfClassifier(labels=LABELS, min_df=2, C=3.0, class_weight="balanced", sublinear_tf=True, max_features=50,
                          char_ngram_range=(2, 3), max_iter=77).fit(X * 2, Y * 2)
    vectorizers = dict(clf.pipeline_.named_steps["features"].transformer_list)
    assert sorted(vectorizers) == ["char", "word"]
    for vec in vectorizers.values():
        assert (vec.min_df, vec.max_features, vec.sublinear_tf) == (2, 50, True)
    lr = clf.pipeline_.named_steps["clf"]
    assert (lr.C, lr.class_weight, lr.max_iter) == (3.0, "balanced", 77)


def test_a_saved_baseline_keeps_its_threshold_and_settings(tmp_path):
    """The threshold and the hyperparameters could be lost on load: the model answered without its threshold, and
    get_params() (clone, refit, a second save) gave the defaults."""
    from sklearn.base import clone

    orig = TfidfClassifier(labels=LABELS, min_df=1, C=100.0, sublinear_tf=False, max_features=5_000,
                           threshold=0.9).fit(X, Y)
    orig.save_pretrained(tmp_path / "m")
    loaded = TfidfClassifier.from_pretrained(tmp_path / "m")
    keys = [k for k in orig.get_params() if k != "data_config"]
    assert {k: loaded.get_params()[k] for k in keys} == {k: orig.get_params()[k] for k in keys}
    assert loaded.threshold == 0.9
    mixed = ["police court fraud talks"]  # no label reaches 0.9: the default label, as from the original
    assert orig.predict(mixed)[0].label == loaded.predict(mixed)[0].label == "other"
    assert clone(loaded).get_params()["C"] == 100.0


def test_refitting_a_loaded_baseline_drops_its_training_record(fitted, tmp_path):
    """A loaded model refit on other data and saved elsewhere named the old training sources in its
    metrics.json, so evaluate warned about the wrong data."""
    fitted.save_pretrained(tmp_path / "a")
    (tmp_path / "a" / "metrics.json").write_text(json.dumps({"data": [str(tmp_path / "src")]}))
    model = load_classifier(tmp_path / "a")
    assert model.trained_on  # read from the record
    model.fit(X, Y).save_pretrained(tmp_path / "b")
    assert not (tmp_path / "b" / "metrics.json").exists()


def test_a_label_index_past_the_labels_is_refused_at_fit():
    y = [LABELS.index(v) for v in Y]
    y[0] = len(LABELS)
    with pytest.raises(ValueError, match="indices 0..4"):
        TfidfClassifier(labels=LABELS, min_df=1).fit(X, y)


def test_score_takes_sample_weight(fitted):
    wrong = ["other"] * len(X)
    weights = [0.0 if y != "other" else 1.0 for y in Y]  # only the stories whose label is right count
    assert fitted.score(X, wrong) < 1.0 and fitted.score(X, wrong, sample_weight=weights) == 1.0


def test_a_transformer_folder_is_not_read_as_a_baseline(tmp_path):
    from nlp_wire.classify.base import write_model_card
    from nlp_wire.config import DataConfig

    (tmp_path / "t").mkdir()
    write_model_card(tmp_path / "t", "transformer", LABELS, DataConfig(labels=LABELS))
    with pytest.raises(ModelLoadError, match="a 'transformer' model, not a baseline"):
        TfidfClassifier.from_pretrained(tmp_path / "t")


@pytest.mark.parametrize("edit, message", [
    ("dup_classes", "distinct indices"),   # two columns on one label: probabilities on the wrong labels
    ("one_class", "distinct indices"),     # failed at the first predict with numpy's broadcast error
    ("float_classes", "expected int"),     # failed at predict with an IndexError
    ("dup_terms", "distinct strings"),     # the vocabulary shrank: a scipy error at predict
    ("use_idf_false", "not an accepted value"),  # scikit-learn's raw "idf_ cannot be set" at load
])
def test_a_crafted_weights_file_is_one_named_load_error(fitted, tmp_path, edit, message):
    from safetensors.numpy import load_file, save_file

    fitted.save_pretrained(tmp_path / "m")
    weights, vocab_path = tmp_path / "m" / "baseline.safetensors", tmp_path / "m" / "vocabulary.json"
    tensors = load_file(str(weights))
    vocab = json.loads(vocab_path.read_text())
    word = vocab["word"]
    if edit == "dup_classes":
        tensors["clf.classes"] = np.array([0, 0, 2, 3, 4], dtype=np.int64)
    elif edit == "one_class":
        n = tensors["clf.coef"].shape[1]
        tensors.update({"clf.classes": np.array([0], dtype=np.int64), "clf.coef": np.zeros((1, n), np.float32),
                        "clf.intercept": np.zeros(1, np.float32)})
    elif edit == "float_classes":
        tensors["clf.classes"] = tensors["clf.classes"].astype(np.float32)
    elif edit == "dup_terms":
        word["terms"][1] = word["terms"][0]
    else:
        word["params"]["use_idf"] = False
    save_file(tensors, str(weights))
    vocab_path.write_text(json.dumps(vocab))
    with pytest.raises(ModelLoadError, match=message):
        load_classifier(tmp_path / "m")


def test_the_estimator_and_the_config_default_to_the_same_recipe():
    """A baseline built in Python (TfidfClassifier()) and one built from a config that leaves a key out differed:
    max_features was 100,000 in one and 200,000 in the other."""
    from dataclasses import asdict

    from nlp_wire.config import BaselineConfig

    ours = TfidfClassifier().get_params()
    for key, value in asdict(BaselineConfig()).items():
        assert (list(ours[key]) if isinstance(ours[key], tuple) else ours[key]) == \
            (list(value) if isinstance(value, tuple) else value), key


def test_a_teacher_inside_out_is_allowed(tmp_path):
    """Retraining a run from its own model (--teacher RUN/model --out RUN --overwrite) is safe: the teacher is loaded
    before the run is replaced. The first version of the --out check refused it as a source of the run."""
    from types import SimpleNamespace

    from nlp_wire.cli.errors import UserError
    from nlp_wire.cli.train import _check_out

    run, _ = _earlier_run(tmp_path)
    args = SimpleNamespace(data=[str(_write_folder(tmp_path / "data"))], unlabeled=[str(tmp_path / "data")],
                           teacher=str(run / "model"), overwrite=True)
    _check_out(run, args)  # no refusal
    args.data = [str(run / "model")]
    with pytest.raises(UserError, match="a source of this run"):  # training data inside OUT still is one
        _check_out(run, args)


def test_a_failed_swap_keeps_the_earlier_run_and_exits_1(tmp_path, capsys, monkeypatch):
    """The new run could not be renamed into place (a busy folder): the earlier run goes back, the staged one is
    removed, and the exit code is 1 (not the input's fault), not 2."""
    from pathlib import Path

    run, args = _earlier_run(tmp_path)
    real = Path.rename

    def busy(self, target):
        if self.name.endswith(".partial"):
            raise OSError(16, "Device or resource busy", str(self))
        return real(self, target)

    monkeypatch.setattr(Path, "rename", busy)
    assert main(args + ["--overwrite"]) == 1
    assert "could not put the new run in place" in capsys.readouterr().err
    assert (run / "model" / "old.safetensors").read_text() == "an earlier run"
    assert not list(tmp_path.glob(".run.*"))
