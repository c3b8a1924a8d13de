"""model_input: the one text every classifier reads, the same from a Story, wire text, a file or a record."""

from __future__ import annotations

import pytest

from nlp_wire import Story
from nlp_wire.text import as_story, model_input

# -- tiny invented corpus -------------------------------------------------------------------------
WIRE = """\
 date 2024-02-14 (LEAD) Keepers sign pay pact
BUSAN, Feb. 14 (Yonhap) -- The keepers' union signed a three-year pact on Wednesday.
The deal raises night pay.
Members vote next week.
keeper@example.org
(END)
-
1
Ferries stay in port
"""
EXPECTED = "Keepers sign pay pact. The keepers' union signed a three-year pact on Wednesday. The deal raises night pay."


def test_headline_plus_lead_without_tags_dateline_byline_or_related():
    text = model_input(Story.from_string(WIRE))
    assert text == EXPECTED
    for left_out in ("LEAD", "BUSAN", "Yonhap", "keeper@example.org", "Ferries", "Members vote"):
        assert left_out not in text


def test_same_input_from_story_wire_text_file_and_record(tmp_path):
    p = tmp_path / "pact.txt"
    p.write_text(WIRE.replace("\n", "\r\n"), encoding="utf-8")
    record = {"headline": "(LEAD) Keepers sign pay pact",
              "body": "BUSAN, Feb. 14 (Yonhap) -- The keepers' union signed a three-year pact on Wednesday.\n"
                      "The deal raises night pay.\nMembers vote next week."}
    inputs = [Story.from_string(WIRE), WIRE, Story.from_file(p), record]
    assert {model_input(x) for x in inputs} == {EXPECTED}


def test_word_cap_and_lead_paragraphs():
    story = Story.from_string(WIRE)
    assert model_input(story, max_words=5) == "Keepers sign pay pact. The"
    assert model_input(story, lead_paragraphs=3).endswith("Members vote next week.")
    assert model_input(story, lead_paragraphs=1) == "Keepers sign pay pact. The keepers' union signed a three-year pact on Wednesday."
    long = Story.from_string(" date 2024-01-01 Long one\n" + "word " * 500 + "\n")
    assert len(model_input(long).split()) == 96


def test_headline_punctuation_is_kept():
    assert model_input(" date 2024-01-01 Will the keepers strike?\nThey may.\n") == "Will the keepers strike? They may."
    assert model_input(" date 2024-01-01 Keepers strike: union\nThey did.\n") == "Keepers strike: union. They did."


def test_plain_text_and_edge_cases():
    assert model_input("SEOUL, May 1 (Yonhap) -- Ferries stayed in port.\nWinds eased.") == "Ferries stayed in port. Winds eased."
    assert model_input("") == ""
    assert model_input(" date 2024-01-01 Headline only\n") == "Headline only."
    assert model_input({"headline": "", "body": "Just a body."}) == "Just a body."


def test_as_story():
    story = Story.from_string(WIRE)
    assert as_story(story) is story
    assert as_story({"id": "r9", "headline": "H"}).id == "r9"
    assert as_story({"id": None, "headline": "H"}, id="t0").id == "t0"
    plain = as_story("First line.\r\nSecond &amp; last.", id="t1")
    assert (plain.id, plain.headline, plain.paragraphs) == ("t1", "", ["First line.", "Second & last."])
    with pytest.raises(TypeError, match="int"):
        as_story(42)


def test_a_story_without_its_header_reads_as_its_file_body():
    """Byline, (END) and related headlines stay out of the model input of a pasted body, as of the file's."""
    wire = (" date 2024-05-02 Storm closes ports\n"
            "BUSAN, May 2 (Testwire) -- A storm closed ports.\n"
            "kim@testwire.example\n(END)\n"
            "- Related headline one\n- Related headline two\n")
    body = wire.split("\n", 1)[1]
    story, pasted = as_story(wire), as_story(body)
    assert (pasted.paragraphs, pasted.byline, pasted.related_headlines, pasted.dateline) == \
        (story.paragraphs, story.byline, story.related_headlines, story.dateline)
    assert model_input(body) == "A storm closed ports."
    short = "A storm closed ports.\nkim@testwire.example\n(END)"  # two lead paragraphs would reach both
    assert model_input(short) == "A storm closed ports."
    from nlp_wire.summarize import to_story

    assert to_story is as_story  # summarizing reads a story the same way


def test_text_given_alone_keeps_its_words_and_a_record_body_reads_as_a_wire_body():
    assert model_input("By Popular Demand") == "By Popular Demand"  # one line: not a byline under no headline
    assert model_input("press@example.com") == "press@example.com"
    assert model_input("\xa0\n-\nShort one\nShort two") == "- Short one"  # a blank (NBSP) first line is no prose
    body = "BUSAN, May 2 (Testwire) -- A storm closed ports.\nkim@testwire.example\n(END)\n-\nRelated one\n"
    record = as_story({"headline": "Storm closes ports", "body": body})
    assert (record.paragraphs, record.byline, record.related_headlines) == \
        (["A storm closed ports."], "kim@testwire.example", [["Related one"]])
    assert model_input({"headline": "Storm closes ports", "body": body}) == "Storm closes ports. A storm closed ports."


def test_model_input_has_no_lone_surrogate_whatever_the_input_form():
    """Plain text was cleaned; a wire string, a Story or a record with a lone surrogate stopped a transformer's
    whole batch in the tokenizer with a message naming neither the item nor the cause."""
    from nlp_wire import Story

    for item in (" date 2020-05-01 Po\udcfflice arrest a man\nSEOUL, May 1 (Yonhap) -- Police ar\ud800rested him.\n",
                 Story("x", None, "Po\ud800lice", paragraphs=["arrest\udcff made"]),
                 {"headline": "Po\udcfflice", "body": "arrest\ud800"}):
        text = model_input(item)
        text.encode("utf-8")  # no lone surrogate left
        assert "\ufffd" in text


def test_a_leading_byte_order_mark_does_not_hide_the_header():
    """A file read as utf-8 (not utf-8-sig) and passed as a string starts with a BOM: still the same input."""
    assert model_input("\ufeff" + WIRE) == EXPECTED
    assert as_story("\ufeff" + WIRE).headline == as_story(WIRE).headline


def test_a_story_built_directly_loses_its_headline_tags():
    story = Story("x", None, "(LEAD) Keepers end strike", paragraphs=["Ferries sail again."])
    assert model_input(story) == "Keepers end strike. Ferries sail again."


def test_a_headline_ending_in_a_digit_gets_its_period():
    assert model_input(" date 2024-01-01 Ferry fares rise 5\nThe port set new prices.\n") == \
        "Ferry fares rise 5. The port set new prices."


def test_a_wire_string_takes_the_given_id():
    assert as_story(WIRE, id="t7").id == "t7"
    assert as_story("\ufeff" + WIRE, id="t8").id == "t8"
