"""Load the pickled logs of the published scripts without running code from them.

`pickle.load` imports and calls whatever classes a file names, so a crafted
file can run any command. The published logs are dicts of builtins whose only
class references are `collections.defaultdict` and `builtins.list` (the probe
table of run.py is a `defaultdict(list)`). `SafeUnpickler` resolves exactly
those two and raises for every other class, before anything is called.
"""

from __future__ import annotations

import collections
import io
import logging
import pickle
from pathlib import Path
from typing import Any, BinaryIO

logger = logging.getLogger(__name__)

# The sample logs of baseline_run.py are 6 to 30 kilobytes. This limit leaves ample room.
MAX_PICKLE_BYTES = 64 * 1024 * 1024

ALLOWED_CLASSES: dict[tuple[str, str], Any] = {
    ("collections", "defaultdict"): collections.defaultdict,
    ("builtins", "list"): list,
}


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that resolves only `collections.defaultdict` and `builtins.list`."""

    def find_class(self, module: str, name: str) -> Any:
        allowed = ALLOWED_CLASSES.get((module, name))
        if allowed is None:
            raise pickle.UnpicklingError(
                f"forbidden class {module}.{name}: only collections.defaultdict and builtins.list are allowed"
            )
        return allowed

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError(f"forbidden persistent id {pid!r}: logs contain plain values only")


def loads(data: bytes) -> Any:
    """Unpickle `data` with `SafeUnpickler`, raising pickle.UnpicklingError for a forbidden class."""
    return SafeUnpickler(io.BytesIO(data)).load()


def load(stream: BinaryIO) -> Any:
    """Unpickle one object from an open binary stream with `SafeUnpickler`."""
    return SafeUnpickler(stream).load()


def read_bytes(path: Path | str, max_bytes: int = MAX_PICKLE_BYTES) -> bytes:
    """Read a file of at most `max_bytes`, raising ValueError naming the file when it is larger."""
    path = Path(path)
    with path.open("rb") as stream:
        data = stream.read(max_bytes + 1)

    if len(data) > max_bytes:
        raise ValueError(f"{path}: larger than the limit of {max_bytes} bytes for a pickled log")
    return data


def load_file(path: Path | str, max_bytes: int = MAX_PICKLE_BYTES) -> Any:
    """Unpickle a file of at most `max_bytes` with `SafeUnpickler`.

    Raises ValueError when the file is too large, pickle.UnpicklingError for a
    forbidden class or damaged data, and OSError when it cannot be read.
    """
    return loads(read_bytes(path, max_bytes))
