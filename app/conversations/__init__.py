"""Saved conversations: what a turn holds (:mod:`.records`) and where it is kept
(:mod:`.store`, the firm's database)."""

from legalrag.app.conversations.records import (
    Conversation,
    ConversationSummary,
    SavedTurn,
    default_title,
)
from legalrag.app.conversations.store import LOCAL_USER, ConversationStore, owner_of

__all__ = [
    "LOCAL_USER",
    "Conversation",
    "ConversationStore",
    "ConversationSummary",
    "SavedTurn",
    "default_title",
    "owner_of",
]
