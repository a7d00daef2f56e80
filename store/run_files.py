"""One TinyDB file per run, `runs/<run_id>.json`, with its header, turns and probes.

Appending a turn rewrites only that run's file, so its cost does not grow with
the number of runs stored. Writes go through `AtomicJSONStorage` under one lock
file, `runs.lock`, so two processes recording the same run cannot lose a turn.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB
from tinydb.table import Table

from store.atomic_storage import AtomicJSONStorage, read_json_file, write_atomically
from store.errors import StoreError
from store.file_lock import file_lock
from store.records import StoredRun, run_header, starter_record, stored_run_from_tables

RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]+")
HEADER_DOC_ID = 1


class RunFiles:
    """The folder of run files, with reads that need no lock and locked writes."""

    def __init__(self, folder: Path, lock_path: Path) -> None:
        self.folder = folder
        self.lock_path = lock_path
        self.folder.mkdir(parents=True, exist_ok=True)

    def path_for(self, run_id: str) -> Path:
        """Return the file of `run_id`, raising StoreError for an id that is not a plain file name."""
        if not RUN_ID_PATTERN.fullmatch(run_id):
            raise StoreError(f"invalid run id {run_id!r}: use letters, digits, '-' and '_' only")
        return self.folder / f"{run_id}.json"

    def run_ids(self) -> list[str]:
        """Return the ids of all run files, skipping temporary files of unfinished writes."""
        return sorted(path.stem for path in self.folder.glob("*.json") if not path.name.startswith("."))

    def exists(self, run_id: str) -> bool:
        return self.path_for(run_id).exists()

    def create(self, run: StoredRun) -> None:
        """Write a new run file with the header and the starter as turn 1."""
        with self._open_for_write(run.run_id, must_exist=False) as database:
            database.table("run").insert(run_header(run))
            database.table("turns").insert(starter_record(run.starter))

    def write_whole(self, run: StoredRun) -> bool:
        """Write a complete run (header, turns and probes) in one atomic write, unless its file exists.

        Returns False, writing nothing, when a file with the run's id exists.
        The turns are stored as given, so a run without turn 1 has no starter turn.
        """
        path = self.path_for(run.run_id)
        tables = {
            "run": {str(HEADER_DOC_ID): run_header(run)},
            "turns": {str(doc_id): turn for doc_id, turn in enumerate(run.turns, start=1)},
            "probes": {str(doc_id): probe for doc_id, probe in enumerate(run.probes, start=1)},
        }
        # The layout and JSON options of AtomicJSONStorage, so TinyDB reads the file as its own.
        text = json.dumps(tables, ensure_ascii=False, separators=(",", ":"))

        with file_lock(self.lock_path):
            if path.exists():
                return False
            write_atomically(path, text)
        return True

    def read(self, run_id: str) -> StoredRun:
        """Read one consistent snapshot of a run file (one parse, no lock).

        Raises StoreError naming the id when the file is missing, and naming the
        file when it is damaged.
        """
        path = self.path_for(run_id)
        data = read_json_file(path)
        if data is None and path.exists():
            raise StoreError(f"invalid run file {path}: the file is empty. Move it aside to continue; "
                             "other runs are not affected.")
        if data is None:
            raise StoreError(f"run {run_id} not found: no file {path}")

        # TinyDB's file layout: table name -> document id (a string) -> document.
        try:
            headers = list(data["run"].values())
            turns = list(data.get("turns", {}).values())
            probes = list(data.get("probes", {}).values())
            return stored_run_from_tables(headers[0], turns, probes)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as error:
            raise StoreError(
                f"invalid run file {path}: {type(error).__name__}: {error}. "
                f"Move it aside to continue; other runs are not affected."
            ) from error

    def put_turn(self, run_id: str, record: dict[str, Any]) -> None:
        """Store a turn durably, replacing a stored turn with the same number."""
        with self._open_for_write(run_id) as database:
            replace_or_insert(database.table("turns"), record, Query().turn == record["turn"])

    def put_probe(self, run_id: str, record: dict[str, Any]) -> None:
        """Store a probe answer durably, replacing one with the same turn and sample."""
        condition = (Query().turn == record["turn"]) & (Query().sample == record["sample"])

        with self._open_for_write(run_id) as database:
            replace_or_insert(database.table("probes"), record, condition)

    def update_header(self, run_id: str, fields: dict[str, Any]) -> None:
        """Change header fields of a stored run, such as its status and error text."""
        with self._open_for_write(run_id) as database:
            database.table("run").update(fields, doc_ids=[HEADER_DOC_ID])

    def delete(self, run_id: str) -> bool:
        """Remove a run file and return whether one existed."""
        path = self.path_for(run_id)

        with file_lock(self.lock_path):
            try:
                path.unlink()
            except FileNotFoundError:
                return False
        return True

    @contextmanager
    def _open_for_write(self, run_id: str, *, must_exist: bool = True) -> Iterator[TinyDB]:
        """Hold the run-files lock and yield a fresh TinyDB on the run file.

        A fresh instance per write keeps TinyDB's cached next document id and
        query results from going stale when another process wrote the file.
        """
        path = self.path_for(run_id)

        with file_lock(self.lock_path):
            if must_exist and not path.exists():
                raise StoreError(f"run {run_id} not found: no file {path}. Call open_run first.")

            with TinyDB(path, storage=AtomicJSONStorage) as database:
                yield database


def replace_or_insert(table: Table, record: dict[str, Any], condition: Any) -> None:
    """Replace the documents matching `condition` with `record`, or insert it: one file write.

    TinyDB's `upsert` writes the file twice when nothing matches (an empty
    update, then the insert), so this checks first and writes once.
    """
    if table.contains(condition):
        table.update(record, condition)
    else:
        table.insert(record)
