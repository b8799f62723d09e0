"""Chunks of one document that overlap, joined into one exact span."""

from __future__ import annotations

from collections.abc import Iterable

from legalrag.store import StoredChunk


def merge_overlapping(chunk: StoredChunk, siblings: Iterable[StoredChunk]) -> StoredChunk:
    """Grow a chunk by the sibling chunks that overlap it, keeping text == document[start:end].

    Chunks only overlap where the chunker repeated text, so joining them needs no
    text that was not retrieved; chunks that merely follow each other stay apart.
    """
    siblings = list(siblings)
    text, start, end = chunk.text, chunk.metadata.start, chunk.metadata.end
    grew = True
    while grew:
        grew = False
        for other in siblings:
            o_start, o_end = other.metadata.start, other.metadata.end
            if o_start < start < o_end <= end:  # overlaps on the left
                text = other.text[: start - o_start] + text
                start, grew = o_start, True
            elif start <= o_start < end < o_end:  # overlaps on the right
                text = text + other.text[end - o_start :]
                end, grew = o_end, True
    return StoredChunk(chunk.id, text, chunk.metadata.with_span(start, end), chunk.vector)


def chunks_inside(span: StoredChunk, siblings: Iterable[StoredChunk]) -> list[str]:
    """The ids of the sibling chunks that lie within ``span`` (what its text is made of)."""
    start, end = span.metadata.start, span.metadata.end
    return [s.id for s in siblings if start <= s.metadata.start and s.metadata.end <= end]
