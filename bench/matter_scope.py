"""Retrieval behind a matter wall (issue 19): quality and latency on the sample corpus.

recall@k, MRR and ms per question over eval/datasets/sample.jsonl's answerable
questions, with the default stages: without a scope; with a public-only scope on an
index of public documents alone (the wall walls nothing off: the unfiltered path);
then, once a few client documents sit in a matter, a public-only scope (the BM25
mask and the exact search over cached vectors) and the matter's member's scope.
Asserts nothing. Ingests the sample into a temporary index unless --data-dir holds it
(that index then gets the matter's documents).

Run: .venv/bin/python bench/matter_scope.py [--k 5] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from legalrag.privacy import keep_local

keep_local(hub_needed=False)

from figures import sample_questions  # noqa: E402

from legalrag.eval.retrieval_metrics import recall_at_k, reciprocal_rank  # noqa: E402
from legalrag.factory import open_retriever  # noqa: E402
from legalrag.ingest.run import ingest  # noqa: E402
from legalrag.matters import open_registry  # noqa: E402
from legalrag.settings import load_settings  # noqa: E402
from legalrag.store import Filters  # noqa: E402

MATTER = "bench-matter"
CLIENT_DOCUMENTS = {
    "client-lease.txt": "Security deposit addendum, Pellucid Tower lease\n\nThe landlord "
    "Quillfeather Estates must return the security deposit of 85,000 dollars within "
    "twenty one days after the tenant surrenders the premises.",
    "client-employment.txt": "Employment agreement of Thessaly Marchetti\n\nMarchetti shall "
    "not compete with her employer in the Duskfield region for eighteen months.",
    "client-nda.txt": "Nondisclosure agreement, Orchidale formulas\n\nThe Recipient shall "
    "not reverse engineer the Orchidale samples and keeps them confidential for seven years.",
}


def measure(retriever, questions: list[dict], k: int, filters: Filters | None) -> dict:
    """recall@k, MRR and mean ms per question under ``filters``."""
    retriever.retrieve("warm-up question", filters=filters)
    recall = reciprocal = 0.0
    started = time.perf_counter()
    for question in questions:
        ranked = [
            p.document_id
            for p in retriever.retrieve(question["question"], k=k, filters=filters).passages
        ]
        gold = set(question["gold_source_ids"])
        recall += recall_at_k(ranked, gold, k)
        reciprocal += reciprocal_rank(ranked, gold)
    elapsed = time.perf_counter() - started
    count = len(questions)
    return {
        f"recall@{k}": round(recall / count, 4),
        "mrr": round(reciprocal / count, 4),
        "ms_per_question": round(1000 * elapsed / count, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args()
    answerable = sample_questions(args.k)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        settings = load_settings(data_dir=data_dir, relevance_floor=-1.0)
        if args.data_dir is None:
            ingest(settings, quiet=True)
        figures = {}
        retriever = open_retriever(settings)
        figures["no scope"] = measure(retriever, answerable, args.k, None)
        public = Filters().within(frozenset())
        figures["public-only scope, no matter indexed"] = measure(
            retriever, answerable, args.k, public
        )
        registry = open_registry(settings)
        if not registry.exists(MATTER):
            registry.create(MATTER)
        folder = Path(tmp) / "client"
        folder.mkdir()
        for name, text in CLIENT_DOCUMENTS.items():
            (folder / name).write_text(text, encoding="utf-8")
        ingest(settings, path=folder, matter=MATTER, quiet=True)
        retriever = open_retriever(settings)  # the BM25 cache rebuilt with the new chunks
        figures["public-only scope, a matter indexed"] = measure(
            retriever, answerable, args.k, public
        )
        figures["member's scope, a matter indexed"] = measure(
            retriever, answerable, args.k, Filters().within(frozenset({MATTER}))
        )
    for name, row in figures.items():
        print(f"{name:40s} {json.dumps(row)}")


if __name__ == "__main__":
    main()
