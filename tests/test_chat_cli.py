"""The chat's commands: bad login settings refused up front, users hashed, audit read back."""

from __future__ import annotations

import json
from pathlib import Path

from legalrag.app.answers import Answer, AnswerSource
from legalrag.app.audit import append_audit, audit_record, tail_audit
from legalrag.app.chat.auth import load_users
from legalrag.app.citations import Citation
from tests.conftest import run_cli


def test_chat_refuses_bad_login_settings_before_loading_anything(tmp_path: Path) -> None:
    result = run_cli(
        "chat",
        env={"LEGALRAG_AUTH": str(tmp_path / "no" / "users"), "LEGALRAG_DATA_DIR": str(tmp_path)},
    )
    assert result.returncode == 2
    assert "users file that does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_auth_hash_prints_a_users_file_line(tmp_path: Path) -> None:
    result = run_cli("auth", "hash", "alice", "--password", "correct horse")
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    assert line.startswith("alice:$2b$") and "correct horse" not in line
    users_file = tmp_path / "users"
    users_file.write_text(line + "\n")
    users = load_users(str(users_file))
    assert users is not None and users.verify("alice", "correct horse")
    assert run_cli("auth", "hash", "a:b", "--password", "x").returncode == 2


def test_audit_tail_shows_the_last_entries(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    for number in range(3):
        record = audit_record(
            user="alice",
            question=f"Question {number}?",
            standalone_question=f"Question {number}?",
            filters={"jurisdiction": "TX", "topic": None},
            k=5,
            answer=Answer(
                question=f"Question {number}?",
                answer="x [1][4].",
                citations=[
                    Citation(marker=1, sentence=0, source_id="c1", valid=True, support=0.8),
                    Citation(marker=4, sentence=0, source_id=None, valid=False),
                ],
                sources=[
                    AnswerSource(
                        marker=1,
                        id="c1",
                        document_id="d1",
                        text="t",
                        score=0.1,
                        url="https://legalrag.example/1",
                    )
                ],
                model="m",
                prompt_version="answer-v1",
                timings={"retrieve_ms": 1.0},
            ),
            timings={"total_ms": 12.5},
        )
        append_audit(log, record)
    with log.open("a") as out:
        out.write("not json\n")
    entries = tail_audit(log, 2)
    assert entries[0]["question"] == "Question 2?" and "unreadable_line" in entries[1]
    assert entries[0]["filters"] == {"jurisdiction": "TX"}
    assert [c["verdict"] for c in entries[0]["citations"]] == ["supported", "invalid"]

    env = {"LEGALRAG_AUDIT_LOG": str(log)}
    shown = run_cli("audit", "tail", "-n", "2", env=env)
    assert shown.returncode == 0, shown.stderr
    assert "Q: Question 2?" in shown.stdout and "1 supported, 1 invalid" in shown.stdout
    assert "unreadable line" in shown.stdout
    as_json = run_cli("audit", "tail", "-n", "1", "--json", env=env)
    assert json.loads(as_json.stdout) == {"unreadable_line": "not json"}
    empty = run_cli("audit", "tail", env={"LEGALRAG_AUDIT_LOG": str(tmp_path / "none.jsonl")})
    assert empty.returncode == 0 and "no audit entries yet" in empty.stderr
