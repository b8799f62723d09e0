"""A real HTTP server on 127.0.0.1 that plays vLLM's OpenAI-compatible API.

Each test sets a script: how to answer the next chat completion (reasoning in
fields, inline <think>, or only </think>; a cut-off; HTTP 500; a silent server; a
stream that drips; an HTML page with status 200; a body that is not JSON). Requests
are recorded so tests can check what was sent.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# What a web server (not the API) answers at a wrong base URL, with status 200.
HTML_PAGE = b"<!doctype html><html><body><h1>Welcome</h1></body></html>"


@dataclass
class Script:
    """How the server answers chat completions."""

    answer: str = ""
    reasoning: str = ""
    reasoning_as: str = "fields"  # fields | think | close_only | none
    finish_reason: str = "stop"
    status: int = 200
    hang_s: float = 0.0  # silence before answering (a busy or stuck server)
    garbage: bool = False
    chunk_size: int = 7
    verdict_logprobs: dict[str, float] | None = None  # logprobs of the final token's options
    judge_answer: str | None = None  # the reply to non-streamed requests, when different
    delay_s: float = 0.0  # pause before each streamed delta, so a browser sees the stream
    stream_error: str | None = None  # an error event after the reasoning, as vLLM sends one
    error_after: int = 0  # with stream_error: this many answer deltas first (a cut mid-answer)
    broken_event: bool = False  # an event whose data is not JSON, after the reasoning
    html: bool = False  # status 200 with a web page (a base URL that is not the /v1 API)
    body_drip_s: float = 0.0  # a non-streamed body sent a few bytes at a time, this far apart
    chunked: bool = False  # stream with HTTP/1.1 chunked framing (vLLM's), not HTTP/1.0's close


@dataclass
class FakeLLM:
    """The running server: its URL, its script, what it received."""

    url: str
    script: Script = field(default_factory=Script)
    requests: list[dict] = field(default_factory=list)


def _content(script: Script) -> tuple[list[str], list[str]]:
    """(reasoning deltas for fields, content deltas)."""

    def pieces(text: str) -> list[str]:
        return [text[i : i + script.chunk_size] for i in range(0, len(text), script.chunk_size)]

    if script.reasoning_as == "fields":
        return pieces(script.reasoning), pieces(script.answer)
    if script.reasoning_as == "think":
        return [], pieces(f"<think>{script.reasoning}</think>\n\n{script.answer}")
    if script.reasoning_as == "close_only":
        return [], pieces(f"{script.reasoning}</think>\n\n{script.answer}")
    return [], pieces(script.answer)


def start_fake_llm() -> tuple[FakeLLM, ThreadingHTTPServer]:
    """Start the server on a free port; the caller shuts it down."""
    state = FakeLLM(url="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def handle(self) -> None:
            # A client that gave up (its deadline passed) closes mid-answer: not an error here.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                super().handle()

        def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _drip(self, body: bytes, script: Script) -> None:
            """The whole body, declared up front, then sent a few bytes at a time."""
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for i in range(0, len(body), script.chunk_size):
                self.wfile.write(body[i : i + script.chunk_size])
                self.wfile.flush()
                time.sleep(script.body_drip_s)

        def do_GET(self) -> None:
            if state.script.html:
                self._send(200, HTML_PAGE, "text/html; charset=utf-8")
            elif self.path.rstrip("/").endswith("/models"):
                body = {"object": "list", "data": [{"id": "fake-r1-distill", "object": "model"}]}
                self._send(200, json.dumps(body).encode())
            else:
                self._send(404, b"{}")

        def do_PUT(self) -> None:
            # The script, from whoever started this server in its own process
            # (bench/answer_overhead.py: a server in the measured process would
            # compete with it for the interpreter, which vLLM never does).
            if self.path != "/_script":
                self._send(404, b"{}")
                return
            length = int(self.headers.get("Content-Length", 0))
            state.script = Script(**json.loads(self.rfile.read(length)))
            self._send(200, b"{}")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            request = json.loads(self.rfile.read(length) or b"{}")
            state.requests.append(request)
            script = state.script
            if script.hang_s:
                time.sleep(script.hang_s)
            if script.status != 200:
                self._send(script.status, b'{"error": {"message": "boom"}}')
                return
            if script.garbage:
                self._send(200, b"<html>not json</html>", "text/event-stream")
                return
            if script.html:
                self._send(200, HTML_PAGE, "text/html; charset=utf-8")
                return
            if not request.get("stream") and script.judge_answer is not None:
                script = Script(**{**script.__dict__, "answer": script.judge_answer})
            thoughts, contents = _content(script)
            if not request.get("stream"):
                message = {"role": "assistant", "content": "".join(contents)}
                if thoughts:
                    message["reasoning_content"] = "".join(thoughts)
                choice = {"index": 0, "message": message, "finish_reason": script.finish_reason}
                if request.get("logprobs") and script.verdict_logprobs:
                    words = script.answer.split()
                    tokens = [
                        {"token": w, "logprob": -0.01, "bytes": None, "top_logprobs": []}
                        for w in words[:-1]
                    ]
                    options = [
                        {"token": t, "logprob": lp, "bytes": None}
                        for t, lp in script.verdict_logprobs.items()
                    ]
                    chosen = max(options, key=lambda o: o["logprob"])
                    tokens.append({**chosen, "top_logprobs": options})
                    choice["logprobs"] = {"content": tokens}
                body = {
                    "id": "x",
                    "object": "chat.completion",
                    "created": 0,
                    "model": request["model"],
                    "choices": [choice],
                }
                if script.body_drip_s:
                    self._drip(json.dumps(body).encode(), script)
                    return
                self._send(200, json.dumps(body).encode())
                return
            if script.chunked:  # as vLLM (uvicorn) streams: HTTP/1.1, chunked framing
                self.protocol_version = "HTTP/1.1"
                self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            if script.chunked:
                self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()

            def send(data: bytes) -> None:
                self.wfile.write(
                    f"{len(data):x}\r\n".encode() + data + b"\r\n" if script.chunked else data
                )
                self.wfile.flush()

            def event(delta: dict, finish: str | None = None) -> None:
                if script.delay_s:
                    time.sleep(script.delay_s)
                chunk = {
                    "id": "x",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": request["model"],
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                }
                send(f"data: {json.dumps(chunk)}\n\n".encode())

            try:
                event({"role": "assistant", "content": ""})
                for thought in thoughts:
                    event({"reasoning_content": thought})
                for content in contents[: script.error_after if script.stream_error else 0]:
                    event({"content": content})
                if script.stream_error:
                    error = {"message": script.stream_error, "type": "InternalServerError"}
                    send(f"data: {json.dumps({'error': error})}\n\n".encode())
                    return
                if script.broken_event:
                    send(b'data: {"choices": [\n\n')
                    return
                for content in contents:
                    event({"content": content})
                event({}, script.finish_reason)
                send(b"data: [DONE]\n\n")
            finally:
                if script.chunked:
                    self.wfile.write(b"0\r\n\r\n")  # the body's end, however it ended
                    self.wfile.flush()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return state, server


def set_script(url: str, script: Script) -> None:
    """Set the script of a server running in another process (see ``__main__``)."""
    import urllib.request
    from dataclasses import asdict

    base = url.removesuffix("/v1")
    body = json.dumps(asdict(script)).encode()
    request = urllib.request.Request(f"{base}/_script", data=body, method="PUT")
    with urllib.request.urlopen(request, timeout=10):
        pass


if __name__ == "__main__":  # a server in its own process: prints its URL, runs until killed
    running, _ = start_fake_llm()
    print(running.url, flush=True)
    threading.Event().wait()
