"""The HTTP API under concurrent clients, and a conversation across two replicas.

Everything on loopback: tests/fake_llm.py plays the model (its own process, no time
spent generating), two `legalrag serve` processes read the sample corpus's index, and a
round-robin TCP proxy written here (asyncio: one connection, one backend, in turn; a
stand-in for SkyServe's round_robin policy) sits in front of them.

1. 20 and then 50 concurrent clients, each sending a bounded number of
   /v1/chat/completions requests (non-streamed): errors, p50/p95 per request.
2. A four-turn conversation through the proxy, one connection per turn, so its turns
   alternate between the two processes; each turn sends the history so far. Every turn
   must answer (stateless replicas); the proxy's log says which process took which turn.

What is timed is legalrag's own work per request (retrieval, prompt, the HTTP stream
from the model, verification) under contention on this machine's CPUs, not a model's.

Run: .venv/bin/python bench/api_load.py [--quick] [--requests-per-client 4] [--data-dir DIR]
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
sys.path[:0] = [str(ROOT), str(ROOT.parent / "tests")]
import figures  # noqa: E402
from fake_llm import Script, set_script  # noqa: E402

from legalrag.privacy import keep_local  # noqa: E402

keep_local(hub_needed=False)

QUESTION = "How many days does a Texas landlord have to refund a security deposit?"
FOLLOW_UPS = ["What about California?", "Can the landlord deduct cleaning?", "And in Texas?"]
ANSWER = "A landlord must refund the deposit within the time the state sets [1]."


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_model() -> tuple[subprocess.Popen, str]:
    """The loopback model in its own process."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT.parent / "tests" / "fake_llm.py")],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    set_script(url, Script(reasoning="Source 1 says so.", answer=ANSWER, chunk_size=16))
    return process, url


def start_api(data_dir: Path, logs: Path, llm_url: str, port: int) -> subprocess.Popen:
    """One `legalrag serve` process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGALRAG_")}
    env |= {
        "LEGALRAG_DATA_DIR": str(data_dir),
        "LEGALRAG_LLM_BASE_URL": llm_url,
        "LEGALRAG_LLM_MODEL": "fake-r1-distill",
        "LEGALRAG_LLM_RETRIES": "0",
        "LEGALRAG_CHAT_REWRITE": "offline",
        "LEGALRAG_API_PORT": str(port),
    }
    command = [sys.executable, "-m", "legalrag", "serve"]
    # A file, not a pipe: a pipe nobody reads fills up and blocks the server's writes.
    log = (logs / f"serve-{port}.log").open("w")
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_ready(port: int, process: subprocess.Popen, log: Path, limit_s: float = 300) -> None:
    """Until /healthz says 200 (the index and the embedder are loaded)."""
    import httpx

    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:]
            raise SystemExit(f"legalrag serve on port {port} exited:\n{tail}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"legalrag serve on port {port} not ready in {limit_s:g} s")


async def load(port: int, clients: int, per_client: int) -> dict[str, Any]:
    """``clients`` concurrent clients, ``per_client`` requests each, one after another."""
    import httpx

    latencies: list[float] = []
    errors = 0
    statuses: Counter[str] = Counter()
    body = {"messages": [{"role": "user", "content": QUESTION}], "jurisdiction": "TX"}
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(timeout=300, limits=limits) as client:

        async def one_client() -> None:
            nonlocal errors
            for _ in range(per_client):
                started = time.perf_counter()
                try:
                    reply = await client.post(
                        f"http://127.0.0.1:{port}/v1/chat/completions", json=body
                    )
                    ok = reply.status_code == 200 and "references" in reply.json()
                    statuses[str(reply.status_code)] += 1
                except httpx.HTTPError as exc:
                    ok = False
                    statuses[type(exc).__name__] += 1
                latencies.append(time.perf_counter() - started)
                errors += not ok

        started = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        wall = time.perf_counter() - started
    latency = figures.latency_ms(latencies)
    return {
        "clients": clients,
        "requests": latency.pop("n"),
        "errors": errors,
        **latency,
        "requests_per_s": round(len(latencies) / wall, 2),
        "statuses": " ".join(f"{k}:{v}" for k, v in sorted(statuses.items())),
    }


async def round_robin_proxy(backends: list[int], log: list[int]) -> tuple[asyncio.Server, int]:
    """A TCP proxy on loopback sending each new connection to the next backend."""
    turn = itertools.cycle(backends)

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        backend = next(turn)
        log.append(backend)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", backend)
        # The client's side stays open until the server closes: cancelled then, quietly.
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def conversation(backends: list[int]) -> dict[str, Any]:
    """Four turns through the proxy, a fresh connection each, history sent each time."""
    import httpx

    log: list[int] = []
    server, port = await round_robin_proxy(backends, log)
    messages: list[dict[str, str]] = []
    turns = []
    async with server:
        for question in [QUESTION, *FOLLOW_UPS]:
            messages.append({"role": "user", "content": question})
            limits = httpx.Limits(max_keepalive_connections=0)  # a new connection per turn
            async with httpx.AsyncClient(timeout=120, limits=limits) as client:
                reply = await client.post(
                    f"http://127.0.0.1:{port}/v1/chat/completions", json={"messages": messages}
                )
            ok = reply.status_code == 200
            body = reply.json() if ok else {}
            turn = {
                "turn": len(turns) + 1,
                "replica": backends.index(log[-1]) + 1,
                "status": reply.status_code,
                "question": question,
                "searched": body["references"]["standalone_question"] if ok else "",
            }
            turns.append(turn)
            content = body["choices"][0]["message"]["content"] if ok else ""
            messages.append({"role": "assistant", "content": content})
    replicas = [t["replica"] for t in turns]
    return {
        "turns": turns,
        "answered": sum(t["status"] == 200 for t in turns),
        "alternated": all(a != b for a, b in itertools.pairwise(replicas)),
    }


def main() -> None:
    """Ingest the sample corpus, start the model and two APIs, measure, stop them."""
    parser = figures.arguments(__doc__, "25 records, 4 and 8 clients, one request each")
    parser.add_argument("--requests-per-client", type=int, default=4)
    parser.add_argument("--data-dir", type=Path, help="an index holding the sample corpus")
    args, mode = figures.parse(parser)
    per_client = 1 if args.quick else args.requests_per_client
    levels = (4, 8) if args.quick else (20, 50)
    from legalrag.ingest.run import ingest
    from legalrag.settings import load_settings

    logs = Path(tempfile.mkdtemp(prefix="legalrag-api-load-"))
    data_dir = args.data_dir or logs
    if args.data_dir is None:
        figures.console.print("ingesting the sample corpus ...")
        ingest(load_settings(data_dir=data_dir), quiet=True, limit=25 if args.quick else None)
    model, url = start_model()
    ports = [free_port(), free_port()]
    apis = [start_api(data_dir, logs, url, port) for port in ports]
    try:
        for port, api in zip(ports, apis, strict=True):
            wait_ready(port, api, logs / f"serve-{port}.log")
        rows = [asyncio.run(load(ports[0], clients, per_client)) for clients in levels]
        figures.show("one API process, concurrent clients, /v1/chat/completions (ms)", rows)
        talk = asyncio.run(conversation(ports))
        figures.show("a conversation through a round-robin proxy over two API processes",
                     talk["turns"])  # fmt: skip
    finally:
        for process in [*apis, model]:
            process.terminate()
            process.wait(timeout=30)
        shutil.rmtree(logs, ignore_errors=True)
    targets = [
        figures.target(f"errors at {row['clients']} clients", row["errors"], 0, at_most=True)
        for row in rows
    ]
    turns = len(talk["turns"])
    targets.append(figures.target("conversation turns answered", talk["answered"], turns,
                                  at_most=False))  # fmt: skip
    targets.append(figures.target("turns alternating replicas", talk["alternated"], 1,
                                  at_most=False))  # fmt: skip
    figures.show_targets(targets, mode)
    figures.save(
        "api_load",
        mode,
        {"requests_per_client": per_client, "rows": rows, "conversation": talk, "targets": targets},
        args.out,
    )


if __name__ == "__main__":
    main()
