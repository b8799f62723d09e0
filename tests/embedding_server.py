"""A loopback ``/v1/embeddings`` server that answers with the bundled MiniLM's vectors.

It computes them with sentence-transformers, as vLLM or TEI would with the real model,
and can misbehave on request (``Behaviour``): a web page, NaN, another dimension, one
vector too few, busy statuses before answering, a silence longer than the client waits.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HTML_PAGE = b"<!doctype html><html><body><h1>Welcome to nginx</h1></body></html>"


@dataclass
class Behaviour:
    """How the next requests are answered."""

    html: bool = False
    nan: bool = False
    wrong_dimension: bool = False
    one_short: bool = False
    busy: int = 0  # answer 503 this many times first
    hang_s: float = 0.0
    status: int = 200


@dataclass
class EmbeddingServer:
    """The running server: its /v1 URL, its behaviour, what it received."""

    url: str
    behaviour: Behaviour = field(default_factory=Behaviour)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)


def start_embedding_server(model: Any) -> tuple[EmbeddingServer, ThreadingHTTPServer]:
    """Serve ``model`` (a SentenceTransformerEmbedder) on a free port; shut it down after."""
    state = EmbeddingServer(url="")
    lock = threading.Lock()  # one encode at a time: the model is shared with the tests

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def handle(self) -> None:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                super().handle()

        def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._send(200 if self.path in ("/health", "/v1/models") else 404, b"{}")

        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            state.requests.append(request)
            state.headers.append(dict(self.headers))
            how = state.behaviour
            if how.hang_s:
                time.sleep(how.hang_s)
            if how.busy > 0:
                how.busy -= 1
                self._send(503, b'{"error": "loading"}')
                return
            if how.status != 200:
                self._send(how.status, b'{"error": {"message": "bad model name"}}')
                return
            if how.html:
                self._send(200, HTML_PAGE, "text/html")
                return
            texts = request["input"]
            with lock:
                vectors = model.embed_documents(texts)
            if how.nan:
                vectors[0][0] = float("nan")
            if how.wrong_dimension:
                vectors = [vector[:100] for vector in vectors]
            if how.one_short:
                vectors = vectors[:-1]
            data = [
                {"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)
            ]
            data.reverse()  # the index field, not the order, says which text a vector is
            body = {"object": "list", "model": request["model"], "data": data}
            self._send(200, json.dumps(body, allow_nan=True).encode())

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return state, server


if __name__ == "__main__":  # in its own process (bench/answer_overhead.py): prints its URL
    from legalrag.embedding import SentenceTransformerEmbedder
    from legalrag.privacy import keep_local

    keep_local(hub_needed=False)
    running, _ = start_embedding_server(
        SentenceTransformerEmbedder("sentence-transformers/all-MiniLM-L6-v2")
    )
    print(running.url, flush=True)
    threading.Event().wait()
