"""The chunk store: the protocol, the chunk schema and the filters (see protocol.py)."""

from legalrag.store.filters import FILTER_COLUMNS, Filters
from legalrag.store.protocol import (
    ChunkStore,
    StoreInfo,
    describe_store,
    require_model,
    require_writable,
)
from legalrag.store.schema import ChunkMetadata, DenseHit, ModelStamp, StoredChunk

__all__ = [
    "FILTER_COLUMNS",
    "ChunkMetadata",
    "ChunkStore",
    "DenseHit",
    "Filters",
    "ModelStamp",
    "StoreInfo",
    "StoredChunk",
    "describe_store",
    "require_model",
    "require_writable",
]
