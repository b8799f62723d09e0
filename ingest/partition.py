"""Deterministic partitions of a corpus, so N machines can ingest it in parallel.

A document belongs to partition ``i`` of ``N`` by a hash of its id, not by its
position, so every job agrees on the split whatever order it reads records in,
and the N partitions together are exactly the whole corpus.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Partition:
    """Partition ``index`` (0-based) of ``count``."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(
                f"partition must be i/N with 0 <= i < N, got {self.index}/{self.count}"
            )

    @classmethod
    def parse(cls, spec: str) -> Partition:
        """Read ``"i/N"``, e.g. ``"0/3"``."""
        match = _SPEC.match(spec)
        if not match:
            raise ValueError(f"partition must look like i/N (e.g. 0/3), got {spec!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    def owns(self, document_id: str) -> bool:
        """True when this partition ingests ``document_id``."""
        if self.count == 1:
            return True
        digest = hashlib.sha256(document_id.encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


WHOLE = Partition(0, 1)
