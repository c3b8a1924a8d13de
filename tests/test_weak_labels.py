"""Weak topic labels: weighted words and patterns over headline and lead, abstaining below a margin."""

from __future__ import annotations

import csv
import math
import textwrap

import pytest

from nlp_wire import Story, read_stories
from nlp_wire.config import DEFAULT_LABELS
from nlp_wire.weak_labels import TopicRules, default_rules_path

# -- tiny invented rules ------------------------------------------------------------------------
TOPICS = {
    "sport": {"words": {"goal": 2, "penalty kick": 1.5, "match": 1}, "patterns": {r"\b\d+-\d+ (win|loss)\b": 2}},
    "weather": {"words": {"storm": 2, "rain": 1.5}},
}


@pytest.fixture
def rules():
    return TopicRules(TOPICS, min_score=2.0, margin=1.0, other_below=1.0)


def st(headline: str, *paragraphs: str) -> Story:
    return Story(id="t", date=None, headline=headline, paragraphs=list(paragraphs))


def test_scores_weight_headline_and_lead(rules):
    story = st("Storm delays the match", "Rain fell all day before the match.")
    # sport: "match" in headline (1 x 2) and lead (1 x 1); weather: "storm" (2 x 2) + "rain" (1.5 x 1)
    assert rules.scores(story) == {"sport": 3.0, "weather": 5.5}
    label = rules(story)
    assert label.label == "weather"
    assert label.confidence == round(1 - math.exp(-2.5 / 2.0), 3)
    assert label.scores == {"sport": 3.0, "weather": 5.5}


def test_a_rule_counts_once_per_field(rules):
    assert rules.scores(st("Goal, goal, goal!"))["sport"] == 4.0


@pytest.mark.parametrize("headline, score", [
    ("The goalkeeper shines", 0.0),
    ("A goal-line clearance", 0.0),
    ("Three goals in a row", 0.0),
    ("GOAL of the season", 4.0),
    ("A late penalty\n  kick", 3.0),
    ("Hosts earn a 3-1 win", 4.0),
])
def test_whole_words_phrases_and_patterns(rules, headline, score):
    assert rules.scores(st(headline))["sport"] == score


def test_close_scores_abstain(rules):
    label = rules(st("A goal in the storm"))  # 4 against 4
    assert (label.label, label.confidence) == (None, 0.0)


def test_between_other_and_min_score_abstains(rules):
    assert rules(st("Fans wait", "The match was played.")).label is None  # sport 1: not other, not enough


def test_a_story_without_words_abstains(rules):
    """Not "other" at confidence 1.0: the rules have nothing to go on (such labels become training data)."""
    for story in (st(""), st("", "  ", "-- --"), st("...")):
        assert (rules(story).label, rules(story).confidence) == (None, 0.0)


def test_other_when_nothing_fires(rules):
    label = rules(st("Bread prices hold steady", "Bakers kept prices flat."))
    assert (label.label, label.confidence) == ("other", 1.0)
    weak = TopicRules(TOPICS, other_below=3.0)(st("Fans wait", "The match was played."))
    assert (weak.label, weak.confidence) == ("other", round(1 - 0.5 * 1 / 3, 3))


def test_field_weights_and_lead_window():
    headline_only = TopicRules(TOPICS, fields={"headline": 1.0})
    assert headline_only.scores(st("Fans wait", "A storm is coming."))["weather"] == 0.0
    short = TopicRules(TOPICS, lead_words=3)
    assert short.scores(st("Fans wait", "One two three storm."))["weather"] == 0.0
    assert short.scores(st("Fans wait", "One two storm."))["weather"] == 2.0


def test_labels_add_the_catch_all_once():
    assert TopicRules(TOPICS).labels == ["sport", "weather", "other"]
    assert TopicRules({**TOPICS, "other": {"words": {"misc": 1}}}).labels == ["sport", "weather", "other"]


# -- the shipped rules ----------------------------------------------------------------------------
@pytest.mark.parametrize("headline, lead, label", [
    ("Police arrest two suspects in harbor fraud", "Officers detained the pair on Monday.", "crime"),
    ("New COVID-19 cases rise in the capital", "Health officials urged social distancing.", "covid"),
    ("Foreign ministers hold talks on alliance", "The envoys met in the capital.", "diplomacy"),
    ("Boy band tops album charts with comeback", "The group's new song led the chart.", "entertainment"),
    ("Bread prices hold steady", "Bakers kept prices flat in March.", "other"),
])
def test_default_rules_on_invented_stories(headline, lead, label):
    assert TopicRules.from_yaml()(st(f"(LEAD) {headline}", lead)).label == label


def test_default_rules_answer_the_default_labels():
    rules = TopicRules.from_yaml()
    assert default_rules_path().name == "topics.yaml"
    assert rules.labels == list(DEFAULT_LABELS)
    assert rules.margin > 0 and rules.min_score > rules.other_below


def test_default_rules_agree_with_gold_on_korea_dev(korea_dev):
    with open(korea_dev / "labels.csv", newline="", encoding="utf-8") as fh:
        gold = {row["id"]: row["label"] for row in csv.DictReader(fh)}
    rules = TopicRules.from_yaml()
    decided = [(rules(s).label, gold[s.id]) for s in read_stories(korea_dev)]
    answered = [(weak, g) for weak, g in decided if weak is not None]
    assert len(answered) >= 0.85 * len(decided)  # measured: 206 of 225
    assert sum(w == g for w, g in answered) >= 0.8 * len(answered)  # measured: 179 of 206


# -- rule files -------------------------------------------------------------------------------------
def rules_file(tmp_path, text: str):
    p = tmp_path / "rules.yaml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_from_yaml(tmp_path):
    p = rules_file(tmp_path, """\
        margin: 0.5
        topics:
          sport: {words: {goal: 2}, patterns: {'\\bmatch(es)?\\b': 1}}
          weather: {words: {storm: 2}}
    """)
    rules = TopicRules.from_yaml(p)
    assert rules.margin == 0.5 and rules.labels == ["sport", "weather", "other"]
    assert rules(st("Two matches and a goal")).label == "sport"


@pytest.mark.parametrize("text, message", [
    ("topics: {sport: {words: {goal: 2}}}\nthreshold: 3\n", "unknown key 'threshold'"),
    ("margin: 1\n", "'topics'"),
    ("topics: {sport: {patterns: {'(unclosed': 1}}}\n", "topic 'sport': bad pattern"),
    ("topics: {sport: [goal, match]}\n", "'sport'"),
    ("topics: {sport: {words: [goal, match]}}\n", "'sport'"),
    ("topics: {sport: {words: {goal: heavy}}}\n", "'sport'.*'goal'"),
    ("topics: {sport: {words: {goal: 2}}}\nmargin: wide\n", "margin"),
    ("- a list\n", "mapping"),
    ("topics: {sport: {words: {goal: 2}}}\nfields: {headline: 2, lead: much}\n", "fields.lead"),
    ("topics: {sport: {words: {goal: 2}}}\nlead_words: 0\n", "lead_words"),
    # both divide a score in the confidence: 0 raised ZeroDivisionError on the first story
    ("topics: {sport: {words: {goal: 2}}}\nmin_score: 0\n", "min_score must be > 0, not 0"),
    ("topics: {sport: {words: {goal: 2}}}\nother_below: 0\n", "other_below must be > 0, not 0"),
    ("topics: {sport: {words: {goal: 2}}}\nother_below: -1.5\n", "other_below must be > 0, not -1.5"),
    ("topics: {sport: {words: {goal: 2}}}\nmin_score: .nan\n", "min_score must be > 0, not nan"),
    # a misspelt key one level down labeled every story 'other' in silence
    ("topics: {sport: {word: {goal: 2}}}\n", "topic 'sport': unknown key 'word' \\(known: words, patterns\\)"),
    ("topics: {sport: {words: {goal: 2}, regex: {'(unclosed': 1}}}\n", "topic 'sport': unknown key 'regex'"),
    ("topics: {sport: {words: {goal: 2}}}\nfields: {headlines: 2}\n", "unknown field 'headlines'"),
])
def test_bad_rule_files_say_what_is_wrong(tmp_path, text, message):
    p = rules_file(tmp_path, text)
    with pytest.raises(ValueError, match=message) as info:
        TopicRules.from_yaml(p)
    assert str(info.value).startswith(str(p))


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    p = rules_file(tmp_path, "margin: 1\ntopics:\n  sport: {words: {goal: 2}\n")
    with pytest.raises(ValueError, match="invalid YAML") as info:
        TopicRules.from_yaml(p)
    assert str(info.value).startswith(f"{p}:4: ")


def test_missing_rules_file(tmp_path):
    with pytest.raises(ValueError, match="nope.yaml: cannot read topic rules"):
        TopicRules.from_yaml(tmp_path / "nope.yaml")


@pytest.mark.parametrize("text", ["S. Korea, U.S. to hold talks", "Seoul-U.S. alliance talks", "Korea-US alliance",
                                  "Korea-Japan summit", "U.S.-Korea talks", "China, S. Korea hold talks"])
def test_country_pair_patterns_match_u_s_with_its_full_stop(text):
    """'\\b' after 'u\\.s\\.' needs a word character after the full stop: 'Korea-U.S. summit' never matched."""
    import re

    import yaml

    from nlp_wire.resources import config_path

    patterns = yaml.safe_load(config_path("topics.yaml").read_text())["topics"]["diplomacy"]["patterns"]
    assert any(re.search(p, text, re.IGNORECASE) for p in list(patterns)[:2]), text


def test_no_rule_pattern_puts_a_word_boundary_after_a_full_stop():
    import re

    import yaml

    from nlp_wire.resources import config_path

    topics = yaml.safe_load(config_path("topics.yaml").read_text())["topics"]
    for topic in topics.values():
        for pattern in topic.get("patterns", {}):
            # an alternative ending in an escaped full stop, then a group end and \b: that alternative never matches
            assert not re.search(r"\\\.\)\\b|\\\.\|[^()]*\)\\b", pattern), pattern


def test_rules_take_what_predict_takes():
    """TopicRules is exported beside predict, but took only a Story: a string raised AttributeError."""
    rules = TopicRules.from_yaml(default_rules_path())
    story = Story("x", None, "Police arrest murder suspect", paragraphs=["Police arrested a man."])
    assert rules("Police arrest murder suspect. Police arrested a man.").label == rules(story).label == "crime"
    assert rules({"headline": "Police arrest murder suspect", "body": "Police arrested a man."}).label == "crime"


def test_a_lead_of_exactly_the_margin_is_enough():
    rules = TopicRules(TOPICS, fields={"headline": 1.0}, min_score=2.0, margin=1.0, other_below=1.0)
    label = rules(st("Goal and match in the storm"))
    assert label.scores["sport"] - label.scores["weather"] == 1.0 and label.label == "sport"
