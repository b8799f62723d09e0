"""The NLI support check (support_check = nli), on tiny BERT NLI classifiers built here,
saved to disk and loaded through the factory like any production model.

Two kinds of model: one with random weights (its outputs depend on the text, so the
scorer's figures are compared with the cross-encoder's own), and ones whose
classifier reads nothing but its bias (their probabilities are known exactly).
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest
import torch
from sentence_transformers import CrossEncoder

from legalrag.app.citations import split_sentences, verify_citations, without_instructions
from legalrag.app.generation import ExtractiveGenerator
from legalrag.app.retrieval import RetrievedPassage
from legalrag.app.support_nli import NLIModel, NLISupport
from legalrag.embedding import known_model
from legalrag.errors import EXIT_USAGE, SettingsError, SupportModelError
from legalrag.factory import make_support_checker
from legalrag.settings import load_settings

LABELS = {0: "contradiction", 1: "entailment", 2: "neutral"}
TX = (
    "A Texas landlord must refund the security deposit within 30 days after the tenant "
    "moves out. The landlord may deduct unpaid rent. Keep a copy of your forwarding address."
)
CA = "In California the landlord has 21 days to return the deposit."
ANSWER = (
    "A Texas landlord must refund the deposit within 30 days [1]. "
    "Unpaid rent may be deducted [1][2]. California allows 21 days [2]."
)


def _save_model(folder: Path, *, num_labels: int, id2label: dict | None, bias=None) -> Path:
    """A one-layer BERT sequence classifier with MiniLM's tokenizer, saved to ``folder``;
    with ``bias``, its classifier ignores the text and outputs exactly that."""
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    known = known_model("all-MiniLM-L6-v2")
    assert known is not None and known.bundled_path is not None
    tokenizer = AutoTokenizer.from_pretrained(str(known.bundled_path))
    torch.manual_seed(0)
    labels = {"id2label": id2label, "label2id": {v: k for k, v in (id2label or {}).items()}}
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,  # a short reader, so long sources need windows
        num_labels=num_labels,
        initializer_range=0.5,  # outputs that differ from text to text
        **(labels if id2label else {}),
    )
    model = BertForSequenceClassification(config)
    if bias is not None:
        with torch.no_grad():
            model.classifier.weight.zero_()
            model.classifier.bias.copy_(torch.tensor(bias))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("nli")
    return {
        "random": _save_model(root / "random", num_labels=3, id2label=LABELS),
        "fixed": _save_model(root / "fixed", num_labels=3, id2label=LABELS, bias=[0, 2, 0]),
        "unnamed": _save_model(root / "unnamed", num_labels=3, id2label=None),
        "one": _save_model(root / "one", num_labels=1, id2label=None, bias=[1.0]),
    }


def _passage(id_: str, text: str) -> RetrievedPassage:
    return RetrievedPassage(
        id=id_, document_id=id_, text=text, score=0.0, title=id_, start=0, end=len(text)
    )


PASSAGES = [_passage("tx", TX), _passage("ca", CA)]


def _checker(model: Path, **settings):
    """The support checker the factory builds for ``support_check = nli``."""
    chosen = load_settings(support_check="nli", support_nli_model=str(model), **settings)
    return make_support_checker(chosen, None, ExtractiveGenerator())


def _direct(model: Path, premise: str, hypothesis: str) -> list[float]:
    """What the cross-encoder itself gives the pair, as probabilities."""
    return CrossEncoder(str(model), device="cpu").predict(
        [(premise, hypothesis)], apply_softmax=True
    )[0]


def test_support_is_the_models_entailment_probability(models: dict[str, Path]) -> None:
    scorer = _checker(models["random"])(ANSWER, PASSAGES)
    claim = "Unpaid rent may be deducted."
    contradiction, entailment, _ = _direct(models["random"], CA, claim)
    assert scorer("Unpaid rent may be deducted [1][2].", CA) == pytest.approx(entailment, abs=1e-5)
    assert scorer.contradiction(claim, CA) == pytest.approx(contradiction, abs=1e-5)
    assert 0.0 < entailment < 1.0 and abs(entailment - 1 / 3) > 1e-3  # the text mattered


def test_a_fixed_model_gives_exactly_its_probabilities(models: dict[str, Path]) -> None:
    scorer = _checker(models["fixed"])(ANSWER, PASSAGES)
    total = math.exp(2) + 2
    assert scorer("California allows 21 days.", CA) == pytest.approx(math.exp(2) / total)
    assert scorer.contradiction("California allows 21 days.", CA) == pytest.approx(1 / total)


def test_the_label_mapping_decides_which_logit_is_entailment(models: dict[str, Path]) -> None:
    swapped = ["entailment", "contradiction", "neutral"]  # logit 0 read as entailment
    scorer = _checker(models["fixed"], support_nli_labels=swapped)(ANSWER, PASSAGES)
    total = math.exp(2) + 2
    assert scorer("California allows 21 days.", CA) == pytest.approx(1 / total)
    assert scorer.contradiction("California allows 21 days.", CA) == pytest.approx(
        math.exp(2) / total
    )
    # Without contradiction among the labels there is no contradiction verdict.
    two_roles = _checker(models["fixed"], support_nli_labels=["neutral", "entailment", "other"])
    assert two_roles(ANSWER, PASSAGES).contradiction("California allows 21 days.", CA) is None


def test_a_config_without_named_labels_needs_the_setting(models: dict[str, Path]) -> None:
    with pytest.raises(SupportModelError, match="support_nli_labels"):
        _checker(models["unnamed"])  # LABEL_0, LABEL_1, LABEL_2
    scorer = _checker(models["unnamed"], support_nli_labels=list(LABELS.values()))
    assert 0.0 < scorer(ANSWER, PASSAGES)("California allows 21 days.", CA) < 1.0
    with pytest.raises(SupportModelError, match="2 labels"):
        _checker(models["unnamed"], support_nli_labels=["contradiction", "entailment"])


def test_a_one_logit_model_is_read_through_a_sigmoid(models: dict[str, Path]) -> None:
    scorer = _checker(models["one"])(ANSWER, PASSAGES)
    assert scorer("California allows 21 days.", CA) == pytest.approx(1 / (1 + math.exp(-1.0)))
    assert scorer.contradiction("California allows 21 days.", CA) is None


def test_one_answer_is_scored_in_one_call_and_as_one_by_one(
    models: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    predict = CrossEncoder.predict

    def counting(self, inputs, *args, **kwargs):
        calls.append(len(inputs))
        return predict(self, inputs, *args, **kwargs)

    monkeypatch.setattr(CrossEncoder, "predict", counting)
    check = _checker(models["random"])
    scorer = check(ANSWER, PASSAGES)
    assert len(calls) == 1 and calls[0] >= 4  # four cited pairs, TX maybe in windows
    checked = verify_citations(ANSWER, PASSAGES, scorer)
    assert len(calls) == 1  # verification asked only what was primed
    alone = NLISupport(NLIModel(str(models["random"])))
    for citation in checked.citations:
        sentence = split_sentences(ANSWER)[citation.sentence].text
        passage = without_instructions(PASSAGES[citation.marker - 1].text)
        assert citation.support == pytest.approx(alone(sentence, passage), abs=1e-4)
    assert len(calls) == 1 + len(checked.citations)  # one by one: a call a pair


def test_a_long_source_is_read_in_windows_and_its_best_one_counts(
    models: dict[str, Path],
) -> None:
    model = NLIModel(str(models["random"]))
    claim = "The landlord may deduct unpaid rent."
    long_source = " ".join([TX] * 4)
    windows = model.windows(long_source, claim)
    assert len(windows) > 1
    assert model.windows(CA, claim) == [CA]  # a short one is read whole
    tokenizer = CrossEncoder(str(models["random"]), device="cpu").tokenizer
    for window, after in itertools.pairwise(windows):
        pair = tokenizer(window, claim)["input_ids"]
        assert len(pair) <= model.max_tokens or window.count(". ") == 0
        assert after.startswith(window.rsplit(". ", 1)[-1].rstrip("."))  # one sentence shared
    best = max(_direct(models["random"], window, claim)[1] for window in windows)
    assert NLISupport(model)(claim, long_source) == pytest.approx(best, abs=1e-5)


def test_a_number_not_in_the_source_is_unsupported(models: dict[str, Path]) -> None:
    scorer = _checker(models["fixed"])(ANSWER, PASSAGES)
    assert scorer("California allows 30 days [2].", CA) == 0.0
    assert scorer.contradiction("California allows 30 days [2].", CA) == pytest.approx(
        1 / (math.exp(2) + 2)
    )


def test_a_missing_model_fails_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(SupportModelError, match="cannot load the support model") as failed:
        _checker(tmp_path / "no-such-model")
    assert failed.value.exit_code == EXIT_USAGE
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{not json", "utf-8")
    with pytest.raises(SupportModelError):
        _checker(tmp_path / "broken")


def test_settings_need_a_model_and_an_entailment_label(
    monkeypatch: pytest.MonkeyPatch, models: dict[str, Path]
) -> None:
    with pytest.raises(SettingsError, match="support_check = nli needs support_nli_model"):
        load_settings(support_check="nli")
    with pytest.raises(SettingsError, match="must name 'entailment'"):
        load_settings(support_nli_labels=["contradiction", "neutral"])
    with pytest.raises(SettingsError, match="each label once"):
        load_settings(support_nli_labels=["entailment", "Entailment"])
    monkeypatch.setenv("LEGALRAG_SUPPORT_CHECK", "nli")
    monkeypatch.setenv("LEGALRAG_SUPPORT_NLI_MODEL", str(models["fixed"]))
    monkeypatch.setenv("LEGALRAG_SUPPORT_NLI_LABELS", '["contradiction", "entailment", "neutral"]')
    monkeypatch.setenv("LEGALRAG_EMBEDDING_DEVICE", "cpu")
    settings = load_settings()
    assert settings.support_nli_labels == ["contradiction", "entailment", "neutral"]
    assert settings.support_nli_device is None  # the embedder's device is used
