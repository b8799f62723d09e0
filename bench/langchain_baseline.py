"""legalrag against the plain LangChain pipeline a user would otherwise write.

The baseline is the recipe of LangChain's RAG tutorial: RecursiveCharacterTextSplitter
(1,000 characters, 200 overlap), the same embedding model through
HuggingFaceEmbeddings, a langchain-chroma vector store, ``as_retriever(k=5)``, a
prompt, and ChatOpenAI on the same endpoint (tests/fake_llm.py, a real loopback
HTTP server that takes no time, so only the pipelines are compared).

Figures, on the sample corpus and its eval set (eval/datasets/sample.jsonl):
document recall@5 and hit@5 over the answerable questions (both sides without a
relevance gate: this compares rankings), retrieval latency, end-to-end latency
(ours includes citation verification, which the baseline does not do), and the
time each takes to index the corpus.

Run: .venv/bin/python bench/langchain_baseline.py [--quick]
"""

from __future__ import annotations

import json
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
from fake_llm import Script, start_fake_llm  # noqa: E402

from legalrag.embedding import known_model  # noqa: E402
from legalrag.factory import make_engine, open_retriever  # noqa: E402
from legalrag.ingest.records import SourceDocument  # noqa: E402
from legalrag.ingest.run import ingest_items  # noqa: E402
from legalrag.ingest.sources import read_sample  # noqa: E402
from legalrag.settings import load_settings  # noqa: E402

K = 5
ANSWER = "The landlord must return the deposit within the statutory period [1]."


def _langchain_pipeline(records: list[SourceDocument], folder: Path, model: str, url: str):
    """The tutorial recipe, as written there (only the endpoint and model are ours)."""
    from langchain_chroma import Chroma
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnablePassthrough
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_openai import ChatOpenAI
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    documents = splitter.create_documents(
        [r.text for r in records], metadatas=[{"source": r.document_id} for r in records]
    )
    embeddings = HuggingFaceEmbeddings(
        model_name=model, encode_kwargs={"normalize_embeddings": True}
    )
    started = time.perf_counter()
    store = Chroma.from_documents(
        documents, embeddings, persist_directory=str(folder), collection_name="baseline"
    )
    index_s = time.perf_counter() - started
    retriever = store.as_retriever(search_kwargs={"k": K})
    prompt = ChatPromptTemplate.from_messages(
        [
            (
                "system",
                "You are an assistant for question-answering tasks. Use the following "
                "pieces of retrieved context to answer the question. If you don't know "
                "the answer, say that you don't know.\n\n{context}",
            ),
            ("human", "{question}"),
        ]
    )
    llm = ChatOpenAI(base_url=url, api_key="unused", model="fake-r1-distill", temperature=0.6)

    def format_docs(docs: list) -> str:
        return "\n\n".join(doc.page_content for doc in docs)

    chain = (
        {"context": retriever | format_docs, "question": RunnablePassthrough()}
        | prompt
        | llm
        | StrOutputParser()
    )
    return retriever, chain, len(documents), index_s


def _recall(ranked: list[str], gold: set[str]) -> tuple[float, float]:
    found = gold & set(ranked[:K])
    return len(found) / len(gold), float(bool(found))


def main() -> None:
    parser = figures.arguments(__doc__, "12 records, 5 questions")
    args, mode = figures.parse(parser)

    base = load_settings()
    items = read_sample(max_chars=base.max_document_chars)
    records = [r for r in items if isinstance(r, SourceDocument)][: 12 if args.quick else None]
    questions_file = resources.files("legalrag.eval") / "datasets" / "sample.jsonl"
    questions = [
        q
        for q in (json.loads(line) for line in questions_file.read_text().splitlines() if line)
        if q["gold_source_ids"]
    ][: 5 if args.quick else None]
    known = known_model(base.embedding_model)
    model = str(known.bundled_path) if known and known.bundled_path else base.embedding_model

    fake, server = start_fake_llm()
    fake.script = Script(answer=ANSWER, chunk_size=4)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = load_settings(
                data_dir=Path(tmp) / "legalrag",
                llm_base_url=fake.url,
                llm_model="fake-r1-distill",
                retrieve_k=K,
                relevance_floor=-1.0,
            )
            ours_report = ingest_items(settings, iter(records), quiet=True)
            retriever = open_retriever(settings)
            engine = make_engine(settings, retriever)
            lc_retriever, chain, lc_chunks, lc_index_s = _langchain_pipeline(
                records, Path(tmp) / "langchain", model, fake.url
            )
            result = _compare(questions, retriever, engine, lc_retriever, chain)
            result["indexing"] = [
                {"pipeline": "legalrag", "chunks": ours_report.chunks,
                 "seconds": round(ours_report.seconds, 1)},
                {"pipeline": "LangChain recipe", "chunks": lc_chunks,
                 "seconds": round(lc_index_s, 1)},
            ]  # fmt: skip
    finally:
        server.shutdown()
    figures.show(f"sample eval set, {len(questions)} answerable questions, k={K}", result["rows"])
    figures.show("indexing the sample corpus", result["indexing"])
    figures.save("langchain_baseline", mode, {"records": len(records), **result}, args.out)


def _compare(questions, retriever, engine, lc_retriever, chain) -> dict[str, Any]:
    ours = {"recall": [], "hit": [], "retrieve": [], "answer": []}
    theirs = {"recall": [], "hit": [], "retrieve": [], "answer": []}
    retriever.retrieve("warm-up"), lc_retriever.invoke("warm-up"), chain.invoke("warm-up")
    engine.answer("warm-up")
    for question in questions:  # alternating, so drift hits both alike
        text, gold = question["question"], set(question["gold_source_ids"])
        started = time.perf_counter()
        passages = retriever.retrieve(text, k=K).passages
        ours["retrieve"].append(time.perf_counter() - started)
        recall, hit = _recall([p.document_id for p in passages], gold)
        ours["recall"].append(recall), ours["hit"].append(hit)

        started = time.perf_counter()
        docs = lc_retriever.invoke(text)
        theirs["retrieve"].append(time.perf_counter() - started)
        recall, hit = _recall([d.metadata["source"] for d in docs], gold)
        theirs["recall"].append(recall), theirs["hit"].append(hit)

        started = time.perf_counter()
        engine.answer(text)
        ours["answer"].append(time.perf_counter() - started)
        started = time.perf_counter()
        chain.invoke(text)
        theirs["answer"].append(time.perf_counter() - started)

    rows = []
    for name, got in (("legalrag (hybrid)", ours), ("LangChain recipe", theirs)):
        retrieve, answer = figures.latency_ms(got["retrieve"]), figures.latency_ms(got["answer"])
        rows.append(
            {
                "pipeline": name,
                f"recall@{K}": round(sum(got["recall"]) / len(got["recall"]), 3),
                f"hit@{K}": round(sum(got["hit"]) / len(got["hit"]), 3),
                "retrieve p50 ms": retrieve["p50_ms"],
                "retrieve p95 ms": retrieve["p95_ms"],
                "answer p50 ms": answer["p50_ms"],
                "answer p95 ms": answer["p95_ms"],
            }
        )
    return {"questions": len(questions), "rows": rows}


if __name__ == "__main__":
    main()
