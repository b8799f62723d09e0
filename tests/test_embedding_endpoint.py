"""The embeddings-endpoint backend against a real loopback server serving MiniLM's vectors."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from legalrag.embedding import Embedder
from legalrag.embedding_endpoint import EndpointEmbedder
from legalrag.errors import EXIT_BACKEND, EmbeddingEndpointError
from legalrag.factory import make_embedder, open_retriever
from tests.conftest import free_port, run_cli
from tests.embedding_server import Behaviour, EmbeddingServer, start_embedding_server

QUESTIONS = [
    "Can my landlord keep my security deposit?",
    "What happens after a DUI arrest?",
    "Do I get paid overtime?",
]


@pytest.fixture(scope="module")
def server(embedder) -> Iterator[EmbeddingServer]:
    state, http = start_embedding_server(embedder)
    yield state
    http.shutdown()


@pytest.fixture
def endpoint(server: EmbeddingServer) -> EmbeddingServer:
    server.behaviour = Behaviour()
    server.requests.clear()
    server.headers.clear()
    return server


def remote(settings, url: str, **more) -> EndpointEmbedder:
    """The factory's embedder for ``settings`` pointed at ``url``."""
    update = {"embedding_base_url": url, "embedding_retry_backoff_s": 0.01, **more}
    made = make_embedder(settings.model_copy(update=update))
    assert isinstance(made, EndpointEmbedder)
    return made


def test_same_vectors_and_facts_as_the_local_model(sample_index, embedder, endpoint) -> None:
    settings, _ = sample_index
    client = remote(settings, endpoint.url, embedding_batch_size=2)
    assert isinstance(client, Embedder)
    assert (client.model_name, client.dimension) == (embedder.model_name, embedder.dimension)
    assert client.max_tokens == embedder.max_tokens  # the local tokenizer counts
    text = "The landlord must return the deposit within 21 days."
    assert client.count_tokens(text) == embedder.count_tokens(text)
    texts = [f"{text} Clause {i}." for i in range(5)]
    endpoint.requests.clear()
    np.testing.assert_allclose(
        client.embed_documents(texts), embedder.embed_documents(texts), atol=1e-5
    )
    assert [len(r["input"]) for r in endpoint.requests] == [2, 2, 1]  # batched
    assert endpoint.requests[0]["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    np.testing.assert_allclose(
        client.embed_query(QUESTIONS[0]), embedder.embed_query(QUESTIONS[0]), atol=1e-5
    )
    assert client.embed_documents([]) == []


def test_the_query_instruction_is_added_by_the_client(sample_index, endpoint) -> None:
    settings, _ = sample_index
    client = remote(settings, endpoint.url, embedding_query_instruction="Query: ")
    client.embed_query("Is a verbal lease binding?")
    assert endpoint.requests[-1]["input"] == ["Query: Is a verbal lease binding?"]


def test_same_retrieval_results_on_the_sample_corpus(sample_index, embedder, endpoint) -> None:
    settings, _ = sample_index
    local = open_retriever(settings, embedder)
    served = open_retriever(settings.model_copy(update={"embedding_base_url": endpoint.url}))
    assert isinstance(served.embedder, EndpointEmbedder)  # the factory's choice, not ours
    for question in QUESTIONS:
        ours = [p.id for p in local.retrieve(question).passages]
        theirs = [p.id for p in served.retrieve(question).passages]
        assert ours and ours == theirs


def test_the_api_key_is_sent_as_a_bearer_token(sample_index, endpoint) -> None:
    settings, _ = sample_index
    remote(settings, endpoint.url, embedding_api_key="s3cret")
    assert endpoint.headers[-1]["Authorization"] == "Bearer s3cret"


def test_a_busy_server_is_retried_with_backoff(sample_index, endpoint) -> None:
    settings, _ = sample_index
    client = remote(settings, endpoint.url, embedding_retries=2)
    endpoint.behaviour = Behaviour(busy=2)
    assert len(client.embed_query("deposit")) == 384
    endpoint.behaviour = Behaviour(busy=5)
    with pytest.raises(EmbeddingEndpointError, match="HTTP 503 after 3 tries"):
        client.embed_query("deposit")


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        (Behaviour(html=True), "not an embeddings response \\(text/html"),
        (Behaviour(nan=True), "NaN"),
        (Behaviour(wrong_dimension=True), "100-dimensional vector from a 384-dimensional"),
        (Behaviour(one_short=True), "2 vectors for 3 texts"),
        (Behaviour(status=404), "HTTP 404: .*bad model name"),
        (Behaviour(hang_s=1.5), "no answer within 0.5 s"),
    ],
)
def test_garbage_and_silence_are_one_line_backend_errors(
    sample_index, endpoint, behaviour: Behaviour, message: str
) -> None:
    settings, _ = sample_index
    client = remote(settings, endpoint.url, embedding_retries=0, embedding_timeout_s=0.5)
    endpoint.behaviour = behaviour
    with pytest.raises(EmbeddingEndpointError, match=message) as caught:
        client.embed_documents(["one", "two", "three"])
    assert caught.value.exit_code == EXIT_BACKEND
    assert "\n" not in str(caught.value)
    assert client.health() is not None  # the probe says so too
    endpoint.behaviour = Behaviour()
    assert client.health() is None


def test_a_down_endpoint_fails_the_cli_with_exit_3(sample_index, tmp_path) -> None:
    settings, _ = sample_index
    down = f"http://127.0.0.1:{free_port()}/v1"
    env = {
        "LEGALRAG_DATA_DIR": str(settings.data_dir),
        "LEGALRAG_EMBEDDING_BASE_URL": down,
        "LEGALRAG_EMBEDDING_RETRIES": "0",
    }
    result = run_cli("retrieve", "Can my landlord keep my deposit?", env=env)
    assert result.returncode == EXIT_BACKEND, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot connect" in lines[0] and down in lines[0]
