"""A real HTTP server on 127.0.0.1 that plays a RAGAS judge behind the OpenAI API.

ragas 0.4 (through instructor, JSON mode) puts the JSON schema of the reply it
wants in the system message; the server reads that schema's title and answers in
that shape, with fixed, known verdicts so that tests can check the figures:

- StatementGeneratorOutput: three statements (the answer's claims);
- NLIStatementOutput: verdicts 1, 1, 0 -> faithfulness 2/3;
- AnswerRelevanceOutput: the question :data:`GENERATED_QUESTION`, committal;
- ContextPrecisionOutput: verdict 1 for every context -> context precision 1.0;
- ContextRecallOutput: two reference statements, attributed 1 and 0 -> recall 0.5.

A request whose conversation contains ``malformed_when`` gets a reply that is not
JSON, every time (so instructor's retries fail too); requests are recorded.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GENERATED_QUESTION = "How long does a landlord have to return a security deposit?"
_TITLE = re.compile(r'"title":\s*"(\w+Output)"')


def _reply(schema: str) -> dict:
    if schema == "StatementGeneratorOutput":
        return {"statements": ["Claim one.", "Claim two.", "Claim three."]}
    if schema == "NLIStatementOutput":
        return {
            "statements": [
                {"statement": s, "reason": "checked", "verdict": v}
                for s, v in (("Claim one.", 1), ("Claim two.", 1), ("Claim three.", 0))
            ]
        }
    if schema == "AnswerRelevanceOutput":
        return {"question": GENERATED_QUESTION, "noncommittal": 0}
    if schema == "ContextPrecisionOutput":
        return {"reason": "useful", "verdict": 1}
    if schema == "ContextRecallOutput":
        return {
            "classifications": [
                {"statement": "First.", "reason": "in context", "attributed": 1},
                {"statement": "Second.", "reason": "not in context", "attributed": 0},
            ]
        }
    return {}


@dataclass
class FakeJudge:
    """The running server: its URL, what makes it answer garbage, what it received."""

    url: str
    malformed_when: str | None = None
    requests: list[dict] = field(default_factory=list)

    def prompts(self) -> list[str]:
        """Every user prompt received, in order."""
        return [r["messages"][-1]["content"] for r in self.requests]


def start_fake_judge() -> tuple[FakeJudge, ThreadingHTTPServer]:
    """Start the judge on a free port; the caller shuts it down."""
    state = FakeJudge(url="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def _send(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                self._send(200, {"object": "list", "data": [{"id": "fake-judge"}]})
            else:
                self._send(404, {})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            request = json.loads(self.rfile.read(length) or b"{}")
            state.requests.append(request)
            system = " ".join(m["content"] for m in request["messages"] if m["role"] == "system")
            # The whole conversation: instructor's retries append a correction request
            # after the first prompt, and those must fail too.
            conversation = " ".join(str(m.get("content")) for m in request["messages"])
            titles = _TITLE.findall(system)
            if state.malformed_when and state.malformed_when in conversation:
                content = "Sure! Here is my verdict: mostly faithful, I think."
            else:
                content = json.dumps(_reply(titles[-1] if titles else ""))
            self._send(
                200,
                {
                    "id": "j",
                    "object": "chat.completion",
                    "created": 0,
                    "model": request.get("model", "fake-judge"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": content},
                            "finish_reason": "stop",
                        }
                    ],
                },
            )

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return state, server
