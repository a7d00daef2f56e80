"""The conversation log: runs, turns and probe answers in TinyDB files.

No Textual import here; the TUI and the headless commands both use `RunStore`.
"""

from store.errors import StoreError
from store.records import StoredRun
from store.run_store import RunStore

__all__ = ["RunStore", "StoredRun", "StoreError"]
