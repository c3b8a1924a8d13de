"""Shipped models by name, the catalog's default, and resources found through the package."""

import json
from pathlib import Path

import pytest

from nlp_wire.classify import ModelLoadError, load_classifier
from nlp_wire.classify import catalog as cat
from nlp_wire.cli.main import main
from nlp_wire.resources import config_path, models_dir, sample_stories


def _catalog(**models):
    return {"min_stories_per_s": 50, "models": models}


def test_default_is_the_most_accurate_model_fast_enough():
    c = _catalog(slow={"macro_f1": 0.95, "stories_per_s": 9}, fast={"macro_f1": 0.90, "stories_per_s": 60},
                 fastest={"macro_f1": 0.86, "stories_per_s": 8000}, unscored={"macro_f1": None, "stories_per_s": 900})
    assert cat.default_model_name(c) == "fast"
    c["models"]["member"] = {"macro_f1": 0.93, "stories_per_s": 90, "member_of": ["fast"]}
    assert cat.default_model_name(c) == "fast"  # a member's candidate score does not compete with the choice
    c["min_stories_per_s"] = 5
    assert cat.default_model_name(c) == "slow"
    c["models"]["slow"]["needs"] = "mpnet"
    real = cat.missing_requirement
    cat.missing_requirement = lambda e: "needs mpnet" if e.get("needs") else None
    try:
        assert cat.default_model_name(c) == "fast"  # a model that cannot load here is never the default
    finally:
        cat.missing_requirement = real
    with pytest.raises(ModelLoadError, match="reaches 10000"):
        cat.default_model_name({"min_stories_per_s": 10000, "models": c["models"]})


def test_the_default_takes_a_model_at_the_floor_and_the_faster_of_a_tie():
    c = _catalog(slow={"macro_f1": 0.9, "stories_per_s": 60}, quick={"macro_f1": 0.9, "stories_per_s": 90})
    assert cat.default_model_name(c) == "quick"  # equal macro-F1: the faster one
    c["models"]["edge"] = {"macro_f1": 0.95, "stories_per_s": 50}
    assert cat.default_model_name(c) == "edge"  # exactly min_stories_per_s is fast enough


def test_a_shipped_name_whose_requirement_is_missing_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cat, "missing_requirement", lambda e: "needs X: pip install 'nlp_wire[mpnet]'" if e.get("needs")
                        else None)
    c = _catalog(minilm={"macro_f1": 0.9, "stories_per_s": 60, "needs": "mpnet"},
                 baseline={"macro_f1": 0.8, "stories_per_s": 9000})
    with pytest.raises(ModelLoadError, match=r"^minilm: needs X: pip install 'nlp_wire\[mpnet\]'$"):
        cat.resolve_model("minilm", c)
    assert cat.resolve_model("baseline", c) == models_dir() / "baseline"


def test_names_resolve_to_shipped_folders_and_folders_win(tmp_path, monkeypatch):
    c = _catalog(baseline={"macro_f1": 0.8, "stories_per_s": 9000}, minilm={"macro_f1": 0.9, "stories_per_s": 60})
    assert cat.resolve_model("baseline", c) == models_dir() / "baseline"
    assert cat.resolve_model(None, c) == models_dir() / "minilm"
    assert cat.resolve_model("default", c) == models_dir() / "minilm"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "baseline").mkdir()
    (tmp_path / "baseline" / "nlp_wire_model.json").write_text("{}")
    assert cat.resolve_model("baseline", c) == tmp_path.joinpath("baseline").relative_to(tmp_path)  # a model here wins
    with pytest.raises(ModelLoadError, match=r"minlm: no such model folder.*did you mean 'minilm'"):
        cat.resolve_model("minlm", c)


def test_shipped_catalog_names_every_shipped_folder_and_loads_by_name():
    shipped = json.loads((models_dir() / "catalog.json").read_text())["models"]
    assert set(shipped) == {p.name for p in models_dir().iterdir() if p.is_dir()}
    clf = load_classifier("baseline")
    assert clf.predict("Police arrested a suspect in a fraud case")[0].label in clf.labels


def test_resources_are_found_through_the_package():
    assert config_path("minilm_cpu.yaml").is_file() and config_path("topics.yaml").is_file()
    assert (models_dir() / "catalog.json").is_file()
    assert (sample_stories() / "labels.csv").is_file()


def test_cli_models_lists_the_catalog(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "baseline" in out and "ensemble" in out and "macro-F1" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    assert rows["baseline"][4] == "float64"  # scikit-learn's, not the bench's name for its one runtime
    # a head on a shipped encoder, an ensemble of such heads: the size they take, not their cards' few bytes
    assert float(rows["fast"][5]) == float(rows["minilm_sample_ft"][5]) > 40
    assert float(rows["ensemble"][5]) > float(rows["mpnet_sample_ft"][5]) + 40
    assert rows["mpnet_probe"][7:9] == ["+", "mpnet"]  # and the installed base encoder's package
    assert "auto takes " in out and " on this CPU" in out
    assert [line for line in out.splitlines() if line.startswith("minilm_ft_defs3 ")][0].endswith(
        "(member of fast, ensemble)")  # the same predictor as fast, with its candidate score: marked, not competing
    assert main(["models", "--json"]) == 0
    assert "min_stories_per_s" in json.loads(capsys.readouterr().out)


def test_auto_runtime_is_native_bfloat16_else_exact_float32(monkeypatch, caplog):
    import logging

    import nlp_wire.classify as classify
    import nlp_wire.classify.transformer as tr

    monkeypatch.setattr(classify, "_AUTO_LOGGED", set())
    caplog.set_level(logging.INFO, logger="nlp_wire.classify")
    monkeypatch.setattr(tr, "_cpu_has_bfloat16", lambda: True)
    assert classify._auto_runtime("transformer", "cpu", False) == ("torch", "bfloat16", False)
    assert classify._auto_runtime("ensemble", "cpu", False) == ("torch", "bfloat16", False)
    assert classify._auto_runtime("transformer", "cuda", False) == ("torch", "float32", False)
    assert "auto picks a CPU runtime; on cuda" in caplog.text and "a baseline has no other" not in caplog.text
    monkeypatch.setattr(classify, "_AUTO_LOGGED", {("torch", "bfloat16", False)})  # float32 said again, for the CPU
    monkeypatch.setattr(tr, "_cpu_has_bfloat16", lambda: False)
    assert classify._auto_runtime("transformer", "cpu", False) == ("torch", "float32", False)  # never int8 by itself
    assert classify._auto_runtime("baseline", "cpu", False) == ("torch", "float32", False)
    assert sum("runtime auto" in r.message for r in caplog.records) == 3  # bfloat16 and float32 (cuda, cpu), once each
    assert "no AMX or AVX512-BF16 here" in caplog.records[-1].message
    monkeypatch.setattr(classify, "_AUTO_LOGGED", set())  # a baseline (scikit-learn, float64) has no runtime to log:
    caplog.clear()  # it said "runtime auto: torch float32" on every classify and evaluate
    assert classify._auto_runtime("baseline", "cpu", False) == ("torch", "float32", False)
    assert not caplog.records


def test_training_sources_read_labeled_and_unlabeled_records_and_seen_sources_compare_the_stories(tmp_path):
    """A run's metrics.json (data and unlabeled), a protocol member's protocol.json and an ensemble's members
    all count, each source once; seen_sources compares the stories a data spec names, not its labels file."""
    import json

    from nlp_wire.classify.catalog import seen_sources, training_sources

    gold, records = tmp_path / "data" / "gold", tmp_path / "data" / "kh" / "stories.jsonl"
    records.parent.mkdir(parents=True)
    records.write_text("")
    run = tmp_path / "run" / "model"
    run.mkdir(parents=True)
    (run.parent / "metrics.json").write_text(json.dumps({"data": [f"{gold}@3"], "unlabeled": [str(records)]}))
    member = tmp_path / "member"
    member.mkdir()
    (member / "protocol.json").write_text(json.dumps({"gold": str(gold), "recipe": {
        "data": [f"{records}::{tmp_path}/labels.csv@3"], "unlabeled": None}}))
    assert training_sources(run) == [gold.resolve(), records.resolve()]  # the teacher's unlabeled stories too
    assert training_sources(member) == [gold.resolve(), records.resolve()]  # ::labels.csv and @3 dropped
    ens = tmp_path / "ens"
    ens.mkdir()
    (ens / "nlp_wire_model.json").write_text(json.dumps({"kind": "ensemble", "members": [
        {"path": "../run/model", "weight": 0.5}, {"path": "../member", "weight": 0.5}]}))
    assert training_sources(ens) == [gold.resolve(), records.resolve()]  # each once
    assert seen_sources(ens, f"{records}::{tmp_path}/other_labels.csv") == [records.resolve()]
    assert seen_sources(ens, str(tmp_path / "data")) == [gold.resolve(), records.resolve()]  # a folder holding them
    assert seen_sources(ens, str(gold / "one_story.txt")) == [gold.resolve()]  # a story inside a source
    assert seen_sources(ens, str(tmp_path / "elsewhere.jsonl")) == []
    assert seen_sources(member, str(tmp_path / "data" / "kh")) == [records.resolve()]


def test_training_sources_follow_a_fine_tuned_encoder_under_a_head(tmp_path, monkeypatch):
    """A head on a shipped fine-tuned encoder (``base_encoder``) or on a model folder (``model.name_or_path``)
    has seen what the encoder was trained on; a card naming itself does not loop; relative paths in records
    start from the shipped package's folder, else the recorded workdir, else the current folder."""
    import json

    import nlp_wire.resources
    from nlp_wire.classify import catalog
    from nlp_wire.classify.catalog import seen_sources, training_sources

    def card(folder, **fields):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "nlp_wire_model.json").write_text(json.dumps({"kind": "transformer", "labels": ["a", "b"], **fields}))
        return folder

    def record(folder, name="metrics.json", **fields):
        (folder / name).write_text(json.dumps(fields))

    site, records, gold = tmp_path / "site", tmp_path / "kh.jsonl", tmp_path / "gold"
    (site / "nlp_wire").mkdir(parents=True)
    (site / "nlp_wire" / "models").symlink_to(tmp_path / "real_models")  # as in a checkout: a link to ../models
    shipped = site / "nlp_wire" / "models"
    encoder = card(tmp_path / "real_models" / "enc_ft")
    (encoder / "model.safetensors").write_bytes(b"")
    record(encoder, data=[f"{records}::labels.csv"])
    for module in (nlp_wire.resources, catalog):
        monkeypatch.setattr(module, "models_dir", lambda: shipped)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)

    head = card(tmp_path / "head", base_encoder="enc_ft", model={"name_or_path": "minilm"})  # base_encoder alone
    card(work / "minilm")  # a folder named like the installed encoder is not it
    record(work / "minilm", data=[str(tmp_path / "other.jsonl")])
    record(head, "protocol.json", gold=f"{gold}@3", recipe={"data": []})
    assert training_sources(head) == [gold.resolve(), records.resolve()]
    assert seen_sources(head, str(records)) == [records.resolve()]
    both = card(tmp_path / "both", base_encoder="enc_ft", model={"name_or_path": str(encoder)})
    assert training_sources(both) == [records.resolve()]  # named twice, read once

    full = card(tmp_path / "full", model={"name_or_path": str(encoder)})  # fine-tuned further from that folder
    assert training_sources(full) == [records.resolve()]
    card(encoder, model={"name_or_path": str(full)})
    assert training_sources(full) == [records.resolve()]  # full -> encoder -> full: each read once
    assert training_sources(tmp_path / "no_such_model") == []

    # a shipped model's relative paths start from the folder holding the package, even with a workdir recorded
    record(encoder, data=["nlp_wire/sample_data/stories"], workdir="/elsewhere")
    assert training_sources(encoder) == [(site / "nlp_wire" / "sample_data" / "stories").resolve()]
    # any other model's from its recorded workdir: data, protocol gold and a relative name_or_path alike
    card(site / "runs" / "enc", model={"name_or_path": "minilm"})
    record(site / "runs" / "enc", data=["kh.jsonl"], workdir=str(tmp_path))
    record(full, data=["gold"], workdir=str(site))
    card(full, model={"name_or_path": "runs/enc"})
    assert training_sources(full) == [site / "gold", tmp_path / "kh.jsonl"]
    member = card(tmp_path / "member")
    record(member, "protocol.json", gold="gold@3", recipe={"data": ["kh.jsonl::labels.csv"]}, workdir=str(tmp_path))
    assert training_sources(member) == [gold, tmp_path / "kh.jsonl"]
    record(full, data=["gold"])  # no workdir: the current folder
    assert training_sources(full)[0] == work / "gold"


def test_shipped_records_name_the_bundled_stories_from_any_folder(tmp_path, monkeypatch):
    from nlp_wire.classify.catalog import seen_sources

    monkeypatch.chdir(tmp_path)
    assert seen_sources("minilm_sample_ft", str(sample_stories())) == [sample_stories().resolve()]
    assert seen_sources("fast", str(sample_stories())) == [sample_stories().resolve()]  # via its encoder too
    assert seen_sources("minilm_probe", str(tmp_path)) == []


def test_every_shipped_model_records_what_it_was_trained_on():
    """A shipped model whose records name no training data would make ``nlp-wire evaluate`` and
    ``scripts/external_check.py`` score it as held out on its own training stories."""
    from nlp_wire.classify.catalog import training_sources

    unrecorded = [p.name for p in sorted(models_dir().iterdir()) if p.is_dir() and not training_sources(p)]
    assert unrecorded == []


def test_linked_folders_and_footprint_follow_members_and_encoders_once(tmp_path, monkeypatch):
    import json

    import nlp_wire.resources
    from nlp_wire.classify import catalog, encoders

    shipped = tmp_path / "models"
    for module in (nlp_wire.resources, catalog):
        monkeypatch.setattr(module, "models_dir", lambda: shipped)

    def card(name, size=0, **fields):
        folder = shipped / name
        folder.mkdir(parents=True)
        (folder / "nlp_wire_model.json").write_text(json.dumps({"kind": "transformer", **fields}))
        if size:
            (folder / "model.safetensors").write_bytes(b"x" * size)
        return folder

    enc = card("enc_ft", 2_000_000)
    head = card("head", base_encoder="enc_ft")
    probe = card("probe", base_encoder="minilm")
    ens = card("ens", kind="ensemble", members=[{"path": "../head"}, {"path": "../probe"}, {"path": "../ens"}])
    monkeypatch.setattr(encoders, "models_dir", lambda: shipped, raising=False)
    assert [f.name for f in catalog.linked_folders(ens)] == ["ens", "head", "enc_ft", "probe"]  # itself once
    assert catalog.footprint_mb(head) == pytest.approx(catalog.footprint_mb(enc), abs=0.001) == pytest.approx(2.0, abs=0.001)
    assert catalog.installed_bases(ens) == ["minilm"] and catalog.installed_bases(head) == []
    assert catalog.footprint_mb(probe) < 0.01
    card("probe2", base_encoder="minilm")
    pair = card("pair", kind="ensemble", members=[{"path": "../probe"}, {"path": "../probe2"}])
    assert catalog.installed_bases(pair) == ["minilm"]  # two heads on one installed encoder name it once


def test_a_plain_folder_named_like_a_shipped_model_does_not_hide_it(tmp_path, monkeypatch, caplog):
    from nlp_wire.classify import ModelLoadError
    from nlp_wire.classify.catalog import resolve_model

    monkeypatch.chdir(tmp_path)
    (tmp_path / "baseline").mkdir()  # an experiment's output folder, not a model
    assert resolve_model("baseline") == models_dir() / "baseline"
    assert "./baseline is not a model folder" in caplog.text
    (tmp_path / "baseline" / "nlp_wire_model.json").write_text("{}")  # a model folder of that name wins
    assert resolve_model("baseline") == Path("baseline")
    for bad in ("", "  ", 123):
        with pytest.raises(ModelLoadError, match="a folder or a shipped name"):
            resolve_model(bad)


def test_shipped_models_by_name_take_the_auto_runtime_like_the_default(monkeypatch, tmp_path):
    """load_classifier("fast") ran float32 where load_classifier() ran bfloat16: the catalog's speed was not its."""
    import nlp_wire.classify as classify
    import nlp_wire.classify.transformer as tr

    chosen = []
    monkeypatch.setattr(tr, "_cpu_has_bfloat16", lambda: True)
    monkeypatch.setattr(classify, "_auto_runtime", lambda kind, device, q: chosen.append(kind) or ("torch", "float32", q))
    classify.load_classifier("baseline")
    classify.load_classifier()
    assert chosen == ["baseline", "ensemble"]  # both went through auto (which keeps float32 for a baseline)
    fitted = classify.load_classifier("baseline")
    fitted.save_pretrained(tmp_path / "mine")
    classify.load_classifier(tmp_path / "mine")  # a folder of yours: exact torch, no auto
    classify.load_classifier("baseline", dtype="float32")  # a dtype given: no auto
    assert chosen == ["baseline", "ensemble", "baseline"]


def test_shipped_models_trained_with_restore_prior_keep_its_shift_in_their_cards():
    """A run going on from a shipped model takes the card's ``prior_shift`` off the head before ``restore_prior``
    shifts it again; a card without it (models shipped before cards kept it) would shift twice. The shift is
    -log(class weight) of the run's label counts (``train_counts``) under ``balance: sampler``, power 0.5."""
    import numpy as np
    import yaml

    from nlp_wire.classify.train_transformer import _class_weights, _prior_shift

    checked = []
    for folder in sorted(p for p in models_dir().iterdir() if (p / "model.safetensors").is_file()):
        card = json.loads((folder / "nlp_wire_model.json").read_text())
        counts = json.loads((folder / "metrics.json").read_text())["train_counts"]
        # The run's own config where shipped (models/minilm), else the one its record's command names.
        training = (yaml.safe_load((folder / "config.yaml").read_text())["training"] if (folder / "config.yaml").is_file()
                    else {"balance": "sampler", "balance_power": 0.5, "restore_prior": True})
        assert training["restore_prior"] and training["balance"] == "sampler", folder.name
        y = np.repeat(np.arange(len(card["labels"])), [counts.get(label, 0) for label in card["labels"]])
        expected = _prior_shift(_class_weights(y, len(card["labels"]), training["balance_power"]))
        assert card.get("prior_shift") is not None, f"{folder.name}: no prior_shift in its card"
        np.testing.assert_allclose(card["prior_shift"], expected, atol=1e-7, err_msg=folder.name)
        checked.append(folder.name)
    assert {"minilm", "minilm_sample_ft", "mpnet_sample_ft"} <= set(checked)



def test_a_loaded_model_saved_elsewhere_keeps_the_record_of_what_it_was_trained_on(tmp_path):
    """``load_classifier(run).save_pretrained(new)`` (how a run becomes a shipped folder) used to drop the run's
    metrics.json, so ``nlp-wire evaluate new --data GOLD`` scored stories the model had trained on as held out."""
    from nlp_wire.classify.baseline import TfidfClassifier
    from nlp_wire.classify.catalog import seen_sources, training_sources

    gold = tmp_path / "gold"
    gold.mkdir()
    texts = ["Ministers met for talks on the treaty.", "Police arrested a suspect in the robbery.",
             "The film won an award at the festival.", "The factory raised its output this year."] * 3
    labels = ["diplomacy", "crime", "entertainment", "other"] * 3
    run = tmp_path / "run"
    TfidfClassifier(min_df=1).fit(texts, labels).save_pretrained(run / "model")
    (run / "metrics.json").write_text(json.dumps({"data": ["gold@3"], "workdir": str(tmp_path)}))
    assert training_sources(run / "model") == [gold.resolve()]

    loaded = load_classifier(run / "model")
    loaded.save_pretrained(tmp_path / "shipped")
    assert training_sources(tmp_path / "shipped") == [gold.resolve()]
    assert seen_sources(tmp_path / "shipped", str(gold)) == [gold.resolve()]
    loaded.save_pretrained(run / "model")  # back where it came from: its run's record stays the only one
    assert not (run / "model" / "metrics.json").exists()
    loaded.fit(texts, labels).save_pretrained(tmp_path / "refit")  # refit here: trained on what fit saw, not gold
    assert not (tmp_path / "refit" / "metrics.json").exists()



def test_an_ensemble_saved_elsewhere_keeps_its_members_records_and_a_bad_record_does_not_stop_loading(tmp_path):
    from nlp_wire.classify.baseline import TfidfClassifier
    from nlp_wire.classify.catalog import seen_sources, training_sources
    from nlp_wire.classify.ensemble import EnsembleClassifier

    gold = tmp_path / "gold"
    gold.mkdir()
    texts = ["Ministers met for talks on the treaty.", "Police arrested a suspect in the robbery."] * 3
    labels = ["diplomacy", "crime"] * 3
    for name in ("a", "b"):
        TfidfClassifier(min_df=1).fit(texts, labels).save_pretrained(tmp_path / "runs" / name / "model")
        (tmp_path / "runs" / name / "metrics.json").write_text(json.dumps({"data": [str(gold)]}))
    ens = EnsembleClassifier({n: load_classifier(tmp_path / "runs" / n / "model") for n in ("a", "b")})
    ens.save_pretrained(tmp_path / "ens")
    loaded = load_classifier(tmp_path / "ens")
    assert loaded.trained_on == (gold.resolve(),)
    loaded.save_pretrained(tmp_path / "copy")  # members become sub-folders without records of their own
    assert seen_sources(tmp_path / "copy", str(gold)) == [gold.resolve()]
    # a record of ours left by an earlier save is replaced; a run's own record is kept
    (tmp_path / "copy" / "metrics.json").write_text(json.dumps({"data": ["elsewhere"], "record": "written by save_pretrained: x"}))
    loaded.save_pretrained(tmp_path / "copy")
    assert training_sources(tmp_path / "copy") == [gold.resolve()]
    # a record that cannot be read does not stop the model from loading (only saving elsewhere reads it)
    (tmp_path / "runs" / "a" / "metrics.json").write_text(json.dumps({"data": ["gold@0"]}))
    assert load_classifier(tmp_path / "runs" / "a" / "model").trained_on == ()
