"""The Embedder: the bundled model offline, normalised vectors, query-side instruction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from legalrag.embedding import (
    Embedder,
    SentenceTransformerEmbedder,
    known_model,
    model_is_local,
)
from legalrag.errors import EmbeddingModelError
from legalrag.factory import make_embedder
from legalrag.settings import load_settings


def test_bundled_model_loads_offline_with_its_real_dimensions(embedder) -> None:
    assert isinstance(embedder, Embedder)
    assert embedder.model_name == "sentence-transformers/all-MiniLM-L6-v2"
    assert embedder.dimension == 384
    assert embedder.max_tokens == 254  # 256 less [CLS] and [SEP]
    assert model_is_local("all-MiniLM-L6-v2")


def test_vectors_are_normalised_and_meaningful(embedder) -> None:
    docs = embedder.embed_documents(
        [
            "The landlord must return the security deposit within 21 days.",
            "A DUI conviction can suspend your driver's license.",
        ]
    )
    query = np.asarray(embedder.embed_query("When do I get my deposit back?"))
    vectors = np.asarray(docs)
    assert vectors.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ query > vectors[1] @ query
    assert embedder.embed_documents([]) == []


def test_instruction_goes_on_the_query_side_only() -> None:
    instruction = "Instruct: Given a legal question, retrieve passages that answer it\nQuery: "
    with_instruction = SentenceTransformerEmbedder(
        "all-MiniLM-L6-v2", query_instruction=instruction
    )
    question = "Can my landlord keep my deposit?"
    np.testing.assert_allclose(
        with_instruction.embed_query(question),
        with_instruction.embed_documents([instruction + question])[0],
        atol=1e-5,
    )
    plain = with_instruction.embed_documents([question])[0]
    assert not np.allclose(with_instruction.embed_query(question), plain, atol=1e-3)


def test_production_model_facts() -> None:
    gte = known_model("Alibaba-NLP/gte-Qwen2-7B-instruct")
    assert gte is not None and gte.trust_remote_code
    assert gte.query_instruction == (
        "Instruct: Given a legal question, retrieve passages that answer it\nQuery: "
    )
    assert not model_is_local("Alibaba-NLP/gte-Qwen2-7B-instruct")


def test_an_unavailable_model_is_a_clear_error(tmp_path: Path) -> None:
    settings = load_settings(embedding_model="no-such-org/no-such-model", data_dir=tmp_path)
    with pytest.raises(EmbeddingModelError, match="no-such-org/no-such-model"):
        make_embedder(settings)


def test_a_lower_precision_loads_and_gives_the_same_vectors(embedder, tmp_path: Path) -> None:
    # The GPU jobs load gte-Qwen2-7B in bfloat16 (LEGALRAG_EMBEDDING_DTYPE): half the memory
    # of its published float32 weights, with vectors that rank passages the same way.
    settings = load_settings(data_dir=tmp_path, embedding_dtype="bfloat16")
    half = make_embedder(settings)
    assert {str(p.dtype) for p in half._model.parameters()} == {"torch.bfloat16"}
    texts = ["A landlord must return a deposit within 21 days.", "Overtime pay in Texas."]
    low = np.array(half.embed_documents(texts), dtype=np.float32)
    full = np.array(embedder.embed_documents(texts))
    assert np.allclose(np.linalg.norm(low, axis=1), 1.0, atol=1e-2)
    assert (np.sum(low * full, axis=1) > 0.99).all()
