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
