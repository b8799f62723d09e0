"""Claim checks: a planted contradiction is caught, with a reason naming the source
sentence; the same claim, verbatim or lightly paraphrased, stays supported; quotes of
the source are evidence. The sources are written for these tests (an NDA, a lease,
a wage rule)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from legalrag.app.answers import Answer, AnswerSource
from legalrag.app.audit import audit_record
from legalrag.app.chat.view import render_answer
from legalrag.app.citations import Citation, numbers_in, verify_citations
from legalrag.app.claims.quantities import quantities
from legalrag.app.claims.text import split_source
from legalrag.app.retrieval import RetrievedPassage


@dataclass(frozen=True)
class Source:
    id: str
    text: str
    start: int = 0
    jurisdiction: str = ""


NDA_CONSENT = (
    "The Recipient shall not disclose Confidential Information to any third party without "
    "the prior written consent of the Discloser."
)
NDA_NOTICE = "The Recipient shall notify the Discloser promptly of any unauthorised disclosure."
NDA_RETURN = (
    "Within thirty (30) days after termination, the Recipient shall return or destroy all "
    "copies of Confidential Information."
)
NDA = Source(
    "nda",
    'This Agreement is made between Acme Corp. (the "Discloser") and Beta LLC (the '
    f'"Recipient"). {NDA_CONSENT} {NDA_NOTICE} {NDA_RETURN} The Recipient may share '
    "Confidential Information with its employees who need to know it.",
)
LEASE_DEPOSIT = "The Landlord must return the deposit within 14 days after the Tenant moves out."
LEASE_WEAR = "The Tenant is not liable for normal wear and tear."
LEASE_STATUTE = (
    "Under Tex. Prop. Code § 92.103, a landlord who keeps the deposit in bad faith owes $100 "
    "plus three times the amount withheld."
)
LEASE = Source(
    "lease",
    f"The Tenant shall pay a late fee of 5% of the monthly rent. {LEASE_DEPOSIT} {LEASE_WEAR} "
    f"{LEASE_STATUTE} See Pulley v. Milberger, 198 S.W.3d 418 (Tex. App. 2006).",
    jurisdiction="TX",
)
WAGE_OVERTIME = (
    "An employer must pay an employee overtime at one and one-half times the regular rate "
    "for hours worked over 40 in a workweek."
)
WAGE_RETALIATION = "An employer may not retaliate against an employee who files a wage claim."
WAGE = Source(
    "wage",
    f"{WAGE_OVERTIME} An employee is not required to work more than 12 hours in a day. "
    f"{WAGE_RETALIATION}",
    jurisdiction="CA",
)
SOURCES = [NDA, LEASE, WAGE]


def _cite(sentence: str, sources: list[Source] = SOURCES) -> tuple[Citation, bool]:
    """The first citation's findings, and whether the sentence came out misgrounded."""
    result = verify_citations(sentence, sources)
    return result.citations[0], bool(result.misgrounded_sentences)


def _caught(sentence: str, check: str, source_sentence: str, *words: str) -> Citation:
    citation, misgrounded = _cite(sentence)
    assert citation.verdict in ("contradicted", "not_found"), citation
    assert misgrounded
    assert citation.source_sentence == source_sentence
    assert all(w in citation.reason for w in words), citation.reason
    assert check and citation.reason
    return citation


def _supported(sentence: str) -> Citation:
    citation, misgrounded = _cite(sentence)
    assert citation.verdict == "supported", citation
    assert not misgrounded
    return citation


# Polarity.


def test_a_dropped_not_is_caught_and_names_the_source_sentence() -> None:
    citation = _caught(
        "The Tenant is liable for normal wear and tear [2].", "polarity", LEASE_WEAR, "not"
    )
    assert "wear and tear" in citation.reason and citation.verdict == "contradicted"


def test_an_added_never_is_caught() -> None:
    _caught(
        "The Landlord must never return the deposit after the Tenant moves out [2].",
        "polarity",
        LEASE_DEPOSIT,
        "never",
    )


@pytest.mark.parametrize(
    "sentence",
    [
        f"{LEASE_WEAR} [2]",
        "The Tenant does not have to pay for normal wear and tear [2].",
        "Normal wear and tear is not something the Tenant is liable for [2].",
    ],
)
def test_the_same_polarity_in_other_words_is_supported(sentence: str) -> None:
    _supported(sentence)


# Modality.


def test_may_where_the_source_says_shall_not_is_caught() -> None:
    _caught(
        "The Recipient may disclose Confidential Information to any third party without "
        "the Discloser's consent [1].",
        "modality",
        NDA_CONSENT,
        '"shall not"',
        '"may"',
    )


def test_may_where_the_source_says_must_is_caught() -> None:
    _caught(
        "The Landlord may return the deposit within 14 days after the Tenant moves out [2].",
        "modality",
        LEASE_DEPOSIT,
        '"must"',
        '"may"',
    )


def test_required_where_the_source_says_not_required_is_caught() -> None:
    _caught(
        "An employee is required to work more than 12 hours in a day [3].",
        "modality",
        "An employee is not required to work more than 12 hours in a day.",
        '"is not required to"',
    )


@pytest.mark.parametrize(
    "sentence",
    [
        f"{LEASE_DEPOSIT} [2]",
        "The Landlord is required to return the deposit within 14 days after the Tenant "
        "moves out [2].",
        "The Landlord has to give back the deposit no later than 14 days after the Tenant "
        "moves out [2].",
        "The Recipient must not share Confidential Information with any third party unless "
        "the Discloser consents in writing [1].",
        "An employee cannot be made to work more than 12 hours in a day [3].",
    ],
)
def test_the_same_obligation_in_other_words_is_supported(sentence: str) -> None:
    _supported(sentence)


# Parties and roles.


def test_swapped_defined_terms_are_caught() -> None:
    _caught(
        "The Discloser shall notify the Recipient promptly of any unauthorised disclosure [1].",
        "parties",
        NDA_NOTICE,
        "discloser",
        "other way round",
    )


def test_swapped_employer_and_employee_are_caught() -> None:
    _caught(
        "An employee may not retaliate against an employer who files a wage claim [3].",
        "parties",
        WAGE_RETALIATION,
        "employee",
    )


def test_swapped_roles_in_other_words_are_caught_around_their_verb() -> None:
    _caught(
        "The Tenant has to return the deposit no later than 14 days after the Landlord "
        "moves out [2].",
        "parties",
        LEASE_DEPOSIT,
        "tenant",
        "landlord",
    )


@pytest.mark.parametrize(
    "sentence",
    [
        "The Recipient must tell the Discloser promptly about any unauthorised disclosure [1].",
        "An employer may not retaliate against a worker who files a wage claim [3].",
    ],
)
def test_the_same_roles_in_other_words_are_supported(sentence: str) -> None:
    _supported(sentence)


def test_a_leading_clause_moved_to_the_end_is_no_swap() -> None:
    source = Source("notice", "If the Landlord fails to give notice, the Tenant may withhold rent.")
    citation, misgrounded = _cite(
        "The Tenant may withhold rent if the Landlord fails to give notice [1].", [source]
    )
    assert citation.verdict == "supported" and not misgrounded


# Quantities.


def test_a_range_gives_its_unit_to_both_ends() -> None:
    assert [(q.value, q.unit) for q in quantities("four to six days")] == [
        ("4", "day"),
        ("6", "day"),
    ]


def test_numbers_in_words_are_numbers() -> None:
    assert [(q.value, q.unit, q.bound) for q in quantities("within thirty (30) days")] == [
        ("30", "day", "by")
    ]
    assert numbers_in("twenty-one business days [2]") == {"21"}
    assert numbers_in("one of the parties") == set()  # a number word needs its unit


@pytest.mark.parametrize(
    ("sentence", "source_sentence", "words"),
    [
        (
            "The Recipient must return or destroy all copies within 60 days after termination [1].",
            NDA_RETURN,
            ("60 days", "thirty (30) days"),
        ),
        (
            "The Recipient must return or destroy all copies of Confidential Information "
            "within thirty business days after termination [1].",
            NDA_RETURN,
            ("business days",),
        ),
        (
            "The Tenant shall pay a late fee of $5 of the monthly rent [2].",
            "The Tenant shall pay a late fee of 5% of the monthly rent.",
            ("$5", "5%"),
        ),
        (
            "The Landlord must return the deposit after 14 days after the Tenant moves out [2].",
            LEASE_DEPOSIT,
            ("within 14 days", "after 14 days"),
        ),
    ],
)
def test_a_changed_number_unit_or_bound_is_caught(
    sentence: str, source_sentence: str, words: tuple[str, ...]
) -> None:
    _caught(sentence, "quantity", source_sentence, *words)


@pytest.mark.parametrize(
    "sentence",
    [
        "The Recipient must return or destroy all copies of Confidential Information within "
        "30 days after termination [1].",
        "An employer must pay overtime at one and one-half times the regular rate for hours "
        "over 40 in a workweek [3].",
    ],
)
def test_the_same_quantity_in_other_words_is_supported(sentence: str) -> None:
    _supported(sentence)


# Jurisdiction.


def test_a_state_the_source_is_not_about_is_caught() -> None:
    citation = _caught(
        "In California the Landlord must return the deposit within 14 days after the Tenant "
        "moves out [2].",
        "jurisdiction",
        LEASE_DEPOSIT,
        "California",
        "Texas",
    )
    assert citation.verdict == "contradicted"


def test_the_sources_own_state_or_none_is_not_a_finding() -> None:
    _supported(
        "In Texas the Landlord must return the deposit within 14 days after the Tenant "
        "moves out [2]."
    )
    unknown = Source("lease", LEASE.text)  # no jurisdiction recorded: nothing to hold it to
    citation, misgrounded = _cite(
        "In California the Landlord must return the deposit within 14 days after the Tenant "
        "moves out [1].",
        [unknown],
    )
    assert citation.verdict == "supported" and not misgrounded


# Legal authorities.


def test_a_statute_the_source_does_not_cite_is_caught() -> None:
    citation = _caught(
        "Under Tex. Prop. Code § 92.109, a landlord who keeps the deposit in bad faith owes "
        "$100 [2].",
        "authority",
        LEASE_STATUTE,
        "Tex. Prop. Code § 92.109",
    )
    assert citation.verdict == "not_found"


def test_a_case_the_source_does_not_cite_is_caught() -> None:
    _caught(
        "See Smith v. Jones, 123 S.W.3d 456 (Tex. 2003): a landlord who keeps the deposit "
        "in bad faith owes $100 [2].",
        "authority",
        LEASE_STATUTE,
        "123 S.W.3d 456",
    )


@pytest.mark.parametrize(
    "sentence",
    [
        "Under Texas Property Code section 92.103, a landlord who keeps the deposit in bad "
        "faith owes $100 plus three times the amount withheld [2].",
        "Pulley v. Milberger, 198 S.W.3d 418 (Tex. App. 2006), is cited on deposits [2].",
    ],
)
def test_an_authority_the_source_cites_is_supported(sentence: str) -> None:
    _supported(sentence)


# Quotes are evidence.


def _weak(sentence: str, passage: str) -> float:
    """A scorer that finds little in any passage, as a similarity score often does
    for a short sentence against a long source."""
    return 0.1


def test_a_verbatim_sentence_is_supported_whatever_the_score() -> None:
    result = verify_citations(f"{NDA_CONSENT} [1]", SOURCES, support=_weak)
    (citation,) = result.citations
    assert citation.verdict == "supported" and citation.support == 0.1
    assert "source's words" in citation.reason and not result.misgrounded_sentences


def test_a_verbatim_run_of_the_source_is_supported() -> None:
    result = verify_citations(
        "The Recipient shall return or destroy all copies of Confidential Information [1].",
        SOURCES,
        support=_weak,
    )
    assert result.citations[0].verdict == "supported" and not result.misgrounded_sentences


def test_a_sentence_whose_quotes_are_found_is_supported() -> None:
    # "Clause 4" is in no source: the number rule scores it 0, the quote still stands.
    result = verify_citations(
        'Clause 4 says the Recipient "shall notify the Discloser promptly" [1].', SOURCES
    )
    (citation,) = result.citations
    assert citation.support == 0.0 and citation.quote_ok is True
    assert citation.verdict == "supported" and not result.misgrounded_sentences


def test_the_unquoted_rest_of_a_quoting_sentence_is_still_checked() -> None:
    citation, misgrounded = _cite(
        'The Recipient may disclose it "to any third party without the prior written consent '
        'of the Discloser" [1].'
    )
    assert citation.verdict == "contradicted" and misgrounded
    assert '"shall not"' in citation.reason


def test_a_quote_not_in_the_source_is_not_found() -> None:
    citation, misgrounded = _cite('The lease says the Tenant "may keep a dog" [2].')
    assert citation.verdict == "not_found" and citation.quote_ok is False and misgrounded


# A verdict per citation.


def test_one_supporting_source_of_two_keeps_the_sentence_supported() -> None:
    other = Source("other", "The Tenant is liable for normal wear and tear.")
    result = verify_citations(
        "The Tenant is not liable for normal wear and tear [1][2].", [LEASE, other]
    )
    assert [c.verdict for c in result.citations] == ["supported", "contradicted"]
    assert result.misgrounded_sentences == []


def test_a_low_score_with_no_finding_is_not_found() -> None:
    citation, misgrounded = _cite("Pets are allowed in every unit of the building [2].")
    assert citation.verdict == "not_found" and misgrounded
    assert "does not say" in citation.reason


def test_abbreviations_do_not_end_a_sentence() -> None:
    assert split_source(f"{LEASE_STATUTE} See Pulley v. Milberger, 198 S.W.3d 418.") == [
        LEASE_STATUTE,
        "See Pulley v. Milberger, 198 S.W.3d 418.",
    ]


def test_verdicts_and_reasons_reach_json_the_audit_line_and_the_chat() -> None:
    passage = RetrievedPassage(
        id="lease-1",
        document_id="lease",
        text=LEASE.text,
        score=1.0,
        title="Lease <Texas>",
        jurisdiction="TX",
    )
    raw = "The Tenant is liable for <b>normal</b> wear and tear [1]."
    answer = Answer(
        **vars(verify_citations(raw, [passage])),
        question="Who pays for wear and tear?",
        sources=AnswerSource.numbered([passage]),
    )
    (data,) = answer.as_dict()["citations"]
    assert data["verdict"] == "contradicted" and data["source_sentence"] == LEASE_WEAR
    record = audit_record(
        user="u", question="q", standalone_question="q", filters={}, k=1, answer=answer
    )
    assert record["citations"][0]["verdict"] == "contradicted"
    assert record["citations"][0]["reason"] == data["reason"]
    html = render_answer(raw, answer, turn=0)
    assert 'class="cite" data-verdict="contradicted"' in html
    assert "contradicted: the source says &quot;not liable&quot;" in html
    assert "<b>" not in html  # the model's text stays escaped


def test_a_long_answer_over_sixteen_sources_gets_the_same_verdicts_every_time() -> None:
    # Its speed is measured by bench/verify_latency.py, not here.
    text = " ".join(s.text for s in SOURCES)
    sentences = [
        "The Tenant is liable for normal wear and tear [1][5].",
        "The Recipient may disclose Confidential Information to any third party [2].",
        "The Discloser shall notify the Recipient of any unauthorised disclosure [3].",
        "The Recipient must return all copies within 60 business days [4][16].",
        "Under Tex. Prop. Code § 92.109, a landlord owes $100 [6].",
        "See Smith v. Jones, 123 S.W.3d 456 (Tex. 2003) [7].",
        f"{WAGE_OVERTIME} [8]",
        'The lease says the Tenant "may keep a dog" [9].',
        "An employee may not retaliate against an employer [10][11].",
        "In California an employer must pay overtime for hours over 40 [12][13][14][15].",
    ]
    answer = " ".join(sentences)
    # Every run gets sources of its own text, so no cache of an earlier run answers it.
    runs = [[Source(f"s{i}", f"{text} Rider {run}-{i}.") for i in range(16)] for run in range(3)]
    verdicts = [
        [(c.marker, c.verdict) for c in verify_citations(answer, r).citations] for r in runs
    ]
    assert verdicts[0] == verdicts[1] == verdicts[2]
    assert len(verdicts[0]) == 16 and {v for _, v in verdicts[0]} >= {"supported", "contradicted"}
