"""Reaching Chroma: the client for the configured location, the embedded index's
writer lock, and the guard that turns a server gone mid-call into one clear error."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING
from urllib.parse import urlsplit

from legalrag.errors import IndexBusyError, StoreUnavailableError

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

    from legalrag.settings import StoreSettings


def make_client(settings: StoreSettings) -> ClientAPI:
    """A Chroma client for the configured location, telemetry off."""
    import chromadb
    from chromadb import errors as chroma_errors
    from chromadb.config import Settings as ChromaSettings

    if settings.chroma_url is None:
        settings.chroma_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(
            path=str(settings.chroma_dir), settings=ChromaSettings(anonymized_telemetry=False)
        )
    url = urlsplit(settings.chroma_url)
    ssl = url.scheme == "https"
    # httpx's verify: the given CA file (a self-signed proxy's certificate), else the
    # system's CAs. Never off: the token would go to whoever answers.
    verify = str(settings.chroma_ca_file) if ssl and settings.chroma_ca_file else None
    chroma_settings = ChromaSettings(anonymized_telemetry=False, chroma_server_ssl_verify=verify)
    headers = {}
    if settings.chroma_auth_token is not None:
        headers["x-chroma-token"] = settings.chroma_auth_token.get_secret_value()
    try:
        client = chromadb.HttpClient(
            host=url.hostname or "localhost",
            port=url.port or (443 if ssl else 8000),
            ssl=ssl,
            headers=headers,
            settings=chroma_settings,
        )
        client.heartbeat()
    except (chroma_errors.ChromaAuthError, chroma_errors.AuthorizationError) as exc:
        # The server is up and said no: the token, not the network, needs fixing.
        raise StoreUnavailableError(
            f"the Chroma server at {settings.chroma_url} refused the request ({exc}): "
            "check LEGALRAG_CHROMA_AUTH_TOKEN"
        ) from None
    except Exception as exc:  # chromadb raises several types for a dead server
        if untrusted_certificate(exc):
            raise StoreUnavailableError(
                f"the Chroma server at {settings.chroma_url} is not trusted: its TLS "
                "certificate does not chain to a trusted CA; set LEGALRAG_CHROMA_CA_FILE "
                "to the CA's certificate (a self-signed server's own cert.pem)"
            ) from None
        raise StoreUnavailableError(
            f"the Chroma server at {settings.chroma_url} is not reachable: {exc}"
        ) from None
    return client


def untrusted_certificate(exc: BaseException) -> bool:
    """True when ``exc`` wraps a failed TLS certificate check (chromadb hides the
    cause behind 'Could not connect to a Chroma server')."""
    import ssl

    seen: BaseException | None = exc
    for _ in range(10):  # a bounded walk: chains can loop through __context__
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def lock_embedded(settings: StoreSettings) -> IO[bytes]:
    """One writer at a time on an embedded index: two would corrupt its files."""
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    handle = (settings.chroma_dir / "legalrag-writer.lock").open("a+b")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise IndexBusyError(
            f"another process is writing to the index at {settings.chroma_dir}; wait for it "
            "to finish, or run a Chroma server (LEGALRAG_CHROMA_URL) for parallel writers"
        ) from None
    return handle


def cannot_return_vectors(exc: Exception) -> bool:
    """True when ``exc`` is a Chroma server failing to send stored vectors back.

    Chroma 1.5.9's Python server (the one that checks a token, sky/chroma.yaml)
    fails on every get or query that includes embeddings ('list' object has no
    attribute 'tolist'); `chroma run` and the embedded client return them.
    """
    return "tolist" in str(exc)


@contextmanager
def talking_to(location: str) -> Iterator[None]:
    """A server that stops answering mid-call is one clear error: writes are
    idempotent, so running the same command again resumes."""
    import httpx

    try:
        yield
    except httpx.TransportError as exc:
        raise StoreUnavailableError(
            f"the Chroma server at {location} stopped answering "
            f"({type(exc).__name__}: {exc}); what was written is kept, and running "
            "the same command again resumes"
        ) from None
