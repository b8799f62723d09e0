"""Retrieval and span metrics, question-set formats, gates: figures worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from legalrag.cli import app
from legalrag.errors import GateSpecError
from legalrag.eval.corpus import contractnli_as_legalbench_rag, obliqa_records
from legalrag.eval.question_sets import DatasetError, GoldSpan, load_question_set
from legalrag.eval.report import Gate, parse_gates, summarise
from legalrag.eval.retrieval_metrics import (
    budget_document_recall,
    budget_recall,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    reciprocal_rank,
    span_precision_recall,
    spans_overlap,
)
from tests.conftest import write_jsonl

# ../shared/data beside the checkout (or beside the folder of worktrees); absent in CI.
_REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = next(
    (
        p
        for p in (_REPO.parent / "shared" / "data", _REPO.parent.parent / "shared" / "data")
        if p.is_dir()
    ),
    _REPO.parent / "shared" / "data",
)


def test_document_metrics_by_hand() -> None:
    ranked = ["x", "g1", "y", "g2", "z"]
    gold = {"g1", "g2", "g3"}
    # Top 2 holds g1 of the three gold documents: recall 1/3, precision 1/2.
    assert recall_at_k(ranked, gold, 2) == pytest.approx(1 / 3)
    assert precision_at_k(ranked, gold, 2) == pytest.approx(0.5)
    # Top 5 holds g1 and g2: recall 2/3, precision 2/5.
    assert recall_at_k(ranked, gold, 5) == pytest.approx(2 / 3)
    assert precision_at_k(ranked, gold, 5) == pytest.approx(0.4)
    # The first gold document is at rank 2.
    assert reciprocal_rank(ranked, gold) == 0.5
    assert reciprocal_rank(["x", "y"], gold) == 0.0
    # DCG@5 = 1/log2(3) + 1/log2(5) = 0.63093 + 0.43068 = 1.06161;
    # ideal (3 gold, k=5) = 1 + 0.63093 + 0.5 = 2.13093; nDCG = 0.49819.
    assert ndcg_at_k(ranked, gold, 5) == pytest.approx(0.49819, abs=1e-5)


def test_span_precision_recall_by_hand() -> None:
    gold = [("a.txt", 100, 200), ("b.txt", 0, 50)]  # 150 gold characters
    # One retrieved span a[50, 150): 50 of its 100 characters are gold.
    assert span_precision_recall([("a.txt", 50, 150)], gold) == pytest.approx((0.5, 50 / 150))
    # Overlapping chunks a[50,150) and a[120,220) cover a[50,220) = 170 characters once,
    # of which a[100,200) = 100 are gold: precision 100/170, recall 100/150.
    assert span_precision_recall([("a.txt", 50, 150), ("a.txt", 120, 220)], gold) == pytest.approx(
        (100 / 170, 100 / 150)
    )
    # The same offsets in another document are no hit.
    assert span_precision_recall([("c.txt", 100, 200)], gold) == (0.0, 0.0)
    assert span_precision_recall([], gold) == (0.0, 0.0)
    assert spans_overlap(("a.txt", 199, 300), gold)
    assert not spans_overlap(("a.txt", 200, 300), gold)  # end is exclusive


def test_budget_recall_counts_the_first_characters_in_rank_order() -> None:
    gold = [("a.txt", 100, 200)]
    sources = [("b.txt", 0, 300), ("a.txt", 50, 250)]  # rank order
    assert budget_recall(sources, gold, 300) == 0.0  # b fills the whole budget
    # 300 of b, then a's first 100: a[50, 150), which holds 50 gold characters.
    assert budget_recall(sources, gold, 400) == pytest.approx(0.5)
    assert budget_recall(sources, gold, 10_000) == 1.0
    assert budget_document_recall(sources, {"a.txt", "c.txt"}, 301) == 0.5
    assert budget_document_recall(sources, {"a.txt"}, 300) == 0.0


def test_gates_parse_and_check() -> None:
    gates = parse_gates(["faithfulness=0.9", "recall@10=0.75", "misgrounded_sentence_rate=0.1"])
    assert gates[1] == Gate("recall@10", 0.75)
    figures = {
        "recall@10": {"value": 0.8, "n": 5},
        "misgrounded_sentence_rate": {"value": 0.2, "n": 5},
        "faithfulness": {"skipped": "skipped: no judge"},
    }
    assert "not measured (skipped: no judge)" in gates[0].check(figures)
    assert gates[1].check(figures) is None
    assert gates[2].check(figures) == "misgrounded_sentence_rate 0.2 > 0.1"  # lower is better
    for bad in ("faithfulness", "faithfulness=high", "speed=1"):
        with pytest.raises(GateSpecError):
            parse_gates([bad])


def test_summary_means_counts_and_skips() -> None:
    def row(recall: float, refused: bool, answerable: bool) -> dict:
        return {
            "retrieval": {"recall@10": recall, "ranked_ids": []},
            "answer": {"refused": refused},
            "answerable": answerable,
            "ragas": {"faithfulness": {"skipped": "skipped: no judge"}},
            "timings": {"rank_ms": 10.0},
            "status": "ok",
        }

    figures = summarise(
        [row(1.0, False, True), row(0.5, True, True), row(0.0, True, False), row(0.0, False, False)]
    )
    assert figures["recall@10"] == {"value": 0.375, "n": 4}
    assert figures["false_refusal_rate"] == {"value": 0.5, "n": 2}
    assert figures["refusal_rate"] == {"value": 0.5, "n": 2}
    assert figures["faithfulness"]["skipped"] == "skipped: no judge"
    assert "value" not in figures["faithfulness"]


def test_question_set_formats(tmp_path: Path) -> None:
    ours = write_jsonl(
        tmp_path / "ours.jsonl",
        [{"id": "a", "question": "Q?", "gold_source_ids": ["u"], "answerable": True}],
    )
    loaded = load_question_set(ours)
    assert loaded.format == "ours" and loaded.questions[0].gold_ids == ("u",)

    lb = tmp_path / "lb.json"
    lb.write_text(
        json.dumps(
            {
                "tests": [
                    {
                        "query": "Q?",
                        "snippets": [{"file_path": "d/a.txt", "span": [3, 9], "answer": "x"}],
                    }
                ]
            }
        )
    )
    loaded = load_question_set(lb)
    assert loaded.format == "legalbench-rag"
    assert loaded.questions[0].gold_spans == (GoldSpan("d/a.txt", 3, 9),)
    assert loaded.questions[0].gold_ids == ("d/a.txt",)

    obliqa = tmp_path / "o.json"
    obliqa.write_text(
        json.dumps(
            [
                {
                    "QuestionID": "q1",
                    "Question": "Q?",
                    "Passages": [{"DocumentID": 3, "PassageID": "1.2", "Passage": "t"}],
                }
            ]
        )
    )
    loaded = load_question_set(obliqa)
    assert loaded.format == "obliqa" and loaded.questions[0].gold_ids == ("3:1.2",)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"id": "a", "question": "Q?"}', "{broken"], "ours.jsonl:2: invalid JSON"),
        (['{"id": "a"}'], "'question' must be a non-empty string"),
        (['{"id": "a", "question": "Q?"}', '{"id": "a", "question": "R?"}'], "occurs twice"),
        (['{"question": "Q?", "answerable": "yes"}'], "'answerable' must be true or false"),
    ],
)
def test_bad_question_sets_fail_whole(tmp_path: Path, lines: list[str], message: str) -> None:
    path = write_jsonl(tmp_path / "ours.jsonl", lines)
    with pytest.raises(DatasetError, match=message):
        load_question_set(path)


def test_obliqa_corpus_ids_match_the_questions_gold(tmp_path: Path) -> None:
    folder = tmp_path / "StructuredRegulatoryDocuments"
    folder.mkdir()
    passages = [
        {"ID": "1", "DocumentID": 7, "PassageID": "1.1", "Passage": "Heading"},
        {"ID": "2", "DocumentID": 7, "PassageID": "1.1.1", "Passage": ""},  # nothing to find
        {"ID": "3", "DocumentID": 7, "PassageID": "1.2", "Passage": "First text."},
        {"ID": "4", "DocumentID": 7, "PassageID": "1.2", "Passage": "Second text."},  # twice
    ]
    (folder / "7.json").write_text(json.dumps(passages))
    records = list(obliqa_records(tmp_path))
    assert records == [
        {"id": "7:1.1", "text": "Heading"},
        {"id": "7:1.2", "text": "First text.\n\nSecond text."},
    ]
    target = tmp_path / "out" / "corpus.jsonl"
    converted = CliRunner().invoke(app, ["eval", "corpus", str(tmp_path), str(target)])
    assert converted.exit_code == 0 and "2 passages" in converted.output
    assert [json.loads(line) for line in target.read_text().splitlines()] == records
    missing = CliRunner().invoke(app, ["eval", "corpus", str(tmp_path / "nope"), str(target)])
    assert missing.exit_code == 2 and "no ObliQA" in missing.output


@pytest.mark.skipif(not (SHARED_DATA / "obliqa-dev").is_dir(), reason="no ../shared/data")
def test_every_obliqa_gold_passage_is_in_the_converted_corpus() -> None:
    ids = {record["id"] for record in obliqa_records(SHARED_DATA / "obliqa-dev")}
    questions = load_question_set(SHARED_DATA / "obliqa-dev" / "ObliQA_dev.json").questions
    missing = {g for q in questions for g in q.gold_ids if g not in ids}
    assert len(questions) == 2788 and not missing


@pytest.mark.skipif(not (SHARED_DATA / "contractnli-dev").is_dir(), reason="no ../shared/data")
def test_contractnli_spans_point_at_their_text_in_the_written_corpus(tmp_path: Path) -> None:
    documents, queries = contractnli_as_legalbench_rag(SHARED_DATA / "contractnli-dev", tmp_path)
    tests = json.loads((tmp_path / "tests.json").read_text())["tests"]
    assert (documents, queries) == (61, len(tests)) and queries > 500
    for test in tests[:50]:
        for snippet in test["snippets"]:
            text = (tmp_path / "corpus" / snippet["file_path"]).read_text(encoding="utf-8")
            start, end = snippet["span"]
            assert text[start:end] == snippet["answer"]


def test_eval_settings_precedence_masking_and_checks(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from legalrag.settings import SettingsError, load_settings

    toml = tmp_path / "legalrag.toml"
    toml.write_text('judge_model = "from-toml"\neval_k = 7\n')
    monkeypatch.setenv("LEGALRAG_JUDGE_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("LEGALRAG_JUDGE_API_KEY", "sk-secret")
    monkeypatch.setenv("LEGALRAG_EVAL_K", "8")
    settings = load_settings(toml, eval_k=None, judge_model=None)
    assert (settings.judge_model, settings.eval_k) == ("from-toml", 8)  # env > toml
    assert load_settings(toml, eval_k=3).eval_k == 3  # flag > env
    shown = settings.public_dict()
    assert shown["judge_api_key"] == "********" and "sk-secret" not in json.dumps(shown)
    assert settings.eval_span_k == [1, 2, 4, 8, 16, 32, 64]
    with pytest.raises(SettingsError, match="judge_base_url"):
        load_settings(judge_base_url="127.0.0.1:8000")
    with pytest.raises(SettingsError, match="eval_span_k"):
        load_settings(eval_span_k=[0, 4])


def test_judge_and_answering_model_are_one_endpoint_shape_found_the_same_way() -> None:
    from legalrag.app.generation import OpenAICompatibleGenerator, endpoint
    from legalrag.eval import judge
    from legalrag.settings import EndpointSettings, load_settings
    from tests.fake_judge import start_fake_judge

    # One settings group for both, built from the same flat names as before.
    settings = load_settings(judge_base_url="http://127.0.0.1:9/v1", judge_model="j")
    assert isinstance(settings.judge, EndpointSettings)
    assert isinstance(settings.llm, EndpointSettings)
    assert (settings.judge.base_url, settings.judge.model) == ("http://127.0.0.1:9/v1", "j")
    assert (settings.judge.timeout_s, settings.judge.retries) == (180.0, 1)
    # "The first model the server lists" is one lookup, shared, not a copy in eval.
    assert judge.served_models is endpoint.served_models
    state, server = start_fake_judge()
    try:
        both = load_settings(judge_base_url=state.url, llm_base_url=state.url)
        ragas = judge.RagasJudge(both.judge, embedder=None)  # type: ignore[arg-type]
        assert ragas.model_name == OpenAICompatibleGenerator(both.llm).model_name == "fake-judge"
    finally:
        server.shutdown()
