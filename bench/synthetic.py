"""Deterministic synthetic chunks, and an embedder that costs (almost) nothing.

Latency at a million chunks cannot be measured on a CPU by embedding a million
real chunks (MiniLM does about 14 chunks/s here: 20 hours). Instead the chunks are
made of words drawn from a Zipf-like vocabulary (as real text is: a few words in
most chunks, most words in few), with the metadata real chunks carry, and their
vectors come from :class:`HashingEmbedder`: a bag of fixed random word vectors,
normalised. Same seed, same corpus, same vectors, on any machine.

The vectors are not semantic, but they have the structure that matters for the
index (chunks sharing words are near each other), unlike uniform random vectors,
which are a pathological case for HNSW.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

VOCABULARY = 30_000
DIMENSION = 384
WORDS_PER_CHUNK = (110, 170)  # about the 200 MiniLM tokens of a real chunk
JURISDICTIONS = ["CA", "NY", "TX", "FL", "WA", "IL", "PA", "OH", "GA", "NC", "MI", "NJ", "US"]
JURISDICTION_SHARE = [0.16, 0.10, 0.09, 0.08, 0.07, 0.06, 0.06, 0.05, 0.05, 0.05, 0.05, 0.04]
TOPICS = [
    "landlord-tenant", "employment", "family", "criminal", "immigration", "contracts",
    "consumer", "real-estate", "estates", "traffic", "small-claims", "business",
]  # fmt: skip
_SYLLABLES = ["ba", "ce", "di", "fo", "gu", "ha", "je", "ki", "lo", "mu", "na", "pe", "qui",
              "ro", "sa", "te", "vi", "wo", "xa", "ze"]  # fmt: skip
_WORD = re.compile(r"[a-z]+")


def _words() -> list[str]:
    # Distinct pronounceable non-words: BM25's tokenizer keeps them whole, no stopword clashes.
    words = []
    n = len(_SYLLABLES)
    for i in range(VOCABULARY):
        a, b, c = i % n, (i // n) % n, (i // n // n) % n
        words.append(_SYLLABLES[a] + _SYLLABLES[b] + _SYLLABLES[c] + ("x" * (i // n**3)))
    return words


WORDS = _words()
_WORD_ID = {word: i for i, word in enumerate(WORDS)}
# Zipf (s = 1.1) over word ranks: how often each word is drawn.
_FREQUENCY = 1.0 / np.arange(1, VOCABULARY + 1) ** 1.1
_FREQUENCY /= _FREQUENCY.sum()


def _word_vectors(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((VOCABULARY, DIMENSION)).astype(np.float32)


class HashingEmbedder:
    """An :class:`~legalrag.embedding.Embedder`: a text's vector is its words' vectors summed.

    Microseconds a text, so benchmarks measure everything but a model's arithmetic.
    """

    model_name = "bench/hashing-bag-of-words-384"
    dimension = DIMENSION
    max_tokens = 512

    def __init__(self, seed: int = 7) -> None:
        self._vectors = _word_vectors(seed)

    def count_tokens(self, text: str) -> int:
        """Words, as this embedder reads them."""
        return len(_WORD.findall(text.lower()))

    def embed_ids(self, rows: Sequence[np.ndarray]) -> np.ndarray:
        """Normalised vectors for texts given as arrays of word ids."""
        indptr = np.cumsum([0] + [len(r) for r in rows])
        indices = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        counts = sparse.csr_matrix(
            (np.ones(len(indices), dtype=np.float32), indices, indptr),
            shape=(len(rows), VOCABULARY),
        )
        vectors = np.asarray(counts @ self._vectors)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def _ids(self, text: str) -> np.ndarray:
        ids = [_WORD_ID[w] for w in _WORD.findall(text.lower()) if w in _WORD_ID]
        return np.asarray(ids or [0], dtype=np.int64)

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        """Normalised vectors for passages."""
        return self.embed_ids([self._ids(t) for t in texts]).tolist()

    def embed_query(self, text: str) -> list[float]:
        """A normalised vector for a question."""
        return self.embed_ids([self._ids(text)])[0].tolist()


@dataclass(frozen=True)
class ChunkBatch:
    """Consecutive synthetic chunks, ready for ``collection.add``."""

    ids: list[str]
    documents: list[str]
    metadatas: list[dict[str, Any]]
    word_ids: list[np.ndarray]


def chunk_batches(count: int, batch_size: int, seed: int = 11) -> Iterator[ChunkBatch]:
    """``count`` chunks in batches: 1 to 7 chunks a document, metadata like ingestion's."""
    rng = np.random.default_rng(seed)
    shares = np.asarray([*JURISDICTION_SHARE, 1 - sum(JURISDICTION_SHARE)])
    document, index_in_document, document_length = 0, 0, int(rng.integers(1, 8))
    for first in range(0, count, batch_size):
        size = min(batch_size, count - first)
        lengths = rng.integers(*WORDS_PER_CHUNK, size=size)
        drawn = rng.choice(VOCABULARY, size=int(lengths.sum()), p=_FREQUENCY)
        rows = np.split(drawn, np.cumsum(lengths)[:-1])
        batch = ChunkBatch([], [], [], rows)
        for row in rows:
            if index_in_document == document_length:
                document += 1
                index_in_document, document_length = 0, int(rng.integers(1, 8))
            text = " ".join(WORDS[i] for i in row)
            # Deterministic per document, so every chunk of a post agrees.
            doc_rng = np.random.default_rng(document)
            jurisdiction = JURISDICTIONS[int(doc_rng.choice(len(JURISDICTIONS), p=shares))]
            year = 2010 + int(doc_rng.integers(0, 12))
            month, day = int(doc_rng.integers(1, 13)), int(doc_rng.integers(1, 29))
            start = 2000 * index_in_document  # chunks of a post never overlap here
            batch.ids.append(f"synthetic-{document}-{index_in_document}")
            batch.documents.append(text)
            batch.metadatas.append(
                {
                    "document_id": f"synthetic-{document}",
                    "title": f"Synthetic post {document}",
                    "url": f"https://example.invalid/post/{document}",
                    "jurisdiction": jurisdiction,
                    "topic": TOPICS[document % len(TOPICS)],
                    "created": f"{year}-{month:02d}-{day:02d}",
                    "created_day": year * 10000 + month * 100 + day,
                    "chunk_index": index_in_document,
                    "start": start,
                    "end": start + len(text),
                }
            )
            index_in_document += 1
        yield batch


def questions(count: int, seed: int = 13) -> list[str]:
    """Questions of 6 to 12 words, drawn from the mid-frequency vocabulary (as real
    questions are: no chunk-in-two words, no words no chunk has)."""
    rng = np.random.default_rng(seed)
    mid = np.arange(50, 5000)
    return [
        " ".join(WORDS[i] for i in rng.choice(mid, size=int(rng.integers(6, 13)), replace=False))
        for _ in range(count)
    ]
