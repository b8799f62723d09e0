"""Token-aware chunking that remembers where each chunk sits in its document.

A text with legal structure (numbered clauses, sections, articles, headings,
definitions: :mod:`legalrag.ingest.structure`) is cut between its units: whole
consecutive units are packed into a chunk up to ``chunk_size`` tokens, without
overlap, and a unit too long for one chunk is split inside as below. Each chunk
carries the section path of its first character.

Any other text (a forum post), and the inside of a long unit, goes to langchain's
recursive splitter, on paragraph, line, sentence, clause and word boundaries in
that order, measuring length with the embedding model's own tokenizer. Offsets are
found here rather than with the splitter's ``add_start_index``, which subtracts the
overlap (in tokens) from a character position and so can miss the chunk.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from legalrag.ingest.records import SourceDocument
from legalrag.ingest.structure import Segment, find_segments, path_at

# Paragraph, line, sentence, clause, word, character: the splitter tries each in turn.
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]


@dataclass(frozen=True)
class Chunk:
    """A span of a document: ``document.text[start:end] == text``."""

    id: str
    document_id: str
    index: int
    text: str
    start: int
    end: int
    section: str = ""
    """The section path of the chunk's first character ("" in a text without structure)."""


def chunk_id(document_id: str, text: str) -> str:
    """Stable id of a chunk: the same document and text always give the same id."""
    digest = hashlib.sha256(f"{document_id}\x1f{text}".encode()).hexdigest()
    return digest[:40]


class Chunker:
    """Splits documents into chunks of at most ``max_tokens`` model tokens."""

    def __init__(
        self,
        count_tokens: Callable[[str], int],
        *,
        chunk_size: int,
        chunk_overlap: int,
        max_tokens: int,
    ) -> None:
        self.count_tokens = count_tokens
        # A chunk the model would truncate cannot be retrieved by its tail.
        self.chunk_size = min(chunk_size, max_tokens)
        self.chunk_overlap = min(chunk_overlap, self.chunk_size // 2)
        self.max_tokens = max_tokens
        self._splitter = self._make_splitter(self.chunk_size, self.chunk_overlap)

    def _make_splitter(self, size: int, overlap: int) -> RecursiveCharacterTextSplitter:
        return RecursiveCharacterTextSplitter(
            separators=SEPARATORS,
            chunk_size=size,
            chunk_overlap=overlap,
            length_function=self.count_tokens,
            keep_separator="end",
            strip_whitespace=True,
        )

    def _pieces(self, text: str, splitter: RecursiveCharacterTextSplitter, size: int) -> list[str]:
        """Split, then re-split any piece the merge step left over the hard limit.

        The splitter adds up the token counts of the pieces it merges; a merged
        text can tokenise to a few more tokens than the sum.
        """
        pieces: list[str] = []
        for piece in splitter.split_text(text):
            if self.count_tokens(piece) <= self.max_tokens or size <= 8:
                pieces.append(piece)
                continue
            smaller = size // 2
            pieces.extend(self._pieces(piece, self._make_splitter(smaller, smaller // 4), smaller))
        return pieces

    def split(self, document: SourceDocument) -> list[Chunk]:
        """The document's chunks, in order, each with its exact character span.

        A chunk text that occurs twice in one document is kept once (its id would
        repeat, and a citation to either copy points at the same words).
        """
        text = document.text
        segments = find_segments(text)
        spans = self._plain_spans(text, 0, len(text)) if segments is None else []
        if segments is not None:
            spans = self._structured_spans(text, segments)
        chunks: list[Chunk] = []
        seen: set[str] = set()
        for start, end in spans:
            piece = text[start:end]
            identifier = chunk_id(document.document_id, piece)
            if identifier in seen:
                continue
            seen.add(identifier)
            chunks.append(
                Chunk(
                    id=identifier,
                    document_id=document.document_id,
                    index=len(chunks),
                    text=piece,
                    start=start,
                    end=end,
                    section="" if segments is None else path_at(segments, start),
                )
            )
        return chunks

    def _plain_spans(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        """``text[start:end]`` split by the recursive splitter, as (start, end) spans."""
        spans: list[tuple[int, int]] = []
        cursor = start
        for piece in self._pieces(text[start:end], self._splitter, self.chunk_size):
            found = text.find(piece, cursor, end)
            if found < 0:  # the splitter only strips, so this means a bug, not bad data
                raise AssertionError(f"chunk not found at {start}: {piece[:60]!r}")
            # The next chunk starts after this one's start (chunks overlap, never go back).
            cursor = found + 1
            spans.append((found, found + len(piece)))
        return spans

    def _structured_spans(self, text: str, segments: list[Segment]) -> list[tuple[int, int]]:
        """Whole segments packed up to ``chunk_size`` tokens; a longer one split inside.

        A chunk also ends before a new outermost section once it is half full, and a
        heading with nothing under it yet moves on to start the next chunk.
        """
        spans: list[tuple[int, int]] = []
        packed: list[Segment] = []

        def flush(upto: list[Segment]) -> None:
            if upto:
                spans.extend(_stripped(text, upto[0].start, upto[-1].end))

        for segment in segments:
            if self._tokens(text, segment.start, segment.end) > self.chunk_size:
                # Too long for one chunk: split inside, with the headings just over it.
                headings = _trailing_headings(packed, keep=0)
                flush(packed[: len(packed) - len(headings)])
                start = headings[0].start if headings else segment.start
                spans.extend(self._plain_spans(text, start, segment.end))
                packed = []
                continue
            if packed and (
                self._tokens(text, packed[0].start, segment.end) > self.chunk_size
                or (
                    segment.top_level
                    and self._tokens(text, packed[0].start, packed[-1].end) >= self.chunk_size // 2
                )
            ):
                carried = _trailing_headings(packed, keep=1)
                flush(packed[: len(packed) - len(carried)])
                packed = carried
                if packed and self._tokens(text, packed[0].start, segment.end) > self.chunk_size:
                    flush(packed)
                    packed = []
            packed.append(segment)
        flush(packed)
        return spans

    def _tokens(self, text: str, start: int, end: int) -> int:
        return self.count_tokens(text[start:end].strip())


def _trailing_headings(packed: list[Segment], *, keep: int) -> list[Segment]:
    """The heading-only segments at the end of ``packed``, leaving at least ``keep``."""
    count = 0
    while len(packed) - count > keep and packed[-1 - count].heading_only:
        count += 1
    return packed[len(packed) - count :]


def _stripped(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """``(start, end)`` without the whitespace at its ends; nothing if it is all space."""
    piece = text[start:end]
    inner = piece.strip()
    if not inner:
        return []
    first = start + len(piece) - len(piece.lstrip())
    return [(first, first + len(inner))]
