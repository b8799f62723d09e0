"""From rows to figures: the summary, report.json, report.md, and the --fail-under gates.

Every figure is a mean over the questions it applies to, with that count beside
it: a retrieval figure over the questions with gold ids, a refusal rate over the
questions marked unanswerable, a RAGAS figure over the questions the judge scored.
A metric that was not measured is reported as skipped with the reason; it never
becomes a 0 or a 1.
"""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from legalrag.errors import GateSpecError
from legalrag.eval.judge import METRICS

REPORT_JSON = "report.json"
REPORT_MD = "report.md"
WORST = 10
LATENCIES = ("rank_ms", "retrieve_ms", "generate_ms", "verify_ms", "judge_ms")
CITATION_RATES = (
    "valid_citation_rate",
    "unsupported_sentence_rate",
    "misgrounded_sentence_rate",
    "quote_match_rate",
    "cited_gold_document_rate",
    "cited_gold_span_overlap_rate",
)
_GATE = re.compile(r"^\s*([a-z_]+(?:@\d+)?)\s*=\s*([0-9]*\.?[0-9]+)\s*$")
_METRIC_NAME = re.compile(
    r"^((recall|precision|ndcg|span_precision|span_recall|budget_recall|budget_document_recall)"
    r"@\d+|mrr|refusal_rate"
    r"|false_refusal_rate|verifier_caught_rate|verifier_false_flag_rate|"
    + "|".join(CITATION_RATES + METRICS)
    + ")$"
)
# Lower is better for these; a gate on them fails when the figure is above the bound.
LOWER_IS_BETTER = frozenset(
    {
        "unsupported_sentence_rate",
        "misgrounded_sentence_rate",
        "false_refusal_rate",
        "verifier_false_flag_rate",
    }
)


@dataclass(frozen=True)
class Gate:
    """``metric=value``: the run fails when the figure misses the bound."""

    metric: str
    bound: float

    def check(self, figures: dict[str, Any]) -> str | None:
        """Why this gate failed, or None when it passed."""
        figure = figures.get(self.metric)
        if not isinstance(figure, dict) or "value" not in figure:
            reason = (figure or {}).get("skipped", "not measured on this data set")
            return f"{self.metric}: not measured ({reason})"
        value = figure["value"]
        if self.metric in LOWER_IS_BETTER:
            return None if value <= self.bound else f"{self.metric} {value} > {self.bound}"
        return None if value >= self.bound else f"{self.metric} {value} < {self.bound}"


def parse_gates(specs: list[str]) -> list[Gate]:
    """``["faithfulness=0.9", "recall@10=0.8"]`` -> gates; a bad one is a usage error."""
    gates = []
    for spec in specs:
        match = _GATE.match(spec)
        if not match or not _METRIC_NAME.match(match.group(1)):
            raise GateSpecError(
                f"--fail-under {spec!r}: expected METRIC=VALUE with a metric such as "
                "faithfulness, answer_relevancy, recall@10, mrr, span_recall@8, "
                "valid_citation_rate, refusal_rate"
            )
        gates.append(Gate(match.group(1), float(match.group(2))))
    return gates


def _figure(values: list[float]) -> dict[str, Any]:
    return {"value": round(statistics.fmean(values), 4), "n": len(values)}


def _percentiles(values: list[float]) -> dict[str, Any]:
    if len(values) < 2:
        return {"p50": values[0] if values else None, "p95": values[0] if values else None}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": round(cuts[49], 1), "p95": round(cuts[94], 1), "n": len(values)}


def _by_cut_off(name: str) -> tuple[str, int]:
    """recall@2 before recall@16: metric name, then k as a number."""
    metric, _, k = name.partition("@")
    return metric, int(k or 0)


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Every figure of the run, flat by metric name, each with its count or skip reason."""
    figures: dict[str, Any] = {}
    retrieval_keys = sorted(
        {key for row in rows for key in row["retrieval"] if "@" in key or key == "mrr"},
        key=_by_cut_off,
    )
    for key in retrieval_keys:
        values = [row["retrieval"][key] for row in rows if key in row["retrieval"]]
        figures[key] = _figure(values)
    for key in CITATION_RATES:
        values = [
            row["citations"][key] for row in rows if row.get("citations", {}).get(key) is not None
        ]
        if values:
            figures[key] = _figure(values)
    answered = [row for row in rows if "answer" in row]
    unanswerable = [row["answer"]["refused"] for row in answered if row["answerable"] is False]
    answerable = [row["answer"]["refused"] for row in answered if row["answerable"] is True]
    if unanswerable:
        figures["refusal_rate"] = _figure([float(r) for r in unanswerable])
    if answerable:
        figures["false_refusal_rate"] = _figure([float(r) for r in answerable])
    for metric in METRICS:
        outcomes = [row["ragas"].get(metric, {}) for row in rows]
        values = [o["value"] for o in outcomes if "value" in o]
        errors = sum(1 for o in outcomes if "error" in o)
        if values:
            figures[metric] = {**_figure(values), "errors": errors}
        else:
            reasons = sorted({o["skipped"] for o in outcomes if "skipped" in o})
            figures[metric] = {
                "skipped": "; ".join(reasons) or f"every question failed ({errors} errors)",
                "errors": errors,
            }
    figures.update(_verifier(rows))
    figures["latency_ms"] = {
        key: _percentiles([row["timings"][key] for row in rows if key in row.get("timings", {})])
        for key in LATENCIES
    }
    figures["questions"] = len(rows)
    figures["questions_with_errors"] = sum(1 for row in rows if row.get("status") != "ok")
    return figures


def _verifier(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The planted-error set's figures (eval_verifier): the share of planted errors the
    verifier names, overall and per kind, and the share of correct sentences it flags."""
    checked = [entry for row in rows for entry in row.get("verifier", [])]
    if not checked:
        return {}
    planted = [e for e in checked if not e["kind"].startswith("correct_")]
    correct = [e for e in checked if e["kind"].startswith("correct_")]
    by_kind: dict[str, dict[str, Any]] = {}
    for entry in planted:
        kind = by_kind.setdefault(entry["kind"], {"planted": 0, "caught": 0})
        kind["planted"] += 1
        kind["caught"] += int(entry["caught"])
    for kind in by_kind.values():
        kind["value"] = round(kind["caught"] / kind["planted"], 4)
    figures: dict[str, Any] = {"verifier_by_kind": by_kind}
    if planted:
        figures["verifier_caught_rate"] = _figure([float(e["caught"]) for e in planted])
    if correct:
        figures["verifier_false_flag_rate"] = _figure([float(e["caught"]) for e in correct])
    return figures


def _quality(row: dict[str, Any]) -> float:
    """One number to sort rows by, worst first: errors, then the weakest scores."""
    if row.get("status") != "ok":
        return -1.0
    scores = [o["value"] for o in row["ragas"].values() if "value" in o]
    scores += [v for k, v in row["retrieval"].items() if k.startswith(("recall@", "span_recall@"))]
    citations = row.get("citations", {})
    for key in ("unsupported_sentence_rate", "misgrounded_sentence_rate"):
        if citations.get(key) is not None:
            scores.append(1.0 - citations[key])
    if "answer" in row and row["answerable"] is not None:
        scores.append(float(row["answer"]["refused"] == (row["answerable"] is False)))
    return statistics.fmean(scores) if scores else 1.0


def worst_rows(rows: list[dict[str, Any]], count: int = WORST) -> list[dict[str, Any]]:
    """The ``count`` weakest rows, worst first (ties kept in the set's order)."""
    return sorted(rows, key=_quality)[:count]


@dataclass
class Report:
    """The whole report, as written to report.json."""

    data: dict[str, Any]

    @property
    def figures(self) -> dict[str, Any]:
        """The summary figures by metric name."""
        return self.data["figures"]


def build_report(rows: list[dict[str, Any]], meta: dict[str, Any]) -> Report:
    """Figures and rows, with the run's set-up (settings, models, prompt, corpus, date)."""
    return Report(
        {
            **meta,
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "figures": summarise(rows),
            "rows": rows,
        }
    )


def show_figure(figure: Any) -> str:
    """A figure as one short text: its value and count, or why it was skipped."""
    if not isinstance(figure, dict):
        return str(figure)
    if "value" in figure:
        errors = f", {figure['errors']} errors" if figure.get("errors") else ""
        return f"{figure['value']:.3f} (n={figure['n']}{errors})"
    return str(figure.get("skipped", ""))


def render_markdown(report: Report) -> str:
    """report.md: the set-up, a summary table and the worst questions with their verdicts."""
    data, figures = report.data, report.figures
    lines = [
        f"# legalrag eval: {Path(data['dataset']).name}",
        "",
        f"- date: {data['date']}",
        f"- format: {data['format']}, questions: {figures['questions']}"
        f" ({figures['questions_with_errors']} with errors)",
        f"- generator: {data['generator_model'] or 'none'}, prompt {data['prompt_version']}",
        f"- judge: {data['judge_model'] or 'none'}",
        f"- embedding model: {data['embedding_model']}; corpus {data['corpus_fingerprint']}"
        f" ({data['corpus_chunks']:,} chunks)",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    for name, figure in figures.items():
        if name in ("latency_ms", "questions", "questions_with_errors", "verifier_by_kind"):
            continue
        lines.append(f"| {name} | {show_figure(figure)} |")
    for kind, figure in figures.get("verifier_by_kind", {}).items():
        lines.append(
            f"| verifier caught: {kind} | {figure['value']:.3f} "
            f"({figure['caught']} of {figure['planted']}) |"
        )
    for stage, cut in figures["latency_ms"].items():
        if cut.get("p50") is not None:
            lines.append(f"| latency {stage} p50 / p95 | {cut['p50']} / {cut['p95']} |")
    lines += ["", f"## The {WORST} weakest questions", ""]
    for row in worst_rows(data["rows"]):
        lines.append(f"### {row['id']}: {row['question']}")
        lines.append("")
        answer = row.get("answer")
        if answer:
            lines.append("> " + answer["text"].replace("\n", "\n> "))
            lines.append("")
            verdicts = [f"refused: {answer['refused']}", f"answerable: {row['answerable']}"]
            verdicts += [f"{k}: {v}" for k, v in row.get("citations", {}).items()]
            lines.append("- " + "; ".join(verdicts))
            for sentence in answer["unsupported_sentences"]:
                lines.append(f"- unsupported: {sentence}")
            for sentence in answer["misgrounded_sentences"]:
                lines.append(f"- misgrounded: {sentence}")
        retrieval = {k: v for k, v in row["retrieval"].items() if k != "ranked_ids"}
        lines.append("- retrieval: " + ", ".join(f"{k} {v}" for k, v in retrieval.items()))
        lines.append(
            "- ragas: "
            + ", ".join(
                f"{k} {o.get('value', o.get('error', o.get('skipped')))}"
                for k, o in row["ragas"].items()
            )
        )
        for stage, message in row.get("errors", {}).items():
            lines.append(f"- error ({stage}): {message}")
        lines.append("")
    return "\n".join(lines)


def write_report(report: Report, out_dir: Path) -> tuple[Path, Path]:
    """Write report.json and report.md into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / REPORT_JSON, out_dir / REPORT_MD
    json_path.write_text(json.dumps(report.data, indent=2, ensure_ascii=False), encoding="utf-8")
    md_path.write_text(render_markdown(report), encoding="utf-8")
    return json_path, md_path
