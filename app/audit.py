"""The chat's audit log: one JSON line per answered question.

A firm must be able to say later who asked what, which sources the answer rested
on and what the citation checks found. The line holds what was shown and how it
was made (model, prompt version, timings); never a secret from the settings.
When a line cannot be written, :class:`AuditLog` says why, and the chat withholds
the answer (``LEGALRAG_AUDIT_REQUIRED``, the default) or marks it as not audited.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import threading
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from legalrag.app.answers import Answer
from legalrag.app.citations import SUPPORT_THRESHOLD, Citation

log = logging.getLogger(__name__)

# Each line is one write() with O_APPEND, which keeps lines from other processes
# whole; the lock also keeps this process's threads from racing on the fsync.
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
    matter: str | None = None,
    matters: list[str] | None = None,
    rewrite: str | None = None,
) -> dict[str, Any]:
    """The audit line for one question (``answer`` None on error).

    ``user`` is who asked (None without a login) and ``matter`` the matter the question
    was asked for ("" when none): every line has both, so a firm's records can be
    exported per matter (:mod:`legalrag.app.audit_export`). ``matters``: what was
    searched, as :func:`searched_matters` names it (None: the whole index, no wall).
    ``rewrite``: how ``standalone_question`` was found (the rewrite's method: none,
    offline, llm, offline-fallback, or ``user`` when the user edited the search text);
    None when nothing was searched. A key added late: older lines have none.
    """
    return {
        "time": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "user": user,
        "matter": matter or "",
        "matters": ["*"] if matters is None else matters,
        "question": question,
        "standalone_question": standalone_question,
        "rewrite": rewrite,
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
                "reason": citation.reason,
                "support": citation.support,
                "quote_ok": citation.quote_ok,
            }
            for citation in (answer.citations if answer else [])
        ],
        **_findings(answer),
        "timings": {**(answer.timings if answer else {}), **(timings or {})},
    }


def searched_matters(readable: list[str]) -> list[str] | None:
    """The matters a search covered, for the audit line: ``public`` for the public
    corpus, then each matter by name; None when nothing was walled off (written ``*``).
    ``readable`` is :meth:`Filters.readable_matters`."""
    if not readable:
        return None
    return [matter or "public" for matter in readable]


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
    """invalid (no such source), or the claim checks' verdict: supported, contradicted
    (the source says otherwise) or not_found (the source does not say it).

    A citation made without the checks (``verdict`` None) is judged as before them:
    a quote missing from its source or a support score under the threshold is
    not_found.
    """
    if not citation.valid:
        return "invalid"
    if citation.verdict is not None:
        return citation.verdict
    if citation.quote_ok is False:
        return "not_found"
    if citation.support is not None and citation.support < SUPPORT_THRESHOLD:
        return "not_found"
    return "supported"


def audit_line(record: dict[str, Any]) -> bytes:
    """One record as a whole JSON line in UTF-8, whatever text it holds.

    Text is kept readable (not ``\\u`` escaped), except what UTF-8 cannot encode: a
    lone surrogate (``"\\ud83d"`` from a browser or a JSON file) becomes JSON's own
    escape for it, so the line is valid JSON that reads back to the same string.
    Values JSON has no type for (a date, a path) are written as their text.
    """
    text = json.dumps(record, ensure_ascii=False, default=str) + "\n"
    return text.encode("utf-8", errors="backslashreplace")


def append_audit(path: Path, record: dict[str, Any]) -> None:
    """Append one line to the audit log (folders made as needed), flushed to disk.

    One ``write`` of the whole line to a file opened with ``O_APPEND``: lines from
    other threads and processes never interleave with it. ``fsync`` before returning,
    so a full disk is an error here (not a lost line later) and a line that was
    reported written survives a crash. Raises :class:`OSError` when it cannot.
    """
    line = audit_line(record)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _write_lock:
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            written = os.write(descriptor, line)
            if written != len(line):
                raise OSError(errno.ENOSPC, f"only {written} of {len(line)} bytes written")
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def audit_problem(path: Path) -> str | None:
    """Why a line cannot be appended to ``path`` now (None: it can).

    Opens the log for appending (making its folder) and writes nothing: a read-only
    disk, a missing permission or a folder in the way shows here, before an answer
    is given. A full disk shows only when a line is written (:func:`append_audit`).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    except OSError as exc:
        return describe_failure(exc)
    os.close(descriptor)
    return None


def describe_failure(exc: OSError) -> str:
    """An audit write's failure in a few words, for the page and /healthz (no path)."""
    return exc.strerror or str(exc) or type(exc).__name__


class AuditLog:
    """The chat's audit log and what its last write did, shared by one process's turns.

    ``enabled``: lines are written at all (``LEGALRAG_AUDIT``); ``required``: an answer
    whose line cannot be written is withheld (``LEGALRAG_AUDIT_REQUIRED``).
    """

    def __init__(self, path: Path, *, enabled: bool, required: bool) -> None:
        self.path = path
        self.enabled = enabled
        self.required = enabled and required
        self.last_failure: str | None = None
        """Why the latest write failed; None once a write succeeds again."""

    def write(self, record: dict[str, Any]) -> str | None:
        """Append ``record``; None when written, else why not (logged with the path)."""
        try:
            append_audit(self.path, record)
        except OSError as exc:
            self.last_failure = describe_failure(exc)
            log.error("could not write the audit log %s: %s", self.path, exc)
            return self.last_failure
        self.last_failure = None
        return None

    def problem(self) -> str | None:
        """Why a line cannot be written now: the log cannot be opened for appending, or
        the latest write failed and a test write beside the log still fails."""
        if not self.enabled:
            return None
        reason = audit_problem(self.path)
        if reason is None and self.last_failure is not None:
            reason = self._test_write()
        if reason is not None:
            log.warning("the audit log %s cannot be written: %s", self.path, reason)
        return reason

    def _test_write(self) -> str | None:
        """After a failed write (a full disk): can one flushed byte be written now?"""
        probe = self.path.with_name(self.path.name + ".probe")
        try:
            descriptor = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
            try:
                os.write(descriptor, b"\n")
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
                probe.unlink(missing_ok=True)
        except OSError as exc:
            return describe_failure(exc)
        self.last_failure = None
        return None


def tail_audit(path: Path, count: int, *, user: str | None = None) -> list[dict[str, Any]]:
    """The last ``count`` entries, oldest first; a line that is not JSON is reported as such.
    ``user``: only that user's entries (another's questions may name their matters)."""
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", errors="replace") as log:
        wanted = (line for line in log if line.strip() and _by(line, user))
        lines = deque(wanted, maxlen=count)
    entries: list[dict[str, Any]] = []
    for line in lines:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            entry = {"unreadable_line": line.rstrip("\n")[:200]}
        entries.append(entry if isinstance(entry, dict) else {"unreadable_line": line[:200]})
    return entries


def _by(line: str, user: str | None) -> bool:
    """True when the line is ``user``'s (any line when None; never one that is not JSON)."""
    if user is None:
        return True
    try:
        entry = json.loads(line)
    except json.JSONDecodeError:
        return False
    return isinstance(entry, dict) and entry.get("user") == user
