"""Import published self-chat logs and our JSONL export into the conversation log.

Accepted inputs:
- run.py pickles, `{model}_agent_{a}_user_{u}_turn_{T}.pkl`: `{topic, history,
  probed_history_per_turn, seed, persona, user}`. The model comes from the
  file name. Probe answers are scored with the matched persona's scorer.
- baseline_run.py pickles, `{model}_agent_{a}_user_{u}_turn_{T}_{strategy}_seed_{s}.pkl`:
  `{topic, history, seed, persona_id, user_id, persona, user, decoding_strategy,
  model_name, config, turn_stats, best_of_n_logs, summary}`. They have no probes.
- JSONL written by `model-drift export --format jsonl`, one run a line,
  restored exactly (run id, configuration, turns, probes, flags).

Pickles are read with `store.safe_pickle`, never with `pickle.load`. Personas
are matched by system-prompt text, because baseline_run.py's `persona_id`
indexes an older 14-item list. A prompt that matches no persona keeps index -1.
An imported pickle's run id is a hash of its content, so importing it again
adds nothing.
"""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import pickle
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from engine.config import RunConfig, Sampling
from engine.personas import Persona, load_personas
from engine.protocol import speaker_of
from engine.starters import STARTERS
from store import safe_pickle
from store.errors import StoreError
from store.records import FINISHED, STOPPED, StoredRun, stored_run_from_tables
from store.run_files import RUN_ID_PATTERN
from store.run_store import RunStore

logger = logging.getLogger(__name__)

IMPORTED_BACKEND = "imported"
RUN_PY_LAYOUT = "run.py"
BASELINE_LAYOUT = "baseline_run.py"
JSONL_FORMAT = "model-drift-run"
JSONL_VERSION = 1

RUN_PY_KEYS = ("topic", "history", "probed_history_per_turn", "seed", "persona", "user")
BASELINE_KEYS = ("topic", "history", "seed", "persona", "user", "decoding_strategy", "model_name")
LOG_SUFFIXES = (".pkl", ".jsonl")

# `{model}_agent_{a}_user_{u}_turn_{T}` with the baseline suffix `_{strategy}_seed_{s}` optional.
FILE_NAME_PATTERN = re.compile(
    r"(?P<model>.+?)_agent_(?P<agent>-?\d+)_user_(?P<user>-?\d+)_turn_(?P<turns>\d+)"
    r"(?:_(?P<strategy>.+)_seed_(?P<seed>-?\d+))?"
)

# Bounds on a log's plain-value tree. Pickle memo references can make a small
# file expand into a huge tree when it is walked, so the walk stops at these.
MAX_VALUE_NODES = 5_000_000
MAX_VALUE_DEPTH = 64

# Runs written to the store per batch: one index write per batch.
BATCH_SIZE = 200

# Decoding strategy names of baseline_run.py's `--decoding` flag.
DECODING_STRATEGIES = ("greedy", "nucleus", "best_of_n")
BASELINE_DECODING_KEYS = ("top_p", "temperature", "best_of_n", "alpha", "beta", "gamma", "max_tokens")

# Standard turn-record keys. Extra statistics from a log never overwrite them.
TURN_RECORD_KEYS = frozenset(
    {"turn", "speaker", "raw_text", "text", "prompt_tokens", "completion_tokens",
     "prompt_tokens_evaluated", "seconds", "finished_at"}
)


class LogFormatError(ValueError):
    """Error for a file that is not a valid log. The message names the problem."""


@dataclass
class ImportReport:
    """Outcome of one import: runs added, runs already stored, and files that failed."""

    added: list[tuple[str, str]] = field(default_factory=list)
    unchanged: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass
class ParsedLog:
    """The runs read from one file, and the errors of its invalid JSONL lines."""

    runs: list[StoredRun]
    line_errors: list[str] = field(default_factory=list)


# --- finding files -----------------------------------------------------------------


def expand_paths(arguments: Iterable[str | Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expand files, folders (searched recursively for .pkl and .jsonl) and glob patterns.

    Returns the files in a stable order without duplicates, and (argument, error)
    pairs for arguments that match nothing.
    """
    files: list[Path] = []
    missing: list[tuple[str, str]] = []

    for argument in arguments:
        text = str(argument)
        path = Path(text).expanduser()

        if path.is_dir():
            found = sorted(child for child in path.rglob("*") if child.is_file() and child.suffix in LOG_SUFFIXES)
            if not found:
                missing.append((text, "no .pkl or .jsonl file in this folder"))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        elif glob.has_magic(text):
            matches = sorted(Path(match) for match in glob.glob(text, recursive=True) if Path(match).is_file())
            if not matches:
                missing.append((text, "no file matches this pattern"))
            files.extend(matches)
        else:
            missing.append((text, "file or folder not found"))

    unique = list(dict.fromkeys(files))
    return unique, missing


# --- plain values ---------------------------------------------------------------


def plain_value(value: Any, where: str) -> Any:
    """Return a JSON-ready copy of an unpickled value: dict keys as strings, tuples as lists.

    Raises LogFormatError naming `where` for values JSON cannot store (bytes,
    sets, complex numbers) and for trees beyond MAX_VALUE_NODES or MAX_VALUE_DEPTH.
    """
    budget = [MAX_VALUE_NODES]
    return _plain(value, where, 0, budget)


def _plain(value: Any, where: str, depth: int, budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise LogFormatError(f"{where}: more than {MAX_VALUE_NODES} values, so it is not a self-chat log")
    if depth > MAX_VALUE_DEPTH:
        raise LogFormatError(f"{where}: nested deeper than {MAX_VALUE_DEPTH} levels, so it is not a self-chat log")

    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(item, where, depth + 1, budget) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item, where, depth + 1, budget) for key, item in value.items()}
    raise LogFormatError(f"{where}: unsupported value of type {type(value).__name__}")


def content_id(*parts: Any) -> str:
    """Return a 16-hex-digit id from the canonical JSON of `parts`, as native run ids are."""
    canonical = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


# --- persona matching ---------------------------------------------------------


def normalise_prompt(text: str) -> str:
    return " ".join(text.split())


class PersonaMatcher:
    """Find personas by system-prompt text, ignoring differences in whitespace."""

    def __init__(self, personas: list[Persona]) -> None:
        self.personas = personas
        self.by_prompt: dict[str, list[Persona]] = {}
        for persona in personas:
            self.by_prompt.setdefault(normalise_prompt(persona.system_prompt), []).append(persona)
        self.persona_category = [persona for persona in personas if persona.category == "persona"]

    def match(self, prompt: str, *, index_hint: int | None = None, baseline_hint: int | None = None) -> Persona | None:
        """Return the persona whose prompt is `prompt`, or None.

        Two personas can share a prompt (34 and 62 do). Then `index_hint`, a
        run.py persona index, picks one. So does `baseline_hint`, a position in
        the 14-item list of the 'persona' category that baseline_run.py indexes.
        Without a usable hint the lowest index wins.
        """
        candidates = self.by_prompt.get(normalise_prompt(prompt), [])
        if len(candidates) <= 1:
            return candidates[0] if candidates else None

        if index_hint is not None:
            for persona in candidates:
                if persona.index == index_hint:
                    return persona
        if baseline_hint is not None and 0 <= baseline_hint < len(self.persona_category):
            hinted = self.persona_category[baseline_hint]
            if hinted in candidates:
                return hinted
        return candidates[0]


def unmatched_label(prompt: str) -> str:
    """Return the label of a persona prompt that is not in personas.json."""
    words = normalise_prompt(prompt)
    excerpt = words if len(words) <= 40 else words[:40].rstrip() + "…"
    return f"#-1 (not in personas.json) {excerpt}"


# --- file names ------------------------------------------------------------------


def parse_file_name(path: Path) -> dict[str, Any]:
    """Return the fields of a published log file name: model, agent, user, turns, strategy, seed.

    Returns {} when the name does not start with `{model}_agent_{a}_user_{u}_turn_{T}`.
    """
    match = FILE_NAME_PATTERN.fullmatch(path.stem)
    if match is None:
        # A name with something after `_turn_{T}`, such as a copy's suffix, still names model and personas.
        match = FILE_NAME_PATTERN.match(path.stem)
    if match is None:
        return {}

    fields: dict[str, Any] = {"model": match["model"]}
    for name in ("agent", "user", "turns", "seed"):
        if match[name] is not None:
            fields[name] = int(match[name])
    if match["strategy"] is not None:
        fields["strategy"] = match["strategy"]
    return fields


def file_time(path: Path) -> str:
    """Return the file's modification time in ISO 8601 UTC: the best known time of a published log."""
    modified = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)
    return modified.isoformat(timespec="milliseconds")


# --- validation helpers --------------------------------------------------------


def require_type(log: dict, key: str, types: type | tuple[type, ...], expected: str) -> Any:
    """Return `log[key]`, raising LogFormatError when it is missing or not of `types` (bool is no int)."""
    value = log.get(key)
    wrong_type = not isinstance(value, types)
    bool_for_number = isinstance(value, bool) and bool not in _as_tuple(types)
    if wrong_type or bool_for_number:
        raise LogFormatError(f"{key!r} must be {expected}, found {type(value).__name__}")
    return value


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def check_history(log: dict) -> list[str]:
    history = require_type(log, "history", list, "a list of strings")
    if not history:
        raise LogFormatError("'history' is empty: a log starts with the conversation starter")
    for position, entry in enumerate(history):
        if not isinstance(entry, str):
            raise LogFormatError(f"history entry {position} must be a string, found {type(entry).__name__}")
    return history


def optional_number(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


# --- turn records -------------------------------------------------------------------


def history_turns(history: list[str], finished_at: str, extras: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """Build turn records from a published history, adding the keys that `extras` maps to each turn number.

    Published logs contain only the stripped, newline-folded text, so `raw_text`
    equals `text`. Token counts and seconds are 0 unless `extras` supplies them.
    """
    turns = []
    for position, text in enumerate(history):
        number = position + 1
        record: dict[str, Any] = {
            "turn": number,
            "speaker": speaker_of(number),
            "raw_text": text,
            "text": text,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "prompt_tokens_evaluated": None,
            "seconds": 0.0,
            "finished_at": finished_at,
        }
        record.update(extras.get(number, {}))
        turns.append(record)
    return turns


# --- run.py layout -------------------------------------------------------------------


def run_py_run(log: dict, path: Path, matcher: PersonaMatcher, model_override: str | None) -> StoredRun:
    """Convert a run.py log to a stored run with scored probe records."""
    history = check_history(log)
    topic = require_type(log, "topic", str, "a string")
    agent_prompt = require_type(log, "persona", str, "a string")
    user_prompt = require_type(log, "user", str, "a string")
    seed = require_type(log, "seed", int, "an integer")
    probe_table = require_type(log, "probed_history_per_turn", dict, "a dict of turn -> list of answers")

    name_fields = parse_file_name(path)
    # NOTE: run.py writes a model id owner/name as the file `name_agent_...` in
    # a subfolder `owner/`, so the file name gives only `name`. `--model` fixes that.
    model = model_override or name_fields.get("model") or "unknown"
    agent = matcher.match(agent_prompt, index_hint=name_fields.get("agent"))
    user = matcher.match(user_prompt, index_hint=name_fields.get("user"))

    answers_per_turn: dict[int, list[str]] = {}
    for key, answers in probe_table.items():
        if isinstance(key, bool) or not isinstance(key, int):
            raise LogFormatError(f"'probed_history_per_turn' key {key!r} must be a turn number")
        if not isinstance(answers, list) or not all(isinstance(answer, str) for answer in answers):
            raise LogFormatError(f"'probed_history_per_turn'[{key}] must be a list of strings")
        if answers:
            answers_per_turn[key] = answers

    probes = []
    scorer = agent.scorer if agent is not None else None
    for turn in sorted(answers_per_turn):
        for sample, answer in enumerate(answers_per_turn[turn]):
            probes.append({
                "turn": turn,
                "sample": sample,
                "raw_text": answer,
                "score": scorer.score(answer) if scorer else None,
                "published": scorer.published(answer) if scorer else None,
                "prompt_tokens": 0,
                "completion_tokens": 0,
                "prompt_tokens_evaluated": None,
                "seconds": 0.0,
            })

    # run.py sends max_tokens 400, temperature 1.0 and top_p 0.9 to Replicate.
    # NOTE: its OpenAI calls (model names containing "gpt") pass no sampling
    # settings, so the API defaults applied there and these values are not exact for them.
    sampling = Sampling(temperature=1.0, top_p=0.9, max_tokens=400)
    turns_requested = name_fields.get("turns", len(history))
    config = RunConfig(
        backend=IMPORTED_BACKEND,
        model=model,
        agent=agent.index if agent else -1,
        user=user.index if user else -1,
        topic=STARTERS.index(topic) if topic in STARTERS else -1,
        seed=seed,
        turns=turns_requested,
        runs=max((len(answers) for answers in answers_per_turn.values()), default=0),
        sampling=sampling,
    )

    plain_log = plain_value(log, "log")
    run_id = content_id(RUN_PY_LAYOUT, model, plain_log)
    finished_at = file_time(path)
    metadata = {
        "source": {"layout": RUN_PY_LAYOUT, "file": path.name, "file_name_fields": name_fields},
        "decoding": {"strategy": "nucleus", "temperature": sampling.temperature, "top_p": sampling.top_p,
                     "max_tokens": sampling.max_tokens},
    }

    return StoredRun(
        run_id=run_id,
        config=config,
        created_at=finished_at,
        status=FINISHED if len(history) >= turns_requested else STOPPED,
        agent_prompt=agent_prompt,
        user_prompt=user_prompt,
        agent_label=agent.label if agent else unmatched_label(agent_prompt),
        user_label=user.label if user else unmatched_label(user_prompt),
        starter=history[0],
        turns=history_turns(history, finished_at, {}),
        probes=probes,
        imported=True,
        metadata=metadata,
    )


# --- baseline_run.py layout --------------------------------------------------------


def decoding_settings(log: dict, config: dict) -> dict[str, Any]:
    """Return the decoding strategy and its settings from a baseline log's `config`."""
    strategy = config.get("decoding")
    if strategy not in DECODING_STRATEGIES:
        label = str(log.get("decoding_strategy", ""))
        strategy = "best_of_n" if label.startswith("bestof") else label.split("_")[0] or "unknown"

    settings: dict[str, Any] = {"strategy": strategy, "label": log.get("decoding_strategy")}
    for key in BASELINE_DECODING_KEYS:
        settings[key] = config.get(key)
    return settings


def baseline_extras(log: dict) -> dict[int, dict[str, Any]]:
    """Map our turn numbers to the turn statistics and best-of-n candidates of a baseline log.

    baseline_run.py numbers generated replies from 1, so its turn k is
    history[k], which is our turn k + 1 (the starter is our turn 1).
    """
    extras: dict[int, dict[str, Any]] = {}
    statistics = plain_value(log.get("turn_stats") or [], "turn_stats")
    candidate_logs = plain_value(log.get("best_of_n_logs") or [], "best_of_n_logs")

    for name, entries in (("turn_stats", statistics), ("best_of_n_logs", candidate_logs)):
        if not isinstance(entries, list):
            raise LogFormatError(f"{name!r} must be a list of dicts")
        for entry in entries:
            if not isinstance(entry, dict) or isinstance(entry.get("turn"), bool) or not isinstance(entry.get("turn"), int):
                raise LogFormatError(f"every {name!r} entry must be a dict with an integer 'turn'")
            bucket = extras.setdefault(entry["turn"] + 1, {})
            bucket.update({key: value for key, value in entry.items() if key != "turn" and key not in TURN_RECORD_KEYS})

    # The statistics also fill the standard fields. They are estimates, not tokenizer counts.
    for bucket in extras.values():
        prompt_tokens = optional_number(bucket.get("prompt_tokens_est"))
        completion_tokens = optional_number(bucket.get("response_tokens_est"))
        latency = optional_number(bucket.get("latency_sec"))
        if prompt_tokens is not None:
            bucket["prompt_tokens"] = int(prompt_tokens)
        if completion_tokens is not None:
            bucket["completion_tokens"] = int(completion_tokens)
        if latency is not None:
            bucket["seconds"] = float(latency)
    return extras


def baseline_run(log: dict, path: Path, matcher: PersonaMatcher) -> StoredRun:
    """Convert a baseline_run.py log to a stored run, keeping statistics and best-of-n candidates."""
    history = check_history(log)
    topic = require_type(log, "topic", str, "a string")
    agent_prompt = require_type(log, "persona", str, "a string")
    user_prompt = require_type(log, "user", str, "a string")
    seed = require_type(log, "seed", int, "an integer")
    model = require_type(log, "model_name", str, "a string")
    require_type(log, "decoding_strategy", str, "a string")
    config_values = plain_value(log.get("config") or {}, "config")
    if not isinstance(config_values, dict):
        raise LogFormatError(f"'config' must be a dict, found {type(config_values).__name__}")

    persona_id = log.get("persona_id") if type(log.get("persona_id")) is int else None
    user_id = log.get("user_id") if type(log.get("user_id")) is int else None
    agent = matcher.match(agent_prompt, baseline_hint=persona_id)
    user = matcher.match(user_prompt, baseline_hint=user_id)

    decoding = decoding_settings(log, config_values)
    temperature = optional_number(decoding["temperature"])
    top_p = optional_number(decoding["top_p"])
    max_tokens = optional_number(decoding["max_tokens"])
    # Greedy decoding samples at temperature 0, whatever temperature the config contains.
    if decoding["strategy"] == "greedy":
        temperature = 0.0
    elif temperature is None:
        temperature = 1.0
    sampling = Sampling(
        temperature=float(temperature),
        top_p=float(top_p if top_p is not None else 0.9),
        max_tokens=int(max_tokens if max_tokens is not None else 400),
    )

    # baseline_run.py's --turns counts generated replies, but our turns count history entries.
    requested = optional_number(config_values.get("turns"))
    turns_requested = int(requested) + 1 if requested is not None else len(history)
    config = RunConfig(
        backend=IMPORTED_BACKEND,
        model=model,
        agent=agent.index if agent else -1,
        user=user.index if user else -1,
        topic=STARTERS.index(topic) if topic in STARTERS else -1,
        seed=seed,
        turns=turns_requested,
        runs=0,
        sampling=sampling,
    )

    plain_log = plain_value(log, "log")
    finished_at = file_time(path)
    published = {key: plain_log.get(key) for key in ("persona_id", "user_id", "decoding_strategy", "model_name",
                                                      "config", "summary")}
    metadata = {
        "source": {"layout": BASELINE_LAYOUT, "file": path.name, "file_name_fields": parse_file_name(path)},
        "decoding": decoding,
        "published": published,
    }

    return StoredRun(
        run_id=content_id(BASELINE_LAYOUT, plain_log),
        config=config,
        created_at=finished_at,
        status=FINISHED if len(history) >= turns_requested else STOPPED,
        agent_prompt=agent_prompt,
        user_prompt=user_prompt,
        agent_label=agent.label if agent else unmatched_label(agent_prompt),
        user_label=user.label if user else unmatched_label(user_prompt),
        starter=history[0],
        turns=history_turns(history, finished_at, baseline_extras(log)),
        probes=[],
        imported=True,
        metadata=metadata,
    )


# --- reading files -----------------------------------------------------------------


def log_layout(log: Any) -> str:
    """Return RUN_PY_LAYOUT or BASELINE_LAYOUT for an unpickled log, or raise LogFormatError."""
    if not isinstance(log, dict):
        raise LogFormatError(f"a published log is a dict, found {type(log).__name__}")

    keys = set(log)
    if "probed_history_per_turn" in keys:
        missing = [key for key in RUN_PY_KEYS if key not in keys]
        layout = RUN_PY_LAYOUT
    else:
        missing = [key for key in BASELINE_KEYS if key not in keys]
        layout = BASELINE_LAYOUT
        if len(missing) == len(BASELINE_KEYS) - 2:
            missing = ["probed_history_per_turn (run.py)", "decoding_strategy (baseline_run.py)"]

    if missing:
        found = ", ".join(sorted(map(str, keys))[:12])
        raise LogFormatError(f"not a {layout} log: missing key(s) {', '.join(missing)} (found: {found})")
    return layout


def read_pickle_log(path: Path, data: bytes, matcher: PersonaMatcher, model_override: str | None) -> StoredRun:
    """Unpickle a published log safely and convert it to a stored run."""
    try:
        log = safe_pickle.loads(data)
    except pickle.UnpicklingError as error:
        raise LogFormatError(f"rejected pickle: {error}. Published logs contain no other classes, "
                             f"so this file is not one. Never open it with pickle.load") from error
    except (EOFError, ValueError, TypeError, IndexError, KeyError, AttributeError, OverflowError,
            UnicodeDecodeError, MemoryError) as error:
        raise LogFormatError(f"not a valid pickle ({type(error).__name__}: {error}): "
                             f"the file is damaged or not a log") from error

    if log_layout(log) == RUN_PY_LAYOUT:
        return run_py_run(log, path, matcher, model_override)
    return baseline_run(log, path, matcher)


def run_from_json(record: Any) -> StoredRun:
    """Rebuild a StoredRun from one line of our JSONL export, or raise LogFormatError when it is invalid."""
    if not isinstance(record, dict) or record.get("format") != JSONL_FORMAT:
        raise LogFormatError(f"not a model-drift run: expected an object with \"format\": \"{JSONL_FORMAT}\"")
    if record.get("version") != JSONL_VERSION:
        raise LogFormatError(f"unsupported export version {record.get('version')!r}: this version reads {JSONL_VERSION}")

    header = {key: value for key, value in record.items() if key not in ("format", "version", "turns", "probes")}
    try:
        run = stored_run_from_tables(header, record.get("turns", []), record.get("probes", []))
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise LogFormatError(f"invalid run record ({type(error).__name__}: {error})") from error

    if not isinstance(run.run_id, str) or not RUN_ID_PATTERN.fullmatch(run.run_id):
        raise LogFormatError(f"invalid run id {run.run_id!r}: use letters, digits, '-' and '_' only")
    return run


def read_jsonl_log(data: bytes) -> ParsedLog:
    """Read our JSONL export. Invalid lines are listed by number in `line_errors`, and the rest returned."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise LogFormatError(f"not UTF-8 text ({error})") from error

    parsed = ParsedLog(runs=[])
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            parsed.runs.append(run_from_json(json.loads(line)))
        except json.JSONDecodeError as error:
            parsed.line_errors.append(f"line {number}: invalid JSON ({error.msg} at column {error.colno})")
        except LogFormatError as error:
            parsed.line_errors.append(f"line {number}: {error}")
    return parsed


def read_log_file(path: Path, matcher: PersonaMatcher, model_override: str | None = None) -> ParsedLog:
    """Read one file: our JSONL export when it ends in .jsonl or starts with '{', otherwise a pickle.

    Raises LogFormatError or OSError. The caller names the file.
    """
    data = safe_pickle.read_bytes(path)
    if path.suffix in (".jsonl", ".json") or data.lstrip()[:1] == b"{":
        return read_jsonl_log(data)
    return ParsedLog(runs=[read_pickle_log(path, data, matcher, model_override)])


# --- the import ------------------------------------------------------------------------


def batched(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def import_logs(
    arguments: Iterable[str | Path],
    store: RunStore,
    personas: list[Persona] | None = None,
    *,
    model_override: str | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportReport:
    """Import every log that `arguments` name (files, folders, globs) into `store`.

    A file that is not a valid log is reported in `failed` with the reason and
    skipped, and the other files are still imported. Runs already stored are
    listed in `unchanged` and left as they are.
    """
    matcher = PersonaMatcher(personas if personas is not None else load_personas())
    files, missing = expand_paths(arguments)
    report = ImportReport(failed=list(missing))

    for batch in batched(files, batch_size):
        pending: list[tuple[str, StoredRun]] = []
        for path in batch:
            try:
                parsed = read_log_file(path, matcher, model_override)
            except (LogFormatError, ValueError) as error:
                logger.warning("skipped %s: %s", path, error)
                report.failed.append((str(path), str(error)))
                continue
            except OSError as error:
                logger.warning("failed to read %s: %s", path, error)
                report.failed.append((str(path), f"failed to read ({error.strerror or error})"))
                continue

            for line_error in parsed.line_errors:
                logger.warning("skipped %s %s", path, line_error)
                report.failed.append((str(path), line_error))
            pending.extend((str(path), run) for run in parsed.runs)

        store_batch(store, pending, report)
    return report


def store_batch(store: RunStore, pending: list[tuple[str, StoredRun]], report: ImportReport) -> None:
    """Add one batch of parsed runs to the store and record each outcome in `report`."""
    try:
        added = set(store.add_runs([run for _, run in pending]))
    except StoreError as error:
        logger.error("failed to store %d imported runs: %s", len(pending), error)
        report.failed.extend((name, f"failed to store run {run.run_id}: {error}") for name, run in pending)
        return

    for name, run in pending:
        outcome = report.added if run.run_id in added else report.unchanged
        outcome.append((name, run.run_id))
        # A file that names one run twice adds it once, so the second copy counts as unchanged.
        added.discard(run.run_id)
