"""An exclusive advisory lock on a lock file, shared by processes and threads.

The TUI and a headless run may write the same index at once. Each holder of
`file_lock(path)` opens the lock file itself, so `flock` also separates threads
of one process.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows has no fcntl.
    fcntl = None  # type: ignore[assignment]


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing) for the `with` body."""
    with open(path, "a+b") as handle:
        # NOTE: without fcntl (Windows) writes are not locked, so two processes
        # writing the same index at once can lose one of the two updates.
        if fcntl is None:
            yield
            return

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class RunLock:
    """An exclusive, non-blocking lock that marks a run as in use by one process.

    The operating system releases it when the process ends, however it ends,
    so a run killed with SIGKILL is free again at once.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle = None

    def acquire(self) -> bool:
        """Take the lock; return False when another holder has it."""
        handle = open(self.path, "a+b")
        if fcntl is None:
            # NOTE: without fcntl (Windows) two processes can run the same run at once.
            self._handle = handle
            return True

        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._handle = handle
        return True

    def release(self) -> None:
        """Give the lock up; nothing happens when it is not held."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def is_locked(path: Path) -> bool:
    """Return whether some process holds the RunLock on `path` now."""
    if fcntl is None or not path.exists():
        return False

    with open(path, "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return False
