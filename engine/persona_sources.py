"""Custom persona sets: read JSON, JSONL, CSV or a Hugging Face dataset, and name the set for run ids.

Every source yields entries with the fields of personas.json (index,
category, system_prompt, probe_question, score_rule, scorer), validated by
`engine.personas.parse_entries` exactly like the built-in file. In CSV and
dataset rows the scorer is a JSON string; null (or "null") means not scored.
Nothing here uses the network: dataset names resolve only from the local
Hugging Face cache.
"""

from __future__ import annotations

import csv
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.personas import (
    Persona,
    PersonaFileError,
    entry_error,
    load_personas,
    parse_entries,
    persona_set_digest,
)

CSV_COLUMNS = ("system_prompt", "probe_question", "category", "score_rule", "scorer")
FILE_SUFFIXES = (".json", ".jsonl", ".csv")
DEFAULT_SPLIT = "train"

# Files that Dataset.save_to_disk and DatasetDict.save_to_disk write into their folder.
_SAVED_DATASET_FILES = ("state.json", "dataset_dict.json")
_OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
_offline_lock = threading.Lock()


@dataclass(frozen=True)
class PersonaSet:
    """A validated persona set and its identity for `RunConfig.personas` (None for the built-in set)."""

    personas: list[Persona]
    identity: str | None


@dataclass(frozen=True)
class _RawEntries:
    """Entries read from a source before validation, with each entry's line number in `lines` for JSONL."""

    entries: list[Any]
    lines: list[int] | None = None


def load_persona_set(source: str | None) -> PersonaSet:
    """Load and validate a persona set from a file, a dataset folder or a dataset name.

    None loads the built-in personas.json. A path ending in .json (a list of
    objects), .jsonl (one object per line) or .csv is read as that format. A
    folder written by `save_to_disk` is read with `datasets.load_from_disk`,
    and any other folder with `datasets.load_dataset`. Any other value is a
    dataset name, optionally with ":SPLIT" (default "train"), looked up only in
    the local cache. Raises PersonaFileError naming the source, the entry and
    the problem before any model call.
    """
    if source is None:
        return PersonaSet(personas=load_personas(), identity=None)

    path = Path(source).expanduser()
    if path.is_dir():
        raw = _read_dataset_folder(path)
        name = path.name
    elif path.is_file():
        raw = _read_file(path)
        name = path.name
    elif path.suffix.lower() in FILE_SUFFIXES:
        raise PersonaFileError(f"{source}: persona file not found. Pass the path of an existing "
                               f"{', '.join(FILE_SUFFIXES)} file or dataset folder.")
    else:
        raw = _read_dataset_name(source)
        name = source

    if not raw.entries:
        raise PersonaFileError(f"{source}: the persona set is empty. Add at least one persona.")

    personas = parse_entries(source, raw.entries, lines=raw.lines)
    return PersonaSet(personas=personas, identity=persona_set_identity(personas, name))


def persona_set_identity(personas: list[Persona], name: str | None = None) -> str | None:
    """Return the `RunConfig.personas` value of a set: None when it equals the built-in set.

    Otherwise the value is "NAME sha256:<16 hex>", or only the digest without
    a name. The digest alone decides the run id (see RunConfig).
    """
    digest = persona_set_digest(personas)
    try:
        builtin_digest = persona_set_digest(load_personas())
    except PersonaFileError:
        builtin_digest = None
    if digest == builtin_digest:
        return None

    # The digest must stay the last word, so a name is put in front of it.
    return f"{name} {digest}" if name else digest


# --- files ---------------------------------------------------------------------------


def _read_file(path: Path) -> _RawEntries:
    suffix = path.suffix.lower()
    if suffix not in FILE_SUFFIXES:
        raise PersonaFileError(f"{path}: unsupported persona file type {suffix or '(none)'!r}. "
                               f"Use {', '.join(FILE_SUFFIXES)}, a dataset folder or a dataset name.")
    try:
        # utf-8-sig accepts the byte order mark that spreadsheet programs write.
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise PersonaFileError(f"{path}: cannot read the persona file ({error}).") from error

    if suffix == ".json":
        return _parse_json(path, text)
    if suffix == ".jsonl":
        return _parse_jsonl(path, text)
    return _parse_csv(path, text)


def _parse_json(path: Path, text: str) -> _RawEntries:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise PersonaFileError(f"{path}: invalid JSON at line {error.lineno}, column {error.colno} "
                               f"({error.msg}). Fix the syntax.") from error
    if not isinstance(raw, list):
        raise PersonaFileError(f"{path}: the top level must be a JSON list of persona objects, "
                               f"got {type(raw).__name__}.")
    return _RawEntries(entries=raw)


def _parse_jsonl(path: Path, text: str) -> _RawEntries:
    """Read one JSON value per line; blank lines are skipped, so entry numbers count only the others."""
    entries: list[Any] = []
    lines: list[int] = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError as error:
            raise entry_error(str(path), len(entries), f"invalid JSON at column {error.colno} ({error.msg})",
                              line=line_number, fix="Fix the syntax of that line.") from error
        lines.append(line_number)
    return _RawEntries(entries=entries, lines=lines)


def _parse_csv(path: Path, text: str) -> _RawEntries:
    reader = csv.DictReader(text.splitlines(keepends=True))
    header = reader.fieldnames or []
    missing = [column for column in CSV_COLUMNS if column not in header]
    if missing:
        raise PersonaFileError(
            f"{path}: the CSV header lacks the column(s) {', '.join(missing)}. The columns are "
            f"{', '.join(CSV_COLUMNS)}, and optionally index."
        )

    entries: list[Any] = []
    for row in reader:
        position = len(entries)
        extra_cells = row.pop(None, None)
        if extra_cells:
            raise entry_error(str(path), position, f"the row has {len(header) + len(extra_cells)} cells "
                                                   f"but the header has {len(header)} columns")
        # A short row leaves its last columns as None, which parse_entries reports as missing fields.
        entry = {column: value for column, value in row.items() if value is not None}
        entries.append(_decode_row(str(path), position, entry))
    return _RawEntries(entries=entries)


def _decode_row(source: str, position: int, row: dict[str, Any]) -> dict[str, Any]:
    """Turn a CSV or dataset row into a personas.json entry: an integer index and a parsed scorer."""
    entry = dict(row)

    index = entry.get("index")
    if index is None or (isinstance(index, str) and not index.strip()):
        entry.pop("index", None)
    elif isinstance(index, str):
        try:
            entry["index"] = int(index.strip())
        except ValueError:
            pass  # parse_entries reports the non-integer text

    scorer = entry.get("scorer", ...)
    if isinstance(scorer, str):
        if not scorer.strip():
            raise entry_error(source, position, "'scorer' is empty: write a scorer as JSON, "
                                                "or null for a persona that is not scored")
        try:
            entry["scorer"] = json.loads(scorer)
        except json.JSONDecodeError as error:
            raise entry_error(source, position, f"'scorer' is not valid JSON "
                                                f"(column {error.colno}: {error.msg})") from error
    elif isinstance(scorer, dict):
        entry["scorer"] = _drop_nulls(scorer)
    return entry


def _drop_nulls(value: Any) -> Any:
    """Remove null fields from a nested scorer struct.

    Arrow gives every row of a struct column all keys of all rows, with null
    where a row had none, and no scorer parameter takes null.
    """
    if isinstance(value, dict):
        return {key: _drop_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_drop_nulls(item) for item in value]
    return value


# --- Hugging Face datasets -----------------------------------------------------------


@contextmanager
def _hub_offline() -> Iterator[None]:
    """Switch `datasets` and `huggingface_hub` to offline mode for the calls inside.

    Both libraries read the variables once at import time, so the module
    constants are set too and restored afterwards. A lock serializes callers
    because the switch is process-wide.
    """
    with _offline_lock:
        saved_environment = {name: os.environ.get(name) for name in _OFFLINE_VARIABLES}
        for name in _OFFLINE_VARIABLES:
            os.environ[name] = "1"

        import datasets.config
        import datasets.utils
        import huggingface_hub.constants

        saved_constants = (
            datasets.config.HF_HUB_OFFLINE,
            datasets.config.HF_DATASETS_OFFLINE,
            huggingface_hub.constants.HF_HUB_OFFLINE,
        )
        datasets.config.HF_HUB_OFFLINE = True
        datasets.config.HF_DATASETS_OFFLINE = True
        huggingface_hub.constants.HF_HUB_OFFLINE = True
        # Progress bars of a few rows would only clutter the terminal before a run starts.
        progress_bars_were_disabled = datasets.utils.are_progress_bars_disabled()
        datasets.utils.disable_progress_bars()
        try:
            yield
        finally:
            if not progress_bars_were_disabled:
                datasets.utils.enable_progress_bars()
            (
                datasets.config.HF_HUB_OFFLINE,
                datasets.config.HF_DATASETS_OFFLINE,
                huggingface_hub.constants.HF_HUB_OFFLINE,
            ) = saved_constants
            for name, value in saved_environment.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def _split_name(source: str) -> tuple[str, str | None]:
    """Split "NAME:SPLIT" into the name and the split; None when no split is given."""
    name, separator, split = source.rpartition(":")
    if separator and name and split:
        return name, split
    return source, None


def _read_dataset_folder(path: Path) -> _RawEntries:
    with _hub_offline():
        import datasets
        from datasets.exceptions import DatasetsError

        try:
            if any((path / file).is_file() for file in _SAVED_DATASET_FILES):
                loaded = datasets.load_from_disk(str(path))
            else:
                loaded = datasets.load_dataset(str(path), split=DEFAULT_SPLIT)
        except (OSError, ValueError, DatasetsError) as error:
            raise PersonaFileError(f"{path}: cannot read the dataset folder ({error}). Pass a folder "
                                   f"written by Dataset.save_to_disk, or a .json, .jsonl or .csv file.") from error

    if isinstance(loaded, datasets.DatasetDict):
        loaded = _pick_split(str(path), loaded)
    return _rows_of(str(path), loaded)


def _read_dataset_name(source: str) -> _RawEntries:
    # NOTE: the tests cover only the not-cached case, because no Hub dataset is
    # cached in the test environment. A cached one loads through the cache
    # module of `datasets` (5.2.0), which offline mode allows.
    name, split = _split_name(source)
    with _hub_offline():
        import datasets
        from datasets.exceptions import DatasetsError

        try:
            loaded = datasets.load_dataset(name, split=split or DEFAULT_SPLIT)
        except (OSError, DatasetsError) as error:
            # Offline, a dataset that is not cached fails with FileNotFoundError or ConnectionError.
            raise PersonaFileError(
                f"dataset {name!r} not found locally, and datasets are never downloaded. Save it with "
                f"Dataset.save_to_disk and pass the folder, or pass a .json, .jsonl or .csv file ({error})."
            ) from error
        except ValueError as error:
            raise PersonaFileError(f"dataset {name!r}: cannot load split {split or DEFAULT_SPLIT!r} ({error}). "
                                   f"Name a split with {name}:SPLIT.") from error
    return _rows_of(source, loaded)


def _pick_split(source: str, loaded: Any) -> Any:
    """Return the "train" split of a DatasetDict, or its only split."""
    splits = list(loaded)
    if DEFAULT_SPLIT in loaded:
        return loaded[DEFAULT_SPLIT]
    if len(splits) == 1:
        return loaded[splits[0]]
    raise PersonaFileError(f"{source}: the dataset has the splits {', '.join(splits)} and none is named "
                           f"{DEFAULT_SPLIT!r}. Save the split of personas on its own with Dataset.save_to_disk.")


def _rows_of(source: str, dataset: Any) -> _RawEntries:
    missing = [column for column in CSV_COLUMNS if column not in dataset.column_names]
    if missing:
        raise PersonaFileError(
            f"{source}: the dataset lacks the column(s) {', '.join(missing)}. The columns are "
            f"{', '.join(CSV_COLUMNS)}, and optionally index."
        )
    rows = dataset.to_list()
    return _RawEntries(entries=[_decode_row(source, position, row) for position, row in enumerate(rows)])
