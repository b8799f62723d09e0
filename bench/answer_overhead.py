"""End-to-end `ask` overhead against a loopback LLM that takes no time.

The generator is tests/fake_llm.py: a real HTTP server, in its own process,
speaking the OpenAI chat-completions API, streaming reasoning and answer four
characters per event (as vLLM streams tokens). Each answer cites all 8 sources, one sentence quoted
from each, so verification does its full work. Everything but the model is timed:
prompt build, the HTTP stream and its parsing, citation verification. Retrieval
is benchmarked on its own (bench/query_latency.py) and subtracted here.

Verification's offline support score embeds the answer's sentences with the
embedding model (MiniLM on this CPU): that arithmetic is timed apart, and the
overhead is also given without it. Verification is also timed alone, per answer
sentence: with the offline support score (word coverage + embedding similarity) and
with word coverage only.

With ``--embedding-endpoint`` the question and the answer's sentences are embedded by a
loopback ``/v1/embeddings`` server instead (tests/embedding_server.py, its own process,
serving the bundled MiniLM's vectors as vLLM would serve gte-Qwen2's): what an answer costs
when embedding is a service (sky/embedder.yaml), retrieval's HTTP call included.

Run: .venv/bin/python bench/answer_overhead.py [--quick] [--data-dir DIR] [--questions 40]
     [--embedding-endpoint]
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any

from legalrag.privacy import keep_local

keep_local(hub_needed=False)

ROOT = Path(__file__).resolve().parent
sys.path[:0] = [str(ROOT), str(ROOT.parent / "tests")]
import figures  # noqa: E402
from fake_llm import Script, set_script  # noqa: E402

from legalrag.app.citations import (  # noqa: E402
    split_sentences,
    verify_citations,
    word_coverage,
)
from legalrag.app.engine import AnswerEngine  # noqa: E402
from legalrag.app.retrieval import RetrievedPassage  # noqa: E402
from legalrag.factory import make_engine, open_retriever  # noqa: E402
from legalrag.ingest.run import ingest  # noqa: E402
from legalrag.settings import load_settings  # noqa: E402

SOURCES = 8
REASONING = (
    "The question asks what the sources say. Source 1 addresses the deadline; source 2 "
    "the notice. I will quote each source and cite it, and say nothing they do not say. "
) * 6  # about 1,300 characters: a short R1 reasoning trace


def _answer_from(passages: list[RetrievedPassage]) -> str:
    """One sentence quoted from each source, cited: what a faithful model writes."""
    lines = []
    for marker, passage in enumerate(passages, start=1):
        candidates = [
            s.strip()
            for s in re.split(r"(?<=[.!?])\s+", passage.text)
            if len(s.split()) >= 8 and "[" not in s
        ]
        sentence = candidates[0] if candidates else passage.text[:200]
        lines.append(f"According to the source, {sentence.rstrip('.!?')} [{marker}].")
    return " ".join(lines)


def main() -> None:
    parser = figures.arguments(__doc__, "25 records, 5 questions")
    parser.add_argument("--data-dir", type=Path, help="an index holding the sample corpus")
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument(
        "--embedding-endpoint", action="store_true", help="embed through a loopback /v1/embeddings"
    )
    args, mode = figures.parse(parser)
    count = 5 if args.quick else args.questions

    questions_file = resources.files("legalrag.eval") / "datasets" / "sample.jsonl"
    questions = [
        json.loads(line)["question"]
        for line in questions_file.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    # The model server runs in its own process, as vLLM does.
    server = subprocess.Popen(
        [sys.executable, str(ROOT.parent / "tests" / "fake_llm.py")],
        stdout=subprocess.PIPE,
        text=True,
    )
    url = server.stdout.readline().strip()  # type: ignore[union-attr]
    servers = [server]
    endpoint: dict[str, Any] = {}
    if args.embedding_endpoint:
        embeddings = subprocess.Popen(
            [sys.executable, str(ROOT.parent / "tests" / "embedding_server.py")],
            stdout=subprocess.PIPE,
            text=True,
        )
        servers.append(embeddings)
        endpoint = {"embedding_base_url": embeddings.stdout.readline().strip()}  # type: ignore[union-attr]
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or Path(tmp)
        if args.data_dir is None:
            figures.console.print("ingesting the sample corpus ...")
            ingest(load_settings(data_dir=data_dir), quiet=True, limit=25 if args.quick else None)
        settings = load_settings(
            data_dir=data_dir,
            llm_base_url=url,
            llm_model="fake-r1-distill",
            retrieve_k=SOURCES,
            relevance_floor=-1.0,  # every question gets its 8 sources: no gate
            **endpoint,
        )
        retriever = open_retriever(settings)
        engine = make_engine(settings, retriever)
        try:
            figures_out = _measure(engine, url, questions, count)
        finally:
            for process in servers:
                process.terminate()
                process.wait()
    figures_out["embedding"] = "endpoint (loopback, MiniLM)" if endpoint else "in process"
    figures.show_targets(figures_out["targets"], mode)
    out = args.out or (
        figures.RESULTS_DIR / f"answer_overhead-endpoint-{mode}.json" if endpoint else None
    )
    figures.save("answer_overhead", mode, figures_out, out)


def _measure(engine: AnswerEngine, url: str, questions: list[str], count: int) -> dict[str, Any]:
    retriever = engine.retriever
    rows: dict[str, list[float]] = {
        "retrieve (question embedded)": [],
        "everything but the model": [],
        "prompt build": [],
        "generate (HTTP stream, parse)": [],
        "verify": [],
        "verify: embedding the answer's sentences": [],
        "everything but model arithmetic": [],
    }
    per_sentence: dict[str, list[float]] = {"offline support score": [], "word coverage only": []}
    sources_seen = []
    asked = 0
    for question in questions * (1 + count // len(questions)):
        if asked == count + 2:
            break
        passages = retriever.retrieve(question).passages
        if len(passages) < SOURCES:
            continue
        answer_text = _answer_from(passages)
        set_script(url, Script(reasoning=REASONING, answer=answer_text, chunk_size=4))
        started = time.perf_counter()
        answer = engine.answer(question)
        total_ms = 1000 * (time.perf_counter() - started)
        asked += 1
        if asked <= 2:  # warm-up: first HTTP connection, template compile, tokenizer
            continue
        timings = answer.timings
        overhead = total_ms - timings["retrieve_ms"]
        rows["retrieve (question embedded)"].append(timings["retrieve_ms"] / 1000)
        rows["everything but the model"].append(overhead / 1000)
        rows["generate (HTTP stream, parse)"].append(timings["generate_ms"] / 1000)
        rows["verify"].append(timings["verify_ms"] / 1000)
        rows["prompt build"].append(
            (overhead - timings["generate_ms"] - timings["verify_ms"]) / 1000
        )
        # The embedder's share of verification (MiniLM's arithmetic on the answer's
        # sentences, the sources' vectors being the index's): timed apart, same inputs.
        started = time.perf_counter()
        engine.support_for(answer_text, passages)
        embedding_s = time.perf_counter() - started
        rows["verify: embedding the answer's sentences"].append(embedding_s)
        # Two timings of the same work: on a loaded machine the repeat can take longer
        # than the whole first pass, and a negative time would mean nothing.
        rows["everything but model arithmetic"].append(max(overhead / 1000 - embedding_s, 0.0))
        sources_seen.append(len(answer.sources))
        sentences = len(split_sentences(answer_text))
        for name, make_scorer in (
            ("offline support score", lambda a=answer_text, p=passages: engine.support_for(a, p)),
            ("word coverage only", lambda a=answer_text, p=passages: word_coverage),
        ):
            started = time.perf_counter()
            verify_citations(answer_text, passages, make_scorer())
            per_sentence[name].append((time.perf_counter() - started) / sentences)

    table = [{"part": name, **figures.latency_ms(samples)} for name, samples in rows.items()]
    figures.show(f"ask overhead, {SOURCES} sources, zero model time (ms)", table)
    verification = [
        {"support score": name, **figures.latency_ms(samples)}
        for name, samples in per_sentence.items()
    ]
    figures.show("verification per answer sentence (ms)", verification)
    targets = [
        figures.target(
            f"{name}, {SOURCES} sources, p95",
            figures.latency_ms(rows[name])["p95_ms"],
            50,
            at_most=True,
            unit=" ms",
        )
        for name in ("everything but the model", "everything but model arithmetic")
    ]
    return {"sources": SOURCES, "answers": len(sources_seen), "rows": table,
            "verification_per_sentence": verification, "targets": targets}  # fmt: skip


if __name__ == "__main__":
    main()
