"""The files added from the chat, kept under ``<data_dir>/uploads/<id>/``, and the route
that serves an original back (``GET /files/<id>``, behind the login like every route).

An upload's id is the first 16 hex digits of its bytes' SHA-256: the same file sent
twice is one upload, one document. Its folder holds the file under a safe name and
``upload.json`` (its name, title, type, where each page begins in its text); a folder
is renamed into place only once its document is indexed, so a folder without the
``.partial`` ending is always a whole upload.
"""

from __future__ import annotations

import json
import re
import shutil
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

    from legalrag.app.answers import AnswerSource

UPLOAD_SOURCE = "chat-upload"
"""The ``source`` of every chunk of an uploaded document."""
META_FILE = "upload.json"
PARTIAL = ".partial"
_ID = re.compile(r"^[0-9a-f]{16}$")
_UNSAFE = re.compile(r"[^\w.\- ]+")
MEDIA_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".html": "text/plain; charset=utf-8",  # shown as text: an upload's script never runs
    ".htm": "text/plain; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
PAGED = (".pdf", ".png", ".jpg", ".jpeg")
"""The types whose pages the chat can show as images."""


def safe_name(name: str) -> str:
    """A file name that is one plain path part: no folders, no control characters."""
    base = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    cleaned = _UNSAFE.sub("_", base).strip(" .") or "document"
    stem, dot, suffix = cleaned.rpartition(".")
    if not dot:
        return cleaned[:120]
    return f"{stem[:100]}.{suffix[:10]}"


def document_id_of(upload_id: str, name: str) -> str:
    """The document id of an upload's chunks: ``upload/<id>/<name>``."""
    return f"upload/{upload_id}/{name}"


@dataclass(frozen=True)
class Upload:
    """One upload as its ``upload.json`` records it."""

    upload_id: str
    name: str
    title: str
    suffix: str
    document_id: str
    page_starts: tuple[int, ...]
    chunks: int
    user: str | None
    uploaded: str
    folder: Path

    @property
    def path(self) -> Path:
        """The original file."""
        return self.folder / self.name

    @property
    def pages(self) -> int:
        """How many pages it has (0: not a paged document)."""
        return len(self.page_starts)

    def page_of(self, offset: int) -> int:
        """The page holding the document text's character ``offset`` (1-based)."""
        return max(1, sum(1 for start in self.page_starts if start <= offset))

    def as_json(self) -> dict[str, Any]:
        """What ``upload.json`` holds (the folder is where it lies, not written)."""
        data = asdict(self)
        data.pop("folder")
        data["page_starts"] = list(self.page_starts)
        return data


class Uploads:
    """The uploads folder of one data dir."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def of(cls, data_dir: Path) -> Uploads:
        """The uploads of a data dir: ``<data_dir>/uploads``."""
        return cls(data_dir / "uploads")

    @property
    def page_cache(self) -> Path:
        """Where pages rendered for the chat are kept: ``<data_dir>/page-images``."""
        return self.root.parent / "page-images"

    def folder(self, upload_id: str) -> Path:
        """Where a whole upload lies."""
        return self.root / upload_id

    def partial(self, upload_id: str) -> Path:
        """Where an upload lies while its document is indexed."""
        return self.root / (upload_id + PARTIAL)

    def get(self, upload_id: str) -> Upload | None:
        """The whole upload of this id, or None (no such id, half-done, or unreadable)."""
        if not _ID.match(upload_id):
            return None
        meta = self.folder(upload_id) / META_FILE
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
            data["page_starts"] = tuple(int(s) for s in data["page_starts"])
            return Upload(**data, folder=meta.parent)
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def of_source(self, source: AnswerSource) -> Upload | None:
        """The upload a source's chunk was cut from, or None when it is not one."""
        parts = (source.document_id or "").split("/")
        if len(parts) < 3 or parts[0] != "upload":
            return None
        upload = self.get(parts[1])
        # The id is the upload's own (not a file of another source named alike).
        return upload if upload is not None and upload.document_id == source.document_id else None

    def finish(self, upload: Upload) -> Upload:
        """Record ``upload`` in its partial folder and rename that into place."""
        partial = self.partial(upload.upload_id)
        (partial / META_FILE).write_text(json.dumps(upload.as_json()), encoding="utf-8")
        final = self.folder(upload.upload_id)
        partial.rename(final)
        return Upload(**{**asdict(upload), "folder": final})

    def discard(self, upload_id: str) -> None:
        """Remove a partial upload (a refused or failed one): no stray file is left."""
        shutil.rmtree(self.partial(upload_id), ignore_errors=True)


def add_file_routes(app: FastAPI, uploads: Uploads) -> None:
    """``GET /files/<id>``: the original file, shown in the browser (a PDF opens at the
    page its link's ``#page=N`` names)."""
    from fastapi.responses import FileResponse, PlainTextResponse

    @app.get("/files/{file_id}", include_in_schema=False)
    def original(file_id: str) -> Any:
        upload = uploads.get(file_id)
        if upload is None or not upload.path.is_file():
            return PlainTextResponse("No such document.", status_code=404)
        return FileResponse(
            upload.path,
            media_type=MEDIA_TYPES.get(upload.suffix, "application/octet-stream"),
            content_disposition_type="inline",
            filename=upload.name,
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private"},
        )
