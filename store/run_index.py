"""The index file `index.json`: one summary document per run, for the History screen.

The index is written when a run is created, started and ended, never per turn,
so a long run does not rewrite it over and over. Every read-modify-write takes
`index.lock`, because the TUI and a headless run may write at once. Reads take
no lock: atomic replacement means a reader sees a whole file.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB

from store.atomic_storage import AtomicJSONStorage, read_json_file, write_atomically
from store.errors import StoreError
from store.file_lock import file_lock
from store.run_files import replace_or_insert

logger = logging.getLogger(__name__)

TABLE = "runs"


class RunIndex:
    """Summaries of all runs in one TinyDB file."""

    def __init__(self, path: Path, lock_path: Path) -> None:
        self.path = path
        self.lock_path = lock_path

    def exists(self) -> bool:
        """Return whether the index file exists with content (an empty file counts as missing)."""
        try:
            return self.path.stat().st_size > 0
        except FileNotFoundError:
            return False

    def read(self) -> list[dict[str, Any]]:
        """Return every summary with one parse of the file, without TinyDB's per-document objects."""
        try:
            data = read_json_file(self.path)
        except StoreError as error:
            raise StoreError(
                f"{error} The run files under runs/ are intact: after moving {self.path.name} aside, "
                f"the history list is rebuilt from them."
            ) from error

        if data is None:
            return []

        table = data.get(TABLE, {})
        if not isinstance(table, dict):
            raise StoreError(f"invalid index {self.path}: table {TABLE!r} is not an object. Move it aside.")
        summaries = []
        for key, summary in table.items():
            if not isinstance(summary, dict):
                logger.warning("skipped index entry %s in %s: not an object but %r", key, self.path, summary)
                continue
            summaries.append(dict(summary))
        return summaries

    def contains(self, run_id: str) -> bool:
        return any(summary.get("run_id") == run_id for summary in self.read())

    def put(self, summary: dict[str, Any]) -> None:
        """Store `summary`, replacing the one with the same run id."""
        with file_lock(self.lock_path), TinyDB(self.path, storage=AtomicJSONStorage) as database:
            replace_or_insert(database.table(TABLE), summary, Query().run_id == summary["run_id"])

    def put_many(self, summaries: Iterable[dict[str, Any]]) -> None:
        """Store several summaries in one atomic write, replacing those with the same run ids."""
        incoming = {summary["run_id"]: summary for summary in summaries}
        if not incoming:
            return

        with file_lock(self.lock_path):
            data = read_json_file(self.path) or {}
            table = data.get(TABLE, {})
            if not isinstance(table, dict):
                raise StoreError(f"invalid index {self.path}: table {TABLE!r} is not an object. Move it aside.")

            documents = {}
            for doc_id, summary in table.items():
                run_id = summary.get("run_id") if isinstance(summary, dict) else None
                documents[doc_id] = incoming.pop(run_id) if run_id in incoming else summary

            # New documents continue TinyDB's numbering: one past the largest id.
            next_id = max((int(doc_id) for doc_id in documents if doc_id.isdigit()), default=0) + 1
            for offset, summary in enumerate(incoming.values()):
                documents[str(next_id + offset)] = summary

            data[TABLE] = documents
            write_atomically(self.path, json.dumps(data, ensure_ascii=False, separators=(",", ":")))

    def remove(self, run_id: str) -> bool:
        """Remove the summary of `run_id` and return whether there was one."""
        with file_lock(self.lock_path), TinyDB(self.path, storage=AtomicJSONStorage) as database:
            removed = database.table(TABLE).remove(Query().run_id == run_id)
        return bool(removed)

    def replace_all(self, summaries: Iterable[dict[str, Any]]) -> None:
        """Write a new index that contains exactly `summaries`, in one atomic write."""
        # TinyDB's file layout, written directly: truncate() then insert_multiple()
        # would write twice and briefly show readers an empty index.
        documents = {str(doc_id): summary for doc_id, summary in enumerate(summaries, start=1)}
        text = json.dumps({TABLE: documents}, ensure_ascii=False, separators=(",", ":"))

        with file_lock(self.lock_path):
            write_atomically(self.path, text)
