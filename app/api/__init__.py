"""The stateless HTTP API (``legalrag serve``): retrieve, answer (server-sent events) and
an OpenAI-compatible chat completion, behind Bearer tokens.

Stateless: a conversation's history comes in each request, so any replica behind a
round-robin load balancer answers any turn (the chat's Gradio queue needs sticky
sessions; this does not).
"""

from legalrag.app.api.server import build_api, serve

__all__ = ["build_api", "serve"]
