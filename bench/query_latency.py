"""Query latency without the LLM: `retrieve` (dense, BM25, fused; with and without
filters) against a raw Chroma `query` with the same vectors, at growing corpus sizes.

Chunks and vectors are synthetic and deterministic (bench/synthetic.py); the
query embedder is the hashing one, so the figures are retrieval's own cost. What
the real query embedder adds (MiniLM on CPU) is measured and stated apart.
Each size is measured in a fresh process, so its memory figure is its own.

Run: .venv/bin/python bench/query_latency.py [--quick] [--sizes 10000 100000 1000000]
     [--work-dir DIR] [--queries 200] [--raw-filtered 50]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from legalrag.privacy import keep_local

keep_local(hub_needed=False)

sys.path.insert(0, str(Path(__file__).resolve().parent))
import figures  # noqa: E402
import synthetic  # noqa: E402

from legalrag.app.retrieval import BM25Index, Filters, Retriever  # noqa: E402
from legalrag.factory import context_token_counter, open_store, open_store_for_writing  # noqa: E402
from legalrag.settings import Settings, load_settings  # noqa: E402
from legalrag.store import ModelStamp  # noqa: E402
from legalrag.store.chroma import chroma_where  # noqa: E402

FILTERS = {
    "none": Filters(),
    "jurisdiction": Filters(jurisdiction="FL"),
    "topic+dates": Filters(
        topic="employment", date_from=date(2015, 1, 1), date_to=date(2019, 12, 31)
    ),
}
STAGES = {
    "dense": {"retrieval_dense": True, "retrieval_bm25": False},
    "bm25": {"retrieval_dense": False, "retrieval_bm25": True},
    "fused": {"retrieval_dense": True, "retrieval_bm25": True},
}


def _settings(data_dir: Path) -> Settings:
    # No relevance gate: hashing vectors are not calibrated, and a refused question
    # would skip the rest of the path being measured.
    return load_settings(data_dir=data_dir, relevance_floor=-1.0)


def build(size: int, data_dir: Path) -> dict[str, Any]:
    """Write ``size`` synthetic chunks into a fresh index at ``data_dir`` (raw ``add``)."""
    shutil.rmtree(data_dir, ignore_errors=True)
    embedder = synthetic.HashingEmbedder()
    stamp = ModelStamp(embedder.model_name, embedder.dimension)
    index = open_store_for_writing(_settings(data_dir), stamp)
    embed_s = add_s = 0.0
    try:
        for batch in synthetic.chunk_batches(size, index.max_batch_size):
            started = time.perf_counter()
            vectors = embedder.embed_ids(batch.word_ids)
            embed_s += time.perf_counter() - started
            started = time.perf_counter()
            index.collection.add(  # raw, as the baseline: no store overhead
                ids=batch.ids,
                embeddings=vectors,
                documents=batch.documents,
                metadatas=batch.metadatas,
            )
            add_s += time.perf_counter() - started
    finally:
        index.close()
    (data_dir / "complete").write_text(str(size))
    return {"chunks": size, "chroma_add_s": round(add_s, 1), "vectors_s": round(embed_s, 1)}


def measure(size: int, data_dir: Path, queries: int, raw_filtered: int) -> dict[str, Any]:
    """Every stage and filter, alternating per question, against raw Chroma (whose
    filtered queries, seconds each at 1M chunks, on the first ``raw_filtered`` only)."""
    settings = _settings(data_dir)
    embedder = synthetic.HashingEmbedder()
    baseline_with_model = figures.rss_mib()  # the word vectors are the bench's, not ours
    store = open_store(settings, embedder)
    collection = store.collection  # raw Chroma, the baseline
    started = time.perf_counter()
    bm25 = BM25Index.for_store(store, settings.bm25_dir)
    bm25_first_s = time.perf_counter() - started  # built, unless an earlier run cached it
    started = time.perf_counter()
    bm25 = BM25Index.for_store(store, settings.bm25_dir)
    bm25_load_s = time.perf_counter() - started  # what a restarted server pays
    count_tokens = context_token_counter(settings)
    retrievers = {
        name: Retriever(
            settings.model_copy(update=stages).retrieval,
            store,
            embedder,
            lambda: bm25,
            count_tokens,
        )
        for name, stages in STAGES.items()
    }
    questions = synthetic.questions(queries)
    vectors = [embedder.embed_query(q) for q in questions]
    candidates = settings.retrieval_candidates

    def raw(vector: list[float], where: dict | None) -> None:
        collection.query(
            query_embeddings=[vector],
            n_results=candidates,
            where=where,
            include=["documents", "metadatas", "distances"],
        )

    calls = {}
    for filter_name, filters in FILTERS.items():
        where = chroma_where(filters)
        calls[("raw chroma", filter_name)] = lambda i, w=where: raw(vectors[i], w)
        for stage, retriever in retrievers.items():
            calls[(stage, filter_name)] = lambda i, r=retriever, f=filters: r.retrieve(
                questions[i], filters=f
            )
    for i in range(min(10, queries)):  # warm-up: caches, HNSW pages, first-call imports
        for call in calls.values():
            call(i)
    samples: dict[tuple[str, str], list[float]] = {key: [] for key in calls}
    for i in range(queries):
        for key, call in calls.items():  # alternating, so drift hits every mode alike
            if key[0] == "raw chroma" and key[1] != "none" and i >= raw_filtered:
                continue
            started = time.perf_counter()
            call(i)
            samples[key].append(time.perf_counter() - started)

    embed_samples = figures.timed(lambda: embedder.embed_query(questions[0]), 50)
    rows = [
        {"stage": stage, "filter": filter_name, **figures.latency_ms(s)}
        for (stage, filter_name), s in samples.items()
    ]
    resident = figures.rss_mib()
    return {
        "chunks": size,
        "rows": rows,
        "bm25_first_s": round(bm25_first_s, 2),
        "bm25_load_s": round(bm25_load_s, 2),
        "hashing_query_embed_ms": figures.latency_ms(embed_samples)["p50_ms"],
        "rss_mib": round(resident - baseline_with_model),
        "rss_total_mib": round(resident),
        "disk_mib": {
            "chroma": round(figures.directory_mib(settings.chroma_dir)),
            "bm25": round(figures.directory_mib(settings.bm25_dir)),
        },
    }


def minilm_query_embedding(repeats: int) -> dict[str, float]:
    """What the offline default query embedder adds to every retrieval."""
    from legalrag.factory import make_embedder

    embedder = make_embedder(load_settings())
    questions = synthetic.questions(repeats)
    embedder.embed_query(questions[0])
    samples = []
    for question in questions:
        started = time.perf_counter()
        embedder.embed_query(question)
        samples.append(time.perf_counter() - started)
    return figures.latency_ms(samples)


def _child(args: list[str]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([sys.executable, __file__, *args, "--child-out", out.name], check=True)
        return json.loads(Path(out.name).read_text())


def main() -> None:
    parser = figures.arguments(__doc__, "2,000 chunks, 20 questions")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--raw-filtered",
        type=int,
        default=50,
        help="questions for raw Chroma's filtered queries (seconds each at 1M chunks)",
    )
    parser.add_argument(
        "--work-dir", type=Path, help="where the indexes are built (kept and reused)"
    )
    parser.add_argument("--rebuild", action="store_true", help="rebuild indexes that exist")
    parser.add_argument("--build-only", action="store_true", help="build, measure nothing")
    parser.add_argument("--child-build", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-measure", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child_build:
        result = build(args.child_build, args.child_dir)
        args.child_out.write_text(json.dumps(result))
        return
    if args.child_measure:
        result = measure(args.child_measure, args.child_dir, args.queries, args.raw_filtered)
        args.child_out.write_text(json.dumps(result))
        return

    mode = "quick" if args.quick else "full"
    sizes = [2_000] if args.quick else args.sizes
    queries = 20 if args.quick else args.queries
    scratch = None
    if args.work_dir is None:
        scratch = tempfile.mkdtemp(prefix="legalrag-bench-query-")
    work_dir = args.work_dir or Path(scratch)
    results = []
    try:
        for size in sizes:
            data_dir = work_dir / f"chunks-{size}"
            built = None
            if args.rebuild or not (data_dir / "complete").is_file():
                figures.console.print(f"building {size:,} synthetic chunks in {data_dir} ...")
                built = _child(["--child-build", str(size), "--child-dir", str(data_dir)])
                (data_dir / "build.json").write_text(json.dumps(built))
            elif (data_dir / "build.json").is_file():
                built = json.loads((data_dir / "build.json").read_text())
            if args.build_only:
                continue
            figures.console.print(f"measuring {size:,} chunks, {queries} questions ...")
            result = _child(
                [
                    "--child-measure", str(size), "--child-dir", str(data_dir),
                    "--queries", str(queries), "--raw-filtered", str(args.raw_filtered),
                ]
            )  # fmt: skip
            result["build"] = built
            results.append(result)
            _print(result)
        if args.build_only:
            return
        embedding = minilm_query_embedding(10 if args.quick else 100)
        figures.console.print(
            f"MiniLM query embedding (added to dense and fused in production on CPU): "
            f"p50 {embedding['p50_ms']} ms, p95 {embedding['p95_ms']} ms"
        )
        targets = _targets(results[-1]) if results else []
        figures.show_targets(targets, mode)
        figures.save(
            "query_latency",
            mode,
            {"sizes": results, "minilm_query_embed": embedding, "targets": targets},
            args.out,
        )
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, at the largest size measured (1M chunks in full mode):
    fused p95 under 100 ms, and retrieval within 1.5x of raw Chroma's p95."""
    p95 = {(r["stage"], r["filter"]): r["p95_ms"] for r in result["rows"]}
    size = f"{result['chunks']:,} chunks"
    found = [figures.target(f"fused p95 at {size}", p95[("fused", "none")], 100, at_most=True,
                            unit=" ms")]  # fmt: skip
    for stage in ("dense", "fused"):
        for where in FILTERS:
            found.append(
                figures.target(
                    f"{stage} / raw Chroma p95, filter {where}",
                    p95[(stage, where)] / p95[("raw chroma", where)],
                    1.5,
                    at_most=True,
                    unit="x",
                )
            )
    return found


def _print(result: dict[str, Any]) -> None:
    raw = {r["filter"]: r["p95_ms"] for r in result["rows"] if r["stage"] == "raw chroma"}
    rows = [
        {
            **{k: v for k, v in row.items() if k != "n"},
            "p95 / raw chroma p95": round(row["p95_ms"] / raw[row["filter"]], 2),
        }
        for row in result["rows"]
    ]
    figures.show(f"retrieve at {result['chunks']:,} chunks (ms)", rows)
    build = result.get("build")
    built = (
        f", raw Chroma add {build['chunks'] / build['chroma_add_s']:,.0f} chunks/s"
        if build and build["chroma_add_s"]
        else ""
    )
    figures.console.print(
        f"memory {result['rss_mib']:,} MiB resident for the index "
        f"(process {result['rss_total_mib']:,} MiB); disk: Chroma {result['disk_mib']['chroma']:,} "
        f"MiB, BM25 cache {result['disk_mib']['bm25']:,} MiB; BM25 first open "
        f"{result['bm25_first_s']} s, reload {result['bm25_load_s']} s{built}"
    )


if __name__ == "__main__":
    main()
