"""EnsembleClassifier: weighted average of members, saved with its members or linked to existing folders."""

import json

import numpy as np
import pytest

from nlp_wire.classify import ModelLoadError, load_classifier
from nlp_wire.classify.baseline import TfidfClassifier
from nlp_wire.classify.ensemble import EnsembleClassifier

LABELS = ["sport", "weather", "other"]
# Invented one-line stories.
X = ["The home team won the football final after a late goal",
     "A striker scored twice as the club won the league match",
     "Heavy rain and strong wind are expected across the coast tomorrow",
     "Forecasters warned of snow and cold wind in the north",
     "The city council approved a new budget for public libraries",
     "A museum opened an exhibition of old maps on Monday"]
Y = ["sport", "sport", "weather", "weather", "other", "other"]
NEW = ["Snow and wind tomorrow", "The club won the final", "The library opened", ""]


@pytest.fixture
def members():
    return {"sharp": TfidfClassifier(labels=LABELS, min_df=1, C=100.0).fit(X, Y),
            "smooth": TfidfClassifier(labels=LABELS, min_df=1, C=0.1, word_ngram_range=(1, 1)).fit(X, Y)}


def test_probabilities_are_the_weighted_average(members):
    ens = EnsembleClassifier(members, {"sharp": 3.0, "smooth": 1.0})
    assert ens.weights == {"sharp": 0.75, "smooth": 0.25}
    expected = 0.75 * members["sharp"].predict_proba(NEW) + 0.25 * members["smooth"].predict_proba(NEW)
    np.testing.assert_allclose(ens.predict_proba(NEW), expected, atol=1e-6)
    np.testing.assert_allclose(ens.predict_proba(NEW).sum(1), 1.0, atol=1e-5)
    assert [p.label for p in ens.predict(X)] == Y
    single = np.vstack([ens.predict_proba([t], batch_size=1) for t in NEW])
    np.testing.assert_allclose(ens.predict_proba(NEW, batch_size=3), single, atol=1e-6)


def test_equal_weights_by_default_and_threshold(members):
    ens = EnsembleClassifier(members, threshold=0.99)
    assert ens.weights == {"sharp": 0.5, "smooth": 0.5}
    assert all(p.label == "other" for p in ens.predict(NEW))  # nothing is that sure after averaging
    assert [p.label for p in ens.predict(NEW[:2], threshold=0.0)] == ["weather", "sport"]


def test_save_and_load_round_trip(members, tmp_path):
    ens = EnsembleClassifier(members, {"sharp": 2.0, "smooth": 1.0})
    ens.save_pretrained(tmp_path / "ens")
    card = json.loads((tmp_path / "ens" / "nlp_wire_model.json").read_text())
    assert card["kind"] == "ensemble" and card["labels"] == LABELS
    assert card["members"] == [{"path": "sharp", "weight": 0.666667}, {"path": "smooth", "weight": 0.333333}]
    loaded = load_classifier(tmp_path / "ens", threshold=0.4)
    assert isinstance(loaded, EnsembleClassifier) and loaded.threshold == 0.4
    np.testing.assert_allclose(loaded.predict_proba(NEW), ens.predict_proba(NEW), atol=1e-6)


def test_threshold_survives_save_and_load(members, tmp_path):
    EnsembleClassifier(members, threshold=0.99).save_pretrained(tmp_path / "ens")
    assert json.loads((tmp_path / "ens" / "nlp_wire_model.json").read_text())["threshold"] == 0.99
    loaded = load_classifier(tmp_path / "ens")
    assert loaded.threshold == 0.99 and all(p.label == "other" for p in loaded.predict(NEW))
    assert load_classifier(tmp_path / "ens", threshold=0.1).threshold == 0.1


def test_cli_ensemble_links_shipped_names_to_their_folders_and_refuses_a_trained_model(tmp_path, monkeypatch, capsys):
    """``nlp-wire ensemble OUT baseline tfidf_ann`` links the shipped folders (it linked ../baseline beside OUT, which
    did not load); ``nlp-wire ensemble runs/bl/model other/model`` (OUT forgotten) does not overwrite the model."""
    from nlp_wire.classify.catalog import models_dir
    from nlp_wire.cli.main import main

    monkeypatch.chdir(tmp_path)
    assert main(["ensemble", "out/ens", "baseline", "tfidf_ann@2"]) == 0
    card = json.loads((tmp_path / "out" / "ens" / "nlp_wire_model.json").read_text())
    assert [(tmp_path / "out" / "ens" / m["path"]).resolve() for m in card["members"]] == \
        [(models_dir() / n).resolve() for n in ("baseline", "tfidf_ann")]
    assert load_classifier("out/ens").predict(["Police arrest a suspect"])[0].label in LABELS_5
    capsys.readouterr()
    trained = tmp_path / "bl"
    TfidfClassifier(labels=LABELS_5, min_df=1).fit(X5, Y5).save_pretrained(trained)
    before = sorted(p.name for p in trained.iterdir())
    assert main(["ensemble", str(trained), "baseline"]) == 2
    assert "not an ensemble linked earlier" in capsys.readouterr().err
    assert sorted(p.name for p in trained.iterdir()) == before and load_classifier(trained).labels == LABELS_5
    assert main(["ensemble", "out/ens", "baseline"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["ensemble", "out/ens", "baseline", "--overwrite"]) == 0


LABELS_5 = ["diplomacy", "covid", "crime", "entertainment", "other"]
X5 = ["Envoys hold summit talks", "Virus cases rise again", "Police arrest a fraud suspect", "Singer tops the chart",
      "Exports of chips rise"]
Y5 = LABELS_5


def test_members_must_agree(members):
    other = TfidfClassifier(labels=["sport", "other", "weather"], min_df=1).fit(X, Y)
    with pytest.raises(ValueError, match="labels"):
        EnsembleClassifier({"a": members["sharp"], "b": other})
    with pytest.raises(ValueError, match="one per member"):
        EnsembleClassifier(members, {"sharp": 1.0})
    with pytest.raises(ValueError, match="non-negative"):
        EnsembleClassifier(members, {"sharp": 1.0, "smooth": -1.0})
    with pytest.raises(ValueError, match="at least one"):
        EnsembleClassifier({})


def test_bad_ensemble_folders_name_the_problem(members, tmp_path):
    ens = EnsembleClassifier(members)
    folder = ens.save_pretrained(tmp_path / "ens")
    card_path = folder / "nlp_wire_model.json"
    card = json.loads(card_path.read_text())
    for entry, match in [({"path": "missing"}, "missing"), ({"folder": "sharp"}, "bad member entry"),
                         ({"path": "sharp", "weight": "heavy"}, "bad member entry"),
                         ({"path": "."}, "an ensemble cannot be a member")]:
        card_path.write_text(json.dumps({**card, "members": [entry]}))
        with pytest.raises(ModelLoadError, match=match):
            load_classifier(folder)
    card_path.write_text(json.dumps({**card, "members": []}))
    with pytest.raises(ModelLoadError, match="no members"):
        load_classifier(folder)


def test_a_member_or_model_of_unknown_kind_is_named(members, tmp_path):
    folder = EnsembleClassifier(members).save_pretrained(tmp_path / "ens")
    member_card = folder / "sharp" / "nlp_wire_model.json"
    member_card.write_text(json.dumps({**json.loads(member_card.read_text()), "kind": "svm"}))
    for target in (folder, folder / "sharp"):
        with pytest.raises(ModelLoadError, match=r"sharp: unknown model kind 'svm'"):
            load_classifier(target)


def test_loading_an_ensemble_folder_as_one_model_says_so(members, tmp_path):
    from nlp_wire.classify.single import load_single

    folder = EnsembleClassifier(members).save_pretrained(tmp_path / "ens")
    with pytest.raises(ModelLoadError, match=r"ens: holds an ensemble, not a single model"):
        load_single(folder)
    assert isinstance(load_single(folder / "sharp"), TfidfClassifier)


def test_link_existing_folders_without_copying(members, tmp_path):
    from nlp_wire.classify.ensemble import link_ensemble

    for name, member in members.items():
        member.save_pretrained(tmp_path / "models" / name)
    linked = link_ensemble(tmp_path / "models" / "both", {tmp_path / "models" / "sharp": 1.0,
                                                         tmp_path / "models" / "smooth": 1.0})
    assert sorted(p.name for p in (tmp_path / "models" / "both").iterdir()) == ["nlp_wire_model.json"]
    card = json.loads((tmp_path / "models" / "both" / "nlp_wire_model.json").read_text())
    assert [m["path"] for m in card["members"]] == ["../sharp", "../smooth"]
    loaded = load_classifier(tmp_path / "models" / "both")
    np.testing.assert_allclose(loaded.predict_proba(NEW), linked.predict_proba(NEW), atol=1e-6)
    with pytest.raises(ValueError, match="cannot be a member"):
        link_ensemble(tmp_path / "nested", {tmp_path / "models" / "both": 1.0})
    # Never written over a trained model (OUT forgotten: the first member would be OUT), nor over an earlier
    # ensemble unless asked.
    before = (tmp_path / "models" / "sharp" / "nlp_wire_model.json").read_text()
    with pytest.raises(ValueError, match="not an ensemble linked earlier"):
        link_ensemble(tmp_path / "models" / "sharp", {tmp_path / "models" / "smooth": 1.0})
    assert (tmp_path / "models" / "sharp" / "nlp_wire_model.json").read_text() == before
    with pytest.raises(ValueError, match="holds an ensemble linked earlier"):
        link_ensemble(tmp_path / "models" / "both", {tmp_path / "models" / "smooth": 1.0})
    link_ensemble(tmp_path / "models" / "both", {tmp_path / "models" / "smooth": 1.0}, overwrite=True)
    assert [m["path"] for m in json.loads((tmp_path / "models" / "both" / "nlp_wire_model.json").read_text())
            ["members"]] == ["../smooth"]
    with pytest.raises(ValueError, match="not an ensemble linked earlier"):
        link_ensemble(tmp_path / "models" / "sharp", {tmp_path / "models" / "smooth": 1.0}, overwrite=True)
    linked = link_ensemble(tmp_path / "models" / "both", {tmp_path / "models" / "sharp": 1.0,
                                                         tmp_path / "models" / "smooth": 1.0}, overwrite=True)
    # Saving a linked ensemble writes copies inside the new folder, never next to it.
    loaded.save_pretrained(tmp_path / "copy")
    assert sorted(p.name for p in (tmp_path / "copy").iterdir()) == ["nlp_wire_model.json", "sharp", "smooth"]
    np.testing.assert_allclose(load_classifier(tmp_path / "copy").predict_proba(NEW), linked.predict_proba(NEW),
                               atol=1e-6)


def test_ensemble_command(members, tmp_path, capsys):
    from nlp_wire.cli.main import main

    for name, member in members.items():
        member.save_pretrained(tmp_path / name)
    assert main(["ensemble", str(tmp_path / "ens"), f"{tmp_path / 'sharp'}@3", str(tmp_path / "smooth")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert sorted(out["weights"].values()) == [0.25, 0.75]
    stories = tmp_path / "new.jsonl"
    stories.write_text(json.dumps({"id": "n1", "headline": NEW[0], "body": NEW[0]}) + "\n", encoding="utf-8")
    assert main(["classify", str(tmp_path / "ens"), str(stories)]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["id"] == "n1" and line["label"] == "weather"
    assert main(["ensemble", str(tmp_path / "bad"), str(tmp_path / "nowhere")]) == 2
    assert "nowhere: no such model folder" in capsys.readouterr().err
    # --bias: written to the card and applied; bad specs and unknown labels fail by name, writing nothing
    assert main(["ensemble", str(tmp_path / "tilted"), f"{tmp_path / 'sharp'}@3", str(tmp_path / "smooth"),
                 "--bias", "weather=-30"]) == 0
    assert json.loads(capsys.readouterr().out)["label_bias"] == {"weather": -30.0}
    assert json.loads((tmp_path / "tilted" / "nlp_wire_model.json").read_text())["label_bias"] == {"weather": -30.0}
    assert main(["classify", str(tmp_path / "tilted"), str(stories)]) == 0
    assert json.loads(capsys.readouterr().out)["label"] != "weather"
    for bad, message in [("weather", "write LABEL=NUMBER"), ("weather=lots", "write LABEL=NUMBER"),
                         ("=1", "write LABEL=NUMBER"), ("snow=1", "snow"),
                         ("weather=nan", "finite")]:
        assert main(["ensemble", str(tmp_path / "worse"), str(tmp_path / "smooth"), "--bias", bad]) == 2
        assert message in capsys.readouterr().err
    assert main(["ensemble", str(tmp_path / "worse"), str(tmp_path / "smooth"), "--bias", "other=1",
                 "--bias", "other=2"]) == 2
    assert "given twice" in capsys.readouterr().err
    assert not (tmp_path / "worse" / "nlp_wire_model.json").exists()


@pytest.mark.slow
@pytest.mark.parametrize("name,choice_file", [("ensemble", "protocol_choice.json"), ("fast", "protocol_fast_choice.json")])
def test_shipped_ensemble_averages_its_members_with_the_protocols_weights_and_bias(name, choice_file):
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    if not (root / "models" / name).is_dir():
        pytest.skip(f"models/{name} is not in this checkout")
    from nlp_wire.classify.catalog import missing_requirement, read_catalog

    choice = json.loads((root / "bench" / choice_file).read_text())
    catalog = read_catalog()["models"]
    for member in choice["weights"]:  # the catalog says what a member needs (a fine-tuned mpnet needs no pieces)
        missing = missing_requirement(catalog.get(member, {}))
        if missing:
            pytest.skip(f"{member}: {missing}")
    folder = {"tfidf": "baseline"}
    texts = ["SEOUL, May 2 (Hanwire) -- The foreign ministers of the two countries met to discuss the alliance.",
             "Police arrested two men over a phishing scam that cheated pensioners out of savings."]
    ens = load_classifier(root / "models" / name)
    assert ens.label_bias == choice.get("bias", {})
    expected = sum(w * load_classifier(root / "models" / folder.get(member, member)).predict_proba(texts)
                   for member, w in choice["weights"].items())
    expected = expected * np.exp([choice.get("bias", {}).get(label, 0.0) for label in ens.labels])
    np.testing.assert_allclose(ens.predict_proba(texts), expected / expected.sum(1, keepdims=True), atol=1e-5)
    assert [p.label for p in ens.predict(texts)] == ["diplomacy", "crime"]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -0.5, "a", None, True])
def test_ensemble_weights_must_be_finite_non_negative_numbers(bad):
    from nlp_wire.classify.ensemble import normalize_weights

    with pytest.raises(ValueError, match="finite non-negative numbers"):
        normalize_weights(["a", "b"], {"a": 1.0, "b": bad})
    with pytest.raises(ValueError, match="finite non-negative numbers"):
        normalize_weights(["a", "b"], {"a": 1e308, "b": 1e308})  # the sum overflows: every score would be 0
    assert normalize_weights(["a", "b"], {"a": 1, "b": 3}) == {"a": 0.25, "b": 0.75}


@pytest.mark.parametrize("bad", [float("nan"), "a", -0.1, 1.5, True])
def test_threshold_must_be_a_probability(bad):
    with pytest.raises(ValueError, match="threshold must be a probability"):
        load_classifier("baseline", threshold=bad)
    assert load_classifier("baseline", threshold=0.5).threshold == 0.5


def test_label_bias_moves_the_decision_and_survives_the_card(members, tmp_path):
    """A chosen bias on ``other`` (the protocol's default_bias) multiplies its averaged probability by
    exp(bias) and renormalises; a linked card keeps it; a bias on an unknown label or a non-number is refused."""
    from nlp_wire.classify.ensemble import link_ensemble

    plain = EnsembleClassifier(members)
    biased = EnsembleClassifier(members, label_bias={"other": -1.0, "sport": 0})
    assert biased.label_bias == {"other": -1.0}  # zero entries dropped
    p = plain.predict_proba(NEW[:3]).astype(np.float64)  # NEW[3] has no words: equal scores, no bias
    expected = p * np.exp([0.0, 0.0, -1.0])
    np.testing.assert_allclose(biased.predict_proba(NEW[:3]), expected / expected.sum(1, keepdims=True), atol=1e-6)
    assert (biased.predict_proba(NEW[:3])[:, 2] < p[:, 2]).all()
    np.testing.assert_allclose(biased.predict_proba(NEW[3:]), 1 / 3)
    for name, member in members.items():
        member.save_pretrained(tmp_path / "models" / name)
    link_ensemble(tmp_path / "models" / "both", {tmp_path / "models" / n: 1.0 for n in members},
                  label_bias={"other": -1.0})
    card_path = tmp_path / "models" / "both" / "nlp_wire_model.json"
    assert json.loads(card_path.read_text())["label_bias"] == {"other": -1.0}
    np.testing.assert_allclose(load_classifier(tmp_path / "models" / "both").predict_proba(NEW),
                               biased.predict_proba(NEW), atol=1e-6)
    link_ensemble(tmp_path / "models" / "none", {tmp_path / "models" / n: 1.0 for n in members})
    assert "label_bias" not in json.loads((tmp_path / "models" / "none" / "nlp_wire_model.json").read_text())
    with pytest.raises(ValueError, match="'politics', not one of the labels"):
        EnsembleClassifier(members, label_bias={"politics": 1.0})
    with pytest.raises(ValueError, match=r"label_bias\['other'\] must be a finite number"):
        EnsembleClassifier(members, label_bias={"other": float("nan")})
    card = json.loads(card_path.read_text())
    for bad, message in [({"other": "low"}, "must be a finite number"), (["other", -1], "must map labels")]:
        card["label_bias"] = bad
        card_path.write_text(json.dumps(card))
        with pytest.raises(ModelLoadError, match=message):
            load_classifier(tmp_path / "models" / "both")


def test_torch_options_on_an_ensemble_of_baselines_are_named_as_ignored(members, tmp_path, capsys):
    from nlp_wire.cli.main import main

    folder = EnsembleClassifier(members).save_pretrained(tmp_path / "ens")
    (tmp_path / "a.txt").write_text(" date 2024-01-02 Snow and wind tomorrow\nSEOUL -- Snow is coming.\n")
    assert main(["-q", "classify", str(folder), str(tmp_path / "a.txt"), "--onnx", "--int8"]) == 0
    assert "warning: --onnx, --int8 ignored:" in capsys.readouterr().err
    with pytest.raises(ValueError, match="dtype 'int4': use one of"):
        load_classifier(folder, dtype="int4")
    with pytest.raises(ValueError, match="'float16' is for GPUs"):  # checked before any folder is read
        load_classifier(tmp_path / "no such model", dtype="float16")


def test_cli_ensemble_refuses_a_member_given_twice(tmp_path, monkeypatch, capsys):
    """A repeated member became one member (`ok ok`), kept only its last weight (`ok@1 ... ok@5`) or, under two
    names of one folder (`ok ./ok`), two members: each is refused in one line and nothing is written."""
    from nlp_wire.classify.catalog import models_dir
    from nlp_wire.cli.main import main

    monkeypatch.chdir(tmp_path)
    TfidfClassifier(labels=LABELS_5, min_df=1).fit(X5, Y5).save_pretrained(tmp_path / "ok")
    for members in (["ok", "ok"], ["ok@1", "baseline", "ok@5"], ["ok", "./ok"],
                    ["baseline", str(models_dir() / "baseline")]):
        assert main(["ensemble", "ens", *members]) == 2
        err = capsys.readouterr().err
        assert "twice" in err and "Traceback" not in err and not (tmp_path / "ens").exists()
    assert main(["ensemble", "ens", "ok@2", "baseline"]) == 0
