"""Load JSON configs, apply ``--set KEY=VALUE`` overrides, and report every problem by key path."""

from __future__ import annotations

import copy
import difflib
import json
import math
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from jaxl.config.original_keys import (
    ORIGINAL_ENV_IDS,
    ORIGINAL_ENV_KWARGS,
    original_key_hint,
    original_value_hint,
)
from jaxl.config.schema import READING_A_RUN, EnvConfig, ExperimentConfig, Section, _got
from jaxl.errors import InputError

# Discriminated-union tags that pydantic inserts into error locations.
_UNION_TAGS = {
    "ppo",
    "reinforce",
    "a2c",
    "sac",
    "bc",
    "str",
    "float",
    "ScheduleConfig",
    "MLPConfig",
    "EnvConfig",
    "none",
    "tuple[float, float]",
}


class ConfigError(InputError):
    """A config could not be loaded. The message names each offending key path and the problem.

    :param problems: one line per problem, each ``key.path: what is wrong``.
    """

    def __init__(self, problems: Sequence[str], source: str | None = None) -> None:
        self.problems = list(problems)
        head = f"invalid config {source}" if source else "invalid config"
        super().__init__(head + ":\n  " + "\n  ".join(self.problems))


class ConfigFileNotFoundError(ConfigError):
    """The config file does not exist, or is a folder (its message is that one line)."""

    def __init__(self, path: Path) -> None:
        if path.is_dir():
            problem = f"config file {path} is a folder, not a JSON config"
            if (path / "config.json").is_file():
                problem += (
                    f" (a run directory: 'jaxl resume {path}' continues it, and "
                    f"{path / 'config.json'} is its config)"
                )
        else:
            problem = f"config file not found: {path}"
        super().__init__([problem])
        self.args = (self.problems[0],)


def _allowed_keys(model: type[Section], loc: Sequence[str | int]) -> list[str]:
    """The keys allowed at ``loc`` (the parent of an unknown key, as pydantic gives it: a
    tagged union's member appears as its tag, e.g. ``learner_config.sac``), best effort."""
    current: Any = model
    annotation: Any = None
    for part in loc:
        if annotation is not None and part in _UNION_TAGS:
            current = _section_type(annotation, tag=str(part))  # the member the tag names
            continue
        if isinstance(part, int) or not (
            isinstance(current, type) and issubclass(current, Section)
        ):
            return []
        field = _field_by_name(current, part)
        if field is None:
            return []
        annotation = field.annotation
        current = _section_type(annotation)
    if isinstance(current, type) and issubclass(current, Section):
        return sorted(f.alias or name for name, f in current.model_fields.items())
    return []


def _field_by_name(model: type[Section], key: str):
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            return field
    return None


def _section_type(annotation: Any, tag: str | None = None) -> Any:
    """The Section class inside an annotation such as ``X | None``; in a union of learner
    configs, the one whose ``learner`` is ``tag`` (without a tag, the first)."""
    args = getattr(annotation, "__args__", None)
    if args:
        for arg in args:
            found = _section_type(arg, tag)
            if not (isinstance(found, type) and issubclass(found, Section)):
                continue
            learner = found.model_fields.get("learner")
            if tag is None or (
                learner is not None and tag in getattr(learner.annotation, "__args__", ())
            ):
                return found
        return None
    return annotation


def _key_path(error: dict[str, Any]) -> list[str]:
    """An error's config key path, without pydantic's union member and validator names (e.g.
    "ppo" in learner_config.ppo.gamma)."""
    return [
        str(p)
        for p in error["loc"]
        if str(p) not in _UNION_TAGS and not str(p).startswith(("function-", "literal["))
    ]


def _reported_path(error: dict[str, Any]) -> list[str]:
    """The key path an error is reported at: a model validator's ``jaxl_value`` error sits at
    its object's path and names the key inside it at the start of its message
    (``end_value: ...``)."""
    path = _key_path(error)
    if error["type"] == "jaxl_value":
        key, separator, _ = str(error["msg"]).partition(": ")
        if separator and " " not in key:
            path = path + key.split(".")
    return path


def _relevant(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Leave out the failures of union members an object was never meant for: an object given
    for ``learning_rate`` (a number or a schedule) with an error inside it is a schedule with
    that error, not also "expected a positive number"."""
    paths = [_reported_path(error) for error in errors]

    def has_deeper(path: list[str]) -> bool:
        return any(len(other) > len(path) and other[: len(path)] == path for other in paths)

    return [
        error
        for error, path in zip(errors, paths, strict=True)
        if not (isinstance(error.get("input"), dict) and path and has_deeper(path))
    ]


#: Starts the line of a key or value of the original JAXL's configs.
_ORIGINAL = "original JAXL"


def _format_error(error: dict[str, Any]) -> str:
    loc = _key_path(error)
    path = ".".join(loc)
    kind = error["type"]
    value = error.get("input")
    if kind == "extra_forbidden" and (hint := original_key_hint(path)):
        return f"{path}: {_ORIGINAL} key; {hint}"
    if kind not in ("extra_forbidden", "missing"):
        reported, subject = _reported_path(error), value
        if kind == "jaxl_value" and isinstance(value, dict) and len(reported) > len(loc):
            subject = value.get(reported[-1])  # a validator of the section reported its key
        if hint := original_value_hint(".".join(reported), subject):
            return f"{'.'.join(reported)}: got {_got(subject)}; write {hint}"
    if kind == "extra_forbidden":
        raw = [p for p in error["loc"] if not str(p).startswith(("function-", "literal["))]
        allowed = _allowed_keys(ExperimentConfig, raw[:-1])
        hint = difflib.get_close_matches(loc[-1], allowed, n=1)
        text = "unknown key"
        if hint:
            text += f" (did you mean '{hint[0]}'?)"
        elif allowed:
            text += f" (allowed: {', '.join(allowed)})"
        return f"{path}: {text}"
    if kind == "missing":
        return f"{path}: missing required key"
    if kind in ("jaxl_value",):
        return f"{path}.{error['msg']}" if path else error["msg"]
    if kind == "union_tag_invalid":
        tags = error.get("ctx", {}).get("expected_tags", "")
        return f"{path}.learner: unknown learner {error['ctx']['tag']!r} (known: {tags})"
    if kind == "union_tag_not_found":
        return f"{path}.learner: missing required key"
    if kind == "literal_error":
        return f"{path}: expected {error['ctx']['expected']}, got {_got(value)}"
    if kind == "string_type":
        return f"{path}: expected a string, got {_got(value)}"
    if kind == "bool_type":
        return f"{path}: expected true or false, got {_got(value)}"
    if kind in ("list_type", "dict_type", "model_type", "model_attributes_type"):
        expected = {"list_type": "a list", "dict_type": "an object"}.get(kind, "an object")
        return f"{path}: expected {expected}, got {_got(value)}"
    if kind in ("int_type", "float_type", "int_from_float"):
        return f"{path}: expected a number, got {_got(value)}"
    return f"{path}: {error['msg']}"


_EXPECTED = re.compile(r"^(?P<path>[^:]*): expected (?P<what>.*), got (?P<got>.*)$")


def _dedupe(lines: list[str]) -> list[str]:
    """Union members each report a failure; keep each message once, in order, and join the
    members' "expected ..." for one value into one line ("expected a positive number or an
    object, got ...")."""
    merged: dict[str, list[str]] = {}
    for line in lines:
        match = _EXPECTED.match(line)
        key = f"{match['path']}\0{match['got']}" if match else line
        whats = merged.setdefault(key, [])
        if match and match["what"] not in whats:
            whats.append(match["what"])
    result = []
    for key, whats in merged.items():
        if not whats:
            result.append(key)
            continue
        path, got = key.split("\0")
        result.append(f"{path}: expected {' or '.join(whats)}, got {got}")
    return result


def _problems(error: ValidationError) -> list[str]:
    """One line per problem of a failed validation; first, where keys of the original JAXL's
    configs are among them, a line that says so and where the docs map them all."""
    lines = _dedupe([_format_error(e) for e in _relevant(error.errors())])
    if any(f" {_ORIGINAL} key; " in line for line in lines):
        lines.insert(
            0,
            "this looks like a config of the original JAXL; each line says what replaces its "
            'key (all of them: "Configs of the original JAXL" in docs/configs.rst, and the '
            "shipped configs/ as examples)",
        )
    return lines


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large for a number")
    return value


def _object_without_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:  # json.loads keeps the last silently, which hides an edit that did not apply
        raise ValueError(f"an object names {', '.join(map(repr, repeated))} more than once")
    return dict(pairs)


def strict_json_loads(text: str) -> Any:
    """``json.loads`` without Python's extensions ``NaN``, ``Infinity`` and ``-Infinity``, and
    without numbers such as ``1e400`` that would become infinite: no config value may be either
    (and they would make the run's ``config.json`` invalid JSON). An object may not name a key
    twice.

    :raises ValueError: the text is not strict JSON, or nests deeper than Python can read.
    """
    try:
        return json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            object_pairs_hook=_object_without_repeated_keys,
        )
    except RecursionError:
        raise ValueError("nested too deeply to read") from None


def apply_overrides(raw: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``KEY.PATH=VALUE`` overrides to raw config data.

    Values are parsed as JSON; a value that is not JSON (``CartPole-v1``) is taken as a string.

    :param raw: config data as read from JSON (not modified).
    :param overrides: strings such as ``learner_config.gamma=0.98``.
    :return: a new dict with the overrides applied.
    :raises ConfigError: an override is malformed or walks through a non-object.
    """
    data = copy.deepcopy(raw)
    problems = []
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key:
            problems.append(f"--set {item!r}: expected KEY.PATH=VALUE")
            continue
        try:
            value = strict_json_loads(text)
        except ValueError as error:  # not JSON (CartPole-v1), or NaN/Infinity: taken as a string
            if text.lstrip().startswith(("{", "[")):  # meant as an object or a list
                problems.append(
                    f"--set {key}: not valid JSON ({error}); a string that starts with "
                    f"{text.lstrip()[0]} needs JSON quotes: {key}='\"...\"'"
                )
                continue
            value = text
        parts = key.split(".")
        node = data
        for i, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                problems.append(
                    f"--set {key}: {'.'.join(parts[: i + 1])} is {_got(child)}, not an object"
                )
                break
            node = child
        else:
            node[parts[-1]] = value
    if problems:
        raise ConfigError(problems)
    return data


def _check_external(config: ExperimentConfig, needs_dataset: bool = True) -> list[str]:
    """Checks that need the outside world: the env id is registered, the dataset file exists."""
    problems = []
    learner = config.learner_config
    env_config = learner.env_config
    if env_config is not None:
        from jaxl.envs import unknown_env_message
        from jaxl.envs.make import parameterized_env_message

        message = unknown_env_message(env_config.env_id)
        if message:
            problems.append(f"learner_config.env_config.env_id: {message}")
        if env_config.env_id.startswith("jaxl/") or env_config.env_id in ORIGINAL_ENV_IDS:
            for key in sorted(env_config.env_kwargs.keys() & ORIGINAL_ENV_KWARGS.keys()):
                problems.append(
                    f"learner_config.env_config.env_kwargs.{key}: {_ORIGINAL} key; "
                    f"{ORIGINAL_ENV_KWARGS[key]}"
                )
        message = parameterized_env_message(env_config)
        if message:
            problems.append(f"learner_config.env_config: {message}")
        elif env_config.parameter_spec or env_config.parameter_overrides:
            from jaxl.envs.parameterized import SpecError, load_env_spec

            try:
                load_env_spec(
                    env_config.env_id, env_config.parameter_spec, env_config.parameter_overrides
                )
            except SpecError as error:
                problems.append(f"learner_config.env_config: {error}")
    load_path = learner.buffer_config.load_path
    if needs_dataset and load_path is not None and not Path(load_path).is_file():
        problem = (
            f"{load_path} is a folder, not a dataset file"
            if Path(load_path).is_dir()
            else f"file not found: {load_path}"
        )
        problems.append(f"learner_config.buffer_config.load_path: {problem}")
    return problems


def _absolute_paths(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """Make the dataset and parameter-spec paths absolute so that a run can be resumed from any
    directory."""
    learner = data.get("learner_config", {})
    learner = learner if isinstance(learner, dict) else {}
    for section, key in (("buffer_config", "load_path"), ("env_config", "parameter_spec")):
        node = learner.get(section)
        if isinstance(node, dict) and isinstance(node.get(key), str):
            node[key] = str((base / os.path.expanduser(node[key])).resolve())
    return data


def parse_config(
    data: dict[str, Any],
    overrides: Sequence[str] = (),
    source: str | None = None,
    needs_dataset: bool = True,
    reading_a_run: bool = False,
) -> ExperimentConfig:
    """Validate raw config data (with overrides applied) into an :class:`ExperimentConfig`.

    :param data: JSON data.
    :param overrides: ``KEY.PATH=VALUE`` strings, applied before validation.
    :param source: where the data came from, for messages.
    :param needs_dataset: check that the dataset file (``buffer_config.load_path``) exists;
        evaluating a finished offline run does not read it.
    :param reading_a_run: the data is a run directory's ``config.json``: skip the checks that
        only new configs must pass (:data:`~jaxl.config.schema.READING_A_RUN`).
    :raises ConfigError: listing every problem found, each with its key path.
    """
    if not isinstance(data, dict):
        raise ConfigError([f"top level: expected an object, got {_got(data)}"], source)
    data = _absolute_paths(apply_overrides(data, overrides), Path.cwd())
    try:
        config = ExperimentConfig.model_validate(data, context={READING_A_RUN: reading_a_run})
    except ValidationError as error:
        raise ConfigError(_problems(error), source) from None
    problems = _check_external(config, needs_dataset)
    if problems:
        raise ConfigError(problems, source)
    return config


def parse_env_record(data: Any, source: str) -> EnvConfig:
    """Validate an env config recorded in a file (a dataset's ``metadata.env``) as a record:
    checks added for new configs since it was written do not apply.

    :raises ConfigError: naming ``source`` and every problem.
    """
    if not isinstance(data, dict):
        raise ConfigError([f"expected an env config (an object), got {_got(data)}"], source)
    try:
        return EnvConfig.model_validate(data, context={READING_A_RUN: True})
    except ValidationError as error:
        raise ConfigError(_problems(error), source) from None


def load_config(
    path: str | os.PathLike[str],
    overrides: Sequence[str] = (),
    needs_dataset: bool = True,
    reading_a_run: bool = False,
) -> ExperimentConfig:
    """Read and validate a JSON config file.

    :param path: the JSON file.
    :param overrides: ``KEY.PATH=VALUE`` strings, applied before validation.
    :param needs_dataset: as for :func:`parse_config`.
    :param reading_a_run: as for :func:`parse_config`.
    :raises ConfigError: the file is missing, is not JSON, or fails validation.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigFileNotFoundError(path)
    try:
        data = strict_json_loads(path.read_text())
    except ValueError as error:
        raise ConfigError([f"not valid JSON ({error})"], str(path)) from None
    return parse_config(
        data, overrides, str(path), needs_dataset=needs_dataset, reading_a_run=reading_a_run
    )
