"""Dense retrieval on the sample corpus: recall@k and MRR over eval/datasets/sample.jsonl.

Prints figures, asserts nothing. Ingests the sample into a temporary index unless
--data-dir points at one that already holds it.

Run: .venv/bin/python bench/retrieval_sample.py [--k 5] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from importlib import resources
from pathlib import Path

from legalrag.privacy import keep_local

keep_local(hub_needed=False)

from legalrag.app.retrieval import retrieve_dense  # noqa: E402
from legalrag.ingest.run import ingest  # noqa: E402

from legalrag.embedding import make_embedder  # noqa: E402
from legalrag.index import check_model, open_for_reading  # noqa: E402
from legalrag.settings import load_settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args()
    questions_file = resources.files("legalrag.eval") / "datasets" / "sample.jsonl"
    questions = [
        json.loads(line)
        for line in questions_file.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    answerable = [q for q in questions if q["gold_source_ids"]]

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=args.data_dir or Path(tmp))
        if args.data_dir is None:
            ingest(settings, quiet=True)
        embedder = make_embedder(settings)
        collection = open_for_reading(settings)
        check_model(collection, embedder.model_name, embedder.dimension)
        hits = 0.0
        any_hit = 0
        reciprocal = 0.0
        started = time.perf_counter()
        for question in answerable:
            # Over-fetch chunks, then keep the first k distinct documents.
            passages = retrieve_dense(collection, embedder, question["question"], k=args.k * 4)
            ranked: list[str] = []
            for passage in passages:
                if passage.document_id not in ranked:
                    ranked.append(passage.document_id)
            top = ranked[: args.k]
            gold = set(question["gold_source_ids"])
            hits += len(gold & set(top)) / len(gold)
            any_hit += bool(gold & set(top))
            first = next((i for i, doc in enumerate(top, 1) if doc in gold), None)
            reciprocal += 1 / first if first else 0.0
        seconds = time.perf_counter() - started
    n = len(answerable)
    print(f"questions       : {n} answerable (of {len(questions)})")
    print(f"recall@{args.k} (docs) : {hits / n:.3f}")
    print(f"hit@{args.k}           : {any_hit / n:.3f}")
    print(f"MRR@{args.k}           : {reciprocal / n:.3f}")
    print(f"latency         : {1000 * seconds / n:.1f} ms per question (dense, k={args.k * 4})")


if __name__ == "__main__":
    main()
