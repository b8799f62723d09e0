"""Adding a document from the chat (issue 18): the page's drop zone and its own route.

``POST /documents?name=<file name>`` takes the file as the raw request body
(``application/octet-stream``: no multipart, so Gradio's upload routes stay refused by
:class:`~legalrag.app.chat.server.RefuseUploads`, and a cross-site form cannot send
one). It sits behind the login like every route. Its type (the name's ending, one of
``upload_types``) and size (``upload_max_bytes``, from ``Content-Length`` before a byte
is read, and again while it streams) are checked first: 415 and 413, nothing kept.

The file is then read, OCR'd, chunked and embedded by ingest's one-file entry
(:func:`legalrag.factory.ingest_file`), one upload at a time, and the answer streams
one JSON line per step (the page's progress bar), the last one ``done`` or ``error``.
A file the readers refuse (encrypted, corrupt, empty) gets their reason, and nothing
of it is kept: no chunk, no BM25 change, no file. Once indexed, the file is kept
under ``<data_dir>/uploads/<id>/`` and the retriever's BM25 index is rebuilt, so the
next question finds it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import secrets
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from legalrag.app.chat.files import UPLOAD_SOURCE, Upload, Uploads, document_id_of, safe_name
from legalrag.app.chat.pages import PDFIUM_LOCK
from legalrag.errors import LegalragError
from legalrag.factory import ingest_file

if TYPE_CHECKING:
    from fastapi import FastAPI

    from legalrag.app.chat.backend import ChatBackend
    from legalrag.settings import Settings

log = logging.getLogger(__name__)

UPLOAD_PATH = "/documents"
RAW_TYPE = "application/octet-stream"
STEP_LABELS = {
    "read": "Reading the file (scanned pages by OCR)",
    "chunk": "Cutting it into passages",
    "embed": "Embedding the passages",
    "write": "Writing them to the index",
    "index": "Updating the keyword index",
}


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size:,} bytes"


def upload_panel(settings: Settings) -> str:
    """The drop zone and file picker, with its limits (read by ``static/upload.js``)."""
    if not settings.chat_upload:
        return ""
    types = ",".join(settings.upload_types)
    shown = ", ".join(t.lstrip(".").upper() for t in settings.upload_types)
    limit = _megabytes(settings.upload_max_bytes)
    return (
        f'<div class="upload-zone" id="upload-zone" data-types="{escape(types)}" '
        f'data-max-bytes="{settings.upload_max_bytes}" data-limit="{escape(limit)}">'
        '<label for="upload-input" class="upload-label"><b>Add a document</b>: drop a file '
        'here or <span class="upload-pick">choose one</span> '
        f'<span class="notice">({escape(shown)}; up to {escape(limit)}). The next question '
        "searches it.</span></label>"
        f'<input type="file" id="upload-input" accept="{escape(types)}">'
        '<div class="upload-status" id="upload-status" role="status" aria-live="polite">'
        '<progress id="upload-progress" max="100" value="0" hidden '
        'aria-label="Adding the document"></progress>'
        '<span id="upload-message"></span></div></div>'
    )


def _line(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, ensure_ascii=False) + "\n").encode("utf-8")


class UploadHandler:
    """Checks, keeps and indexes one uploaded file at a time."""

    def __init__(self, backend: ChatBackend, uploads: Uploads) -> None:
        self.backend = backend
        self.settings = backend.settings
        self.uploads = uploads
        self._one_at_a_time = threading.Lock()

    def refusal(self, name: str, content_type: str, length: str | None) -> tuple[int, str] | None:
        """(status, message) when the request is refused before its body is read."""
        suffix = Path(name).suffix.lower()
        if suffix not in self.settings.upload_types:
            shown = ", ".join(self.settings.upload_types)
            return 415, f"“{name}” is not a type the chat takes ({shown})."
        if content_type.split(";")[0].strip().lower() != RAW_TYPE:
            return 415, f"Send the file as {RAW_TYPE} (the page's upload does)."
        if length is not None and length.isdigit() and int(length) > self.settings.upload_max_bytes:
            return 413, self.too_big(name, int(length))
        return None

    def too_big(self, name: str, size: int) -> str:
        """The message for a file over the size limit."""
        limit = _megabytes(self.settings.upload_max_bytes)
        return f"“{name}” is {_megabytes(size)}: the chat takes files up to {limit}."

    def steps(self, incoming: Path, upload_id: str, name: str, user: str | None) -> Iterator[bytes]:
        """Index the kept file in a worker thread; one JSON line per step, then the end."""
        events: queue.Queue[dict[str, Any]] = queue.Queue()
        worker = threading.Thread(
            target=self._work,
            args=(incoming, upload_id, name, user, events.put),
            name="legalrag-upload",
            daemon=True,
        )
        worker.start()
        while True:
            event = events.get()
            yield _line(event)
            if "done" in event or "error" in event:
                return

    def _work(
        self,
        incoming: Path,
        upload_id: str,
        name: str,
        user: str | None,
        say: Callable[[dict[str, Any]], None],
    ) -> None:
        def step(stage: str, done: int, total: int) -> None:
            say({"stage": stage, "label": STEP_LABELS[stage], "step": done, "of": total})

        with self._one_at_a_time:
            try:
                say(self._indexed(incoming, upload_id, name, user, step))
            except LegalragError as exc:
                say({"error": f"“{name}” was not added: {exc}. Nothing of it was indexed."})
            except Exception as exc:  # a bug: said plainly, the details in the log
                log.exception("indexing the upload %s failed", name)
                say(
                    {
                        "error": f"“{name}” was not added: internal error "
                        f"({type(exc).__name__}); nothing of it was indexed."
                    }
                )
            finally:
                incoming.unlink(missing_ok=True)

    def _indexed(
        self,
        incoming: Path,
        upload_id: str,
        name: str,
        user: str | None,
        step: Callable[[str, int, int], None],
    ) -> dict[str, Any]:
        """Index the file from its partial folder, then keep it; the ``done`` event."""
        existing = self.uploads.get(upload_id)
        if existing is not None:  # the same bytes again: one document
            return {"done": True, "upload_id": upload_id, "message": _added(existing, again=True)}
        self.uploads.discard(upload_id)  # what a crash mid-upload left
        partial = self.uploads.partial(upload_id)
        partial.mkdir(parents=True)
        try:
            path = partial / name
            incoming.rename(path)
            result = ingest_file(
                self.settings,
                path,
                document_id=document_id_of(upload_id, name),
                source=UPLOAD_SOURCE,
                embedder=self.backend.retriever.embedder,
                on_step=step,
                read_lock=PDFIUM_LOCK,
            )
            upload = self.uploads.finish(
                Upload(
                    upload_id=upload_id,
                    name=name,
                    title=result.title,
                    suffix=path.suffix.lower(),
                    document_id=result.document_id,
                    page_starts=tuple(result.page_starts),
                    chunks=result.chunks,
                    user=user,
                    uploaded=datetime.now(UTC).isoformat(timespec="seconds"),
                    folder=partial,
                )
            )
        except BaseException:
            self.uploads.discard(upload_id)
            raise
        step("index", 0, 1)
        self.backend.retriever.reload_bm25()  # now, so the next question does not wait
        step("index", 1, 1)
        return {
            "done": True,
            "upload_id": upload_id,
            "pages": upload.pages,
            "chunks": upload.chunks,
            "warnings": result.warnings,
            "message": _added(upload, again=False),
        }


def _added(upload: Upload, *, again: bool) -> str:
    pages = f"{upload.pages} page{'s' if upload.pages != 1 else ''}, " if upload.pages else ""
    passages = f"{upload.chunks} passage{'s' if upload.chunks != 1 else ''}"
    if again:
        return f"“{upload.name}” is already in the index ({pages}{passages}): ask about it."
    return f"Added “{upload.name}” ({pages}{passages}): ask about it now."


def add_upload_route(
    app: FastAPI, handler: UploadHandler, user_of: Callable[[Request], str | None]
) -> None:
    """``POST /documents?name=…``: the checks, the kept file, the streamed steps."""
    from fastapi.responses import JSONResponse, StreamingResponse
    from starlette.requests import ClientDisconnect

    settings = handler.settings

    @app.post(UPLOAD_PATH, include_in_schema=False)
    async def upload(request: Request) -> Any:
        if not settings.chat_upload:
            return JSONResponse({"error": "Adding documents is off here."}, status_code=404)
        name = safe_name(request.query_params.get("name", ""))
        refused = handler.refusal(
            name, request.headers.get("content-type", ""), request.headers.get("content-length")
        )
        if refused is not None:
            return JSONResponse({"error": refused[1]}, status_code=refused[0])
        handler.uploads.root.mkdir(parents=True, exist_ok=True)
        incoming = handler.uploads.root / f".incoming-{secrets.token_hex(8)}"
        digest, size = hashlib.sha256(), 0
        try:
            with incoming.open("wb") as kept:
                async for part in request.stream():
                    size += len(part)
                    if size > settings.upload_max_bytes:
                        raise OverflowError
                    digest.update(part)
                    kept.write(part)
        except OverflowError:
            incoming.unlink(missing_ok=True)
            return JSONResponse({"error": handler.too_big(name, size)}, status_code=413)
        except ClientDisconnect:
            incoming.unlink(missing_ok=True)
            return JSONResponse({"error": "The upload was cut off."}, status_code=400)
        upload_id = digest.hexdigest()[:16]
        return StreamingResponse(
            handler.steps(incoming, upload_id, name, user_of(request)),
            media_type="application/x-ndjson",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )


def add_document_routes(
    app: FastAPI, backend: ChatBackend, user_of: Callable[[Request], str | None]
) -> None:
    """The upload route, the originals (``/files``) and the pages (``/pages``)."""
    from legalrag.app.chat.files import add_file_routes
    from legalrag.app.chat.pages import add_page_routes

    uploads = Uploads.of(backend.settings.data_dir)
    add_upload_route(app, UploadHandler(backend, uploads), user_of)
    add_file_routes(app, uploads)
    add_page_routes(app, uploads)
