"""What every configuration file shares: one strict base model, one reader, one error format.

Scenario, strategy, experiment, study and calibration files are all TOML read by
:func:`read_toml` and validated by pydantic models built on :class:`StrictModel`. Every
check is declared in a schema (a field constraint or a validator), and every failure
reaches the user through :func:`format_problems`: one line per problem naming the file,
the dotted key, the value and what is allowed, at most :data:`MAX_PROBLEMS` of them and a
count of the rest.

Strict means what a file says is what it means: ``"40"`` is not an integer, ``true`` is not
a number, ``"no"`` is not a boolean, ``nan`` and ``inf`` are not numbers here (an integer
*is* accepted where a real number is expected), and integers must fit 64 bits.

Nothing here imports the simulation engine: ``peacesim validate`` stays fast.
"""

from __future__ import annotations

import copy
import re
import tomllib
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

#: configuration files are small text files; anything larger is not one of them
MAX_FILE_BYTES = 4 * 1024 * 1024
#: tables and arrays nested deeper than this are not a configuration file
MAX_DEPTH = 16
#: problems listed in one message; the rest are counted
MAX_PROBLEMS = 20
#: lines in one message, whatever nested messages it quotes
MAX_LINES = 25
#: characters of a value's repr shown in a message
MAX_VALUE_CHARS = 60
INT64_MAX = 2**63 - 1
#: names that become folder or file names (scenarios, strategies, experiments, studies, arms)
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
NAME_RULE = ("use 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit "
             "(it names folders)")
_NAME = re.compile(NAME_PATTERN)


class ScenarioError(ValueError):
    """A configuration file (or override) that cannot be used; the message says where and why.

    The one error type of :mod:`sim.config` (experiments and studies subclass it); the CLI
    turns it into exit status 2 without a traceback.
    """


#: the name the other file kinds use for the same thing
ConfigError = ScenarioError


def documented(default: Any, description: str, unit: str = "-", **constraints: Any) -> Any:
    """A documented field: ``unit`` goes into the JSON schema for the ODD parameter table."""
    return Field(default, description=description, json_schema_extra={"unit": unit},
                 **constraints)


class StrictModel(BaseModel):
    """The one base of every schema: unknown keys are errors, types are strict."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False,
                              validate_assignment=True)

    @field_validator("*", mode="before")
    @classmethod
    def _exact_choices(cls, value: Any, info: ValidationInfo) -> Any:
        # a choice among numbers (``groups: 1 | 2``) is not met by 2.0 or true
        fld = cls.model_fields.get(info.field_name or "")
        return exact_choice(fld.annotation if fld is not None else None, value)

    @field_validator("*", mode="after")
    @classmethod
    def _fits_64_bits(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > INT64_MAX:
            raise ValueError("must fit a 64-bit integer (at most 9223372036854775807)")
        return value


def exact_choice(annotation: Any, value: Any) -> Any:
    """``value`` if it is one of the choices of a ``Literal`` annotation in their own type
    (``2.0`` and ``true`` are not the choice ``2`` or ``1``); raises ValueError otherwise."""
    if typing.get_origin(annotation) is Literal and isinstance(value, bool | float):
        choices = typing.get_args(annotation)
        if not any(type(c) is type(value) for c in choices):
            raise ValueError(f"Input should be {' or '.join(map(repr, choices))}")
    return value


def check_name(value: str) -> str:
    """A name that becomes part of a path: letters, digits, '.', '_', '-' (no '..', no '/')."""
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(NAME_RULE)
    return value


def as_tuple(value: Any) -> Any:
    """TOML has arrays, not tuples: a list given for a fixed-length pair is read as one."""
    return tuple(value) if isinstance(value, list) else value


# --------------------------------------------------------------------------- reading


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file, turning every failure into a one-line :class:`ScenarioError` that
    names the file and says what to do (size, encoding, syntax and nesting are checked)."""
    p = Path(path)
    name = short_repr(str(p), 200)[1:-1] if len(str(p)) > 200 else str(p)
    try:
        if not p.exists():
            raise ScenarioError(f"{name}: file not found")
        if p.is_dir():
            raise ScenarioError(f"{name}: is a folder, expected a TOML file")
        if not p.is_file():
            raise ScenarioError(f"{name}: not a regular file, expected a TOML file")
        with p.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(f"{name}: cannot be read: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(f"{p}: larger than {MAX_FILE_BYTES // 2**20} MiB; configuration "
                            "files are small TOML text files")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{p}: not a UTF-8 text file ({exc.reason})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{p}: malformed TOML: {exc}") from None
    except RecursionError:
        raise ScenarioError(f"{p}: tables or arrays nested too deeply to read; configuration "
                            f"files need at most {MAX_DEPTH} levels") from None
    check_depth(data, str(p))
    return data


def check_depth(data: Any, source: str, limit: int = MAX_DEPTH) -> None:
    """Refuse data nested deeper than ``limit`` (walked without recursion)."""
    stack: list[tuple[Any, int, str]] = [(data, 0, "")]
    while stack:
        node, depth, key = stack.pop()
        if depth > limit:
            key = key if len(key) <= MAX_VALUE_CHARS else key[: MAX_VALUE_CHARS - 3] + "..."
            raise ScenarioError(f"{source}: {key or 'the file'} is nested {limit}+ levels deep; "
                                f"configuration files need at most {limit} levels of tables "
                                "and arrays")
        if isinstance(node, dict):
            stack.extend((v, depth + 1, f"{key}.{k}" if key else str(k))
                         for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, depth + 1, f"{key}[{i}]") for i, v in enumerate(node))


def parse_value(text: str) -> Any:
    """Parse a ``--set`` value as TOML (numbers, booleans, arrays); bare words are strings."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except (tomllib.TOMLDecodeError, RecursionError):
        return text


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``extra`` on top of ``base`` (tables merged key by key, other values replaced)."""
    out = copy.deepcopy(base)
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested tables as ``{dotted_key: value}``."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


# --------------------------------------------------------------------------- messages


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where (dotted key), the value found, what is allowed."""

    key: str
    message: str
    value: Any = None
    show_value: bool = True


def short_repr(value: Any, limit: int = MAX_VALUE_CHARS) -> str:
    """``repr(value)`` cut to ``limit`` characters (a 24 MB list is not a message)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def submodel(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation (``Roles``, ``list[Factor] | None``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = submodel(arg)
        if found is not None:
            return found
    return None


def allowed_keys(root: type[BaseModel] | None, loc: Sequence[Any]) -> list[str]:
    """Keys of the table at ``loc`` in the schema ``root`` (empty if it is not a table)."""
    model = root
    keyed = False  # the part after a table of tables (``dict[str, Prior]``) is its own key
    for part in loc:
        if isinstance(part, int) or keyed:
            keyed = False
            continue
        fld = model.model_fields.get(part) if model else None
        model = submodel(fld.annotation) if fld else None
        keyed = fld is not None and typing.get_origin(fld.annotation) is dict
        if model is None:
            return []
    return sorted(model.model_fields) if model else []


def key_text(loc: Iterable[Any]) -> str:
    """``("factors", 0, "range")`` as ``factors[0].range``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _is_type_tag(part: Any) -> bool:
    # pydantic adds the member of a union it tried (``list[str]``, ``literal['a']``) to loc
    return isinstance(part, str) and any(c in part for c in "[]()',= ")


def problems_of(exc: ValidationError, root: type[BaseModel] | None = None,
                marks: dict[str, str] | None = None, prefix: Sequence[Any] = ()
                ) -> list[Problem]:
    """pydantic's errors as :class:`Problem` records (one per key: the members of a union
    that all failed are one problem). ``marks`` adds a note to keys that did not come from
    the file (``{"world.width": "from --set"}``)."""
    merged: dict[str, Problem] = {}
    for err in exc.errors():
        loc = [*prefix, *(p for p in err["loc"] if not _is_type_tag(p))]
        key = key_text(loc)
        shown = key + (f" ({marks[key]})" if marks and key in marks else "")
        value = err.get("input")
        msg = err["msg"].removeprefix("Value error, ")
        etype = err["type"]
        if etype == "extra_forbidden":
            allowed = allowed_keys(root, loc[len(prefix):-1]) if root is not None else []
            hint = f"; allowed keys here: {', '.join(allowed)}" if allowed else ""
            problem = Problem(shown, f"unknown key (value {short_repr(value)}){hint}",
                              show_value=False)
        elif etype == "missing":
            problem = Problem(shown, "required key is missing", show_value=False)
        elif etype == "too_short" and value == []:
            problem = Problem(shown, "the list is empty; give at least one entry", value)
        elif etype == "model_type" or (isinstance(value, dict) and etype == "value_error"):
            # a table failed as a whole (a cross-field rule): the message names the keys
            problem = Problem(shown, msg if etype != "model_type" else
                              f"expected a table, got {short_repr(value)}", show_value=False)
        else:
            problem = Problem(shown, msg, value)
        if key in merged and merged[key].message != problem.message:
            old = merged[key]
            merged[key] = Problem(old.key, f"{old.message}, or {problem.message.lower()}",
                                  old.value, old.show_value)
        elif key not in merged:
            merged[key] = problem
    return list(merged.values())


def problem_line(p: Problem) -> str:
    """``  key = value: what is allowed`` (continuation lines of a quoted message indented)."""
    head = f"{p.key} = {short_repr(p.value)}" if p.show_value else p.key
    if p.key == "(top level)":
        head = ""
    text = f"{head}: {p.message}" if head else p.message
    return "  " + text.replace("\n", "\n    ")


def format_problems(source: str, what: str, problems: Sequence[Problem]) -> str:
    """The one message format: a header naming the file and the number of problems, then one
    line per problem, capped at :data:`MAX_PROBLEMS` lines plus a count of the rest (and at
    :data:`MAX_LINES` lines in all)."""
    n = len(problems)
    lines = [f"{source}: invalid {what} ({n} problem{'s' if n != 1 else ''})"]
    lines += [problem_line(p) for p in problems[:MAX_PROBLEMS]]
    if n > MAX_PROBLEMS:
        lines.append(f"  ... and {n - MAX_PROBLEMS} more")
    return cap_lines("\n".join(lines))


def cap_lines(text: str, limit: int = MAX_LINES) -> str:
    """At most ``limit`` lines: a message quoting other messages stays readable."""
    lines = text.splitlines()
    if len(lines) <= limit:
        return text
    return "\n".join([*lines[: limit - 1], f"  ... ({len(lines) - limit + 1} more lines)"])


def format_validation_error(exc: ValidationError, source: str,
                            root: type[BaseModel] | None = None, what: str = "scenario",
                            marks: dict[str, str] | None = None) -> str:
    """pydantic's error in the one message format (see :func:`format_problems`)."""
    return format_problems(source, what, problems_of(exc, root, marks))


def one_problem(source: str, what: str, key: str, message: str, value: Any = None,
                show_value: bool = False) -> str:
    """A single problem in the one message format."""
    return format_problems(source, what, [Problem(key, message, value, show_value)])


#: the kinds of configuration file ``peacesim validate`` recognises
FileKind = Literal["scenario", "strategy", "experiment", "study", "calibration"]


def canonical_json(obj: Any) -> str:
    """Key-sorted, whitespace-free JSON so equal parameters always hash alike (the one
    spelling every digest of a configuration uses)."""
    import json

    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
