"""The flags that override settings, declared once, and the settings they build.

A flag that overrides a setting is not written out by hand: :func:`setting_flag`
names the flag and the setting, and the typer parameter is generated from the
setting's field in :class:`~legalrag.settings.Settings` (its type, and its
description as the help, with the ``LEGALRAG_*`` name users also set it by).

A command takes a keyword-only ``shared: SharedOptions`` and is decorated with
:func:`shared_options`, naming which flags it offers: one of the sets below
(:data:`STORE`, ...) and its own setting flags. The decorator puts them, and
``--config``, in the command's signature in place of ``shared`` (typer reads the
signature) and hands the command one :class:`SharedOptions`, whose
:meth:`~SharedOptions.settings` loads the effective settings with those flags on top.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.markup import escape

from legalrag.privacy import keep_local

if TYPE_CHECKING:
    from legalrag.settings import Settings

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]

_CONFIG = "config"
_CONFIG_OPTION = typer.Option("--config", help="TOML settings file (default ./legalrag.toml).")


@dataclass(frozen=True)
class SettingFlag:
    """A flag that sets one setting for this run, above its env var and the TOML file."""

    setting: str
    annotation: Any
    """The typer parameter: the setting's type, optional (not given: as the settings say)."""


def setting_flag(flag: str, setting: str, *, help: str | None = None) -> SettingFlag:
    """The flag ``flag`` (``"--answers/--no-answers"`` for an on/off pair) for ``setting``.

    Its help is the setting's description (or ``help``, where the setting has none or
    the command means it more narrowly), then ``[LEGALRAG_<SETTING>]``.
    """
    from legalrag.settings import Settings

    fields = Settings.model_fields
    if setting not in fields:
        raise ValueError(f"{flag}: no setting {setting!r}")
    described = help or fields[setting].description
    if not described:
        raise ValueError(f"{flag}: setting {setting!r} has no description; give help=")
    env_name = f"{Settings.model_config.get('env_prefix', '')}{setting}".upper()
    # typer prints help as rich markup: a description's own brackets stay text.
    option = typer.Option(flag, help=f"{escape(described)} [{env_name}]")
    return SettingFlag(setting, Annotated[fields[setting].annotation | None, option])


# The flags several commands share, and the sets of them the commands offer.
DATA_DIR = setting_flag("--data-dir", "data_dir")
CHROMA_URL = setting_flag("--chroma-url", "chroma_url")
COLLECTION = setting_flag("--collection", "collection", help="Chroma collection.")
EMBEDDING_MODEL = setting_flag("--embedding-model", "embedding_model")
CONFIG: tuple[SettingFlag, ...] = ()
LOGS = (DATA_DIR,)
STORE = (DATA_DIR, CHROMA_URL, COLLECTION)
INDEX = (*STORE, EMBEDDING_MODEL)


@dataclass(frozen=True)
class SharedOptions:
    """What one command was given: its ``--config``, and the settings its flags set."""

    config: Path | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    """Setting -> the value of its flag (None: not given)."""

    def settings(self, *, hub_needed: Callable[[Settings], bool] | None = None) -> Settings:
        """Effective settings, this command's flags on top; then the privacy switches.

        ``hub_needed`` says whether the command itself needs the Hugging Face hub
        (beyond an embedding model that is not on disk).
        """
        return load(self.config, hub_needed=hub_needed, **self.overrides)


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


def shared_options(group: tuple[SettingFlag, ...], *own: SettingFlag) -> Callable[[F], F]:
    """Offer ``--config``, the setting flags ``group`` and the command's ``own`` on a
    command taking ``shared: SharedOptions``."""
    flags = [*own, *group]
    settings = [flag.setting for flag in flags]
    if len(set(settings)) != len(settings):
        raise ValueError(f"a setting offered twice: {settings}")

    def decorate(func: F) -> F:
        signature = inspect.signature(func, eval_str=True)
        params = list(signature.parameters.values())
        at = [p.name for p in params].index("shared")
        if clash := {p.name for p in params} & {_CONFIG, *settings}:
            raise ValueError(f"{func.__name__} has its own parameter {sorted(clash)}")

        def keyword(name: str, annotation: Any) -> inspect.Parameter:
            return inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation
            )

        config = keyword(_CONFIG, Annotated[Path | None, _CONFIG_OPTION])
        # --help order: the command's own setting flags, --config, then the group's.
        added = [keyword(f.setting, f.annotation) for f in own]
        added += [config, *(keyword(f.setting, f.annotation) for f in group)]

        @wraps(func)
        def command(*args: Any, **kwargs: Any) -> Any:
            shared = SharedOptions(
                kwargs.pop(_CONFIG), {name: kwargs.pop(name) for name in settings}
            )
            return func(*args, shared=shared, **kwargs)

        # typer builds the command's flags from this signature: the added ones where
        # the command put ``shared``, so --help lists them in the command's order.
        params[at : at + 1] = added
        command.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        command.__annotations__["return"] = signature.return_annotation
        return command  # type: ignore[return-value]

    return decorate
