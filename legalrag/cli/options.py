"""The flags several commands share, declared once, and the settings they build.

A command takes a keyword-only ``shared: SharedOptions`` and is decorated with
:func:`shared_options`, naming which of the shared flags it offers; the decorator
puts those flags in the command's signature in place of ``shared`` (typer reads
the signature) and hands the command one :class:`SharedOptions`, whose
:meth:`~SharedOptions.settings` loads the effective settings with the command's
own flags on top.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from legalrag.privacy import keep_local

if TYPE_CHECKING:
    from legalrag.settings import Settings

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]

# name -> (type, option): the flags that override settings, in the order --help lists them.
_SHARED: dict[str, tuple[Any, Any]] = {
    "config": (
        Path | None,
        typer.Option("--config", help="TOML settings file (default ./legalrag.toml)."),
    ),
    "data_dir": (
        Path | None,
        typer.Option("--data-dir", help="Index and logs folder [LEGALRAG_DATA_DIR]."),
    ),
    "chroma_url": (
        str | None,
        typer.Option("--chroma-url", help="Chroma server URL [LEGALRAG_CHROMA_URL]."),
    ),
    "collection": (str | None, typer.Option("--collection", help="Chroma collection.")),
    "embedding_model": (
        str | None,
        typer.Option("--embedding-model", help="Embedding model [LEGALRAG_EMBEDDING_MODEL]."),
    ),
}

# The sets of shared flags the commands offer.
CONFIG = ("config",)
LOGS = ("config", "data_dir")
STORE = ("config", "data_dir", "chroma_url", "collection")
INDEX = (*STORE, "embedding_model")


@dataclass(frozen=True)
class SharedOptions:
    """The shared flags one command was given (None: not given, or not offered)."""

    config: Path | None = None
    data_dir: Path | None = None
    chroma_url: str | None = None
    collection: str | None = None
    embedding_model: str | None = None

    def settings(
        self, *, hub_needed: Callable[[Settings], bool] | None = None, **flags: Any
    ) -> Settings:
        """Effective settings, this command's ``flags`` on top; then the privacy switches.

        ``hub_needed`` says whether the command itself needs the Hugging Face hub
        (beyond an embedding model that is not on disk).
        """
        shared = {name: getattr(self, name) for name in _SHARED if name != "config"}
        return load(self.config, hub_needed=hub_needed, **shared, **flags)


def load(
    config: Path | None, *, hub_needed: Callable[[Settings], bool] | None = None, **flags: Any
) -> Settings:
    """Effective settings; then logging and the privacy switches, before any heavy import."""
    from legalrag.embedding import model_is_local
    from legalrag.settings import load_settings

    settings = load_settings(config, **flags)
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    needs_hub = not model_is_local(settings.embedding_model) or bool(
        hub_needed and hub_needed(settings)
    )
    keep_local(hub_needed=needs_hub)
    return settings


F = TypeVar("F", bound=Callable[..., Any])


def shared_options(names: tuple[str, ...]) -> Callable[[F], F]:
    """Offer the shared flags ``names`` on a command taking ``shared: SharedOptions``."""
    unknown = set(names) - set(_SHARED)
    if unknown:
        raise ValueError(f"no shared option {sorted(unknown)}")

    def decorate(func: F) -> F:
        signature = inspect.signature(func, eval_str=True)
        own = list(signature.parameters.values())
        at = [p.name for p in own].index("shared")
        added = [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[_SHARED[name][0], _SHARED[name][1]],
            )
            for name in names
        ]

        @wraps(func)
        def command(*args: Any, **kwargs: Any) -> Any:
            shared = SharedOptions(**{name: kwargs.pop(name) for name in names})
            return func(*args, shared=shared, **kwargs)

        # typer builds the command's flags from this signature: the shared ones where
        # the command put ``shared``, so --help lists them in the command's order.
        params = [*own[:at], *added, *own[at + 1 :]]
        command.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        command.__annotations__["return"] = signature.return_annotation
        return command  # type: ignore[return-value]

    return decorate
