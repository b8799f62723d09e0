"""The chat's audit log: one JSON line per answered question.

A firm must be able to say later who asked what, which sources the answer rested
on and what the citation checks found. The line holds what was shown and how it
was made (model, prompt version, timings); never a secret from the settings.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from legalrag.app.answers import Answer
from legalrag.app.citations import SUPPORT_THRESHOLD, Citation

# Appends from the threads of one process stay whole lines; other processes append
# their own short lines with O_APPEND, which Linux keeps whole too.
_write_lock = threading.Lock()


def audit_record(
    *,
    user: str | None,
    question: str,
    standalone_question: str,
    filters: dict[str, Any],
    k: int | None,
    answer: Answer | None,
    error: str | None = None,
    timings: dict[str, float] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The audit line for one question (``answer`` None on error)."""
    return {
        "time": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "user": user,
        "question": question,
        "standalone_question": standalone_question,
        "filters": {name: value for name, value in filters.items() if value},
        "k": k,
        "refused": bool(answer and answer.refused),
        "error": error,
        "source_ids": [source.id for source in answer.sources] if answer else [],
        "source_urls": [source.url for source in answer.sources] if answer else [],
        "citations": [
            {
                "marker": citation.marker,
                "sentence": citation.sentence,
                "source_id": citation.source_id,
                "verdict": verdict(citation),
                "support": citation.support,
                "quote_ok": citation.quote_ok,
            }
            for citation in (answer.citations if answer else [])
        ],
        **_findings(answer),
        "timings": {**(answer.timings if answer else {}), **(timings or {})},
    }


def _findings(answer: Answer | None) -> dict[str, Any]:
    if answer is None:
        answer = Answer(question="", answer="")
    return {
        "invalid_markers": answer.invalid_markers,
        "unsupported_sentences": answer.unsupported_sentences,
        "misgrounded_sentences": answer.misgrounded_sentences,
        "quotes_not_found": answer.quotes_not_found,
        "answer": answer.answer,
        "truncated": answer.truncated,
        "model": answer.model,
        "prompt_version": answer.prompt_version,
    }


def verdict(citation: Citation) -> str:
    """invalid (no such source), quote-not-found, unsupported-by-source, or supported."""
    if not citation.valid:
        return "invalid"
    if citation.quote_ok is False:
        return "quote-not-found"
    if citation.support is not None and citation.support < SUPPORT_THRESHOLD:
        return "unsupported-by-source"
    return "supported"


def append_audit(path: Path, record: dict[str, Any]) -> None:
    """Append one line to the audit log (folders made as needed)."""
    line = json.dumps(record, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with _write_lock, path.open("a", encoding="utf-8") as log:
        log.write(line)


def tail_audit(path: Path, count: int) -> list[dict[str, Any]]:
    """The last ``count`` entries, oldest first; a line that is not JSON is reported as such."""
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", errors="replace") as log:
        lines = deque((line for line in log if line.strip()), maxlen=count)
    entries: list[dict[str, Any]] = []
    for line in lines:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            entry = {"unreadable_line": line.rstrip("\n")[:200]}
        entries.append(entry if isinstance(entry, dict) else {"unreadable_line": line[:200]})
    return entries
