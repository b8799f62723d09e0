"""Edits of the source's own sentence, states named in a source's text, and a
citation that points at the wrong one of the given sources. The two clauses are
written for these tests, in the style of a stockholder's confidentiality letter."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from legalrag.app.citations import Citation, verify_citations


@dataclass(frozen=True)
class Source:
    id: str
    text: str
    start: int = 0
    jurisdiction: str = ""


COMPELLED = (
    "If the Company waives compliance with Section 2 of this Agreement, the Stockholder will "
    "furnish only that portion of the Confidential Information which is legally required."
)
SURVIVAL = (
    "The obligations of the Stockholder under this Agreement shall survive for a period of "
    "three (3) years from the date of this Agreement."
)
PUBLICITY = (
    "The Stockholder is prohibited from publishing any news release or public announcement "
    "about the Transaction without the prior consent of the Company."
)
LETTER = Source(
    "letter",
    f"No obligation\nThis Agreement imposes no obligation on either party to complete the "
    f"Transaction. {COMPELLED} {SURVIVAL} {PUBLICITY} This Agreement shall be governed by the "
    "laws of the State of Delaware.",
)
RETURN = (
    "Upon written request of the Company, the Stockholder shall promptly return or destroy "
    "all Confidential Information and all copies thereof."
)
SCHEDULE = Source(
    "schedule",
    f"{RETURN} Notices under this Agreement shall be given in writing to the Company's "
    "secretary at its principal office.",
)
SOURCES = [LETTER, SCHEDULE]


def _first(answer: str, sources: list[Source] = SOURCES) -> tuple[Citation, bool]:
    result = verify_citations(answer, sources)
    return result.citations[0], bool(result.misgrounded_sentences)


@pytest.mark.parametrize(
    ("sentence", "words"),
    [
        # A "not" added to a clause that already forbids: the same words, the opposite claim.
        (PUBLICITY.replace("is prohibited", "is not prohibited"), ['adds "not"']),
        (COMPELLED.replace("will furnish", "will not furnish"), ["not furnish"]),
        (SURVIVAL.replace("three (3)", "three (10)"), ['"3"', '"10"']),
        (SURVIVAL.replace("(3) years", "(3) months"), ["years", "months"]),
        (
            COMPELLED.replace("the Company", "the X")
            .replace("the Stockholder", "the Company")
            .replace("the X", "the Stockholder"),
            ['exchanges "company" and "stockholder"'],
        ),
    ],
)
def test_the_source_sentence_with_its_meaning_edited_is_contradicted(
    sentence: str, words: list[str]
) -> None:
    citation, misgrounded = _first(f"{sentence.rstrip('.')} [1].")
    assert citation.verdict == "contradicted", citation
    assert misgrounded
    assert all(w in citation.reason for w in words), citation.reason
    assert citation.source_sentence and "Stockholder" in citation.source_sentence


@pytest.mark.parametrize(
    "sentence",
    [
        COMPELLED,
        # Its heading line is not the answer's to repeat: "No obligation"'s "No" is not dropped.
        "This Agreement imposes no obligation on either party to complete the Transaction.",
        # A condition left out is unstated, not reversed.
        "The Stockholder is prohibited from publishing any news release or public announcement "
        "about the Transaction.",
        # "X and Y" written "Y and X" is the same claim.
        RETURN.replace(
            "all Confidential Information and all copies",
            "all copies and all Confidential Information",
        ),
    ],
)
def test_the_source_sentence_unchanged_in_meaning_is_supported(sentence: str) -> None:
    marker = 2 if sentence.startswith("Upon") else 1
    citation, misgrounded = _first(f"{sentence.rstrip('.')} [{marker}].")
    assert citation.verdict == "supported", citation
    assert not misgrounded


def test_a_state_the_source_text_does_not_name_is_contradicted_without_metadata() -> None:
    citation, misgrounded = _first(
        "This Agreement shall be governed by the laws of the State of Texas [1]."
    )
    assert citation.verdict == "contradicted" and misgrounded
    assert "Texas" in citation.reason and "Delaware" in citation.reason


def test_a_state_is_left_alone_by_a_source_that_names_none() -> None:
    unnamed = Source("clause", "Each party shall bear its own costs of enforcing this Agreement.")
    result = verify_citations(
        "In Texas, each party shall bear its own costs of enforcing this Agreement [1].", [unnamed]
    )
    assert result.citations[0].verdict == "supported", result.citations[0]


def test_a_citation_to_the_wrong_given_source_is_not_found_and_names_the_right_one() -> None:
    # RETURN is source 2's sentence word for word; source 1 shares its boilerplate.
    citation, misgrounded = _first(f"{RETURN.rstrip('.')} [1].")
    assert citation.verdict == "not_found" and misgrounded
    assert "source [2]" in citation.reason and "wrong source" in citation.reason
    # Cited to both, the sentence has its source: it is not misgrounded.
    result = verify_citations(f"{RETURN.rstrip('.')} [1][2].", SOURCES)
    assert [c.verdict for c in result.citations] == ["not_found", "supported"]
    assert not result.misgrounded_sentences


def test_a_duty_written_as_a_permission_is_contradicted() -> None:
    # "will furnish" is the Stockholder's duty; "can furnish" only allows it.
    citation, misgrounded = _first(f"{COMPELLED.replace('will furnish', 'can furnish')[:-1]} [1].")
    assert citation.verdict == "contradicted" and misgrounded
    assert '"will"' in citation.reason and '"can"' in citation.reason


def test_an_edit_under_a_long_heading_is_read_against_the_rule_line() -> None:
    # A rulebook's heading runs into its rule as one "sentence"; against the whole of it the
    # answer lines up too little to read as an edit, against the rule's own line it does.
    rule = Source(
        "rule",
        "Part 4 Conduct of Business Rules for Fund Operators and Their Trustees in the Market\n"
        "The Operator must notify the Trustee within 14 days of any change to its controllers.",
    )
    swapped = "The Trustee must notify the Operator within 14 days of any change to its controllers"
    result = verify_citations(f"{swapped} [1].", [rule])
    citation = result.citations[0]
    assert citation.verdict == "contradicted" and result.misgrounded_sentences
    assert 'exchanges "operator" and "trustee"' in citation.reason
    assert citation.source_sentence and citation.source_sentence.startswith("The Operator")
    restored = swapped.replace("Trustee", "X").replace("Operator", "Trustee")
    kept = verify_citations(f"{restored.replace('X', 'Operator')} [1].", [rule])
    assert kept.citations[0].verdict == "supported" and not kept.misgrounded_sentences
