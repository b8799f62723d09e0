"""Chroma behind the :class:`~legalrag.store.protocol.ChunkStore` protocol: the only
code that imports ``chromadb`` (``store.py``: the store; ``connect.py``: the client,
the writer's lock, the transport guard)."""

from legalrag.store.chroma.connect import make_client
from legalrag.store.chroma.store import ChromaChunkStore, chroma_where

__all__ = ["ChromaChunkStore", "chroma_where", "make_client"]
