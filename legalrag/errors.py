"""The one error hierarchy: every error a user can act on, with its exit code.

The CLI catches :class:`LegalragError` once and prints one line with its
``exit_code``; the chat catches it once and shows the message. Anything else that
escapes is a bug (exit 1, the traceback one setting away).

- :class:`UsageError` (exit 2): bad input, bad settings, a missing index, a
  missing model: the user can fix it and run the same command again.
- :class:`BackendError` (exit 3): a server the user configured (Chroma, the
  model, the judge, SkyPilot) is down, refuses, or answers garbage.
- :class:`GateError` (exit 4): an evaluation figure missed its ``--fail-under``
  (a ``--fail-under`` that cannot be read is a usage error, :class:`GateSpecError`).
"""

from __future__ import annotations

EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_BACKEND = 3
EXIT_GATE = 4
EXIT_INTERRUPTED = 130


class LegalragError(Exception):
    """An error the user can act on; ``exit_code`` is what the CLI exits with."""

    exit_code: int = EXIT_INTERNAL


class UsageError(LegalragError):
    """Bad input or settings: fix them and run the command again."""

    exit_code = EXIT_USAGE


class BackendError(LegalragError):
    """A configured server failed: down, refusing, too slow, or answering garbage."""

    exit_code = EXIT_BACKEND


class GateError(LegalragError):
    """An evaluation figure is under its ``--fail-under`` threshold (or unmeasured)."""

    exit_code = EXIT_GATE


# --- settings and input --------------------------------------------------------------


class SettingsError(UsageError):
    """Settings that cannot be used: a bad value, a missing config file."""


class QuestionError(UsageError):
    """A question that cannot be asked: empty, or too long."""


class SourceError(UsageError):
    """An ingest source that cannot be read: a missing path, an unknown source."""


class FileRejectedError(SourceError):
    """A file that cannot be indexed (encrypted, corrupt, empty, of an unread type): the
    reader's reason."""


class DatasetError(UsageError):
    """An evaluation question set that cannot be read."""


class CorpusError(UsageError):
    """A shared benchmark set that cannot be turned into a corpus."""


class GateSpecError(UsageError):
    """A ``--fail-under`` that cannot be read (not a figure that missed: that is
    :class:`GateError`)."""


# --- the chunk store -----------------------------------------------------------------


class MatterError(UsageError):
    """A matter command that cannot be done: a name taken, a role unknown, a matter to
    ingest into that does not exist (``legalrag matter create`` it first)."""


class AccessDeniedError(UsageError):
    """A user unknown, or a matter the user may not read. One message for a matter that
    does not exist and one walled off: the error must not say which."""


class StoreError(UsageError):
    """A problem with the index that the user can act on."""


class IndexNotFoundError(StoreError):
    """No collection yet: nothing has been ingested."""


class IndexMismatchError(StoreError):
    """The collection was built with another embedding model."""


class IndexFormatError(IndexMismatchError):
    """The collection's vectors were computed from another text format (an older
    version): it can be read, not added to."""


class IndexBusyError(StoreError):
    """Another process is already writing to the embedded index."""


class StoreUnavailableError(BackendError):
    """The store's server cannot be reached, refused us, or stopped answering."""


# --- models --------------------------------------------------------------------------


class EmbeddingModelError(UsageError):
    """The embedding model cannot be loaded (an unknown name, a missing folder)."""


class TokenizerError(UsageError):
    """The generator's tokenizer (for the context budget) cannot be loaded."""


class RerankerError(UsageError):
    """The configured reranker cannot be loaded."""


class SupportModelError(UsageError):
    """The NLI support model cannot be loaded, or its labels name no entailment
    (exit 2: name another model or folder, or set ``support_nli_labels``)."""


class EmbeddingEndpointError(BackendError):
    """The embeddings endpoint failed: down, too slow, or answering garbage (a web page,
    the wrong number of vectors, another dimension, NaN)."""


class GenerationError(BackendError):
    """The model server failed: down, too slow, or answering garbage."""


class JudgeUnavailableError(BackendError):
    """The RAGAS judge endpoint is down or does not serve the named model."""


# --- SkyPilot ------------------------------------------------------------------------


class SkyUnavailableError(UsageError):
    """SkyPilot is not installed (pip install 'legalrag[sky]')."""


class LaunchSpecError(UsageError):
    """A launch that cannot be built: a bad partition count, a broken task YAML."""


class SkyLaunchError(BackendError):
    """SkyPilot refused or failed a launch."""


# --- the firm's records: saved conversations, the audit log ---------------------------


class ConversationNotFound(UsageError):
    """No saved conversation of this user has that id (another user's is not found
    either: the message is the same, so nobody learns that it exists)."""


class AuditExportError(UsageError):
    """An audit export that cannot be made: a date that cannot be read, an empty range."""
