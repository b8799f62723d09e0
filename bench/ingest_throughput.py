"""Ingestion benchmark: prints figures, asserts nothing.

1. The sample corpus, cold (empty index): seconds, chunks/s.
2. The same again (everything already indexed): seconds.
3. A synthetic stream of --records records (sample records with numbered
   variations), with peak resident memory sampled as it goes, to show that memory
   stays flat as the corpus grows.

Run: .venv/bin/python bench/ingest_throughput.py [--records 3000]
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from legalrag.privacy import keep_local

keep_local(hub_needed=False)

from legalrag.ingest.records import SourceDocument, parse_record  # noqa: E402
from legalrag.ingest.run import ingest, ingest_items  # noqa: E402
from legalrag.ingest.sources import sample_corpus_file  # noqa: E402
from legalrag.settings import load_settings  # noqa: E402


def rss_mib() -> float:
    """Current resident memory of this process in MiB."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def synthetic(count: int) -> Iterator[SourceDocument]:
    """``count`` distinct records built from the sample, generated lazily."""
    with sample_corpus_file().open(encoding="utf-8") as lines:
        base = [json.loads(line) for line in lines if line.strip()]
    for n in range(count):
        record = dict(base[n % len(base)])
        record["url"] = f"{record['url']}-v{n}"
        record["text"] = (
            record["text"] + f"\n\nUpdate {n}: the poster followed up on day {n % 31 + 1}."
        )
        yield parse_record(record, location=f"synthetic:{n}", source="bench", max_chars=10**6)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=3000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp) / "sample")
        cold = ingest(settings, quiet=True)
        print(
            f"sample cold : {cold.documents_ingested} documents, {cold.chunks} chunks, "
            f"{cold.seconds:.1f} s, {cold.chunks_per_second:.1f} chunks/s"
        )
        warm = ingest(settings, quiet=True)
        print(f"sample rerun: {warm.chunks_embedded} chunks embedded, {warm.seconds:.1f} s")

        peak = {"value": rss_mib(), "samples": []}
        stop = threading.Event()

        def sample_memory() -> None:
            while not stop.wait(2.0):
                now = rss_mib()
                peak["value"] = max(peak["value"], now)
                peak["samples"].append(round(now))

        sampler = threading.Thread(target=sample_memory, daemon=True)
        sampler.start()
        started = rss_mib()
        try:
            scale_settings = load_settings(data_dir=Path(tmp) / "scale")
            scale = ingest_items(scale_settings, synthetic(args.records), quiet=True)
        finally:
            stop.set()
        print(
            f"synthetic   : {scale.documents_ingested} documents, {scale.chunks} chunks, "
            f"{scale.seconds:.1f} s, {scale.chunks_per_second:.1f} chunks/s"
        )
        print(f"memory      : {started:.0f} MiB at start, peak {peak['value']:.0f} MiB")
        print(f"memory trace: {peak['samples']} (MiB every 2 s)")


if __name__ == "__main__":
    main()
