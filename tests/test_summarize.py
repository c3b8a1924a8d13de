"""summarize(): what is prose and what is not, the summarizer interface, and scores on the shared data."""

from pathlib import Path

import pytest

from nlp_wire import Story, summarize
from nlp_wire.config import SummarizeConfig, load_config
from nlp_wire.summarize import SUMMARIZERS, Summary, get_summarizer, untokenize
from nlp_wire.summarize.clean import prose_sentences, to_story

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
CONFIG = Path(__file__).resolve().parents[1] / "configs" / "summarize.yaml"

# Invented stories in the wire format.
WIRE = """\
 date 2021-04-02 (LEAD) Harbor city opens floating library
BUSAN, April 2 (Hanwire) -- A floating library opened in the harbor on Friday, city officials said.
The barge holds 8,000 books and a reading deck for 60 people.
Visitors can borrow up to three books at a time, Mayor Seo Ji-ho said.
It will stay docked until Oct. 31.
jhkim@hanwire.example
(END)
-
1
Port workers end strike after two days
-
2
(2nd LD) Ferry fares to rise 5 pct next month
"""

WITH_NOTES = """\
 date 2021-04-03 (2nd LD) Rail line to reopen after landslide
(ATTN: UPDATES with minister's remarks in paras 3-4)
DAEJEON, April 3 (Hanwire) -- A rail line closed by a landslide will reopen on Monday, the operator said.
(LEAD) Crews cleared 400 tons of rock over the weekend. (EDS: Corrects figure)
(END)
"""


def sentences_of(text, n=10):
    return summarize(text, sentences=n).sentences


# -- empty and one-sentence stories first ----------------------------------------------------
def test_empty_text_gives_empty_summary():
    assert summarize("") == Summary([], "")
    assert summarize("   \n ") == Summary([], "")


def test_one_sentence():
    s = summarize("The museum reopened on Sunday.")
    assert s.sentences == ["The museum reopened on Sunday."]
    assert s.text == str(s) == "The museum reopened on Sunday."


def test_story_with_only_a_header_and_end():
    assert summarize(" date 2021-01-01 Headline only\n(END)\n").sentences == []


# -- the lead ----------------------------------------------------------------------------------
def test_lead_three_in_document_order():
    s = summarize(WIRE, sentences=3)
    assert s.sentences == [
        "A floating library opened in the harbor on Friday, city officials said.",
        "The barge holds 8,000 books and a reading deck for 60 people.",
        "Visitors can borrow up to three books at a time, Mayor Seo Ji-ho said.",
    ]
    assert s.text == " ".join(s.sentences)


def test_dateline_byline_end_and_related_headlines_are_not_prose():
    text = " ".join(sentences_of(WIRE))
    for junk in ("BUSAN", "Hanwire", "jhkim@", "(END)", "Port workers", "Ferry fares", "LEAD"):
        assert junk not in text
    assert sentences_of(WIRE)[-1] == "It will stay docked until Oct. 31."


def test_editors_notes_and_version_tags_are_dropped():
    got = sentences_of(WITH_NOTES)
    assert got == [
        "A rail line closed by a landslide will reopen on Monday, the operator said.",
        "Crews cleared 400 tons of rock over the weekend.",
    ]


def test_plain_text_with_dateline_and_end():
    text = "SEOUL, May 1 (Hanwire) -- Tulips bloomed early this year. Gardeners were surprised.\n(END)\n-\n1\nOther story"
    assert sentences_of(text) == ["Tulips bloomed early this year.", "Gardeners were surprised."]


@pytest.mark.parametrize(
    "opening",
    ["SEJONG -- ", "Boston (CNN)", "New Delhi, India (CNN) -- ", "(CNN) ", "LONDON, Jan. 6, 2026 (Hanwire) -- "],
)
def test_other_datelines(opening):
    assert sentences_of(opening + "Exports rose for a third month. Imports fell.") == [
        "Exports rose for a third month.",
        "Imports fell.",
    ]


def test_slugline_and_deck_are_dropped():
    text = "KOREA-TRADE/EXPORTS\nExporters brace for a slow spring\nChip exports fell 4 percent in March. Car exports rose."
    assert sentences_of(text) == ["Chip exports fell 4 percent in March.", "Car exports rose."]


def test_slug_glued_to_repeated_headline_is_dropped():
    story = to_story(" date 2021-05-02 Bond yields on May 2\nbond yields-closeBond yields on May 2 Rates held steady. Trading was thin.\n")
    assert list(prose_sentences(story)) == ["Rates held steady.", "Trading was thin."]


def test_a_lead_that_starts_with_the_headline_words_is_kept_whole():
    """The headline was cut off the front of the first sentence, leaving 'on strong chip demand, ...'."""
    story = to_story({"headline": "Exports rise for third month",
                      "body": "Exports rise for third month on strong chip demand, data showed. Car shipments grew."})
    assert list(prose_sentences(story)) == ["Exports rise for third month on strong chip demand, data showed.",
                                            "Car shipments grew."]
    repeated = to_story({"headline": "Exports rise for third month",
                         "body": "Exports rise for third month\nChip demand lifted exports, data showed. Car shipments grew."})
    assert list(prose_sentences(repeated))[0] == "Chip demand lifted exports, data showed."
    inside_a_word = to_story({"headline": "North Korea fires missile",
                              "body": "North Korea fires missiles into the sea, the military said. Others followed."})
    assert list(prose_sentences(inside_a_word))[0] == "North Korea fires missiles into the sea, the military said."
    glued = to_story({"headline": "Jobs", "body": "JobsAndMore Inc. opened a plant. Hiring began."})
    assert list(prose_sentences(glued))[0] == "JobsAndMore Inc. opened a plant."


def test_photo_captions_and_credits_are_dropped():
    glued = "A view of the new pier (Hanwire)The city opened a new pier on Monday. It cost 2 billion won."
    assert sentences_of(glued) == ["The city opened a new pier on Monday.", "It cost 2 billion won."]
    after_stop = "Visitors walk on the pier on Monday. (Hanwire)The pier is 300 meters long."
    assert sentences_of(after_stop) == ["The pier is 300 meters long."]
    lone = "The pier is 300 meters long. (Yonhap) It opens at dawn."
    assert sentences_of(lone) == ["The pier is 300 meters long.", "It opens at dawn."]
    bracket = "[BEHIND THE NUMBERS] Two months ago, Park lost his job. [Hanwire Photo]"
    assert sentences_of(bracket) == ["Two months ago, Park lost his job."]


def test_bylines_are_dropped():
    text = "By Choi Min-seo\nA new bridge opened on Friday. Traffic eased.\nminseo@hanwire.example"
    assert sentences_of(text) == ["A new bridge opened on Friday.", "Traffic eased."]
    assert sentences_of("[Lee Da-eun, Hanwire Reporter] Rents rose again. Tenants protested.") == [
        "Rents rose again.",
        "Tenants protested.",
    ]


def test_notices_and_boilerplate_are_dropped():
    text = "(Copyright) All content here belongs to Hanwire.\nThis article was released as premium content on May 1. Sales rose 3.5 percent."
    assert sentences_of(text) == ["Sales rose 3.5 percent."]


def test_rule_lines_split_digests():
    text = "The following is a digest of the week.------------Ferry service resumes on the island route."
    assert sentences_of(text) == ["The following is a digest of the week.", "Ferry service resumes on the island route."]


def test_story_of_tables_still_gets_its_text():
    # Nothing ends in a full stop: the paragraph is all there is, so it is the summary.
    assert sentences_of("Seoul 06/-1 Sunny Busan 11/02 Cloudy") == ["Seoul 06/-1 Sunny Busan 11/02 Cloudy"]


def test_penn_treebank_tokenized_text():
    assert untokenize("He said -lrb- again -rrb- that `` it 's fine '' , twice .") == 'He said (again) that "it\'s fine", twice.'
    tokenized = "The club 's manager left , sources said . He was 52 . Fans `` cried '' . A fourth one ."
    assert summarize(tokenized).sentences == ["The club's manager left, sources said.", "He was 52.", 'Fans "cried".']


def test_sentences_run_together_in_the_lead():
    assert sentences_of("Rates fell during the pandemic.Some 100 firms closed.") == [
        "Rates fell during the pandemic.",
        "Some 100 firms closed.",
    ]


# -- inputs and options ------------------------------------------------------------------------
def test_story_record_and_text_inputs_agree():
    story = Story.from_string(WIRE)
    record = {"headline": story.headline, "body": "BUSAN, April 2 (Hanwire) -- " + story.body}
    assert summarize(story) == summarize(WIRE) == summarize(record)


def test_sentences_and_max_words():
    assert len(summarize(WIRE, sentences=1).sentences) == 1
    assert len(summarize(WIRE, sentences=50).sentences) == 4
    capped = summarize(WIRE, sentences=3, max_words=25)
    assert capped.sentences == ["A floating library opened in the harbor on Friday, city officials said.", "The barge holds 8,000 books and a reading deck for 60 people."]
    cut = summarize(WIRE, max_words=4)
    assert cut.sentences == ["A floating library opened …"]


@pytest.mark.parametrize("kwargs", [{"sentences": 0}, {"sentences": 1.5}, {"max_words": 0}, {"method": "nope"}])
def test_bad_options_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        summarize(WIRE, **kwargs)


def test_summarizers_share_one_callable_interface():
    assert "lead" in SUMMARIZERS
    lead = get_summarizer("lead")
    story = Story.from_string(WIRE)
    assert lead(story, 2) == summarize(story, sentences=2).sentences

    def last_first(story, n):  # any callable(story, sentences) -> list[str] plugs in
        return list(reversed(list(prose_sentences(story))))[:n]

    assert summarize(story, sentences=1, method=last_first).sentences == ["It will stay docked until Oct. 31."]
    with pytest.raises(ValueError, match="known: lead"):
        get_summarizer("textrank")


def test_config_file_selects_lead():
    cfg = load_config(SummarizeConfig, CONFIG)
    assert cfg.method == "lead" and cfg.sentences == 3
    assert cfg.method in SUMMARIZERS


def test_top_level_exports():
    import nlp_wire
    import nlp_wire.summarize.batch  # noqa: F401  (makes nlp_wire.summarize the package)

    assert nlp_wire.summarize("A b. C d.", sentences=1) == Summary(["A b."], "A b.")
    assert nlp_wire.split_sentences("A b. C d.") == ["A b.", "C d."]


def test_lazy_export_is_the_function_in_a_fresh_interpreter():
    import subprocess
    import sys

    code = "import nlp_wire; f = nlp_wire.summarize; import nlp_wire.summarize.lead; print(f('X y. Z w.', sentences=1).text)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "X y."


# -- the shared data, where present ------------------------------------------------------------
def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} not present")
    return path


def test_korea_dev_first_sentences_carry_no_dateline_or_tag():
    from nlp_wire.summarize.evaluate import score_headlines

    result = score_headlines(_need(SHARED / "korea_dev"))
    assert result["n"] > 200
    assert result["with_residue"] == 0
    assert result["raw_first_line"]["with_residue"] > 50  # the raw lines did carry them
    assert result["rouge1"] > result["raw_first_line"]["rouge1"]


def test_cnndm_lead3_on_a_slice():
    from nlp_wire.summarize.evaluate import score_cnndm

    path = _need(SHARED / "summarization" / "cnndm_test443.jsonl")
    ours = score_cnndm(path, "lead", 3, limit=120)
    naive = score_cnndm(path, "naive", 3, limit=120)
    assert ours["n"] == 120
    assert ours["rouge1"] > 38 and ours["rouge2"] > 15 and ours["rougeLsum"] > 34
    assert ours["rougeLsum"] >= naive["rougeLsum"]


@pytest.mark.slow
def test_cnndm_lead3_full_reaches_the_careful_numbers():
    from nlp_wire.summarize.evaluate import score_cnndm

    result = score_cnndm(_need(SHARED / "summarization" / "cnndm_test443.jsonl"))
    assert result["rouge1"] >= 41.3 and result["rouge2"] >= 18.5 and result["rougeLsum"] >= 37.4


def test_nlp_wire_summarize_is_the_same_callable_package_whatever_was_imported_first():
    """It was the function after 'import nlp_wire' (no .Summary) and the package after 'import nlp_wire.summarize'."""
    import subprocess
    import sys

    code = ("import nlp_wire{first}; s = nlp_wire.summarize; print(s.__name__, s.Summary.__name__, "
            "s('One thing happened. Then another. And a third.', sentences=1).text)")
    outs = {subprocess.run([sys.executable, "-c", code.format(first=first)], capture_output=True, text=True,
                           check=True).stdout for first in ("", "; import nlp_wire.summarize.batch")}
    assert outs == {"nlp_wire.summarize Summary One thing happened.\n"}


def test_numpy_integers_are_whole_numbers():
    import numpy as np

    assert summarize("One. Two. Three.", sentences=np.int64(2), max_words=np.int32(5)).sentences == ["One.", "Two."]
    with pytest.raises(ValueError, match="whole number"):
        summarize("One. Two.", sentences=True)


# -- guards the r16 mutation review found missing (our own invented text) --------------------------------------
def _prose(*paragraphs, headline="Harbor reopens"):
    from nlp_wire.story import Story
    from nlp_wire.summarize.clean import prose_paragraphs

    return list(prose_paragraphs(Story(id="t", date=None, headline=headline, paragraphs=list(paragraphs))))


def test_an_inline_end_mark_ends_the_story():
    assert _prose("The harbor reopened on Monday after repairs. (END) Subscribe to our newsletter.",
                  "A later paragraph that must not leak.") == ["The harbor reopened on Monday after repairs."]


def test_an_abbreviation_in_brackets_inside_a_sentence_is_not_a_credit():
    from nlp_wire.summarize.clean import clean_paragraph

    text = "He met officials of the World Health Organization (WHO) Tuesday in Geneva."
    assert clean_paragraph(text) == text
    assert clean_paragraph("The ferry docked at noon. (Yonhap)") == "The ferry docked at noon."


def test_a_long_paragraph_without_a_final_stop_is_prose_not_a_deck():
    long = "Alpha " + "word " * 60 + "and more"
    assert _prose("Short deck without a stop", long, "Second paragraph ends.")[0].startswith("Alpha")


def test_a_parenthetical_aside_is_not_a_lead_sentence():
    from nlp_wire.story import Story
    from nlp_wire.summarize.clean import prose_sentences

    story = Story(id="t", date=None, headline="Exports", paragraphs=[
        "Exports rose 5 percent. (This story was corrected to fix the export figure in the second paragraph.) "
        "Imports fell."])
    assert list(prose_sentences(story)) == ["Exports rose 5 percent.", "Imports fell."]


def test_a_story_without_prose_falls_back_to_its_lines_but_not_slugs_or_bylines():
    assert _prose("HARBOR-REPAIRS/REOPENING", "Harbor reopens after a month of repairs", "By Kim Min-ji",
                  headline="") == ["Harbor reopens after a month of repairs"]


def test_cap_words_keeps_a_sentence_that_fits_exactly():
    from nlp_wire.summarize import cap_words

    assert cap_words(["A b c.", "D e."], 5) == ["A b c.", "D e."]
    assert cap_words(["A b c.", "D e f."], 5) == ["A b c."]
    assert cap_words(["A b c d e f g."], 3) == ["A b c …"]


def test_batch_summarize_skips_blank_jsonl_lines_and_refuses_zero_sentences(tmp_path):
    import json

    from nlp_wire.summarize.batch import summarize_folder

    src = tmp_path / "in.jsonl"
    record = {"headline": "Harbor reopens", "body": "The harbor reopened on Monday. Ships returned."}
    src.write_text(json.dumps({"id": "a", **record}) + "\n\n   \n" + json.dumps({"id": "b", **record}) + "\n")
    out = tmp_path / "sums.jsonl"
    report = summarize_folder(src, out, progress=False)
    assert report.done == 2 and report.failed == 0 and not (tmp_path / "sums.jsonl.errors.jsonl").exists()
    with pytest.raises(ValueError):
        summarize_folder(src, tmp_path / "zero.jsonl", sentences=0, progress=False)


def test_long_prose_before_a_glued_credit_is_not_cut_as_a_caption():
    from nlp_wire.summarize.clean import clean_paragraph

    long = "The committee said " + "that the new harbor rules would apply to every vessel, " * 8 + "from March."
    assert len(long) > 400
    cleaned = clean_paragraph(long + " (Testwire)Ships left early.")
    assert cleaned == long + " Ships left early."  # the credit goes, the long sentence stays whole
