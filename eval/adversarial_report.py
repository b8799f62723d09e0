"""The adversarial set's figures, its report files and its printed table.

:func:`summarise` turns the rows of :mod:`legalrag.eval.adversarial_run` into the
figures: per planted kind, how many were planted and caught; for correct sentences,
how many were wrongly flagged. Rates are None, never 0, where nothing was counted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from legalrag.eval.adversarial import KINDS
from legalrag.eval.adversarial_run import CORRECT_KINDS, AdversarialContext, Row

if TYPE_CHECKING:
    from legalrag.settings import Settings


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def summarise(rows: Sequence[Row]) -> dict[str, Any]:
    """Per kind: planted, caught, caught rate and by which finding; correct sentences:
    n and the wrongly flagged rate; overall caught rate."""
    kinds: dict[str, Any] = {}
    for kind in KINDS:
        planted = [r for r in rows if r.kind == kind]
        by_finding: dict[str, int] = {}
        for row in planted:
            for finding in row.findings:
                by_finding[finding] = by_finding.get(finding, 0) + 1
        caught = sum(r.caught for r in planted)
        kinds[kind] = {
            "planted": len(planted),
            "caught": caught,
            "caught_rate": _rate(caught, len(planted)),
            "by_finding": by_finding,
        }
    correct = {}
    for kind in CORRECT_KINDS:
        checked = [r for r in rows if r.kind == kind]
        flagged = sum(r.caught for r in checked)
        correct[kind.removeprefix("correct_")] = {
            "n": len(checked),
            "flagged": flagged,
            "flagged_rate": _rate(flagged, len(checked)),
        }
    planted = sum(k["planted"] for k in kinds.values())
    caught = sum(k["caught"] for k in kinds.values())
    return {
        "kinds": kinds,
        "correct": correct,
        "overall": {"planted": planted, "caught": caught, "caught_rate": _rate(caught, planted)},
    }


REPORT_JSON = "adversarial.json"
ROWS_JSONL = "adversarial_rows.jsonl"


def run_meta(settings: Settings, context: AdversarialContext, **more: Any) -> dict[str, Any]:
    """The set-up a report records: models, the support check, the corpus, the date."""
    from legalrag.eval.run import corpus_fingerprint

    fingerprint, chunks = corpus_fingerprint(context.retriever)
    return {
        **more,
        "embedding_model": settings.embedding_model,
        "support_check": context.support_check,
        "retrieve_k": settings.retrieve_k,
        "corpus_fingerprint": fingerprint,
        "corpus_chunks": chunks,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_adversarial(
    out_dir: Path, summary: dict[str, Any], rows: Sequence[Row], meta: dict[str, Any]
) -> tuple[Path, Path]:
    """adversarial.json (the figures and the set-up) and the rows file, in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, rows_path = out_dir / REPORT_JSON, out_dir / ROWS_JSONL
    report = {"figures": summary, "meta": meta, "rows_file": ROWS_JSONL}
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    with rows_path.open("w", encoding="utf-8") as out:
        for row in (asdict(r) for r in rows):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return json_path, rows_path


def table_rows(summary: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(what, n, caught or flagged, %) lines for the printed table."""

    def percent(rate: float | None) -> str:
        return "-" if rate is None else f"{100 * rate:.1f}%"

    lines = [
        (kind, str(k["planted"]), str(k["caught"]), percent(k["caught_rate"]))
        for kind, k in summary["kinds"].items()
    ]
    overall = summary["overall"]
    lines.append(
        (
            "overall caught",
            str(overall["planted"]),
            str(overall["caught"]),
            percent(overall["caught_rate"]),
        )
    )
    for kind, c in summary["correct"].items():
        lines.append(
            (
                f"correct {kind} (wrongly flagged)",
                str(c["n"]),
                str(c["flagged"]),
                percent(c["flagged_rate"]),
            )
        )
    return lines
