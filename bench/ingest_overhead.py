"""Ingestion overhead: `legalrag ingest` against `SentenceTransformer.encode` alone.

Both embed the same chunks (the pipeline's own chunker makes them first), with
the same model, batch size, device and threads, in one process, alternating
round by round so that drift hits both alike. The pipeline's rate counts its
whole run (read, chunk, ask the index what it holds, embed, write to Chroma);
the encoder's counts only the model's arithmetic. Also measured: Chroma's write
rate on its own (upsert of the same chunks with precomputed vectors) and the
pipeline's peak resident memory.

Run: .venv/bin/python bench/ingest_overhead.py [--quick] [--rounds 5]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from legalrag.privacy import keep_local

keep_local(hub_needed=False)

sys.path.insert(0, str(Path(__file__).resolve().parent))
import figures  # noqa: E402

from legalrag.factory import make_embedder, open_store_for_writing  # noqa: E402
from legalrag.ingest.chunking import Chunker  # noqa: E402
from legalrag.ingest.records import SourceDocument  # noqa: E402
from legalrag.ingest.run import ingest_items  # noqa: E402
from legalrag.ingest.sources import read_sample  # noqa: E402
from legalrag.settings import Settings, load_settings  # noqa: E402
from legalrag.store import ChunkMetadata, ModelStamp, StoredChunk  # noqa: E402


def _chunks(settings: Settings, records: list[SourceDocument]) -> list[str]:
    """The chunk texts ingestion will embed, from its own chunker."""
    embedder = make_embedder(settings)
    chunker = Chunker(
        embedder.count_tokens,
        chunk_size=settings.chunk_size,
        chunk_overlap=settings.chunk_overlap,
        max_tokens=embedder.max_tokens,
    )
    return [chunk.text for record in records for chunk in chunker.split(record)]


def main() -> None:
    parser = figures.arguments(__doc__, "12 records, one round")
    parser.add_argument("--rounds", type=int, default=5)
    args, mode = figures.parse(parser)
    rounds = 1 if args.quick else args.rounds

    settings = load_settings()
    items = read_sample(max_chars=settings.max_document_chars)
    records = [r for r in items if isinstance(r, SourceDocument)][: 12 if args.quick else None]
    texts = _chunks(settings, records)
    import torch
    from sentence_transformers import SentenceTransformer

    raw_model = SentenceTransformer(_model_path(settings), device=settings.embedding_device)
    raw_model.encode(texts[:8], batch_size=settings.embedding_batch_size)  # warm-up

    pipeline_rates, raw_rates, write_rates, peaks = [], [], [], []

    def pipeline_run() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            run_settings = load_settings(data_dir=Path(tmp))
            with figures.rss_sampler() as memory:
                report = ingest_items(run_settings, iter(records), quiet=True)
            assert report.chunks_embedded == len(texts), (report.chunks_embedded, len(texts))
            pipeline_rates.append(report.chunks_per_second)
            peaks.append(memory["peak"])

    def raw_run() -> Any:
        started = time.perf_counter()
        vectors = raw_model.encode(
            texts,
            batch_size=settings.embedding_batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        raw_rates.append(len(texts) / (time.perf_counter() - started))
        return vectors

    for round_number in range(1, rounds + 1):
        # Which goes first alternates (ABBA), so whatever favours a round's first or
        # second run favours both sides alike.
        if round_number % 2:
            pipeline_run()
            vectors = raw_run()
        else:
            vectors = raw_run()
            pipeline_run()

        with tempfile.TemporaryDirectory() as tmp:
            write_rates.append(
                _chroma_write_rate(load_settings(data_dir=Path(tmp)), texts, vectors)
            )
        figures.console.print(
            f"round {round_number}: pipeline {pipeline_rates[-1]:.1f} chunks/s, "
            f"encode alone {raw_rates[-1]:.1f} chunks/s"
        )

    pipeline, raw = statistics.median(pipeline_rates), statistics.median(raw_rates)
    # Each round runs both back to back, so the ratio is taken per round (paired:
    # the machine's drift between rounds cancels), then its median.
    ratio = statistics.median(p / r for p, r in zip(pipeline_rates, raw_rates, strict=True))
    rows: list[dict[str, Any]] = [
        {"what": "legalrag ingest (whole run)", "chunks/s": round(pipeline, 2)},
        {"what": "SentenceTransformer.encode alone", "chunks/s": round(raw, 2)},
        {"what": "pipeline / encode (median of rounds)", "chunks/s": round(ratio, 3)},
        {"what": "Chroma upsert alone", "chunks/s": round(statistics.median(write_rates), 1)},
        {"what": "peak RSS of the ingest run (MiB)", "chunks/s": round(max(peaks))},
    ]
    figures.show(
        f"ingestion, {len(records)} records, {len(texts)} chunks, "
        f"{settings.embedding_model}, batch {settings.embedding_batch_size}, "
        f"{torch.get_num_threads()} threads (median of {rounds})",
        rows,
    )
    targets = [
        figures.target("legalrag ingest >= 0.9x encode alone", ratio, 0.9, at_most=False, unit="x")
    ]
    figures.show_targets(targets, mode)
    figures.save(
        "ingest_overhead",
        mode,
        {
            "records": len(records),
            "chunks": len(texts),
            "model": settings.embedding_model,
            "batch_size": settings.embedding_batch_size,
            "threads": torch.get_num_threads(),
            "rounds": rounds,
            "pipeline_chunks_per_s": pipeline_rates,
            "encode_chunks_per_s": raw_rates,
            "ratio": round(ratio, 3),
            "chroma_upsert_chunks_per_s": write_rates,
            "peak_rss_mib": [round(p) for p in peaks],
            "targets": targets,
        },
        args.out,
    )


def _model_path(settings: Settings) -> str:
    from legalrag.embedding import known_model

    known = known_model(settings.embedding_model)
    if known is not None and known.bundled_path is not None:
        return str(known.bundled_path)
    return settings.embedding_model


def _chroma_write_rate(settings: Settings, texts: list[str], vectors: Any) -> float:
    embedder_name, dimension = "bench/precomputed", int(vectors.shape[1])
    store = open_store_for_writing(settings, ModelStamp(embedder_name, dimension))
    chunks = [
        StoredChunk(f"c{i}", text, ChunkMetadata(document_id=f"d{i // 4}"), vectors[i])
        for i, text in enumerate(texts)
    ]
    try:
        started = time.perf_counter()
        for offset in range(0, len(chunks), settings.write_batch_size):
            store.upsert(chunks[offset : offset + settings.write_batch_size])
        return len(texts) / (time.perf_counter() - started)
    finally:
        store.close()


if __name__ == "__main__":
    main()
