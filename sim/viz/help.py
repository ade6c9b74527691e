"""Help for the trainer app: one table of every lever's tooltip, and the "what am I looking at"
text, so no lever is shown without saying what it is, in which unit, and which way it tends to
move outcomes.

What a lever represents and its unit come from the scenario schema (the same descriptions as
``peacesim validate`` and the ODD parameter table); which way it moves outcomes comes from the
measured effects of ODD section 9 (or, where section 9 has no row, from the rule in ODD 7 it
sets, and says so). Each entry names the rows of ``docs/ODD.md`` it quotes, and a test checks
that they are still there, so the help cannot drift from the model description.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.config.scenario import Scenario

#: what the app's units mean to a trainer
UNIT_WORDS = {
    "tick": "week (1 tick = 1 week)",
    "ticks": "weeks",
    "agents/cell": "per map cell (0.03 on a 50 x 50 map = 75)",
    "share": "share of the force",
}


def schema_field(key: str) -> Any:
    """The pydantic field of a dotted scenario key (e.g. ``strategy.restraint``)."""
    model: Any = Scenario
    parts = key.split(".")
    for part in parts[:-1]:
        model = model.model_fields[part].annotation
    return model.model_fields[parts[-1]]


def _bounds(field: Any) -> tuple[float | None, float | None]:
    lo = hi = None
    for m in field.metadata:
        lo = getattr(m, "ge", lo)
        hi = getattr(m, "le", hi)
    return lo, hi


@dataclass(frozen=True)
class LeverHelp:
    """The tooltip of one lever: the scenario key it sets (for the schema's description and
    unit), which way it tends to move outcomes, and the ODD rows that says so."""

    lever: str  # the app's name for it (a TrainerSettings field, a role, or a control)
    key: str | None  # the scenario key it sets, None for app controls
    effect: str
    odd: tuple[str, ...] = ()  # text quoted from docs/ODD.md (checked by a test)
    unit: str | None = None  # instead of the schema's unit (e.g. role weights)
    what: str | None = None  # instead of the schema's description

    def represents(self) -> str:
        """What the lever stands for (the schema's description unless given)."""
        if self.what is not None:
            return self.what
        assert self.key is not None
        return str(schema_field(self.key).description)

    def unit_text(self) -> str:
        """The lever's unit in words, with its range where the schema bounds it."""
        if self.unit is not None:
            return self.unit
        if self.key is None:
            return "-"
        field = schema_field(self.key)
        unit = (field.json_schema_extra or {}).get("unit", "-")
        lo, hi = _bounds(field)
        if unit == "-":
            return "no unit, from 0 to 1" if (lo, hi) == (0.0, 1.0) else "no unit"
        words = UNIT_WORDS.get(unit, unit)
        return f"{words}, {lo:g} to {hi:g}" if lo is not None and hi is not None else words

    def text(self) -> str:
        """The tooltip: what it is, its unit, and the way it tends to move outcomes."""
        return (f"What it is: {self.represents()}\nUnit: {self.unit_text()}\n"
                f"Effect: {self.effect}")


_ROLE_UNIT = ("weight, 0 to 1; the share shown is this weight divided by the sum of all seven "
              "(moving one slider never moves another)")
ENGAGEMENT_ROW = "| engagement share (0.4 vs 0.05) | 15.3 ± 3.1 |"

#: every lever and control the app shows, with its help (the one table)
LEVER_HELP: dict[str, LeverHelp] = {h.lever: h for h in (
    LeverHelp("patrol", "strategy.roles.patrol", (
        "patrols go where violence and fresh tips are: they deter, interdict and can stop "
        "attacks nearby (ODD 7.8-7.9). Section 9 measures the trade against engagement: "
        "moving units from patrols to engagement saved 15.3 +/- 3.1 lives per run."),
        (ENGAGEMENT_ROW,), _ROLE_UNIT),
    LeverHelp("static", "strategy.roles.static", (
        "fixed posts protect the settlements and markets they stand at (ODD 7.8); not "
        "measured on their own in ODD section 9."), (), _ROLE_UNIT),
    LeverHelp("rapid_response", "strategy.roles.rapid_response", (
        "units that rush to the worst reported violence (ODD 7.8): faster protection where "
        "tips point; not measured on their own in ODD section 9."), (), _ROLE_UNIT),
    LeverHelp("engagement", "strategy.roles.engagement", (
        "raises trust, hence tips and less recruitment: a larger share (0.4 vs 0.05) saved "
        "15.3 +/- 3.1 civilian lives per run, only through information and recruitment (with "
        "both off, moving units to engagement cost 47 lives)."), (ENGAGEMENT_ROW,), _ROLE_UNIT),
    LeverHelp("ddr", "strategy.roles.ddr", (
        "more disarmament sites: more combatants give up their weapons (ODD 7.10); with jobs "
        "for ex-combatants there are fewer combatants (19 fewer on average) and 196 fewer "
        "relapses per run (effect 5)."),
        ("| 5 | mean combatants: without - with employment | 18.71",
         "| 5 | relapses: without - with employment | 196.2"), _ROLE_UNIT),
    LeverHelp("police_mentoring", "strategy.roles.police_mentoring", (
        "joint patrols make police professional, trusted and less abusive: professionalism "
        "+0.46, trust in police +0.40 and 770 fewer abuses per run (effect 6)."),
        ("| 6 | final professionalism: mentoring - none | 0.4641",
         "| 6 | final trust_police: mentoring - none | 0.3952",
         "| 6 | abuses: none - mentoring | 769.9"), _ROLE_UNIT),
    LeverHelp("checkpoint", "strategy.roles.checkpoint", (
        "units at checkpoints on the approaches to settlements stop and detect moving "
        "fighters and slow residents and trade (ODD 7.22): fewer armed moves and attacks, "
        "lower market access (effect 15)."),
        ("| 15 | armed movement (fighters' moves): without - with checkpoints | 1603",
         "| 15 | attacks: without - with checkpoints | 26.1",
         "| 15 | market access: without - with checkpoints | 0.03526"), _ROLE_UNIT),
    LeverHelp("cultural_competence", "strategy.cultural_competence", (
        "higher: more trust in peacekeepers (+0.20 high vs low) and many more tips (effect 3); "
        "0.9 vs 0.1 saved 35 +/- 4.3 civilian lives per run."),
        ("| 3 | mean trust_pk (mission): high - low competence | 0.2038",
         "| cultural competence (0.9 vs 0.1) | 35.1 ± 4.3 |")),
    LeverHelp("restraint", "strategy.restraint", (
        "higher: fewer bystanders harmed, more trust (+0.14), more tips, 55 fewer recruits "
        "(effect 4) and 71 fewer civilians killed per run (effect 13, high vs low)."),
        ("| 4 | mean trust_pk (mission): high - low restraint | 0.1428",
         "| 4 | recruits: low - high restraint | 55.31",
         "| 13 | casualties: low - high restraint | 70.56")),
    LeverHelp("transparency", "strategy.transparency", (
        "higher: trust grows faster and falls slower (the rule of ODD 7.11); its effect on "
        "casualties is not measured in ODD section 9.")),
    LeverHelp("early_warning", "strategy.early_warning", (
        "higher: tips reach the mission from farther away and sooner; it saved no measurable "
        "lives on the baseline (+0.05 +/- 2.7 per run, ODD section 9)."),
        ("| early warning (0.9 vs 0.1) | 0.05 ± 2.7 |",)),
    LeverHelp("pk_density", "peacekeepers.density", (
        "more units: fewer civilians killed, with diminishing returns (none to 0.02 per cell: "
        "317 fewer; 0.02 to 0.04: 51 fewer, effect 1), and the economy recovers (+0.53 at "
        "0.04 vs none, effect 8)."),
        ("| 1 | casualties: none - 0.02 units/cell | 316.7",
         "| 1 | casualties: 0.02 - 0.04 units/cell | 50.83",
         "| 8 | final economy: 0.04 units/cell - none | 0.5278")),
    LeverHelp("police_density", "police.density", (
        "police alongside the troops: 86 fewer civilians killed per run than troops alone "
        "(effect 2); police without mentoring abuse more (effect 6)."),
        ("| 2 | casualties: troops alone - troops with police | 85.92",)),
    LeverHelp("drawdown_start", "mission.drawdown_start", (
        "after the exit violence against civilians rises, more after an abrupt exit with "
        "weak police than after a gradual handover to trained police (effect 7). 0 here: "
        "the mission stays."),
        ("| 7 | civilian violence after - before exit (abrupt, weak police) | 0.002413",
         "| 7 | civilian relapse ratio: abrupt/weak - gradual/trained | 1.17")),
    LeverHelp("adaptive", "strategy.adaptive", (
        "on: posted units follow community feedback to where violence rose and trust fell "
        "(ODD 7.15); not measured in ODD section 9."), (), "on / off"),
    LeverHelp("seed", "run.seed", (
        "none on average: the same seed gives the same history, another seed another "
        "possible history. One run is one history: compare strategies over several seeds "
        "before drawing a lesson."), (), "a whole number"),
    LeverHelp("context", None, (
        "sets the starting conditions (armed groups, police, economy, trust) of the world; "
        "the levers then start at the file's values."), (), "a file in scenarios/",
        "The context: a scenario file with model = \"peacekeeping\" (the world before any "
        "strategy)"),
    LeverHelp("strategy", None, (
        "moves every lever to the file's values; see each lever's help for its effect."),
        (), "a file in scenarios/strategies/",
        "A strategy file: how the mission uses its force (roles, conduct, information)"),
    LeverHelp("lever_mode", None, (
        "from this week on: the past stays as the room saw it, and the world without the "
        "change goes on as a dotted grey ghost on the charts; replay from week 0: the whole "
        "run again under the new levers (same seed, the injects carried over)."), (),
        "a choice", "How a lever change applies"),
    LeverHelp("seeds", None, (
        "more seeds: a narrower band around the mean, so a difference between A and B that "
        "stays outside it is not luck; one seed can point the wrong way."), (),
        "runs per side (each a full run)",
        "How many seeds the compare page runs, in the background, for the mean and its band"),
)}


def lever_help(lever: str) -> LeverHelp:
    """The help of a lever shown by the app; KeyError names the lever without one."""
    try:
        return LEVER_HELP[lever]
    except KeyError:
        raise KeyError(f"lever {lever!r} has no entry in sim.viz.help.LEVER_HELP") from None


def tooltip(lever: str) -> str:
    """The tooltip text of a lever (see :class:`LeverHelp`)."""
    return lever_help(lever).text()


def what_am_i_looking_at(legend: Any, layers: Any) -> list[tuple[str, str]]:
    """The "what am I looking at" panel as (heading, text) pairs: the map's symbols and
    layers, the charts and the feed. ``legend`` and ``layers`` are the map's own
    (:data:`sim.viz.components.LEGEND`, :data:`~sim.viz.components.LAYERS`), so the words
    match what is drawn."""
    shapes = {1: "disc", 2: "small disc", 3: "cross", 4: "square", 5: "triangle",
              6: "brown frame"}
    symbols = "; ".join(f"{shapes[g]}: {text}" for g, _, text in legend)
    backgrounds = "; ".join(f"{layer.title.lower()}: {layer.meaning}"
                            for layer in layers.values())
    return [
        ("The map", "One cell is a patch of ground the size a person can watch over in a "
         "week; one tick of the model is one week. The lines divide the map into districts "
         "(A1 is the top left); the event feed names them."),
        ("Symbols", symbols + ". Residents' discs go from white (no trust in peacekeepers) "
         "to dark blue (full trust)."),
        ("Background", "The layer switch colours the cells: " + backgrounds + ". The colour "
         "bar under the map gives the scale; darker is more."),
        ("Charts", "Civilians killed so far, trust in peacekeepers and in police and the "
         "economy (0 to 1), armed combatants, and tips residents gave per week. Dashed "
         "line: the drawdown starts; dotted line: the last unit has left. A dotted grey "
         "line is the run as it would have gone without your last change."),
        ("Event feed", "What happened this week and where, read from the model's own "
         "records: attacks on civilians (and whether a unit was near enough to stop them), "
         "abuse by police, tips that led to an interdiction, units withdrawn, people taking "
         "up arms. Click a map cell to see who is there and the cell's values."),
    ]


def event_help(key: str) -> str:
    """The tooltip of an inject's control: the scenario schema's description of the
    ``[[events]]`` key it sets, and its unit."""
    from sim.config.scenario import Event

    field = Event.model_fields[key]
    unit = (field.json_schema_extra or {}).get("unit", "-")
    text = str(field.description)
    return text if unit == "-" else f"{text}\nUnit: {UNIT_WORDS.get(unit, unit)}"
