"""Scale: 100k synthetic records ingested with `--partition` from 2 processes into a
Chroma server, against one process ingesting them all; the two indexes must agree.

Both runs are the real CLI (`legalrag ingest PATH --partition i/N`) against a real
`chroma run` server on 127.0.0.1. MiniLM embeds about 14 chunks/s on this CPU,
which would make this a day's run and measure only the model; so the embedding
model here is a one-layer, 32-wide BERT with random weights and MiniLM's
tokenizer, saved on disk and loaded by sentence-transformers like any model
(bench/figures stays honest: this measures the pipeline, server and partitioning).
Records are sample-corpus posts cut to 400-1,600 characters, each with its own
id and a numbered line, so that they are distinct.

Run: .venv/bin/python bench/scale_ingest.py [--quick] [--records 100000]
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from legalrag.privacy import keep_local

keep_local(hub_needed=False)

sys.path.insert(0, str(Path(__file__).resolve().parent))
import figures  # noqa: E402

from legalrag.embedding import known_model  # noqa: E402
from legalrag.ingest.sources import sample_corpus_file  # noqa: E402

PARTITIONS = 2


def tiny_model(folder: Path) -> Path:
    """A deterministic one-layer sentence-transformers model, with MiniLM's tokenizer."""
    import torch
    from sentence_transformers import SentenceTransformer, models
    from transformers import AutoTokenizer, BertConfig, BertModel

    known = known_model("all-MiniLM-L6-v2")
    assert known is not None and known.bundled_path is not None
    tokenizer = AutoTokenizer.from_pretrained(str(known.bundled_path))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    bert = folder / "bert"
    BertModel(config).save_pretrained(bert)
    tokenizer.save_pretrained(bert)
    transformer = models.Transformer(str(bert), max_seq_length=256)
    model = SentenceTransformer(
        modules=[transformer, models.Pooling(32, "mean"), models.Normalize()], device="cpu"
    )
    model.save(str(folder / "model"))
    return folder / "model"


def synthetic_records(path: Path, count: int) -> None:
    """``count`` distinct records built from the sample posts."""
    base = [json.loads(line) for line in sample_corpus_file().read_text().splitlines() if line]
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            record = dict(base[n % len(base)])
            cut = 400 + (n * 7919) % 1200
            record["url"] = f"{record['url']}-r{n}"
            record["text"] = record["text"][:cut] + f"\n\nFollow-up {n}: resolved on day {n % 97}."
            out.write(json.dumps(record) + "\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ingest(env: dict[str, str], corpus: Path, collection: str, partition: str) -> subprocess.Popen:
    command = [
        str(Path(sys.executable).parent / "legalrag"), "ingest", str(corpus),
        "--collection", collection, "--partition", partition, "--quiet", "--json",
    ]  # fmt: skip
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)


def _wait(processes: list[subprocess.Popen]) -> list[dict[str, Any]]:
    reports = []
    for process in processes:
        out, _ = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"ingest failed with exit code {process.returncode}")
        reports.append(json.loads(out))
    return reports


def _contents(url: str, collection: str) -> dict[str, tuple]:
    import numpy as np

    from legalrag.factory import open_store
    from legalrag.settings import load_settings

    store = open_store(load_settings(chroma_url=url, collection=collection))
    found = {}
    for page in store.pages(with_text=True, with_vectors=True, page_size=5000):
        for chunk in page:
            meta = json.dumps(chunk.metadata.to_store(), sort_keys=True)
            found[chunk.id] = (chunk.text, meta, np.asarray(chunk.vector))
    return found


def main() -> None:
    parser = figures.arguments(__doc__, "300 records")
    parser.add_argument("--records", type=int, default=100_000)
    args, mode = figures.parse(parser)
    count = 300 if args.quick else args.records

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model = tiny_model(work)
        corpus = work / "records.jsonl"
        synthetic_records(corpus, count)
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "chroma"), "run", "--path", str(work / "server"),
             "--host", "127.0.0.1", "--port", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            _wait_for(url)
            env = {
                **os.environ,
                "LEGALRAG_CHROMA_URL": url,
                "LEGALRAG_EMBEDDING_MODEL": str(model),
                "LEGALRAG_DATA_DIR": str(work / "data"),
            }
            runs = []
            for name, partitions in (("2 processes, --partition i/2", PARTITIONS),
                                     ("1 process", 1)):  # fmt: skip
                collection = f"scale_{partitions}"
                with figures.rss_sampler():
                    started = time.perf_counter()
                    reports = _wait(
                        [
                            _ingest(env, corpus, collection, f"{i}/{partitions}")
                            for i in range(partitions)
                        ]
                    )
                    seconds = time.perf_counter() - started
                chunks = sum(r["chunks_embedded"] for r in reports)
                runs.append(
                    {
                        "run": name,
                        "records": sum(r["documents_ingested"] for r in reports),
                        "chunks": chunks,
                        "seconds": round(seconds, 1),
                        "in-process s": round(max(r["seconds"] for r in reports), 1),
                        "chunks/s": round(chunks / seconds, 1),
                    }
                )
                figures.console.print(runs[-1])
            split, whole = _contents(url, "scale_2"), _contents(url, "scale_1")
        finally:
            server.terminate()
            server.wait(timeout=30)

    same_ids = split.keys() == whole.keys()
    same_text_meta = same_ids and all(split[c][:2] == whole[c][:2] for c in whole)
    vector_gap = (
        max(float(abs(split[c][2] - whole[c][2]).max()) for c in whole) if same_ids else None
    )
    figures.show(f"{count:,} synthetic records into a Chroma server", runs)
    figures.console.print(
        f"partitioned == single process: ids {same_ids}, texts and metadata {same_text_meta}, "
        f"largest vector difference {vector_gap}"
    )
    figures.save(
        "scale_ingest",
        mode,
        {
            "records": count,
            "runs": runs,
            "equal_ids": same_ids,
            "equal_texts_and_metadata": same_text_meta,
            "max_vector_difference": vector_gap,
            "model": "1-layer 32-wide BERT, random weights, MiniLM tokenizer",
        },
        args.out,
    )
    if not (same_ids and same_text_meta):
        raise SystemExit("the partitioned index differs from the single-process one")


def _wait_for(url: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the Chroma server at {url} did not start")


if __name__ == "__main__":
    main()
