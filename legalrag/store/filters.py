"""Metadata restrictions on what may be retrieved, in one form.

A store translates :class:`Filters` into its own query language (Chroma's in
:mod:`legalrag.store.chroma`); the BM25 cache applies them to its metadata
arrays with :meth:`Filters.mask`. A filter that matches nothing returns nothing:
it never falls back to the whole corpus.

``scope`` is not a choice but a wall (:mod:`legalrag.matters`): the matters whose
documents the asker may read, beside the public corpus (chunks with no matter). It
rides on the same type so every path that honours a filter (dense search, BM25,
the exact search, document naming) honours it, and none can forget it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from legalrag.store import schema

FILTER_COLUMNS = (schema.JURISDICTION, schema.TOPIC, schema.CREATED_DAY, schema.MATTER)
"""The metadata a filter reads, kept as arrays beside the BM25 cache (see :meth:`mask`)."""

# A matter value no chunk carries: a chosen matter outside the scope passes nothing.
_NO_MATTER_READABLE = "\x00"


@dataclass(frozen=True)
class Filters:
    """Metadata restrictions on what may be retrieved."""

    jurisdiction: str | None = None
    topic: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    matter: str | None = None
    """Only this matter's documents (one the asker may read: checked at the edge)."""
    scope: frozenset[str] | None = None
    """The matters readable besides the public corpus; None: every chunk is readable
    (no users configured, or the operator's own CLI)."""

    @property
    def empty(self) -> bool:
        """True when nothing is restricted."""
        chosen = self.jurisdiction or self.topic or self.date_from or self.date_to
        return not (chosen or self.matter or self.scope is not None)

    def within(self, scope: frozenset[str] | None) -> Filters:
        """These filters behind the wall of ``scope`` (the asker's readable matters)."""
        return replace(self, scope=scope)

    def readable_matters(self) -> list[str]:
        """The matter values a chunk may carry to pass (``""``: public); [] when any may."""
        if self.matter:
            allowed = self.scope is None or self.matter in self.scope
            return [self.matter] if allowed else [_NO_MATTER_READABLE]
        if self.scope is None:
            return []
        return ["", *sorted(self.scope)]

    @property
    def day_from(self) -> int | None:
        """``date_from`` as YYYYMMDD (the stored ``created_day``)."""
        return None if self.date_from is None else int(self.date_from.strftime("%Y%m%d"))

    @property
    def day_to(self) -> int | None:
        """``date_to`` as YYYYMMDD."""
        return None if self.date_to is None else int(self.date_to.strftime("%Y%m%d"))

    def mask(self, columns: Mapping[str, np.ndarray]) -> np.ndarray | None:
        """The same restrictions over metadata arrays (one per :data:`FILTER_COLUMNS`):
        True where a chunk passes, as the store's own filter would; None: no filter.
        A chunk without the field never passes a restriction on it."""
        if self.empty:
            return None
        keep = np.ones(len(columns[schema.CREATED_DAY]), dtype=bool)
        readable = self.readable_matters()
        if readable:
            keep &= np.isin(columns[schema.MATTER], readable)
        if self.jurisdiction:
            keep &= columns[schema.JURISDICTION] == self.jurisdiction.upper()
        if self.topic:
            keep &= columns[schema.TOPIC] == self.topic
        day = columns[schema.CREATED_DAY]
        if self.day_from is not None:
            keep &= (day != schema.NO_DAY) & (day >= self.day_from)
        if self.day_to is not None:
            keep &= (day != schema.NO_DAY) & (day <= self.day_to)
        return keep

    def describe(self) -> str:
        """e.g. ``jurisdiction=CA, from 2019-01-01``."""
        parts = []
        if self.matter:
            parts.append(f"matter={self.matter}")
        if self.jurisdiction:
            parts.append(f"jurisdiction={self.jurisdiction.upper()}")
        if self.topic:
            parts.append(f"topic={self.topic}")
        if self.date_from:
            parts.append(f"from {self.date_from.isoformat()}")
        if self.date_to:
            parts.append(f"to {self.date_to.isoformat()}")
        return ", ".join(parts)
