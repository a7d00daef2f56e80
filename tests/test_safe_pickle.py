"""The restricted unpickler for published logs (store/safe_pickle.py)."""

from __future__ import annotations

import collections
import io
import os
import pickle
from pathlib import Path

import pytest

from store import safe_pickle

SAMPLES = Path(__file__).resolve().parent / "data" / "selfchat"


class MarkerWriter:
    """Pickles to a call of os.system that would create `marker` when unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_defaultdict_of_list_loads():
    table = collections.defaultdict(list, {2: ["a", "b"], 4: ["c"]})

    loaded = safe_pickle.loads(pickle.dumps({"probed_history_per_turn": table}))

    assert type(loaded["probed_history_per_turn"]) is collections.defaultdict
    assert loaded["probed_history_per_turn"].default_factory is list
    assert loaded["probed_history_per_turn"] == {2: ["a", "b"], 4: ["c"]}


def test_plain_builtins_load_at_every_protocol():
    log = {"history": ["hi", "there"], "seed": 3, "score": 0.5, "nested": {"ok": None, "pair": (1, 2)}}

    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        assert safe_pickle.loads(pickle.dumps(log, protocol=protocol)) == log


def test_os_system_payload_rejected(tmp_path):
    marker = tmp_path / "marker"
    data = pickle.dumps({"history": [MarkerWriter(marker)]})

    with pytest.raises(pickle.UnpicklingError) as caught:
        safe_pickle.loads(data)

    assert f"{os.system.__module__}.system" in str(caught.value)
    assert not marker.exists()


def test_exec_payload_rejected(tmp_path):
    marker = tmp_path / "marker"
    code = f"open({str(marker)!r}, 'w').close()"
    # Protocol 0 by hand: GLOBAL builtins.exec, then call it with (code,).
    data = b"cbuiltins\nexec\n(V" + code.encode() + b"\ntR."

    with pytest.raises(pickle.UnpicklingError) as caught:
        safe_pickle.loads(data)

    assert "builtins.exec" in str(caught.value)
    assert not marker.exists()


def test_other_classes_rejected():
    forbidden = [collections.OrderedDict(a=1), collections.Counter("ab"), set, dict]

    for value in forbidden:
        with pytest.raises(pickle.UnpicklingError):
            safe_pickle.loads(pickle.dumps(value))


def test_persistent_id_rejected():
    class PersistentPickler(pickle.Pickler):
        def persistent_id(self, obj):
            return "external" if obj == "ref" else None

    buffer = io.BytesIO()
    PersistentPickler(buffer).dump(["ref"])

    with pytest.raises(pickle.UnpicklingError):
        safe_pickle.loads(buffer.getvalue())


def test_size_limit_enforced(tmp_path):
    path = tmp_path / "big.pkl"
    path.write_bytes(pickle.dumps(["x" * 2000]))

    with pytest.raises(ValueError) as caught:
        safe_pickle.load_file(path, max_bytes=1000)

    assert str(path) in str(caught.value)
    assert "1000 bytes" in str(caught.value)


def test_published_samples_load():
    paths = sorted(SAMPLES.glob("*.pkl"))

    assert paths
    for path in paths:
        log = safe_pickle.load_file(path)
        assert isinstance(log, dict), path.name
        assert isinstance(log["history"], list), path.name
