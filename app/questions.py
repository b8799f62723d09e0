"""What counts as a question the app will search for."""

from __future__ import annotations

from legalrag.errors import QuestionError


def clean_question(question: str, *, max_chars: int, what: str = "question") -> str:
    """The question stripped of surrounding space; refuses empty, over-long ones, and
    ones that are not text (a lone surrogate, a NUL).

    Every edge (CLI, batch, chat) cleans its questions here, so a question that would
    crash the tokenizer, the audit log or the output is a clear usage error instead.
    ``what`` names the text in the error (the chat's edited "search text" is checked
    as a question is, since it is searched for in its place).
    """
    cleaned = question.strip()
    if not cleaned:
        raise QuestionError(f"the {what} is empty")
    if len(cleaned) > max_chars:
        raise QuestionError(
            f"the {what} has {len(cleaned):,} characters; the limit is {max_chars:,} "
            "(LEGALRAG_MAX_QUESTION_CHARS)"
        )
    problem = _not_text(cleaned)
    if problem:
        raise QuestionError(f"the {what} {problem}")
    return cleaned


def _not_text(value: str) -> str | None:
    """Why ``value`` is not text every part can handle, or None."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        # JSON's "\ud83d" (half an emoji), or argv bytes that were not UTF-8 (Python
        # keeps each as a lone surrogate): no tokenizer, log or terminal takes them.
        code = ord(value[exc.start])
        if 0xDC80 <= code <= 0xDCFF:  # how Python keeps an undecodable byte of argv
            return f"holds the byte 0x{code - 0xDC00:02x} at character {exc.start + 1}: not UTF-8"
        return (
            f"holds a lone surrogate (\\u{code:04x}, half of a character) at character "
            f"{exc.start + 1}: not valid UTF-8 text"
        )
    if "\x00" in value:
        return f"holds a NUL character at character {value.index(chr(0)) + 1}"
    return None
