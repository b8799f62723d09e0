"""The chat tells the truth at a glance (issue 16): each citation's verdict, the
summary line, a failed cited span, and what a source is."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from legalrag.app.answers import Answer, AnswerSource
from legalrag.app.chat.cards import (
    TYPES,
    age_warning,
    jurisdiction_name,
    newer_alike,
    source_type,
)
from legalrag.app.chat.verdicts import LOOKS, checks_line
from legalrag.app.chat.view import render_answer, render_sources
from tests.test_chat_view import _answer

# A flipped "not" (contradicted), the source's own words (supported), a changed figure.
RAW = (
    "A Texas landlord must not refund the security deposit within 30 days after the tenant "
    "moves out [1].\n"
    "A Texas landlord must refund the security deposit within 30 days after the tenant "
    "moves out [1].\n"
    "California landlords have 45 days to return the deposit [2][7].\n"
    "This is not legal advice."
)
MARKER = re.compile(r'<(?:a|s) class="cite[^"]*"[^>]*data-verdict="([a-z_]+)"[^>]*>')


def test_every_marker_carries_its_verdict_by_icon_word_and_reason() -> None:
    answer = _answer(RAW)
    html = render_answer(RAW, answer, turn=1)
    assert MARKER.findall(html) == ["contradicted", "supported", "contradicted", "invalid"]
    contradicted = re.search(r'<a class="cite" data-verdict="contradicted".*?</a>', html).group(0)
    # Not colour alone: an icon and the word; the reason on hover and for screen readers.
    assert '<span class="v-icon verdict-contradicted" aria-hidden="true">✗</span>' in contradicted
    assert '<span class="v-text">contradicted</span>' in contradicted
    assert re.search(r'title="Source 1: [^"]*contradicted: the source says', contradicted)
    assert re.search(r'aria-label="Citation 1, contradicted: the source says', contradicted)
    supported = re.search(r'<a class="cite" data-verdict="supported"[^>]*>.*?</a>', html).group(0)
    assert "✓" in supported and "v-text" not in supported
    assert set(LOOKS) == {"supported", "contradicted", "not_found", "invalid", "unclear"}


def test_the_summary_counts_supported_and_problems_and_ticks_only_a_clean_answer() -> None:
    flagged = checks_line(_answer(RAW))
    # Problems are citations and findings: 2 contradicted, 1 invalid (misgrounded follows).
    assert "⚠ 1 supported · 3 problems" in flagged
    assert "2 contradicted citations" in flagged and "1 invalid citation (removed)" in flagged
    assert "✓" not in flagged
    clean_raw = RAW.split("\n")[1]
    clean = checks_line(_answer(clean_raw))
    assert clean.startswith('<span class="checks checks-ok">✓ 1 supported · no problems')
    nothing = checks_line(_answer("The deposit rules differ from state to state."))
    assert "✓" not in nothing and "No citations" in nothing


def test_a_cited_span_that_does_not_support_is_marked_so() -> None:
    answer = _answer(RAW)
    html = render_sources(answer, turn=1, question="q", standalone="q", sentences=["a"] * 4)
    ca_card = html.split('id="src-1-2"')[1]
    assert '<span class="span-flag" data-verdict="contradicted">' in ca_card
    assert "cited, but does not support" in ca_card
    assert re.search(r'<mark class="span span-failed" data-verdict="contradicted"', ca_card)
    # The Texas span is cited by a supported sentence too: it stays plain evidence.
    tx_card = html.split('id="src-1-2"')[0]
    assert '<mark class="span" data-cites=' in tx_card
    assert "contradicted" in tx_card and "supported" in tx_card  # what cites it, by verdict


def test_a_source_says_what_it_is_where_it_is_from_and_how_old_it_is() -> None:
    answer = _answer(RAW)
    tx, ca = answer.sources
    assert source_type(tx) == "forum answer"  # the post's "Question: … Answer:" layout
    assert source_type(ca) == "document"  # nothing names its type: no guess
    statute = replace(ca, title="Colo. Rev. Stat. (C.R.S.) § 38-12-103", text="x")
    case = replace(ca, title="Granberry v. Islay Investments, 9 Cal. 4th 738", text="x")
    cfr = replace(ca, title="29 C.F.R. § 541.600 Amount of salary required", text="x")
    nda = replace(ca, title="Mutual Non-Disclosure Agreement", text="x")
    sheet = replace(ca, title="Fact Sheet #17G: Salary Basis", text="x")
    assert [source_type(s) for s in (statute, case, cfr, nda, sheet)] == [
        "statute",
        "case",
        "regulation",
        "contract",
        "agency guidance",
    ]
    assert set(TYPES) >= {"statute", "regulation", "case", "agency guidance", "contract"}
    assert jurisdiction_name("TX") == "Texas" and jurisdiction_name("US").startswith("Federal")
    today = date(2026, 12, 2)
    assert age_warning(ca, max_age_years=5, today=today) == "older than 5 years"  # 2019
    assert age_warning(tx, max_age_years=10, today=today) is None
    assert age_warning(ca, max_age_years=0, today=today) is None
    html = render_sources(answer, turn=1, question="q", standalone="q", sentences=[], today=today)
    assert '<span class="badge">forum answer</span>' in html
    assert "⚠ older than 5 years" in html


def test_an_older_and_a_newer_source_of_one_state_are_flagged() -> None:
    answer = _answer(RAW)
    tx = answer.sources[0]
    newer = AnswerSource(
        **{**vars(tx), "id": "tx-2", "document_id": "tx-doc-2", "created": "2024-01-01"},
    )
    sources = [tx, replace(newer, marker=3)]
    assert [s.marker for s in newer_alike(tx, sources)] == [3]
    assert newer_alike(sources[1], sources) == []
    both = Answer(**{**vars(answer), "sources": sources})
    html = render_sources(both, turn=1, question="q", standalone="q", sentences=[])
    assert "a newer source of the same jurisdiction is listed: [3]" in html
