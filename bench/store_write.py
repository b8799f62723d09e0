"""The ingest jobs' direct write path: chunks per second into `chroma run`.

Does writing straight into the store keep up with the embedders? (The alternative: jobs
write shards that a loader bulk-writes.) 8 ingest jobs on L40S embed about 8 x 40 = 320
chunks/s with gte-Qwen2-7B (README's estimate). This writes chunks with 3,584-dimension
vectors (gte-Qwen2's; random, normalised: no model runs) and ~1,000 characters of text
with the metadata ingest writes, through legalrag's own store (``upsert``, batches of
``write_batch_size``), into sky/chroma.yaml's `run` started on loopback: `chroma run`
behind nginx (TLS with the self-signed certificate it makes, the token checked). Three
ways: straight to `chroma run` (no proxy), through the proxy, and 4 writer processes at
once through the proxy (as parallel jobs write).

Run: .venv/bin/python bench/store_write.py [--quick] [--chunks 4096] [--dimension 3584]
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from legalrag.privacy import keep_local

keep_local(hub_needed=False)

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
import figures  # noqa: E402

TOKEN = "bench-token-0123456789abcdef"
WRITERS = 4


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_store(home: Path) -> tuple[subprocess.Popen, int, int]:
    """sky/chroma.yaml's run, HOME in ``home``: (process, proxy port, chroma port)."""
    bin_dir = home / "chroma-env" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "chroma").write_text(
        f'#!/bin/sh\nexec "{Path(sys.executable).parent / "chroma"}" "$@"\n'
    )
    (bin_dir / "chroma").chmod(0o755)
    config = yaml.safe_load((ROOT.parent / "sky" / "chroma.yaml").read_text())
    proxy, backend = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGALRAG_")}
    env |= {k: str(v) for k, v in config["envs"].items()}
    env |= {
        "HOME": str(home),
        "CHROMA_PORT": str(proxy),
        "CHROMA_BACKEND_PORT": str(backend),
        "CHROMA_LISTEN": "127.0.0.1",
        "LEGALRAG_CHROMA_AUTH_TOKEN": TOKEN,
    }
    log = (home / "chroma.log").open("w")
    process = subprocess.Popen(
        ["bash", "-c", config["run"]], env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    context = None
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(
                f"chroma.yaml's run did not start:\n{(home / 'chroma.log').read_text()}"
            )
        try:
            cert = home / "chroma-tls" / "cert.pem"
            context = context or (
                ssl.create_default_context(cafile=str(cert)) if cert.exists() else None
            )
            request = urllib.request.Request(
                f"https://127.0.0.1:{proxy}/api/v2/heartbeat", headers={"X-Chroma-Token": TOKEN}
            )
            with urllib.request.urlopen(request, timeout=5, context=context):
                return process, proxy, backend
        except (OSError, ValueError):
            time.sleep(0.5)


def chunks(count: int, dimension: int, seed: int) -> list[Any]:
    """``count`` chunks as ingest writes them, vectors random and normalised."""
    import numpy as np

    from legalrag.store.schema import ChunkMetadata, StoredChunk

    rng = random.Random(seed)
    words = "landlord tenant deposit notice lease court statute days refund repair".split()  # noqa: SIM905
    # As the embedder hands them over: lists of floats, normalised (float32 precision).
    vectors = np.random.default_rng(seed).standard_normal((count, dimension), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    rows = vectors.tolist()
    made = []
    for i in range(count):
        text = " ".join(rng.choice(words) for _ in range(150))
        meta = ChunkMetadata(
            document_id=f"doc-{seed}-{i // 4}", title=f"Post {i // 4}", url="https://example.org/p",
            jurisdiction="CA", topic="housing", created="2021-03-04", start=0, end=len(text),
            source="bench", chunk_index=i % 4,
        )  # fmt: skip
        made.append(StoredChunk(f"{seed}-{i}", text, meta, rows[i]))
    return made


def write(url: str, collection: str, ca_file: str | None, count: int, dimension: int,
          seed: int) -> dict[str, Any]:  # fmt: skip
    """One writer: ``count`` chunks into ``collection``, timed per batch (a process of its own)."""
    from legalrag.factory import open_store_for_writing
    from legalrag.settings import load_settings
    from legalrag.store.schema import ModelStamp

    given: dict[str, Any] = {"chroma_url": url, "collection": collection}
    if url.startswith("https://"):
        given |= {"chroma_auth_token": TOKEN, "chroma_ca_file": ca_file}
    settings = load_settings(data_dir=tempfile.mkdtemp(prefix="legalrag-bench-"), **given)
    batch = settings.write_batch_size
    made = chunks(count, dimension, seed)
    store = open_store_for_writing(settings, ModelStamp("bench/random", dimension))
    samples = []
    started = time.perf_counter()
    for at in range(0, count, batch):
        begun = time.perf_counter()
        store.upsert(made[at : at + batch])
        samples.append(time.perf_counter() - begun)
    wall = time.perf_counter() - started
    store.close()
    return {"chunks": count, "wall_s": wall, "batches": samples, "batch": batch}


def main() -> None:
    """Start the store, write through each path, report chunks/s."""
    parser = figures.arguments(__doc__, "512 chunks of 384 dimensions")
    parser.add_argument("--chunks", type=int, default=4096)
    parser.add_argument("--dimension", type=int, default=3584)
    args, mode = figures.parse(parser)
    count, dimension = (512, 384) if args.quick else (args.chunks, args.dimension)
    if shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin") is None:
        raise SystemExit("nginx is not installed (apt-get install nginx)")
    home = Path(tempfile.mkdtemp(prefix="legalrag-store-write-"))
    process, proxy, backend = start_store(home)
    ca_file = str(home / "chroma-tls" / "cert.pem")
    rows = []
    try:
        ways = [
            ("direct to chroma run (http)", f"http://127.0.0.1:{backend}", 1),
            ("nginx (TLS, token)", f"https://127.0.0.1:{proxy}", 1),
            (f"nginx, {WRITERS} writers", f"https://127.0.0.1:{proxy}", WRITERS),
        ]
        for number, (way, url, writers) in enumerate(ways):
            per = count // writers
            with ProcessPoolExecutor(writers) as pool:
                started = time.perf_counter()
                done = list(pool.map(write, [url] * writers, [f"bench_{number}"] * writers,
                                     [ca_file] * writers, [per] * writers, [dimension] * writers,
                                     [number * 100 + w for w in range(writers)]))  # fmt: skip
                wall = time.perf_counter() - started
            written = sum(d["chunks"] for d in done)
            slowest = max(d["wall_s"] for d in done)
            batches = [s for d in done for s in d["batches"]]
            rows.append({
                "path": way, "writers": writers, "chunks": written, "dimension": dimension,
                "chunks_per_s": round(written / slowest, 1),
                **{f"batch_{k}": v for k, v in figures.latency_ms(batches).items() if k != "n"},
                "process_wall_s": round(wall, 1),
            })  # fmt: skip
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)
    figures.show(f"writes into `chroma run` ({done[0]['batch']} chunks a batch)", rows)
    targets = [
        figures.target(f"{row['path']}: chunks/s", row["chunks_per_s"], 320, at_most=False)
        for row in rows
    ]
    figures.show_targets(targets, mode)
    figures.save("store_write", mode, {"rows": rows, "targets": targets}, args.out)


if __name__ == "__main__":
    main()
