"""The conversation log: `RunStore` records engine events and lists stored runs.

Layout of the data folder:
    index.json       one summary per run (TinyDB), read by the History screen
    index.lock       lock file for index read-modify-write
    runs/<id>.json   one run: configuration, prompts, turns, probe answers (TinyDB)
    runs.lock        lock file for run-file read-modify-write

A turn is written to its run file only, and fsynced before `record` returns.
The index changes when a run is created, started and ended. A run killed
mid-run stays "running" in the index; `summaries()` reads the completed turns
and stability of such runs from their run files, and shows one that no
process has claimed (see `claim_run`) as stopped.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from engine.config import RunConfig
from engine.events import (
    ProbeScored,
    RunFailed,
    RunEvent,
    RunFinished,
    RunStarted,
    RunStopped,
    TurnFinished,
)
from engine.settings import data_dir
from store.errors import StoreError
from store.records import (
    FAILED,
    FINISHED,
    RUNNING,
    STOPPED,
    StoredRun,
    probe_record,
    turn_record,
    utc_now,
)
from store.file_lock import RunLock, is_locked
from store.run_files import RunFiles
from store.run_index import RunIndex

logger = logging.getLogger(__name__)

INDEX_FILE = "index.json"
INDEX_LOCK_FILE = "index.lock"
RUNS_FOLDER = "runs"
RUNS_LOCK_FILE = "runs.lock"

# Keys that every returned summary has. Only summaries() sets `file_error`; it is never stored.
SUMMARY_DEFAULTS: dict[str, Any] = {
    "completed_turns": 0,
    "mean_stability": None,
    "last_stability": None,
    "imported": False,
    "error": None,
    "file_error": None,
}


class RunStore:
    """Stored runs in one data folder: an index of summaries and one file per run."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else data_dir()
        self.root.mkdir(parents=True, exist_ok=True)

        self.index = RunIndex(self.root / INDEX_FILE, self.root / INDEX_LOCK_FILE)
        self._run_locks: dict[str, RunLock] = {}
        self.files = RunFiles(self.root / RUNS_FOLDER, self.root / RUNS_LOCK_FILE)

    def open_run(
        self,
        config: RunConfig,
        *,
        agent_prompt: str,
        user_prompt: str,
        agent_label: str,
        user_label: str,
        starter: str,
        imported: bool = False,
    ) -> StoredRun:
        """Create the run of a resolved `config`, or return the stored one to resume it.

        A new run file stores the starter as turn 1. An existing run keeps its
        stored prompts, labels and starter; the arguments are used only when new.
        """
        unresolved = [name for name in ("agent", "user", "topic") if getattr(config, name) < 0]
        if unresolved:
            raise ValueError(f"config has unresolved {', '.join(unresolved)} (-1): call config.resolve() first")

        run_id = config.run_id()
        created = not self.files.exists(run_id)
        if created:
            run = StoredRun(
                run_id=run_id,
                config=config,
                created_at=utc_now(),
                status=RUNNING,
                agent_prompt=agent_prompt,
                user_prompt=user_prompt,
                agent_label=agent_label,
                user_label=user_label,
                starter=starter,
                imported=imported,
            )
            self.files.create(run)
            logger.info("created run %s in %s", run_id, self.files.folder)

        # Read back what is stored: the new run, or the one being resumed.
        run = self.files.read(run_id)

        # The index entry is missing for a new run, and after a crash between
        # writing the run file and the index.
        if created or not self.index.contains(run_id):
            self.index.put(run.summary(updated_at=utc_now()))
        return run

    def claim_run(self, run_id: str) -> None:
        """Mark a run as in use by this process until it finishes, stops or fails.

        Raises StoreError when another process (a TUI or a headless run) is
        running it, so two processes never write the same run. Claiming a run
        this store has already claimed does nothing.
        """
        if run_id in self._run_locks:
            return

        lock = RunLock(self._run_lock_path(run_id))
        if not lock.acquire():
            raise StoreError(
                f"run {run_id} is running in another process (a TUI or a headless run): "
                "wait for it to end or stop it, then run again to resume"
            )
        self._run_locks[run_id] = lock

    def release_run(self, run_id: str) -> None:
        """Give up this process's claim on a run (nothing happens when it has none)."""
        lock = self._run_locks.pop(run_id, None)
        if lock is not None:
            lock.release()

    def _run_lock_path(self, run_id: str) -> Path:
        return self.files.folder / f"{run_id}.lock"

    def record(self, event: RunEvent) -> None:
        """Store one engine event; TurnStarted and TokenReceived are ignored.

        Turns and probe answers are on disk when this returns. Recording a turn
        number (or probe turn and sample) already stored replaces it.
        """
        if isinstance(event, TurnFinished):
            self.files.put_turn(event.run_id, turn_record(event))
        elif isinstance(event, ProbeScored):
            self.files.put_probe(event.run_id, probe_record(event))
        elif isinstance(event, RunStarted):
            self._set_status(event.run_id, RUNNING, error=None)
        elif isinstance(event, RunFinished):
            # The stability is recomputed from the stored probe scores, not taken from the event.
            self._set_status(event.run_id, FINISHED, error=None)
            self.release_run(event.run_id)
        elif isinstance(event, RunStopped):
            self._set_status(event.run_id, STOPPED, error=None)
            self.release_run(event.run_id)
        elif isinstance(event, RunFailed):
            self._set_status(event.run_id, FAILED, error=event.error)
            self.release_run(event.run_id)

    def add_runs(self, runs: list[StoredRun]) -> list[str]:
        """Store complete runs, such as imported logs, and return the ids of those that were new.

        Each new run file is written whole in one atomic write, then all new
        summaries go to the index in one write. A run whose id is stored is
        left unchanged. Its summary is added only when the index lacks it,
        as after a crash between the two writes.
        """
        # Without an index, run files may exist that only a rebuild lists, so rebuild after writing.
        index_existed = self.index.exists()
        indexed = {summary.get("run_id") for summary in self.index.read()} if index_existed else set()

        added: list[str] = []
        summaries: list[dict[str, Any]] = []
        for run in runs:
            if self.files.write_whole(run):
                added.append(run.run_id)
                summaries.append(run.summary())
                logger.info("added run %s (imported: %s) to %s", run.run_id, run.imported, self.files.folder)
            elif run.run_id not in indexed:
                summaries.append(self.files.read(run.run_id).summary())

        if index_existed:
            self.index.put_many(summaries)
        elif summaries:
            self.rebuild_index()
        return added

    def summaries(self) -> list[dict[str, Any]]:
        """Return one summary per stored run, newest first, from the index.

        Only runs marked "running" are read from their run files. A damaged run
        file is logged and flagged in the summary's `file_error`, not raised.
        """
        if not self.index.exists() and self.files.run_ids():
            self.rebuild_index()

        entries = self.index.read()
        unindexed = set(self.files.run_ids()) - {entry.get("run_id") for entry in entries}
        if unindexed:
            # Run files the index lacks (a stale or replaced index, a copied file): add them.
            entries += self._index_runs(sorted(unindexed))

        summaries = []
        for entry in entries:
            if not isinstance(entry.get("run_id"), str) or not isinstance(entry.get("status"), str):
                logger.warning("skipped an index entry without run_id or status in %s: %r", self.index.path, entry)
                continue
            summary = {**SUMMARY_DEFAULTS, **entry}
            if summary["status"] == RUNNING:
                summary = self._refresh_running(summary)
            summaries.append(summary)

        summaries.sort(key=lambda summary: summary.get("created_at", ""), reverse=True)
        return summaries

    def load_run(self, run_id: str) -> StoredRun:
        """Return a stored run with its turns and probes. Raises StoreError when unknown or damaged."""
        return self.files.read(run_id)

    def delete_run(self, run_id: str) -> None:
        """Remove a run's file and summary. Raises StoreError naming the id when neither exists."""
        file_removed = self.files.delete(run_id)
        summary_removed = self.index.exists() and self.index.remove(run_id)

        if not (file_removed or summary_removed):
            raise StoreError(f"run {run_id} not found in {self.root}")
        logger.info("deleted run %s", run_id)

    def _index_runs(self, run_ids: list[str]) -> list[dict[str, Any]]:
        """Add the summaries of these run files to the index and return them; damaged files are skipped."""
        summaries = []
        for run_id in run_ids:
            try:
                summaries.append(self.files.read(run_id).summary())
            except StoreError as error:
                logger.warning("left run %s out of the index: %s", run_id, error)
        self.index.put_many(summaries)
        logger.info("added %d run files missing from %s", len(summaries), self.index.path)
        return summaries

    def rebuild_index(self) -> int:
        """Write a new index from the run files; return how many runs it lists.

        Damaged run files are logged and left out, and stay in place.
        """
        summaries = []
        for run_id in self.files.run_ids():
            try:
                run = self.files.read(run_id)
            except StoreError as error:
                logger.warning("left run %s out of the rebuilt index: %s", run_id, error)
                continue
            summaries.append(run.summary())

        self.index.replace_all(summaries)
        logger.info("rebuilt %s from %d run files", self.index.path, len(summaries))
        return len(summaries)

    def _set_status(self, run_id: str, status: str, *, error: str | None) -> None:
        """Write the status to the run file, then the run's final summary to the index.

        The run file is written first, so a crash between the two writes leaves
        the index saying "running" and `summaries()` reads the true status.
        """
        self.files.update_header(run_id, {"status": status, "error": error})

        run = self.files.read(run_id)
        self.index.put(run.summary(updated_at=utc_now()))
        logger.info("run %s is %s after %d turns", run_id, status, run.completed_turns())

    def _refresh_running(self, summary: dict[str, Any]) -> dict[str, Any]:
        """Return `summary` updated from the run file, or flagged when the file is unreadable."""
        run_id = summary.get("run_id", "")

        try:
            run = self.files.read(run_id)
        except StoreError as error:
            logger.warning("cannot refresh running run %s: %s", run_id, error)
            return {**summary, "file_error": str(error)}

        refreshed = {**SUMMARY_DEFAULTS, **run.summary()}
        lock_path = self._run_lock_path(run_id)
        if refreshed["status"] == RUNNING and lock_path.exists() and not is_locked(lock_path):
            # The run was claimed once and no process has it claimed now, so it was killed mid-run.
            refreshed["status"] = STOPPED
        return refreshed
