"""`legalrag audit export`: one matter's audit lines over a range of days, as CSV or JSONL."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

from legalrag.app.answers import Answer
from legalrag.app.audit import append_audit, audit_record
from legalrag.app.citations import Citation
from tests.conftest import run_cli


def _log(path: Path) -> Path:
    """Lines over four days for two matters (and none), one broken line among them."""
    answer = Answer(
        question="q",
        answer="A landlord must refund within 30 days [1].",
        citations=[Citation(marker=1, sentence=0, source_id="c1", valid=True)],
    )
    days = [
        ("2026-11-30T23:59:59+00:00", "Smith v. Jones", "alice", '=HYPERLINK("x")'),
        ("2026-12-01T00:00:00+00:00", "Smith v. Jones", "alice", "Deposit deadline?"),
        ("2026-12-01T12:00:00+00:00", "Acme lease", "bob", "Acme's break clause?"),
        ("2026-12-02T09:30:00+00:00", "Smith v. Jones", "carol", "And in Texas?"),
        ("2026-12-03T08:00:00+00:00", "", "alice", "No matter at all"),
        ("2026-12-04T08:00:00+00:00", "Smith v. Jones", "alice", "After the range"),
    ]
    for time, matter, user, question in days:
        record = audit_record(
            user=user,
            question=question,
            standalone_question=question,
            filters={},
            k=4,
            answer=answer,
            now=datetime.fromisoformat(time),
            matter=matter,
        )
        append_audit(path, record)
    with path.open("a", encoding="utf-8") as log:
        log.write("{not json\n")
    return path


def _export(data_dir: Path, *args: str):
    return run_cli("audit", "export", "--data-dir", str(data_dir), *args, timeout=120)


def test_every_audit_line_carries_its_user_and_matter() -> None:
    record = audit_record(
        user="alice", question="q", standalone_question="q", filters={}, k=1, answer=None
    )
    assert record["user"] == "alice" and record["matter"] == ""
    assert record["rewrite"] is None  # nothing said about how it was searched for
    edited = audit_record(
        user="alice",
        question="What about Texas?",
        standalone_question="Deposit deadline in Texas?",
        filters={},
        k=1,
        answer=None,
        rewrite="user",
    )
    assert edited["rewrite"] == "user" and edited["standalone_question"].endswith("Texas?")
    assert (
        audit_record(
            user=None,
            question="q",
            standalone_question="q",
            filters={},
            k=1,
            answer=None,
            matter="Acme",
        )["matter"]
        == "Acme"
    )


def test_audit_export_keeps_one_matter_from_one_day_to_another(tmp_path: Path) -> None:
    _log(tmp_path / "logs" / "audit.jsonl")
    result = _export(
        tmp_path,
        "--matter",
        "Smith v. Jones",
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-02",
        "--format",
        "jsonl",
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(e["time"][:10], e["user"]) for e in lines] == [
        ("2026-12-01", "alice"),
        ("2026-12-02", "carol"),
    ]
    assert {e["matter"] for e in lines} == {"Smith v. Jones"}
    assert "2 audit lines for matter 'Smith v. Jones'" in result.stderr
    assert "1 lines of" in result.stderr and "unreadable" in result.stderr

    # CSV into a file: a header, one row each, citations with their verdicts, and a
    # question that a spreadsheet would run as a formula kept as text.
    out = tmp_path / "records" / "smith.csv"
    result = _export(
        tmp_path,
        "--matter",
        "Smith v. Jones",
        "--from",
        "2026-11-30",
        "--to",
        "2026-12-03",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [row["question"] for row in rows] == [
        '\'=HYPERLINK("x")',
        "Deposit deadline?",
        "And in Texas?",
    ]
    assert rows[0]["citations"] == "[1] supported" and rows[0]["matter"] == "Smith v. Jones"
    assert rows[1]["answer"].startswith("A landlord must refund")
    assert list(rows[0])[-1] == "rewrite" and rows[0]["rewrite"] == ""  # a line without it

    # Without --to: up to today, so the line of 2026-12-04 is in.
    today = datetime.now(UTC).date().isoformat()
    if today >= "2026-12-04":
        result = _export(
            tmp_path, "--matter", "Smith v. Jones", "--from", "2026-12-02", "--format", "jsonl"
        )
        assert [json.loads(x)["question"] for x in result.stdout.splitlines()] == [
            "And in Texas?",
            "After the range",
        ]


def test_bad_dates_and_formats_are_a_clear_error_and_write_nothing(tmp_path: Path) -> None:
    _log(tmp_path / "logs" / "audit.jsonl")
    out = tmp_path / "out.csv"
    for args, message in [
        (("--from", "2026-13-01"), "--from '2026-13-01' is not a date (expected YYYY-MM-DD)"),
        (("--from", "yesterday"), "--from 'yesterday' is not a date"),
        (("--from", "2026-12-01", "--to", "01/12/2026"), "--to '01/12/2026' is not a date"),
        (("--from", "2026-12-02", "--to", "2026-12-01"), "--to 2026-12-01 is before --from"),
        (("--from", "2026-12-01", "--format", "xlsx"), "--format must be one of csv, jsonl"),
    ]:
        result = _export(tmp_path, "--matter", "Acme lease", *args, "--out", str(out))
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr and "Traceback" not in result.stderr
        assert not out.exists()
    empty = _export(tmp_path, "--matter", " ", "--from", "2026-12-01", "--out", str(out))
    assert empty.returncode == 2 and "--matter must name a matter" in empty.stderr
