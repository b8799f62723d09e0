"""Question sets in the three formats `legalrag eval` reads, as one kind of question.

- ``ours``: JSONL, one ``{"id", "question", "reference_answer"?, "gold_source_ids"?,
  "answerable"?, "jurisdiction"?}`` per line (``eval/datasets/sample.jsonl``);
- ``legalbench-rag``: ``{"tests": [{"query", "snippets": [{"file_path", "span",
  "answer"}]}]}``, its corpus a folder of ``.txt`` files ingested with
  ``legalrag ingest PATH`` (a text file's document id is its path in that folder,
  which is what ``file_path`` names);
- ``obliqa``: ``[{"QuestionID", "Question", "Passages": [{"DocumentID", "PassageID",
  "Passage"}]}]``, its corpus written by :mod:`legalrag.eval.corpus`.

A file that is not what its format says fails as a whole, naming the place, before
anything runs: a half-read question set would give figures that mean nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from legalrag.errors import DatasetError
from legalrag.eval.corpus import obliqa_document_id


@dataclass(frozen=True)
class GoldSpan:
    """A character span of a document that answers the question."""

    document_id: str
    start: int
    end: int


@dataclass(frozen=True)
class EvalQuestion:
    """One question, with whatever gold its data set gives."""

    id: str
    question: str
    reference_answer: str | None = None
    gold_ids: tuple[str, ...] = ()
    gold_spans: tuple[GoldSpan, ...] = ()
    answerable: bool | None = None  # None: the data set does not say
    jurisdiction: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class QuestionSet:
    """The questions of one file, its format, and a fingerprint of its bytes."""

    path: Path
    format: str
    questions: list[EvalQuestion]
    sha256: str


def _text(value: Any, where: str, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DatasetError(f"{where}: '{name}' must be a non-empty string")
    return value.strip()


def _read_ours(path: Path, raw: bytes) -> list[EvalQuestion]:
    questions: list[EvalQuestion] = []
    for number, line in enumerate(raw.decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{where}: invalid JSON: {exc.msg}") from None
        if not isinstance(item, dict):
            raise DatasetError(f"{where}: expected a JSON object")
        gold = item.get("gold_source_ids") or []
        if not isinstance(gold, list) or not all(isinstance(g, str) for g in gold):
            raise DatasetError(f"{where}: 'gold_source_ids' must be a list of strings")
        answerable = item.get("answerable")
        if answerable is not None and not isinstance(answerable, bool):
            raise DatasetError(f"{where}: 'answerable' must be true or false")
        reference = item.get("reference_answer")
        if reference is not None and not isinstance(reference, str):
            raise DatasetError(f"{where}: 'reference_answer' must be a string")
        jurisdiction = item.get("jurisdiction")
        questions.append(
            EvalQuestion(
                id=str(item.get("id") or number),
                question=_text(item.get("question"), where, "question"),
                reference_answer=(reference or "").strip() or None,
                gold_ids=tuple(gold),
                answerable=answerable,
                jurisdiction=str(jurisdiction).upper() if jurisdiction else None,
            )
        )
    return questions


def _read_legalbench_rag(path: Path, raw: bytes) -> list[EvalQuestion]:
    data = _json(path, raw)
    tests = data.get("tests") if isinstance(data, dict) else None
    if not isinstance(tests, list):
        raise DatasetError(f"{path}: expected {{'tests': [...]}} (LegalBench-RAG)")
    questions = []
    for number, test in enumerate(tests, start=1):
        where = f"{path}: tests[{number - 1}]"
        if not isinstance(test, dict) or not isinstance(test.get("snippets"), list):
            raise DatasetError(f"{where}: expected {{'query', 'snippets': [...]}}")
        spans: list[GoldSpan] = []
        answers: list[str] = []
        for snippet in test["snippets"]:
            span = snippet.get("span") if isinstance(snippet, dict) else None
            if not (
                isinstance(span, list)
                and len(span) == 2
                and all(isinstance(x, int) for x in span)
                and 0 <= span[0] <= span[1]
            ):
                raise DatasetError(f"{where}: a snippet's 'span' must be [start, end]")
            file_path = _text(snippet.get("file_path"), where, "file_path")
            spans.append(GoldSpan(file_path, span[0], span[1]))
            if isinstance(snippet.get("answer"), str) and snippet["answer"].strip():
                answers.append(snippet["answer"].strip())
        questions.append(
            EvalQuestion(
                id=str(test.get("id") or f"t{number:05d}"),
                question=_text(test.get("query"), where, "query"),
                # LegalBench-RAG has no written answers: the gold snippets' text is
                # the reference RAGAS' context recall checks the sources against.
                reference_answer="\n".join(answers) or None,
                gold_ids=tuple(dict.fromkeys(s.document_id for s in spans)),
                gold_spans=tuple(spans),
                answerable=True,
            )
        )
    return questions


def _read_obliqa(path: Path, raw: bytes) -> list[EvalQuestion]:
    data = _json(path, raw)
    if not isinstance(data, list):
        raise DatasetError(f"{path}: expected a list of ObliQA questions")
    questions = []
    for number, item in enumerate(data):
        where = f"{path}: [{number}]"
        if not isinstance(item, dict) or not isinstance(item.get("Passages"), list):
            raise DatasetError(f"{where}: expected {{'QuestionID', 'Question', 'Passages'}}")
        gold = []
        for passage in item["Passages"]:
            if not isinstance(passage, dict) or "PassageID" not in passage:
                raise DatasetError(f"{where}: a passage lacks DocumentID/PassageID")
            gold.append(obliqa_document_id(passage.get("DocumentID"), passage["PassageID"]))
        questions.append(
            EvalQuestion(
                id=str(item.get("QuestionID") or number + 1),
                question=_text(item.get("Question"), where, "Question"),
                gold_ids=tuple(dict.fromkeys(gold)),
                answerable=True,
                extra={"group": item.get("Group")},
            )
        )
    return questions


def _json(path: Path, raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: not valid JSON: {exc}") from None


READERS: dict[str, Callable[[Path, bytes], list[EvalQuestion]]] = {
    "ours": _read_ours,
    "legalbench-rag": _read_legalbench_rag,
    "obliqa": _read_obliqa,
}


def detect_format(path: Path, raw: bytes) -> str:
    """``ours`` for JSONL; for JSON, LegalBench-RAG's ``{"tests"}`` or ObliQA's list."""
    if path.suffix.lower() == ".jsonl":
        return "ours"
    data = _json(path, raw)
    if isinstance(data, dict) and "tests" in data:
        return "legalbench-rag"
    if isinstance(data, list) and data and isinstance(data[0], dict) and "QuestionID" in data[0]:
        return "obliqa"
    raise DatasetError(f"{path}: cannot tell its format; name it with --format")


def load_question_set(path: Path, fmt: str | None = None) -> QuestionSet:
    """Read every question of ``path`` (format named or detected); ids must be unique."""
    if fmt is not None and fmt not in READERS:
        raise DatasetError(f"unknown format {fmt!r}: use one of {', '.join(READERS)}")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"no such file: {path}") from None
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror}") from None
    try:
        fmt = fmt or detect_format(path, raw)
        questions = READERS[fmt](path, raw)
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 ({exc.reason})") from None
    if not questions:
        raise DatasetError(f"{path}: no questions")
    seen: set[str] = set()
    for question in questions:
        if question.id in seen:
            raise DatasetError(f"{path}: question id {question.id!r} occurs twice")
        seen.add(question.id)
    return QuestionSet(path, fmt, questions, hashlib.sha256(raw).hexdigest())
