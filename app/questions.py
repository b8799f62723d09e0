"""What counts as a question the app will search for."""

from __future__ import annotations

from legalrag.errors import QuestionError


def clean_question(question: str, *, max_chars: int) -> str:
    """The question stripped of surrounding space; refuses empty and over-long ones."""
    cleaned = question.strip()
    if not cleaned:
        raise QuestionError("the question is empty")
    if len(cleaned) > max_chars:
        raise QuestionError(
            f"the question has {len(cleaned):,} characters; the limit is {max_chars:,} "
            "(LEGALRAG_MAX_QUESTION_CHARS)"
        )
    return cleaned
