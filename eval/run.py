"""Run a question set through the app and score each question: one row per question.

For each question: the fused chunk ranking (scored against gold ids and spans),
then, unless answers are off, the answer engine exactly as `legalrag ask` runs it
(retrieve, gate, generate, verify), the verifier's findings turned into rates,
the refusal checked against the question's ``answerable``, and the RAGAS judge.

Rows are appended to ``<out>/rows.jsonl`` as they finish, so a run that stops
keeps its work; ``resume`` skips the rows already finished without an error (a row
whose judge timed out is asked again).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from legalrag.eval.judge import METRICS, Judge, JudgeSample, make_judge
from legalrag.eval.question_sets import DatasetError, EvalQuestion, QuestionSet
from legalrag.eval.retrieval_metrics import (
    budget_document_recall,
    budget_recall,
    distinct,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    reciprocal_rank,
    span_precision_recall,
    spans_overlap,
)

if TYPE_CHECKING:
    from legalrag.app.answers import Answer
    from legalrag.app.engine import AnswerEngine
    from legalrag.app.retrieval import Retriever
    from legalrag.eval.adversarial_run import AdversarialContext
    from legalrag.settings import Settings

ROWS_FILE = "rows.jsonl"
RUN_FILE = "run.json"
ANSWERS_OFF = "skipped: answers not generated (eval_answers = false)"


@dataclass
class EvalContext:
    """What every question is run through."""

    settings: Settings
    ranker: Retriever
    selector: Retriever  # as `ask` and `retrieve` use it: what budget recall measures
    engine: AnswerEngine | None
    judge: Judge
    depth: int
    verifier: AdversarialContext | None = None  # eval_verifier: the planted-error set


def _ms(since: float) -> float:
    return round(1000 * (time.perf_counter() - since), 1)


def ranking_depth(settings: Settings) -> int:
    """How many chunks the ranking keeps: enough for k distinct documents and every span k."""
    return max(settings.retrieval_candidates, 4 * settings.eval_k, *settings.eval_span_k)


def open_context(settings: Settings, *, embedder: Any = None) -> EvalContext:
    """Open the index once, load the model once, and build what the questions need."""
    from legalrag.factory import make_embedder, make_engine, open_retriever

    judge: Judge = _AnswersOff()
    if settings.eval_answers:
        if settings.judge_base_url and embedder is None:
            embedder = make_embedder(settings)  # loaded once, shared with the retrievers
        # The judge first: one that is down stops the run before the index is opened.
        judge = make_judge(settings, embedder)
    depth = ranking_depth(settings)
    # The ranking is scored deeper than the sources a model gets, so each stage hands
    # the fusion at least as many candidates as the deepest cut-off.
    ranker = open_retriever(settings.model_copy(update={"retrieval_candidates": depth}), embedder)
    embedder = ranker.embedder or embedder
    selector = open_retriever(settings, embedder)
    engine = make_engine(settings, selector) if settings.eval_answers else None
    verifier = None
    if settings.eval_verifier:
        from legalrag.eval.adversarial_run import verifier_context

        verifier = verifier_context(settings, selector)
    return EvalContext(settings, ranker, selector, engine, judge, depth, verifier)


class _AnswersOff:
    model_name = ""

    def score(self, sample: JudgeSample) -> dict[str, dict[str, Any]]:
        return {metric: {"skipped": ANSWERS_OFF} for metric in METRICS}


def _retrieval(question: EvalQuestion, context: EvalContext) -> dict[str, Any]:
    settings = context.settings
    started = time.perf_counter()
    ranking = context.ranker.rank_chunks(question.question, depth=context.depth, gate=False)
    chunks = ranking.passages
    documents = distinct(p.document_id for p in chunks)
    found: dict[str, Any] = {
        "ms": _ms(started),
        "gate_would_refuse": ranking.refused,
        "ranked_ids": documents[: settings.eval_k],
    }
    if question.gold_ids:
        gold, k = set(question.gold_ids), settings.eval_k
        found[f"recall@{k}"] = round(recall_at_k(documents, gold, k), 4)
        found[f"precision@{k}"] = round(precision_at_k(documents, gold, k), 4)
        found["mrr"] = round(reciprocal_rank(documents, gold), 4)
        found[f"ndcg@{k}"] = round(ndcg_at_k(documents, gold, k), 4)
    if question.gold_spans:
        gold_spans = [(s.document_id, s.start, s.end) for s in question.gold_spans]
        spans = [(p.document_id, p.start, p.end) for p in chunks]
        for k in settings.eval_span_k:
            precision, recall = span_precision_recall(spans[:k], gold_spans)
            found[f"span_precision@{k}"] = round(precision, 4)
            found[f"span_recall@{k}"] = round(recall, 4)
    found.update(_budget(question, context))
    return found


def _budget(question: EvalQuestion, context: EvalContext) -> dict[str, float]:
    """Budget recall of the sources `retrieve` hands over, taken in rank order.

    The gate is not applied, as for the ranking: this measures selection alone.
    """
    if not (question.gold_spans or question.gold_ids):
        return {}
    selected = context.selector.retrieve(question.question, gate=False).passages
    in_rank_order = sorted(selected, key=lambda p: p.rank if p.rank is not None else 0)
    sources = [(p.document_id, p.start, p.end) for p in in_rank_order]
    found: dict[str, float] = {}
    for chars in context.settings.eval_budget_chars:
        if question.gold_spans:
            gold = [(s.document_id, s.start, s.end) for s in question.gold_spans]
            found[f"budget_recall@{chars}"] = round(budget_recall(sources, gold, chars), 4)
        else:
            value = budget_document_recall(sources, set(question.gold_ids), chars)
            found[f"budget_document_recall@{chars}"] = round(value, 4)
    return found


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def _citations(question: EvalQuestion, answer: Answer) -> dict[str, Any]:
    """The verifier's findings on one answer as rates (None where nothing to count)."""
    citations = answer.citations
    valid = [c for c in citations if c.valid]
    # Every sentence that states something either cites a source or is unsupported.
    claim_sentences = len({c.sentence for c in valid}) + len(answer.unsupported_sentences)
    quoted = [c for c in valid if c.quote_ok is not None]
    document_of = {s.id: s.document_id for s in answer.sources}
    found: dict[str, Any] = {
        "citations": len(citations),
        "valid_citation_rate": _rate(len(valid), len(citations)),
        "unsupported_sentence_rate": _rate(len(answer.unsupported_sentences), claim_sentences),
        "misgrounded_sentence_rate": _rate(len(answer.misgrounded_sentences), claim_sentences),
        "quote_match_rate": _rate(sum(1 for c in quoted if c.quote_ok), len(quoted)),
    }
    if question.gold_ids:
        gold = set(question.gold_ids)
        cited_gold = sum(1 for c in valid if document_of.get(c.source_id) in gold)
        found["cited_gold_document_rate"] = _rate(cited_gold, len(valid))
    if question.gold_spans:
        gold_spans = [(s.document_id, s.start, s.end) for s in question.gold_spans]
        overlapping = sum(
            1
            for c in valid
            if c.span is not None
            and spans_overlap((document_of.get(c.source_id, ""), *c.span), gold_spans)
        )
        found["cited_gold_span_overlap_rate"] = _rate(overlapping, len(valid))
    return found


def _planted(question: EvalQuestion, verifier: AdversarialContext) -> list[dict[str, Any]]:
    """The planted-error set over this question's sources: each sentence's kind and
    whether the verifier named it (for a correct sentence: flagged it)."""
    from legalrag.eval.adversarial_run import question_rows

    passages = verifier.retriever.retrieve(question.question).passages
    if not passages:
        return []
    rows = question_rows(question.id, passages, verifier.check, 0, verifier.prime)
    return [{"kind": r.kind, "caught": r.caught} for r in rows]


def evaluate_question(question: EvalQuestion, context: EvalContext) -> dict[str, Any]:
    """One question's row: retrieval, answer, citations, refusal, RAGAS, timings, errors."""
    row: dict[str, Any] = {
        "id": question.id,
        "question": question.question,
        "answerable": question.answerable,
        "jurisdiction": question.jurisdiction,
        "gold_ids": list(question.gold_ids),
        "errors": {},
    }
    row["retrieval"] = _retrieval(question, context)
    timings = {"rank_ms": row["retrieval"].pop("ms")}
    if context.verifier is not None:
        row["verifier"] = _planted(question, context.verifier)
    contexts: list[str] = []
    answer_text = ""
    if context.engine is not None:
        from legalrag.errors import GenerationError

        try:
            answer = context.engine.answer(question.question)
        except GenerationError as exc:  # this question fails; the run goes on
            row["errors"]["answer"] = str(exc)
        else:
            answer_text = answer.answer if answer.sources else ""
            contexts = [s.text for s in answer.sources]
            row["answer"] = {
                "text": answer.answer,
                "refused": answer.refused,
                "truncated": answer.truncated,
                "sources": [s.document_id for s in answer.sources],
                "unsupported_sentences": answer.unsupported_sentences,
                "misgrounded_sentences": answer.misgrounded_sentences,
                "quotes_not_found": answer.quotes_not_found,
                "invalid_markers": answer.invalid_markers,
            }
            row["citations"] = _citations(question, answer)
            timings.update(answer.timings)
    sample = JudgeSample(question.question, answer_text, contexts, question.reference_answer)
    started = time.perf_counter()
    row["ragas"] = context.judge.score(sample)
    if any("value" in outcome or "error" in outcome for outcome in row["ragas"].values()):
        timings["judge_ms"] = _ms(started)
    for metric, outcome in row["ragas"].items():
        if "error" in outcome:
            row["errors"][metric] = outcome["error"]
    row["timings"] = timings
    row["status"] = "error" if row["errors"] else "ok"
    return row


def run_header(question_set: QuestionSet, settings: Settings) -> dict[str, Any]:
    """What a resumed run must share with the run it resumes (--limit may grow)."""
    return {
        "dataset": str(question_set.path),
        "dataset_sha256": question_set.sha256,
        "format": question_set.format,
        "eval_k": settings.eval_k,
        "eval_span_k": settings.eval_span_k,
        "eval_budget_chars": settings.eval_budget_chars,
        "eval_answers": settings.eval_answers,
        "eval_verifier": settings.eval_verifier,
        "collection": settings.collection,
        "judge_base_url": settings.judge_base_url,
    }


def finished_rows(out_dir: Path, header: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The rows a resumed run keeps: finished without error, by a run of the same set-up."""
    run_file, rows_file = out_dir / RUN_FILE, out_dir / ROWS_FILE
    if not run_file.is_file() or not rows_file.is_file():
        return {}
    previous = json.loads(run_file.read_text(encoding="utf-8"))
    changed = [key for key in header if previous.get(key) != header[key]]
    if changed:
        raise DatasetError(
            f"--resume: {out_dir} holds a run with another {', '.join(changed)}; "
            "use another --out, or run without --resume to start again"
        )
    rows: dict[str, dict[str, Any]] = {}
    for line in rows_file.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short when the last run was killed
        rows[row["id"]] = row  # the latest row of a question wins
    return {qid: row for qid, row in rows.items() if row.get("status") == "ok"}


def run_questions(
    questions: list[EvalQuestion],
    context: EvalContext,
    out_dir: Path,
    header: dict[str, Any],
    *,
    resume: bool,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Every question's row, in the set's order; new rows appended to rows.jsonl as they end."""
    out_dir.mkdir(parents=True, exist_ok=True)
    done = finished_rows(out_dir, header) if resume else {}
    (out_dir / RUN_FILE).write_text(json.dumps(header, indent=2), encoding="utf-8")
    mode = "a" if resume else "w"
    rows: list[dict[str, Any]] = []
    with (out_dir / ROWS_FILE).open(mode, encoding="utf-8") as log:
        for number, question in enumerate(questions, start=1):
            row = done.get(question.id)
            if row is None:
                row = evaluate_question(question, context)
                log.write(json.dumps(row, ensure_ascii=False) + "\n")
                log.flush()
            else:
                row = {**row, "resumed": True}
            rows.append(row)
            if on_progress is not None:
                on_progress(number, len(questions))
    return rows


def corpus_fingerprint(retriever: Retriever) -> tuple[str, int]:
    """(fingerprint of the indexed chunk ids, chunk count): which corpus the figures are for."""
    from legalrag.app.retrieval import fingerprint

    ids = retriever.store.ids()
    return fingerprint(ids, retriever.store.revision), len(ids)


def run_meta(settings: Settings, question_set: QuestionSet, context: EvalContext) -> dict[str, Any]:
    """The set-up a report records: data set, settings, models, prompt, corpus."""
    from legalrag.app.prompting import template_version

    fingerprint, chunks = corpus_fingerprint(context.ranker)
    return {
        "dataset": str(question_set.path),
        "dataset_sha256": question_set.sha256,
        "format": question_set.format,
        "settings": settings.public_dict(),
        "generator_model": context.engine.generator.model_name if context.engine else "",
        "judge_model": context.judge.model_name,
        "embedding_model": settings.embedding_model,
        "prompt_version": template_version("answer.j2"),
        "corpus_fingerprint": fingerprint,
        "corpus_chunks": chunks,
        "ranking_depth": context.depth,
    }
