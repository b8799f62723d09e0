"""`legalrag eval` end to end: real index, real answer engine, a real loopback judge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from legalrag.cli import app
from tests.conftest import make_settings, run_cli, write_jsonl
from tests.fake_judge import GENERATED_QUESTION, start_fake_judge

SAMPLE_SET = Path(__file__).resolve().parents[1] / "eval" / "datasets" / "sample.jsonl"


def _sample_questions(answerable: int, unanswerable: int) -> list[dict]:
    rows = [json.loads(line) for line in SAMPLE_SET.read_text().splitlines() if line.strip()]
    return [r for r in rows if r["answerable"]][:answerable] + [
        r for r in rows if not r["answerable"]
    ][:unanswerable]


def _invoke(args: list[str], data_dir: Path, **env: str):
    """The real CLI, in this process (no second model load, no second ragas import).

    Two sources per answer keep the verifier's work short.
    """
    env = {"LEGALRAG_DATA_DIR": str(data_dir), "LEGALRAG_RETRIEVE_K": "2", **env}
    return CliRunner().invoke(app, args, env=env)


def test_the_sample_set_has_what_the_issue_asks() -> None:
    rows = [json.loads(line) for line in SAMPLE_SET.read_text().splitlines() if line.strip()]
    answerable = [r for r in rows if r["answerable"]]
    assert len(rows) >= 40
    assert all(r["gold_source_ids"] and r["reference_answer"] for r in answerable)
    assert sum(1 for r in rows if not r["answerable"]) >= 8
    assert len({r["id"] for r in rows}) == len(rows)


def test_no_judge_rows_skips_gates_and_resume(sample_index, tmp_path: Path) -> None:
    settings, _ = sample_index
    questions = _sample_questions(answerable=3, unanswerable=2)
    dataset = write_jsonl(tmp_path / "set.jsonl", questions)
    out = tmp_path / "report"
    # Two sources per answer keep the verifier's work (and this test) short.
    env = {"LEGALRAG_DATA_DIR": str(settings.data_dir), "LEGALRAG_RETRIEVE_K": "2"}
    args = ["eval", "--dataset", str(dataset), "--out", str(out), "--k", "5"]

    first = run_cli(
        *args,
        *("--fail-under", "faithfulness=0.9", "--fail-under", "mrr=0"),
        *("--fail-under", "verifier_false_flag_rate=0.5"),
        env=env,
    )
    assert first.returncode == 4, first.stderr
    assert "faithfulness: not measured (skipped: no judge" in first.stderr
    missed = first.stderr.split("fail-under:", 1)[1]
    assert "mrr" not in missed and "verifier" not in missed  # those gates passed

    report = json.loads((out / "report.json").read_text())
    rows = {row["id"]: row for row in report["rows"]}
    assert list(rows) == [q["id"] for q in questions]
    for question in questions:
        row = rows[question["id"]]
        assert row["status"] == "ok" and row["gold_ids"] == question["gold_source_ids"]
        assert set(row["ragas"]) == {
            "faithfulness",
            "answer_relevancy",
            "context_precision",
            "context_recall",
        }
        assert all(
            o == {"skipped": row["ragas"]["faithfulness"]["skipped"]} for o in row["ragas"].values()
        )
        assert row["ragas"]["faithfulness"]["skipped"].startswith("skipped: no judge")
        assert {"rank_ms", "retrieve_ms"} <= set(row["timings"])
        if question["answerable"]:
            assert 0 <= row["retrieval"]["recall@5"] <= 1 and "mrr" in row["retrieval"]
            # The extractive answerer quotes its sources: every citation it makes is valid.
            assert row["citations"]["valid_citation_rate"] in (None, 1.0)
    figures = report["figures"]
    assert figures["faithfulness"]["skipped"].startswith("skipped: no judge")
    assert "value" not in figures["faithfulness"]
    assert figures["valid_citation_rate"]["value"] == 1.0
    assert figures["recall@5"]["n"] == 3 and figures["refusal_rate"]["n"] == 2
    assert figures["false_refusal_rate"]["n"] == 3
    assert report["generator_model"] == "extractive" and report["prompt_version"]
    assert report["corpus_chunks"] == sample_index[1].chunks
    assert report["settings"]["eval_k"] == 5
    # The planted-error set over each question's sources: caught per kind, correct
    # sentences flagged (eval_verifier, on by default).
    by_kind = figures["verifier_by_kind"]
    assert {"polarity_flipped", "wrong_source", "uncited"} <= set(by_kind)
    assert by_kind["uncited"]["caught"] == by_kind["uncited"]["planted"] > 0
    assert figures["verifier_caught_rate"]["value"] > 0.5
    assert figures["verifier_false_flag_rate"]["n"] > 0
    markdown = (out / "report.md").read_text()
    assert "| verifier caught: polarity_flipped |" in markdown
    assert "| faithfulness | skipped: no judge" in markdown
    assert "weakest questions" in markdown and questions[0]["question"] in markdown

    again = run_cli(*args, "--resume", "--fail-under", "mrr=0", env=env)
    assert again.returncode == 0, again.stderr
    resumed = json.loads((out / "report.json").read_text())["rows"]
    assert all(row.get("resumed") for row in resumed) and len(resumed) == len(questions)
    assert len((out / "rows.jsonl").read_text().splitlines()) == len(questions)  # none re-run


def test_bad_dataset_and_gate_exit_2_and_write_nothing(sample_index, tmp_path: Path) -> None:
    settings, _ = sample_index
    broken = write_jsonl(tmp_path / "broken.jsonl", ['{"id": "a", "question": "Q?"}', "{"])
    out = tmp_path / "never"
    bad_set = _invoke(["eval", "--dataset", str(broken), "--out", str(out)], settings.data_dir)
    assert bad_set.exit_code == 2 and "broken.jsonl:2: invalid JSON" in bad_set.output
    good = write_jsonl(tmp_path / "good.jsonl", [{"id": "a", "question": "Q?"}])
    bad_gate = _invoke(
        ["eval", "--dataset", str(good), "--out", str(out), "--fail-under", "speed=3"],
        settings.data_dir,
    )
    assert bad_gate.exit_code == 2 and "expected METRIC=VALUE" in bad_gate.output
    assert not out.exists()


@pytest.mark.parametrize("spec", ["faithfulness", "faithfulness=high", "speed=3"])
def test_a_gate_that_cannot_be_read_is_a_usage_error_not_a_missed_figure(spec: str) -> None:
    from legalrag.errors import EXIT_USAGE, GateError, GateSpecError, UsageError
    from legalrag.eval.report import parse_gates

    with pytest.raises(GateSpecError) as caught:
        parse_gates(["recall@10=0.5", spec])
    assert isinstance(caught.value, UsageError) and not isinstance(caught.value, GateError)
    assert caught.value.exit_code == EXIT_USAGE and repr(spec) in str(caught.value)


def test_ragas_through_a_loopback_judge_with_a_malformed_reply(
    sample_index, embedder, tmp_path: Path
) -> None:
    settings, _ = sample_index
    questions = _sample_questions(answerable=2, unanswerable=0)
    dataset = write_jsonl(tmp_path / "set.jsonl", questions)
    out = tmp_path / "report"
    judge, server = start_fake_judge()
    # Every prompt that carries the second question gets prose instead of JSON.
    judge.malformed_when = questions[1]["question"]
    args = ["eval", "--dataset", str(dataset), "--out", str(out), "--judge-url", judge.url]
    try:
        first = _invoke([*args, "--fail-under", "faithfulness=0.6"], settings.data_dir)
        assert first.exit_code == 0, first.output
        rows = json.loads((out / "report.json").read_text())["rows"]
        good, bad = rows
        # The fake judge's verdicts: statements 1, 1, 0 -> 2/3; every context useful
        # -> average precision 1.0; reference statements attributed 1, 0 -> 0.5.
        assert good["status"] == "ok"
        assert good["ragas"]["faithfulness"]["value"] == 0.6667
        assert good["ragas"]["context_precision"]["value"] == 1.0
        assert good["ragas"]["context_recall"]["value"] == 0.5
        # Answer relevancy: cosine of the question and the judge's generated question,
        # embedded by our embedder (the session's model), not one of ragas' own.
        q = embedder.embed_query(questions[0]["question"])
        g = embedder.embed_query(GENERATED_QUESTION)
        cosine = sum(a * b for a, b in zip(q, g, strict=True))
        assert good["ragas"]["answer_relevancy"]["value"] == pytest.approx(cosine, abs=1e-3)
        # The malformed replies are that question's errors; the run went on.
        assert bad["status"] == "error"
        for metric in ("faithfulness", "context_precision", "context_recall"):
            assert bad["ragas"][metric]["error"].startswith("malformed judge reply")
            assert metric in bad["errors"]
        assert "value" in bad["ragas"]["answer_relevancy"]  # its prompt has no question
        figures = json.loads((out / "report.json").read_text())["figures"]
        assert figures["faithfulness"] == {"value": 0.6667, "n": 1, "errors": 1}
        assert json.loads((out / "report.json").read_text())["judge_model"] == "fake-judge"

        # --resume asks only the failed question again; the judge now answers.
        judge.malformed_when = None
        judge.requests.clear()
        again = _invoke([*args, "--resume"], settings.data_dir)
        assert again.exit_code == 0, again.output
        prompts = judge.prompts()
        assert any(questions[1]["question"] in p for p in prompts)
        assert not any(questions[0]["question"] in p for p in prompts)
        report = json.loads((out / "report.json").read_text())
        assert [row["status"] for row in report["rows"]] == ["ok", "ok"]
        assert report["rows"][0]["resumed"] and not report["rows"][1].get("resumed")
        assert report["figures"]["faithfulness"] == {"value": 0.6667, "n": 2, "errors": 0}

        unknown = _invoke([*args, "--judge-model", "gpt-nonesuch"], settings.data_dir)
        assert unknown.exit_code == 3 and "does not serve 'gpt-nonesuch'" in unknown.output
    finally:
        server.shutdown()
        server.server_close()  # nothing listens there any more: connections are refused
    down = _invoke(args, settings.data_dir, LEGALRAG_JUDGE_RETRIES="0")
    assert down.exit_code == 3 and "did not list its models" in down.output


# Three documents of exactly 400 characters each (asserted below), one chunk each.
NON_COMPETE = (
    "Non-compete agreements after employment ends. An employer may ask a departing worker to sign "
    "a covenant not to compete. Courts enforce such a covenant only when it protects a legitimate "
    "business interest, such as trade secrets or customer goodwill. The restriction must be "
    "reasonable in duration and in geographic scope. California refuses to enforce most "
    "non-compete clauses at all. Get advice soon."
)
TEXAS_DEPOSIT = (
    "Texas security deposit refunds. A Texas landlord must refund a tenant's security deposit "
    "within thirty days after the tenant surrenders the premises. The duty to refund starts once "
    "the tenant gives a written forwarding address. A landlord who keeps the deposit in bad faith "
    "owes one hundred dollars, three times the amount wrongfully withheld, and the tenant's "
    "reasonable attorney fees. Keep receipt."
)
CALIFORNIA_DEPOSIT = (
    "California security deposit refunds. A California landlord has twenty-one days after the "
    "tenant moves out to return the deposit or send an itemized statement of deductions. Receipts "
    "are required for repairs costing more than one hundred twenty-five dollars. A deposit kept in "
    "bad faith can cost the landlord a penalty of up to twice the amount of the deposit, in "
    "addition to the deposit. Act quickly."
)


def test_legalbench_rag_span_scores_on_a_hand_made_corpus(tmp_path: Path) -> None:
    from legalrag.ingest.run import ingest

    corpus = tmp_path / "corpus" / "docs"
    corpus.mkdir(parents=True)
    for name, text in (
        ("noncompete.txt", NON_COMPETE),
        ("tx-deposit.txt", TEXAS_DEPOSIT),
        ("ca-deposit.txt", CALIFORNIA_DEPOSIT),
    ):
        assert len(text) == 400
        (corpus / name).write_text(text, encoding="utf-8")
    data_dir = tmp_path / "data"
    ingest(make_settings(data_dir), path=tmp_path / "corpus", quiet=True)
    tests = {
        "tests": [
            {  # gold: noncompete[100, 200) and [300, 350): 150 characters
                "id": "nc",
                "query": "Are non-compete agreements enforceable after employment ends?",
                "snippets": [
                    {"file_path": "docs/noncompete.txt", "span": [100, 200], "answer": ""},
                    {"file_path": "docs/noncompete.txt", "span": [300, 350], "answer": ""},
                ],
            },
            {  # gold: tx-deposit[0, 100) and ca-deposit[200, 300): 200 characters
                "id": "dep",
                "query": "How many days does a Texas landlord have to refund a security deposit?",
                "snippets": [
                    {"file_path": "docs/tx-deposit.txt", "span": [0, 100], "answer": ""},
                    {"file_path": "docs/ca-deposit.txt", "span": [200, 300], "answer": ""},
                ],
            },
        ]
    }
    dataset = tmp_path / "tests.json"
    dataset.write_text(json.dumps(tests))
    out = tmp_path / "report"
    result = _invoke(
        ["eval", "--dataset", str(dataset), "--out", str(out), "--no-answers", "--k", "2"],
        data_dir,
        LEGALRAG_EVAL_SPAN_K="[1, 2, 4]",
        LEGALRAG_EVAL_BUDGET_CHARS="[100, 800]",
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["format"] == "legalbench-rag"
    nc, dep = report["rows"]
    assert nc["retrieval"]["ranked_ids"][0] == "docs/noncompete.txt"
    assert dep["retrieval"]["ranked_ids"] == ["docs/tx-deposit.txt", "docs/ca-deposit.txt"]
    # By hand, every document one chunk of 400 characters:
    # nc  k=1: noncompete, 150 of 400 gold -> P 0.375,  R 150/150 = 1
    #     k=2: 800 characters, 150 gold    -> P 0.1875, R 1
    #     k=4: all 3 chunks, 1200          -> P 0.125,  R 1
    # dep k=1: tx-deposit, 100 of 400      -> P 0.25,   R 100/200 = 0.5
    #     k=2: + ca-deposit, 200 of 800    -> P 0.25,   R 1
    #     k=4: 200 of 1200                 -> P 0.1667, R 1
    expected_nc = {1: (0.375, 1.0), 2: (0.1875, 1.0), 4: (0.125, 1.0)}
    expected_dep = {1: (0.25, 0.5), 2: (0.25, 1.0), 4: (0.1667, 1.0)}
    for row, expected in ((nc, expected_nc), (dep, expected_dep)):
        for k, (precision, recall) in expected.items():
            assert row["retrieval"][f"span_precision@{k}"] == pytest.approx(precision, abs=1e-4)
            assert row["retrieval"][f"span_recall@{k}"] == pytest.approx(recall, abs=1e-4)
    # Means over the two queries: P@1 (0.375 + 0.25) / 2 = 0.3125, R@1 (1 + 0.5) / 2 = 0.75,
    # P@2 (0.1875 + 0.25) / 2 = 0.21875, P@4 (0.125 + 0.16667) / 2 = 0.14583.
    figures = report["figures"]
    assert figures["span_precision@1"]["value"] == pytest.approx(0.3125, abs=1e-4)
    assert figures["span_recall@1"]["value"] == pytest.approx(0.75, abs=1e-4)
    assert figures["span_precision@2"]["value"] == pytest.approx(0.21875, abs=1e-4)
    assert figures["span_precision@4"]["value"] == pytest.approx(0.14583, abs=1e-4)
    # Document level at k=2: nc has 1 gold document in 2 places, dep 2 in 2.
    assert figures["precision@2"]["value"] == pytest.approx(0.75)
    # Budget recall, what `retrieve` hands over in rank order: nc's first 100 characters
    # (noncompete[0, 100)) hold none of its gold, 800 hold all of it; dep's first 100
    # are tx-deposit's gold half, 800 add ca-deposit's.
    assert (nc["retrieval"]["budget_recall@100"], nc["retrieval"]["budget_recall@800"]) == (0, 1)
    assert (dep["retrieval"]["budget_recall@100"], dep["retrieval"]["budget_recall@800"]) == (
        0.5,
        1,
    )
    assert figures["budget_recall@100"]["value"] == pytest.approx(0.25)
    assert figures["faithfulness"]["skipped"].startswith("skipped: answers not generated")


def test_text_file_chunk_spans_are_offsets_into_the_file(tmp_path: Path, embedder) -> None:
    """A long .txt file's chunks carry spans such that chunk == file[start:end]."""
    from legalrag.factory import open_retriever
    from legalrag.ingest.run import ingest

    folder = tmp_path / "corpus"
    folder.mkdir()
    text = "\n\n".join(
        f"Clause {n}. The Receiving Party shall keep the Confidential Information of clause {n} "
        f"secret for {n} years, and shall not reverse engineer any sample delivered under it."
        for n in range(1, 40)
    )
    (folder / "nda.txt").write_text(text, encoding="utf-8")
    settings = make_settings(tmp_path / "data")
    ingest(settings, path=folder, quiet=True)
    ranking = open_retriever(settings, embedder).rank_chunks(
        "reverse engineer a sample", depth=100, gate=False
    )
    assert len(ranking.passages) > 3  # several chunks of one file
    for passage in ranking.passages:
        assert passage.document_id == "nda.txt"
        assert text[passage.start : passage.end] == passage.text
