"""A TinyDB storage that replaces its JSON file atomically on every write.

TinyDB rewrites the whole file on each write. The default JSONStorage truncates
the file first, so a process killed mid-write leaves half a file. This storage
writes a temporary file in the same folder, flushes and fsyncs it, then renames
it over the old file with `os.replace`: a reader sees the old or the new file,
never a part of one. It takes no lock, so callers serialise read-modify-write.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from store.errors import StoreError


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` through a fsynced temporary file and `os.replace`."""
    descriptor, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)

    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise

    fsync_directory(path.parent)


def fsync_directory(folder: Path) -> None:
    """Flush the folder entry of a renamed file to disk, so the rename survives a power cut."""
    if os.name != "posix":
        return

    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def read_json_file(path: Path) -> dict[str, Any] | None:
    """Return the parsed JSON object in `path`, or None when the file is missing or empty.

    Raises StoreError naming the file when it is not a valid JSON object.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise StoreError(f"failed to read {path}: {error}. Check its permissions, or move it aside.") from error

    if not text.strip():
        return None

    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise StoreError(
            f"invalid JSON in {path} ({error}): the file is damaged, perhaps written by another tool. "
            f"Move it aside to continue; other runs are not affected."
        ) from error

    if not isinstance(data, dict):
        raise StoreError(
            f"invalid log file {path}: expected a JSON object, found {type(data).__name__}. "
            f"Move it aside to continue."
        )
    return data


class AtomicJSONStorage(Storage):
    """TinyDB storage for one JSON file, replaced atomically on each write.

    An instance parses the file once and then serves TinyDB's repeated reads
    from memory, because TinyDB reads the whole file for every table operation.
    Open one instance per operation, under the writers' lock: a long-lived
    instance would not see other processes' writes.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._data: dict[str, dict[str, Any]] | None = None
        self._loaded = False

    def read(self) -> dict[str, dict[str, Any]] | None:
        if not self._loaded:
            self._data = read_json_file(self.path)
            self._loaded = True
        return self._data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        write_atomically(self.path, json.dumps(data, ensure_ascii=False, separators=(",", ":")))
        self._data = data
        self._loaded = True

    def close(self) -> None:
        """Nothing to release: no file stays open between calls."""
