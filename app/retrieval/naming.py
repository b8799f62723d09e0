"""Which documents a question names: "Consider Fiverr's privacy policy; ...".

Lawyers ask about one document by its title or its parties. Each document gets a
short name text: its title, its id (a file's path, split into words) and the
opening of its first chunk, where a contract names its parties and a policy its
company. A question names a document when it shares with that name text a word
that is rare among the corpus's names (few documents have it: "Fiverr", "CopAcc",
never "agreement"). When only a few documents are named that way, the retriever
searches their chunks as a ranking of its own and fuses it (see
:mod:`legalrag.app.retrieval.retriever`).

Written here rather than taken from a library: what is needed is a document
frequency over a few words per document, which the BM25 package already
computes; an entity linker would need a model and knows nothing of file names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# How much of a document's first chunk its name text keeps: a contract names its
# parties, and a policy its company, in the first lines.
OPENING_CHARS = 400
_ID_SEPARATORS = re.compile(r"[/\\_.\-:]+")
# Names are written with capitals ("Fiverr", "CopAcc", "OISAIR PROJECT"); the rest of
# a question ("shall not reverse engineer") is what it asks, not whom it names.
_CAPITALISED = re.compile(r"\b[^\W\d_][\w'\u2019&.-]*")


@dataclass(frozen=True)
class NamingRules:
    """When a word names a document, and how many documents may be named at once."""

    rare_share: float  # a naming word is in at most this share of the documents' names
    max_documents: int  # more documents named than this: the question names none


def name_text(document_id: str, title: str, opening: str) -> str:
    """What a document is called: title, id as words, and the opening of its text."""
    return f"{title} {_ID_SEPARATORS.sub(' ', document_id)} {opening[:OPENING_CHARS]}"


def naming_words(question: str) -> str:
    """The question's words that could name something: those written with a capital."""
    return " ".join(w for w in _CAPITALISED.findall(question) if w[0].isupper())


class DocumentNames:
    """The documents of one index by name, with each chunk's document (BM25 order)."""

    def __init__(
        self,
        document_ids: list[str],
        model: Any | None,
        chunk_documents: np.ndarray,
        tokenize: Any,
    ) -> None:
        self.document_ids = document_ids
        self._number = {d: n for n, d in enumerate(document_ids)}
        self.model = model  # bm25s over the name texts; None: no name holds a word
        self.chunk_documents = chunk_documents
        """For each chunk (in the BM25 index's order), its document's number."""
        self._tokenize = tokenize

    @classmethod
    def build(
        cls,
        chunk_documents: Sequence[str],
        names: dict[str, str],
        bm25s: Any,
        tokenize: Any,
    ) -> DocumentNames:
        """From each chunk's document id (in index order) and each document's name text."""
        document_ids = list(names)
        number = {d: n for n, d in enumerate(document_ids)}
        of_chunk = np.asarray([number[d] for d in chunk_documents], dtype=np.int32)
        tokens = tokenize([names[d] for d in document_ids])
        model = None
        if any(tokens):
            model = bm25s.BM25()
            model.index(tokens, show_progress=False)
        return cls(document_ids, model, of_chunk, tokenize)

    def named(
        self, question: str, rules: NamingRules, readable: np.ndarray | None = None
    ) -> list[str]:
        """The documents the question names (none when it names none, or too many).

        ``readable`` (a mask over the chunks, e.g. the asker's matters): only the
        documents with a readable chunk count, as if the others were not indexed: a
        word another matter's titles hold neither names those documents nor makes a
        public one's word common, so nothing here depends on what the asker cannot read.
        """
        if self.model is None or not self.document_ids:
            return []
        visible = self._documents_of(readable)
        total = len(self.document_ids) if visible is None else int(visible.sum())
        if total == 0:
            return []
        rare = max(1.0, rules.rare_share * total)
        hits = np.zeros(len(self.document_ids), dtype=np.int32)
        for word in dict.fromkeys(self._tokenize([naming_words(question)])[0]):
            present = np.asarray(self.model.get_scores([word])) > 0
            if visible is not None:
                present &= visible
            count = int(present.sum())
            if 0 < count <= rare:
                hits += present
        best = int(hits.max(initial=0))
        if best == 0:
            return []
        named = np.flatnonzero(hits == best)
        if len(named) > rules.max_documents:
            return []
        return [self.document_ids[n] for n in named]

    def _documents_of(self, chunks: np.ndarray | None) -> np.ndarray | None:
        """The documents (by number) with at least one chunk in the mask; None: all."""
        if chunks is None:
            return None
        visible = np.zeros(len(self.document_ids), dtype=bool)
        visible[self.chunk_documents[chunks]] = True
        return visible

    def chunk_mask(self, document_ids: Sequence[str]) -> np.ndarray:
        """True for the chunks (BM25 order) of those documents."""
        wanted = [self._number[d] for d in document_ids if d in self._number]
        return np.isin(self.chunk_documents, wanted)
