"""A firm's records from the audit log: one matter's lines over a range of days.

``legalrag audit export`` reads the log (:mod:`legalrag.app.audit`) line by line and
keeps each line whose ``matter`` is the one asked for and whose time (UTC) falls on a
day from ``--from`` to ``--to``, both included. JSON lines are written as the log holds
them; CSV has one row per line with the fields a reviewer reads (the citations as
"[1] supported; [2] not_found"). A line that is not JSON, or has no readable time, is
counted and left out, never guessed at.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

from legalrag.errors import AuditExportError

FORMATS = ("csv", "jsonl")
CSV_COLUMNS = (
    "time",
    "user",
    "matter",
    "question",
    "standalone_question",
    "refused",
    "error",
    "model",
    "prompt_version",
    "answer",
    "citations",
    "source_ids",
    "source_urls",
    "rewrite",  # how the search text was found ("user": edited by the user); added last
)
# A spreadsheet runs a cell that starts with one of these as a formula: a question
# typed as "=HYPERLINK(...)" must stay text when a reviewer opens the export.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def parse_day(text: str, flag: str) -> date:
    """A day as ``YYYY-MM-DD``, or an error naming the flag."""
    try:
        return date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise AuditExportError(f"{flag} {text!r} is not a date (expected YYYY-MM-DD)") from None


@dataclass
class AuditSelection:
    """The lines kept for one matter and range, and how many could not be read."""

    matter: str
    start: date
    end: date
    entries: list[dict[str, Any]] = field(default_factory=list)
    unreadable: int = 0
    """Lines that are not JSON objects or whose ``time`` cannot be read."""


def _day(entry: dict[str, Any]) -> date | None:
    """The UTC day of an entry's ``time``, or None when it cannot be read."""
    try:
        moment = datetime.fromisoformat(str(entry["time"]))
    except (KeyError, ValueError):
        return None
    if moment.tzinfo is None:  # the log writes UTC with its offset; bare means UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).date()


def _entries(path: Path) -> Iterator[dict[str, Any] | None]:
    """Each line of the log as a JSON object, None for one that is not."""
    if not path.is_file():
        return
    with path.open(encoding="utf-8", errors="replace") as log:
        for line in log:
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                yield None
                continue
            yield entry if isinstance(entry, dict) else None


def select_audit(
    path: Path, *, matter: str, start: date, end: date | None = None
) -> AuditSelection:
    """The log's lines for ``matter`` (exact, spaces around it ignored) from ``start``
    to ``end`` (both included; ``end`` None: up to today, UTC)."""
    matter = matter.strip()
    if not matter:
        raise AuditExportError("--matter must name a matter")
    end = end or datetime.now(UTC).date()
    if end < start:
        raise AuditExportError(f"--to {end.isoformat()} is before --from {start.isoformat()}")
    selection = AuditSelection(matter=matter, start=start, end=end)
    for entry in _entries(path):
        day = None if entry is None else _day(entry)
        if entry is None or day is None:
            selection.unreadable += 1
            continue
        if str(entry.get("matter") or "").strip() == matter and start <= day <= end:
            selection.entries.append(entry)
    return selection


def _cell(value: Any) -> str:
    """A value as CSV text, made inert where a spreadsheet would run it."""
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, list):
        text = " ".join(str(item) for item in value)
    else:
        text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _citations(citations: Sequence[Any]) -> str:
    return "; ".join(
        f"[{c.get('marker')}] {c.get('verdict')}" for c in citations if isinstance(c, dict)
    )


def csv_row(entry: dict[str, Any]) -> list[str]:
    """One audit line as a CSV row in :data:`CSV_COLUMNS` order."""
    values = {name: entry.get(name) for name in CSV_COLUMNS}
    values["citations"] = _citations(entry.get("citations") or [])
    return [_cell(values[name]) for name in CSV_COLUMNS]


def write_export(entries: Sequence[dict[str, Any]], out: TextIO, fmt: str) -> None:
    """Write ``entries`` as ``csv`` (a header, one row each) or ``jsonl`` (as logged)."""
    if fmt not in FORMATS:
        raise AuditExportError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if fmt == "jsonl":
        for entry in entries:
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")
        return
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        writer.writerow(csv_row(entry))
