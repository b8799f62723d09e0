"""Token-aware chunking that remembers where each chunk sits in its document.

langchain's recursive splitter does the splitting, on paragraph, line, sentence,
clause and word boundaries in that order, measuring length with the embedding
model's own tokenizer. Offsets are found here rather than with the splitter's
``add_start_index``, which subtracts the overlap (in tokens) from a character
position and so can miss the chunk.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from legalrag.ingest.records import SourceDocument

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
        chunks: list[Chunk] = []
        seen: set[str] = set()
        cursor = 0
        for piece in self._pieces(text, self._splitter, self.chunk_size):
            start = text.find(piece, cursor)
            if start < 0:  # the splitter only strips, so this means a bug, not bad data
                raise AssertionError(f"chunk not found in {document.document_id!r}: {piece[:60]!r}")
            # The next chunk starts after this one's start (chunks overlap, never go back).
            cursor = start + 1
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
                    end=start + len(piece),
                )
            )
        return chunks
