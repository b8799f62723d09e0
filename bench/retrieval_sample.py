"""Retrieval on the sample corpus: recall@k and MRR over eval/datasets/sample.jsonl.

Prints figures for each stage alone and for the fusion; asserts nothing. Ingests
the sample into a temporary index unless --data-dir points at one that holds it.

Run: .venv/bin/python bench/retrieval_sample.py [--k 5] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from legalrag.privacy import keep_local

keep_local(hub_needed=False)

from figures import sample_questions  # noqa: E402

from legalrag.eval.retrieval_metrics import recall_at_k, reciprocal_rank  # noqa: E402
from legalrag.factory import open_retriever  # noqa: E402
from legalrag.ingest.run import ingest  # noqa: E402
from legalrag.settings import load_settings  # noqa: E402

STAGES = {
    "dense": {"retrieval_dense": True, "retrieval_bm25": False, "jurisdiction_boost": False},
    "bm25": {"retrieval_dense": False, "retrieval_bm25": True, "jurisdiction_boost": False},
    "hybrid (RRF)": {"retrieval_dense": True, "retrieval_bm25": True, "jurisdiction_boost": False},
    "hybrid + state": {"retrieval_dense": True, "retrieval_bm25": True, "jurisdiction_boost": True},
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args()
    answerable = sample_questions(args.k)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or Path(tmp)
        if args.data_dir is None:
            ingest(load_settings(data_dir=data_dir), quiet=True)
        for name, stages in STAGES.items():
            # No relevance gate here: this measures ranking, not refusals.
            settings = load_settings(data_dir=data_dir, relevance_floor=-1.0, **stages)
            retriever = open_retriever(settings)
            retriever.retrieve("warm-up question")  # builds or loads the BM25 cache
            recall = hit = reciprocal = 0.0
            started = time.perf_counter()
            for question in answerable:
                result = retriever.retrieve(question["question"], k=args.k)
                ranked = [p.document_id for p in result.passages]
                gold = set(question["gold_source_ids"])
                recall += recall_at_k(ranked, gold, args.k)
                hit += bool(gold & set(ranked))
                reciprocal += reciprocal_rank(ranked, gold)
            ms = 1000 * (time.perf_counter() - started) / len(answerable)
            n = len(answerable)
            print(
                f"{name:15s} recall@{args.k} {recall / n:.3f}  hit@{args.k} {hit / n:.3f}  "
                f"MRR@{args.k} {reciprocal / n:.3f}  {ms:.0f} ms/question"
            )


if __name__ == "__main__":
    main()
