"""The verifier's adversarial set: each planted kind by hand, then the whole set
through `legalrag eval adversarial` on the sample index with the production check."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from legalrag.app.citations import split_sentences, strip_markers
from legalrag.cli import app
from legalrag.eval import adversarial as adv
from legalrag.eval.adversarial_paraphrase import paraphrase
from legalrag.eval.adversarial_run import CachingEmbedder, cited, question_rows, source_sentences
from tests.conftest import REPO, make_retriever

SAMPLE_SET = REPO / "eval" / "datasets" / "sample.jsonl"
DEPOSIT = "The landlord must return the deposit within 21 days after the tenant moves out [2]."
NDA = "The Receiving Party shall not disclose Confidential Information to any third party [1]."
PLAIN = "Ask the clerk for the form at the front desk [3]."


def _markers(sentence: str) -> list[str]:
    return re.findall(r"\[\d+\]", sentence)


# --- each kind by hand ----------------------------------------------------------------


def test_a_changed_number_is_another_number_and_the_marker_stays() -> None:
    assert adv.change_number(DEPOSIT) == DEPOSIT.replace("21 days", "28 days")
    assert adv.change_number("A fee of $1,450 applies [1].") == "A fee of $1,457 applies [1]."
    assert adv.change_number("Section 1950.5 governs [4].") == "Section 1957.5 governs [4]."
    assert adv.change_number(PLAIN) is None  # "[3]" is a marker, not a number


def test_a_spelled_number_becomes_the_next_one() -> None:
    assert adv.change_number_word("Within thirty days of notice [1].") == (
        "Within forty days of notice [1]."
    )
    assert adv.change_number_word("Two copies are kept [2].") == "Three copies are kept [2]."
    assert adv.change_number_word("No one may enter [1].") is None  # "one" is not an amount
    assert adv.change_number_word(DEPOSIT) is None


def test_a_changed_unit_keeps_the_amount() -> None:
    assert adv.change_unit(DEPOSIT) == DEPOSIT.replace("21 days", "21 business days")
    assert adv.change_unit("A fee of $125, payable now [1].") == "A fee of 125%, payable now [1]."
    assert adv.change_unit("Interest of 5% a year [1].") == "Interest of $5 a year [1]."
    assert adv.change_unit("Within 5 business days [1].") == "Within 5 calendar days [1]."
    assert adv.change_unit(PLAIN) is None


def test_polarity_is_flipped_by_removing_or_adding_a_negation() -> None:
    assert adv.flip_polarity(NDA) == NDA.replace("shall not", "shall")
    assert adv.flip_polarity(DEPOSIT) == DEPOSIT.replace("must", "must not")
    assert adv.flip_polarity("They can't touch your wages [7].") == "They can touch your wages [7]."
    assert adv.flip_polarity("It never expires [1].") == "It expires [1]."
    assert adv.flip_polarity("The court can award fees [1].") == "The court cannot award fees [1]."
    assert adv.flip_polarity("Tenants pay rent monthly [1].") is None
    # "May 8" is a date, not a modal.
    assert adv.flip_polarity("Filed on May 8 [1].") is None


def test_modality_turns_must_into_may_and_back() -> None:
    assert adv.change_modality(DEPOSIT) == DEPOSIT.replace("must", "may")
    assert adv.change_modality("You may appeal [1].") == "You must appeal [1]."
    assert adv.change_modality("The Buyer shall pay [1].") == "The Buyer may pay [1]."
    # "may not" and "must not" both forbid: nothing to change.
    assert adv.change_modality(NDA) is None
    assert adv.change_modality("Received on May 8 [1].") is None


def test_parties_are_swapped_only_when_both_are_named() -> None:
    assert adv.swap_parties(DEPOSIT) == (
        "The tenant must return the deposit within 21 days after the landlord moves out [2]."
    )
    assert adv.swap_parties("The Disclosing Party may audit the Receiving Party [1].") == (
        "The Receiving Party may audit the Disclosing Party [1]."
    )
    assert adv.swap_parties("We will refund you [1].") == "You will refund we [1]."
    assert adv.swap_parties("The Recipient returns copies to the Company [1].") == (
        "The Company returns copies to the Recipient [1]."
    )
    assert adv.swap_parties("The landlord keeps the keys [1].") is None
    # Words of one name are not two parties.
    assert (
        adv.swap_parties("Ask the Department of Civil Rights in the California Court [1].") is None
    )


def test_a_named_state_becomes_another() -> None:
    assert adv.swap_jurisdiction("In California the deadline is 21 days [1].") == (
        "In Texas the deadline is 21 days [1]."
    )
    assert adv.swap_jurisdiction("New York courts agree [2].") == "New Jersey courts agree [2]."
    assert adv.swap_jurisdiction("Ohio law applies [1].") == "Oklahoma law applies [1]."
    assert adv.swap_jurisdiction(DEPOSIT) is None


def test_a_fabricated_quote_sits_inside_the_cited_claim() -> None:
    quoted = adv.fabricate_quote(DEPOSIT)
    assert quoted == DEPOSIT.replace(" [2].", f', described as "{adv.FABRICATED_QUOTE}" [2].')
    assert len(split_sentences(quoted)) == 1
    assert adv.fabricate_quote('It says "no pets" [1].') is None


def test_citation_kinds_touch_only_the_markers() -> None:
    assert adv.cite_missing_source(DEPOSIT) == DEPOSIT.replace("[2]", "[99]")
    assert adv.cite_source(5)(DEPOSIT) == DEPOSIT.replace("[2]", "[5]")
    assert adv.cite_source(2)(DEPOSIT) is None  # that is its own source
    assert adv.remove_citations(DEPOSIT) == DEPOSIT.replace(" [2]", "")
    assert adv.remove_citations("No marker here at all.") is None
    claim = adv.claim_from_no_source(adv.CLAIMS_FROM_NO_SOURCE[0])(DEPOSIT)
    assert claim == f"{adv.CLAIMS_FROM_NO_SOURCE[0]} [2]."


def test_every_text_kind_changes_the_claim_and_keeps_its_citation() -> None:
    sentences = [DEPOSIT, NDA, "In Texas, the employer shall pay thirty percent [3]."]
    for kind, mutate in adv.TEXT_KINDS.items():
        for sentence in sentences:
            mutated = mutate(sentence)
            if mutated is None:
                continue
            assert mutated != sentence, kind
            if kind not in ("source_not_given", "uncited"):
                assert _markers(mutated) == _markers(sentence), kind


def test_a_paraphrase_keeps_numbers_polarity_and_roles() -> None:
    sentence = "If deductions exceed $125, the landlord must not keep receipts [1]."
    reworded = paraphrase(sentence)
    assert reworded == "The landlord must not keep receipts if deductions exceed $125 [1]."
    assert re.findall(r"\d+", reworded) == re.findall(r"\d+", sentence)
    assert paraphrase("The tenant shall also notify the landlord prior to leaving [2].") == (
        "The tenant shall inform the landlord before leaving [2]."
    )
    assert paraphrase(PLAIN) is None
    # A comma inside the leading clause is not its end.
    assert paraphrase("If both agree, or one admits it, the court decides [7].") is None


# --- the set over real sources --------------------------------------------------------


@pytest.fixture(scope="module")
def sample_sources(sample_index, embedder):
    settings, _ = sample_index
    retriever = make_retriever(settings, embedder)
    passages = retriever.retrieve("How long does a landlord have to return a deposit?").passages
    return settings, passages


def test_source_sentences_are_whole_sentences_of_their_source(sample_sources) -> None:
    _, passages = sample_sources
    found = source_sentences(passages)
    assert found
    for number, text in found:
        assert text in passages[number - 1].text
        assert len(split_sentences(cited(text, number))) == 1


def test_question_rows_are_the_same_on_every_run(sample_sources, embedder) -> None:
    from legalrag.factory import make_generator, make_support_checker

    settings, passages = sample_sources
    cache = CachingEmbedder(embedder)  # one batch a question, as the CLI runs it
    check = make_support_checker(settings, cache, make_generator(settings))
    first = question_rows("q", passages, check, seed=3, prime=cache.prime)
    assert first == question_rows("q", passages, check, seed=3, prime=cache.prime)
    planted = {r.kind for r in first} - {"correct_verbatim", "correct_paraphrase"}
    assert planted <= set(adv.KINDS) and len(planted) >= 8
    verbatim = [r for r in first if r.kind == "correct_verbatim"]
    assert verbatim and all(
        strip_markers(r.sentence) in r.answer or r.sentence in r.answer for r in verbatim
    )


def test_the_cli_reports_every_kind_on_the_sample_index(sample_index, tmp_path: Path) -> None:
    settings, _ = sample_index
    out = tmp_path / "adv"
    env = {"LEGALRAG_DATA_DIR": str(settings.data_dir)}
    args = ["eval", "adversarial", "--dataset", str(SAMPLE_SET), "--limit", "3", "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--json"], env=env)
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    report = json.loads((out / "adversarial.json").read_text())
    figures = report["figures"]
    assert printed["figures"] == figures
    assert report["meta"]["questions"] == 3 and report["meta"]["seed"] == 0

    for kind in adv.KINDS:
        assert figures["kinds"][kind]["planted"] >= 1, kind
    # A marker naming no given source is always caught, as an invalid marker.
    missing = figures["kinds"]["source_not_given"]
    assert missing["caught"] == missing["planted"]
    assert missing["by_finding"]["invalid_marker"] == missing["planted"]
    overall = figures["overall"]
    assert 0.0 < overall["caught_rate"] <= 1.0
    assert overall["planted"] == sum(k["planted"] for k in figures["kinds"].values())
    # A source's own sentence, cited to it, is mostly left alone.
    verbatim = figures["correct"]["verbatim"]
    assert verbatim["n"] >= 6 and verbatim["flagged_rate"] <= 0.2

    rows = [json.loads(line) for line in (out / "adversarial_rows.jsonl").read_text().splitlines()]
    planted_rows = [r for r in rows if r["kind"] in adv.KINDS]
    assert len(planted_rows) == overall["planted"]
    for row in planted_rows:
        assert row["sentence"] != row["original"] and row["sentence"] in row["answer"]
        assert row["caught"] == bool(row["findings"])

    table = CliRunner().invoke(app, [*args, "--quiet"], env=env)
    assert table.exit_code == 0, table.output
    assert "source_not_given" in table.stdout and "overall caught" in table.stdout
