"""Offline verification latency: one answer of ten claim sentences over sixteen sources.

The sources are sixteen posts of the bundled sample corpus (each a fresh copy per
answer, so no cache of an earlier answer helps); the answer quotes, paraphrases and
plants errors (a flipped "not", swapped parties, a changed number, a case and a
statute) across them, as eval's adversarial set does. The word-coverage support
score is used, so the figure is the claim checks' own cost, not the embedder's.
Target (issue 15): p95 < 150 ms per answer on this CPU.

Run: .venv/bin/python bench/verify_latency.py [--quick] [--out FILE]
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import figures

from legalrag.app.citations import split_passage, verify_citations
from legalrag.ingest.sources import sample_corpus_file

SOURCES = 16
TARGET_MS = 150


@dataclass(frozen=True)
class _Source:
    id: str
    text: str
    start: int = 0
    jurisdiction: str = ""


def _workload() -> tuple[str, list[str]]:
    lines = sample_corpus_file().read_text(encoding="utf-8").splitlines()[:SOURCES]
    texts = [json.loads(line)["text"][:3400] for line in lines]
    claims = []
    for number, text in enumerate(texts[:10], start=1):
        sentence = max(split_passage(text), key=len).strip().rstrip(".")
        if number % 3 == 0:
            sentence = sentence.replace(" not ", " ") if " not " in sentence else f"No {sentence}"
        claims.append(f"{sentence} [{number}][{number + 6}].")
    claims[4] = "Under Tex. Prop. Code § 92.109, a landlord owes $100 within 30 days [5]."
    claims[6] = "See Smith v. Jones, 123 S.W.3d 456 (Tex. 2003) [7]."
    return " ".join(claims), texts


def main() -> None:
    parser = figures.arguments(__doc__ or "", "20 answers instead of 200")
    args, mode = figures.parse(parser)
    answer, texts = _workload()
    count = 20 if mode == "quick" else 200
    verify_citations(answer, [_Source("warm", t) for t in texts])  # eyecite loads its tables
    samples = []
    for run in range(count):
        sources = [_Source(f"s{i}", f"{t} Rider {run}-{i}.") for i, t in enumerate(texts)]
        started = time.perf_counter()
        verify_citations(answer, sources)
        samples.append(time.perf_counter() - started)
    latency = figures.latency_ms(samples)
    figures.show("offline verification, one answer (10 sentences, 16 sources)", [latency])
    targets = [figures.target("verify p95", latency["p95_ms"], TARGET_MS, at_most=True, unit=" ms")]
    figures.show_targets(targets, mode)
    figures.save("verify_latency", mode, {"latency": latency, "targets": targets}, args.out)


if __name__ == "__main__":
    main()
