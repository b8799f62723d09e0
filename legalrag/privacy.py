"""Keep a lawyer's documents and questions on this machine.

Several libraries in the stack phone home by default (Chroma, Gradio and ragas
telemetry; the Hugging Face hub's look-ups). These switches turn that off before
those libraries are imported; only endpoints the user configured are contacted.
"""

from __future__ import annotations

import os

# Set unless the user set them otherwise on purpose.
_TELEMETRY_OFF = {
    "ANONYMIZED_TELEMETRY": "False",  # Chroma
    "GRADIO_ANALYTICS_ENABLED": "False",
    "RAGAS_DO_NOT_TRACK": "true",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def keep_local(*, hub_needed: bool) -> None:
    """Turn off telemetry; forbid the Hugging Face hub unless the job needs it.

    ``hub_needed`` is true only when the user asked for something that lives on the
    hub (a hub embedding model not in the local cache, the pile-of-law data set).
    Must run before ``huggingface_hub`` is imported: it reads these at import time.
    """
    for name, value in _TELEMETRY_OFF.items():
        os.environ.setdefault(name, value)
    if not hub_needed:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
