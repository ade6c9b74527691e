"""The parameter registry: the kernels' parameter tuple, generated from the scenario schema.

Every numeric parameter of :class:`sim.config.scenario.Scenario` is a field of :class:`Params`
under one mechanical name: its dotted key with the dots replaced by underscores
(``ddr.rate`` is ``prm.ddr_rate``, ``armed_groups.p_lethal`` is
``prm.armed_groups_p_lethal``). A choice among words (a ``Literal`` of strings) is the
position of the chosen word (:func:`code`); a choice among numbers is the number. Text,
lists and optional values are not numeric and stay in Python, as does the ``[run]`` table
(length, seed and outcome window of a run are not the model's parameters).

A handful of *derived* values follow the schema fields, built in :func:`build_params` only:
the indices of the neighbourhood classes agents use (:mod:`sim.engine.space`) and the reach
of tips. Adding a parameter therefore touches the schema and the rule that reads it; this
module picks the field up by itself.

``Params`` is created once, at import, under this module's name, so numba's on-disk cache
(which pickles argument types by reference) finds the same class in every process.
"""

from __future__ import annotations

import typing
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel

from sim.config.scenario import Scenario

#: derived fields (name, type, meaning), filled by :func:`build_params`
DERIVED: tuple[tuple[str, type, str], ...] = (
    ("cops_class", int, "vision class of police"),
    ("pk_class", int, "vision class of peacekeepers"),
    ("comb_class", int, "vision class of combatants (0 without the peacekeeping layer)"),
    ("birth_class", int, "neighbourhood class where children are born (Moore, radius 1)"),
    ("harm_class", int, "neighbourhood class an interdiction may harm (strategy.harm_radius)"),
    ("tip_reach", int, "reach of tips to the mission: information.report_reach + "
     "round(information.mobile_reach x strategy.early_warning)"),
    ("tip_delay", int, "ticks before a tip is actionable: round(information.report_delay x "
     "(1 - strategy.early_warning))"),
)


def _kernel_type(annotation: Any) -> tuple[type, tuple[Any, ...]] | None:
    """The kernel type of a schema field, and its word choices; None if not numeric."""
    if annotation in (bool, int, float):
        return annotation, ()
    if typing.get_origin(annotation) is Literal:
        choices = typing.get_args(annotation)
        if all(isinstance(c, str) for c in choices):
            return int, choices
        if all(type(c) is int for c in choices):
            return int, ()
    return None


def _schema_fields(model: type[BaseModel], choices: dict[str, tuple[str, ...]],
                   prefix: str = "") -> list[tuple[str, str, type]]:
    """(kernel name, dotted key, type) of every numeric field, in schema order; the word
    choices of ``Literal`` fields go into ``choices``."""
    out: list[tuple[str, str, type]] = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if f"{prefix}{name}" in NOT_KERNEL:
            continue
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out += _schema_fields(ann, choices, f"{prefix}{name}.")
            continue
        kt = _kernel_type(ann)
        if kt is not None:
            key = f"{prefix}{name}"
            out.append((key.replace(".", "_"), key, kt[0]))
            if kt[1]:
                choices[key.replace(".", "_")] = kt[1]
    return out


#: sections and keys that are not the model's (the run's length, seed and outcome window)
NOT_KERNEL = frozenset({"run"})
#: word choices of the ``Literal`` fields, by kernel name: the code of a word is its position
CHOICES: dict[str, tuple[str, ...]] = {}
#: (kernel name, dotted key, type) of every schema field in ``Params``
SCHEMA_FIELDS = tuple(_schema_fields(Scenario, CHOICES))
_names = [n for n, _, _ in SCHEMA_FIELDS] + [n for n, _, _ in DERIVED]
if len(set(_names)) != len(_names):  # pragma: no cover - a schema edit that breaks the map
    dup = sorted({n for n in _names if _names.count(n) > 1})
    raise RuntimeError(f"two parameters map to the same kernel name: {', '.join(dup)}")

Params = NamedTuple(  # type: ignore[misc]
    "Params", [(n, t) for n, _, t in SCHEMA_FIELDS] + [(n, t) for n, t, _ in DERIVED]
)
Params.__module__ = __name__
Params.__doc__ = "Every numeric scenario parameter and the derived values, for the kernels."


_INT64 = 2**63


def kernel_name(key: str) -> str:
    """The kernel name of a dotted scenario key: ``"ddr.rate"`` -> ``"ddr_rate"``."""
    return key.replace(".", "_")


def code(name: str, choice: str) -> int:
    """The code the kernels see for ``choice`` of the word-valued parameter ``name``."""
    return CHOICES[name].index(choice)


def build_params(sc: Scenario, classes: dict[str, int]) -> Params:
    """The kernels' parameters of a scenario; ``classes`` maps the derived class names
    (``cops_class`` ...) to their index in the model's geometry."""
    values: list[Any] = []
    for name, key, kind in SCHEMA_FIELDS:
        v = sc.get(key)
        if name in CHOICES:
            v = code(name, v)
        elif kind is int:  # an unbounded tick count must still fit the kernels' int64
            v = max(-_INT64, min(int(v), _INT64 - 1))
        values.append(kind(v))
    s = sc.strategy
    derived = dict(classes)
    info = sc.information
    derived["tip_reach"] = info.report_reach + int(round(info.mobile_reach * s.early_warning))
    derived["tip_delay"] = int(round(info.report_delay * (1.0 - s.early_warning)))
    values += [kind(derived[n]) for n, kind, _ in DERIVED]
    return Params(*values)
