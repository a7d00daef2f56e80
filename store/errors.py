"""The one exception type the conversation log raises."""

from __future__ import annotations


class StoreError(Exception):
    """A run or a log file could not be read or written.

    The message names the run id or the file, and the next step to take.
    """
