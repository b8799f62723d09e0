"""All wiring in one place: which store, embedder, reranker, generator and support
checker the settings name, built and handed to the parts that use them.

Only the edges (the CLI, the chat process, eval, ingest's entry point, bench)
call this module; the parts themselves receive what they need and never read
the settings to build a backend. A new backend is one new module plus one branch
here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from legalrag.errors import TokenizerError

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from legalrag.app.engine import AnswerEngine
    from legalrag.app.followups import QuestionRewriter
    from legalrag.app.generation import Generator
    from legalrag.app.reranking import Reranker
    from legalrag.app.retrieval import Retriever
    from legalrag.app.support_check import SupportChecker
    from legalrag.embedding import Embedder
    from legalrag.ingest.single import FileIngested, Step
    from legalrag.settings import Settings
    from legalrag.store import ChunkStore, ModelStamp


def make_embedder(settings: Settings) -> Embedder:
    """The embedder the settings name: an embeddings endpoint (``embedding_base_url``),
    else sentence-transformers here (the bundled MiniLM by default)."""
    group = settings.embedding
    if group.base_url:
        from legalrag.embedding_endpoint import EndpointEmbedder

        return EndpointEmbedder(group)
    from legalrag.embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(
        group.model,
        device=group.device,
        batch_size=group.batch_size,
        query_instruction=group.query_instruction,
        trust_remote_code=group.trust_remote_code,
        dtype=group.dtype,
    )


def open_store(settings: Settings, embedder: Embedder | None = None) -> ChunkStore:
    """The configured chunk store, for reading; refuses another model's index when
    ``embedder`` is given. A missing index fails here, before any model loads."""
    from legalrag.store import ModelStamp, require_model
    from legalrag.store.chroma import ChromaChunkStore

    store = ChromaChunkStore.open(settings.store)
    if embedder is not None:
        require_model(store, ModelStamp(embedder.model_name, embedder.dimension))
    return store


def open_store_for_writing(settings: Settings, stamp: ModelStamp) -> ChunkStore:
    """The configured chunk store to ingest into (created on first use, stamped with
    the model and text format; another model's or format's index is refused).
    :meth:`~ChunkStore.close` it."""
    from legalrag.store import require_writable
    from legalrag.store.chroma import ChromaChunkStore

    store = ChromaChunkStore.open_for_writing(settings.store, stamp)
    try:
        require_writable(store, stamp)
    except BaseException:
        store.close()
        raise
    return store


def open_retriever(settings: Settings, embedder: Embedder | None = None) -> Retriever:
    """A retriever over the configured index, with the configured stages.

    ``embedder``: one already loaded (a process shares one), else loaded here.
    """
    from legalrag.app.retrieval import BM25Index, Retriever

    store = open_store(settings)  # a missing index fails before the model loads
    if not settings.retrieval.dense:
        embedder = None
    elif embedder is None:
        embedder = make_embedder(settings)
    if embedder is not None:
        from legalrag.store import ModelStamp, require_model

        require_model(store, ModelStamp(embedder.model_name, embedder.dimension))
    return Retriever(
        settings.retrieval,
        store,
        embedder,
        lambda: BM25Index.for_store(store, settings.bm25_dir),
        context_token_counter(settings),
        make_reranker(settings),
    )


def context_token_counter(settings: Settings) -> Callable[[str], int]:
    """Counts tokens as the generator will: its own tokenizer when named, else tiktoken."""
    if settings.llm_tokenizer:
        from transformers import AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(settings.llm_tokenizer)
        except OSError as exc:
            raise TokenizerError(
                f"cannot load the generator's tokenizer {settings.llm_tokenizer!r}: {exc}"
            ) from None
        return lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])
    from legalrag.tokens import tiktoken_encoding

    encoding = tiktoken_encoding(settings.data_dir / "tiktoken")
    return lambda text: len(encoding.encode(text, disallowed_special=()))


def make_reranker(settings: Settings) -> Reranker | None:
    """The reranker the settings name, if any."""
    if settings.reranker == "cross-encoder":
        from legalrag.app.reranking import CrossEncoderReranker

        assert settings.reranker_model is not None  # checked by Settings
        return CrossEncoderReranker(settings.reranker_model, device=settings.reranker_device_name)
    if settings.reranker == "llm":
        from legalrag.app.reranking import ReasoningReranker

        return ReasoningReranker(make_generator(settings))
    return None


def make_generator(settings: Settings) -> Generator:
    """The configured endpoint, or the offline extractive answerer without one."""
    if settings.llm.base_url:
        from legalrag.app.generation import OpenAICompatibleGenerator

        return OpenAICompatibleGenerator(settings.llm)
    from legalrag.app.generation import ExtractiveGenerator

    return ExtractiveGenerator()


def make_summariser(settings: Settings) -> Callable[[str, str], str] | None:
    """Ingest's ``(title, text) -> summary`` when ``ingest_summaries`` is on: the answer
    model's (``prompts/summary.j2``); None when off."""
    if not (settings.ingest_summaries and settings.llm.base_url):
        return None
    from legalrag.app.summaries import SUMMARY_MAX_TOKENS, ModelSummariser

    return ModelSummariser(make_generator(settings), max_tokens=SUMMARY_MAX_TOKENS)


def make_support_checker(
    settings: Settings, embedder: Embedder | None, generator: Generator
) -> SupportChecker:
    """The NLI cross-encoder's check when asked for (its model loaded here, so a
    missing one fails at start-up); the model's when asked for and the generator can
    answer a plain prompt; else the offline score (with ``embedder``'s cosine when
    there is one)."""
    from legalrag.app import support_check

    if settings.support_check == "nli":
        from legalrag.app.support_nli import NLIModel, nli_support_check

        assert settings.support_nli_model is not None  # checked by Settings
        model = NLIModel(
            settings.support_nli_model,
            labels=settings.support_nli_labels,
            device=settings.support_nli_device or settings.embedding_device,
        )
        return nli_support_check(model)
    if settings.support_check == "llm" and generator.capabilities.complete:
        return support_check.every_answer(support_check.ModelSupportCheck(generator))
    if embedder is None:
        from legalrag.app.citations import word_coverage

        return support_check.every_answer(word_coverage)
    return support_check.embedding_support_check(embedder.embed_documents)


def make_rewriter(settings: Settings, generator: Generator | None) -> QuestionRewriter:
    """The chat's follow-up rewriter: the model when asked for (auto: when an endpoint
    is configured) and the generator can answer a plain prompt, else offline (also
    when there is no generator: the model server cannot be reached)."""
    from legalrag.app.followups import ModelRewriter, OfflineRewriter

    chat = settings.chat
    wants_model = chat.rewrite == "llm" or (chat.rewrite == "auto" and settings.llm.base_url)
    if generator is not None and wants_model and generator.capabilities.complete:
        return ModelRewriter(
            generator,
            max_tokens=chat.rewrite_max_tokens,
            max_chars=settings.max_question_chars,
        )
    return OfflineRewriter()


def make_engine(
    settings: Settings, retriever: Retriever | None = None, generator: Generator | None = None
) -> AnswerEngine:
    """The answer engine over ``retriever`` and ``generator`` (each built here when None)."""
    from legalrag.app.engine import AnswerEngine

    retriever = retriever if retriever is not None else open_retriever(settings)
    generator = generator if generator is not None else make_generator(settings)
    support = make_support_checker(settings, retriever.embedder, generator)
    return AnswerEngine(settings, retriever, generator, support)


def make_probes(settings: Settings, retriever: Retriever) -> dict[str, Callable[[], None]]:
    """The readiness probes of what ``retriever`` and the answering model run on, each
    cheap (no retrieval): the store holds chunks, the embedder embeds a word, the model
    endpoint answers its own ``/models`` (any OpenAI-compatible server has it). Each
    raises when its part is not ready."""
    probes: dict[str, Callable[[], None]] = {}

    def store() -> None:
        if retriever.store.count() == 0:
            raise RuntimeError("the index holds no chunks")

    probes["store"] = store
    embedder = retriever.embedder
    if embedder is not None:

        def embeds() -> None:
            if not embedder.embed_query("health"):
                raise RuntimeError("the embedder returned an empty vector")

        probes["embedder"] = embeds
    group = settings.llm
    if group.base_url:
        import httpx

        url = group.base_url.rstrip("/") + "/models"
        key = group.api_key.get_secret_value() if group.api_key else ""
        headers = {"Authorization": f"Bearer {key}"} if key else {}

        def model() -> None:
            response = httpx.get(url, headers=headers, timeout=min(group.timeout_s, 3.0))
            response.raise_for_status()
            if not isinstance(response.json().get("data"), list):
                raise RuntimeError(f"{url} answered no model list")

        probes["model"] = model
    return probes


def ingest_file(
    settings: Settings,
    path: Path,
    *,
    document_id: str,
    source: str,
    embedder: Embedder | None = None,
    title: str = "",
    on_step: Step | None = None,
    read_lock: AbstractContextManager[Any] | None = None,
) -> FileIngested:
    """One file into the configured index, all or nothing (ingest's entry for an edge
    that adds a document, such as the chat's upload: the edges reach ingest here).

    ``embedder``: the process's own (the chat's retriever's), else loaded here. Raises
    :class:`~legalrag.errors.FileRejectedError` with the reader's reason.
    """
    from legalrag.ingest.single import ingest_file as ingest_one

    return ingest_one(
        settings,
        path,
        document_id=document_id,
        source=source,
        embedder=embedder if embedder is not None else make_embedder(settings),
        title=title,
        on_step=on_step,
        read_lock=read_lock,
    )
