"""The outcome registry: every reported quantity's label, unit, better direction and one-line
definition (pure data, no analysis library), so that configuration files naming outcomes are
checked without importing the analysis, and every report says the same thing.

:mod:`sim.experiments.outcomes` re-exports these names beside the report helpers.
Time: one tick is one week in the peacekeeping scenarios (five years = 260 ticks).
"""

from __future__ import annotations

from dataclasses import dataclass

PER = 100_000  #: per-capita rates are per this many residents
WEEKS_PER_MONTH = 52 / 12
SAME_COST = 0.05  #: troop-week differences below this share of the reference are "same cost"


@dataclass(frozen=True)
class Outcome:
    """One reported quantity: a per-run summary key or a per-tick metric."""

    key: str
    label: str  #: a reader's name, capitalised, e.g. "Civilian casualties"
    unit: str  #: what one unit of the number is, e.g. "civilians killed"
    better: str = ""  #: "lower", "higher" or "" (no preferred direction)
    what: str = ""  #: one sentence: what it counts and over which period
    cumulative: bool = False  #: per-tick metric that is plotted as a running total
    binary: bool = False  #: 0/1 per run: shown as a share of runs, Wilson interval
    missing: str = "no run has it"  #: what a table says when no run has a value
    after_exit: bool = False  #: measured after the mission left: missing in runs without exit

    @property
    def axis(self) -> str:
        """Axis or column title: label and unit."""
        return f"{self.label} ({self.unit})" if self.unit else self.label

    @property
    def header(self) -> str:
        """Table header: label and which way is better."""
        arrow = {"lower": " (lower is better)", "higher": " (higher is better)"}
        return self.label + arrow.get(self.better, "")


_O = Outcome
#: per-run summary keys (sim/io/recorder.py), in the order reports list them
SUMMARY: dict[str, Outcome] = {o.key: o for o in [
    _O("casualties_total", "Civilian casualties", "civilians killed", "lower",
       "Residents killed over the whole run: by armed-group attacks, or as bystanders when "
       "peacekeepers strike a fighter nearby. A casualty is a civilian killed."),
    _O("casualties_per_100k", "Civilian casualties per 100,000", "per 100,000 residents",
       "lower", "Civilian casualties over the run per 100,000 residents at the start, which "
       "is per 100,000 people when each resident stands for several (world.population), so "
       "maps of different size compare."),
    _O("civilian_deaths_per_100k_month", "Civilian deaths per 100,000 a month",
       "per 100,000 residents a month", "lower",
       "Civilians killed per 100,000 residents per month (4.33 weeks), as the model reports "
       "it; comparable with conflict-monitoring rates."),
    _O("battle_deaths_per_month", "Battle deaths a month", "deaths a month", "lower",
       "Fighters, peacekeepers and police killed in clashes, per month."),
    _O("troop_weeks", "Troop-weeks", "unit-weeks", "lower",
       "The mission's cost in deployment: the number of peacekeeping units deployed, summed "
       "over the weeks of the run (one unit for one week = one troop-week)."),
    _O("final_economy", "Economy at the end", "index 0-1", "higher",
       "Mean economic activity of the map's cells in the last week (0 = none, 1 = full)."),
    _O("final_trust_pk", "Trust in peacekeepers", "share 0-1", "higher",
       "Residents' mean trust in the mission in the last week (0 = none, 1 = full)."),
    _O("final_trust_police", "Trust in police", "share 0-1", "higher",
       "Residents' mean trust in the police in the last week (0 = none, 1 = full)."),
    _O("abuses_total", "Abuses by police", "abusive arrests", "lower",
       "Arrests by the police that were abusive (likelier the less professional the force), "
       "over the whole run."),
    _O("time_to_stability", "Weeks to stability", "weeks", "lower",
       "First week from which every 13-week average of civilian casualties stays at or below "
       "0.1 a week; missing when the run never got there (see 'Reached stability').",
       missing="never reached"),
    _O("stabilised", "Reached stability", "share of runs", "higher",
       "Share of runs that reached stability before they ended.", binary=True),
    _O("final_displaced", "Displaced at the end", "residents", "lower",
       "Residents who had fled violence and not yet returned, in the last week."),
    _O("combatants_final", "Fighters at the end", "fighters", "lower",
       "Armed-group members on the map in the last week."),
    _O("combatants_mean", "Fighters on average", "fighters", "lower",
       "Armed-group members on the map, averaged over the weeks of the run."),
    _O("attacks_total", "Attacks on civilians", "attacks", "lower",
       "Armed-group attacks on residents over the run (lethal or not)."),
    _O("battle_deaths_total", "Battle deaths", "deaths", "lower",
       "Fighters, peacekeepers and police killed in clashes over the run."),
    _O("peacekeeper_deaths", "Peacekeepers killed", "units", "lower",
       "Peacekeeping units lost in clashes over the run."),
    _O("clashes_total", "Clashes", "clashes", "",
       "Clashes between fighters and security forces over the run."),
    _O("recruits_total", "Recruits", "residents", "lower",
       "Residents who joined an armed group over the run."),
    _O("disarmed_total", "Disarmed", "fighters", "higher",
       "Fighters who disarmed at a DDR site over the run."),
    _O("relapses_total", "Re-armed", "ex-fighters", "lower",
       "Ex-fighters who took up arms again over the run."),
    _O("tips_total", "Tips", "reports", "",
       "Residents' reports of armed-group presence to security forces over the run."),
    _O("exit_tick", "Exit week", "week", "",
       "Week in which the last peacekeeping unit left (missing: the mission stayed).",
       after_exit=True),
    _O("violence_before_exit", "Violence before the drawdown", "index", "lower",
       "Mean violence level of the map in the window before the drawdown started."),
    _O("violence_after_exit", "Violence after the exit", "index", "lower",
       "Mean violence level of the map in the window after the last unit left.",
       after_exit=True),
    _O("relapse_ratio", "Post-exit violence ratio", "after / before", "lower",
       "Violence after the exit divided by violence before the drawdown: above 1, violence "
       "came back when the mission left.", after_exit=True),
    _O("relapse_ratio_civilian", "Post-exit civilian-death ratio", "after / before",
       "lower", "Civilian deaths a week after the exit divided by those before the "
       "drawdown.", after_exit=True),
    _O("relapse_ratio_battle", "Post-exit battle-death ratio", "after / before", "lower",
       "Battle deaths a week after the exit divided by those before the drawdown.",
       after_exit=True),
    _O("population", "Population", "residents", "",
       "Residents of the map, as the model reports it."),
    _O("residents_initial", "Residents at the start", "residents", "",
       "Residents on the map in week 0."),
    # Epstein (civil violence) outcomes
    _O("mean_share_active", "Share active", "share of residents", "lower",
       "Share of residents in open rebellion, averaged over the run."),
    _O("peak_active", "Peak active", "residents", "lower",
       "Largest number of residents in open rebellion in any tick."),
    _O("outbursts", "Outbursts", "episodes", "lower",
       "Episodes in which the number of actives rose above the outburst threshold."),
    _O("killings_total", "Killings", "residents killed", "lower",
       "Residents killed in inter-group violence (Epstein's Model II)."),
    _O("arrests_total", "Arrests", "arrests", "",
       "Arrests of active residents over the run."),
    # --- communities: rival factions, police capacity and dialogue, two communities ---
    _O("rival_clashes_total", "Rival clashes", "clashes", "lower",
       "Clashes between fighters of rival factions over the run (battle violence)."),
    _O("crossfire_victims_total", "Crossfire victims", "residents hit", "lower",
       "Bystanders hit in clashes between rival factions over the run (killed or injured)."),
    _O("combatant_arrests_total", "Fighters arrested by police", "arrests", "",
       "Armed-group members the police arrested over the run."),
    _O("tips_police_total", "Tips to police", "reports", "",
       "Residents' reports of armed-group presence that reached the police over the run, "
       "directly or through a leader in a police-community forum."),
    _O("tips_relayed_total", "Tips passed on by leaders", "reports", "",
       "Reports that reached the police through a community leader in a police-community "
       "forum over the run."),
    *[o for g, name in ((0, "group 0"), (1, "group 1")) for o in (
        _O(f"casualties_group{g}_total", f"Civilian casualties, {name}", "civilians killed",
           "lower", f"Residents of {name} killed over the run (two-community contexts)."),
        _O(f"tips_group{g}_total", f"Tips from {name}", "reports", "",
           f"Reports by residents of {name} that reached a force over the run."),
        _O(f"tips_per_capita_group{g}", f"Tips per resident, {name}", "reports per resident",
           "", f"Reports by residents of {name} over the run, per resident of {name} (its "
           "mean size over the run)."),
        _O(f"final_trust_pk_group{g}", f"Trust in peacekeepers, {name}", "share 0-1",
           "higher", f"Mean trust in the mission of {name}'s residents in the last week."),
        _O(f"final_trust_police_group{g}", f"Trust in police, {name}", "share 0-1", "higher",
           f"Mean trust in the police of {name}'s residents in the last week."),
        _O(f"mean_trust_pk_group{g}_mission", f"Trust in peacekeepers during the mission, "
           f"{name}", "share 0-1", "higher", f"Mean trust in the mission of {name}'s "
           "residents over the weeks with units deployed."),
    )],
    # --- accept: reintegration and acceptance, weapons, local partners (ODD 7.19-7.21) ---
    _O("predations_total", "Predation on civilians", "acts", "lower",
       "Times armed-group members preyed on residents (looting, extortion, assault) over "
       "the run; how often depends on their faction's abusiveness."),
    _O("mean_acceptance", "Acceptance of ex-combatants", "share 0-1", "higher",
       "Residents' mean acceptance of ex-combatants (before what they hold against a "
       "faction), averaged over the weeks of the run."),
    _O("final_acceptance", "Acceptance of ex-combatants at the end", "share 0-1", "higher",
       "Residents' mean acceptance of ex-combatants in the last week."),
    *(_O(f"mean_acceptance_faction{k}", f"Acceptance of faction {k}'s ex-fighters",
         "share 0-1", "higher",
         f"Residents' mean acceptance of an ex-fighter of faction {k}, lowered by what they "
         "saw its members do to civilians, averaged over the weeks of the run.")
      for k in range(4)),
    *(_O(f"relapses_faction{k}_total", f"Re-armed, faction {k}", "ex-fighters", "lower",
         f"Ex-fighters of faction {k} who took up arms again over the run.")
      for k in range(4)),
    *(_O(f"relapse_rate_faction{k}", f"Relapse rate, faction {k}",
         "per 100 ex-fighter-weeks", "lower",
         f"Relapses of faction {k}'s ex-fighters per 100 weeks its ex-fighters spent on the "
         "map (missing: it had none).") for k in range(4)),
    _O("weapons_collected_total", "Weapons collected", "weapons", "higher",
       "Weapons handed in at DDR sites over the run."),
    _O("weapons_destroyed_total", "Weapons destroyed", "weapons", "higher",
       "Weapons handed in at DDR sites and destroyed at once, over the run."),
    _O("weapons_hidden_total", "Weapons hidden at disarmament", "weapons", "lower",
       "Weapons that disarming fighters hid in caches instead of handing them in."),
    _O("weapons_seized_total", "Weapons seized from caches", "weapons", "higher",
       "Weapons in armed-group caches that tips led the forces to, over the run."),
    _O("weapons_raided_total", "Weapons raided from stores", "weapons", "lower",
       "Weapons fighters carried off from DDR stores over the run."),
    _O("arming_failed_total", "Joins without a weapon", "residents", "",
       "Residents who would have joined or re-armed but found no weapon at hand."),
    _O("weapons_stored_final", "Weapons in stores at the end", "weapons", "",
       "Weapons kept in DDR stores in the last week (what a raid can take)."),
    _O("tips_via_partners_total", "Tips through local partners", "reports", "",
       "Reports that reached a force only because a local partner passed them on."),
    _O("partner_capacity_final", "Local partners' capacity at the end", "index 0-1",
       "higher", "Mean capacity of the local partner organisations in the last week."),
    _O("partner_capacity_at_exit", "Local partners' capacity at the exit", "index 0-1",
       "higher", "Mean capacity of the local partner organisations in the week the last "
       "unit left.", after_exit=True),
    _O("partner_capacity_after_exit", "Local partners' capacity after the exit",
       "index 0-1", "higher", "Mean capacity of the local partner organisations a window "
       "(mission.exit_window weeks) after the exit.", after_exit=True),
]}

#: per-tick metrics (the sweep's kept time series) as they are plotted
METRICS: dict[str, Outcome] = {o.key: o for o in [
    _O("civilian_casualties", "Civilian casualties so far", "per 100,000 residents",
       "lower", "Civilians killed since week 0, per 100,000 residents at the start.",
       cumulative=True),
    _O("violence_mean", "Violence", "index", "lower",
       "Mean violence level of the map's cells that week."),
    _O("combatants", "Fighters", "fighters", "lower", "Armed-group members on the map."),
    _O("economy_mean", "Economy", "index 0-1", "higher", "Mean economic activity."),
    _O("trust_pk_mean", "Trust in peacekeepers", "share 0-1", "higher",
       "Residents' mean trust in the mission."),
    _O("trust_police_mean", "Trust in police", "share 0-1", "higher",
       "Residents' mean trust in the police."),
    _O("peacekeepers", "Peacekeepers deployed", "units", "",
       "Peacekeeping units on the map (the drawdown shows here)."),
    _O("active", "Active residents", "residents", "lower", "Residents in open rebellion."),
    # --- communities: per-tick outputs (ODD 7.25-7.26) ---
    _O("rival_clashes", "Rival clashes", "clashes", "lower",
       "Clashes between fighters of rival factions that week."),
    _O("crossfire_victims", "Crossfire victims", "residents hit", "lower",
       "Bystanders hit in rival clashes that week."),
    _O("tips_police", "Tips to police", "reports", "", "Reports that reached the police."),
    _O("trust_pk_group0", "Trust in peacekeepers, group 0", "share 0-1", "higher",
       "Mean trust in the mission of group 0's residents (two-community contexts)."),
    _O("trust_pk_group1", "Trust in peacekeepers, group 1", "share 0-1", "higher",
       "Mean trust in the mission of group 1's residents (two-community contexts)."),
    _O("tips_group0", "Tips from group 0", "reports", "",
       "Reports by group 0's residents that reached a force."),
    _O("tips_group1", "Tips from group 1", "reports", "",
       "Reports by group 1's residents that reached a force."),
    _O("casualties_group0", "Civilian casualties, group 0", "civilians killed", "lower",
       "Residents of group 0 killed that week."),
    _O("casualties_group1", "Civilian casualties, group 1", "civilians killed", "lower",
       "Residents of group 1 killed that week."),
    # --- accept ---
    _O("acceptance_mean", "Acceptance of ex-combatants", "share 0-1", "higher",
       "Residents' mean acceptance of ex-combatants that week."),
    _O("partner_capacity_mean", "Local partners' capacity", "index 0-1", "higher",
       "Mean capacity of the local partner organisations that week."),
    _O("weapons_stored", "Weapons in stores", "weapons", "",
       "Weapons kept in DDR stores that week."),
]}

#: outcomes a peacekeeping comparison shows first (in this order), and the headline one
KEY_OUTCOMES = ("casualties_total", "casualties_per_100k", "troop_weeks", "final_economy",
                "final_trust_pk", "abuses_total", "time_to_stability", "final_displaced")
MORE_OUTCOMES = ("civilian_deaths_per_100k_month", "battle_deaths_per_month",
                 "peacekeeper_deaths", "stabilised", "final_trust_police",
                 "combatants_final", "attacks_total", "battle_deaths_total",
                 "recruits_total", "disarmed_total", "relapses_total",
                 "relapse_ratio", "relapse_ratio_civilian", "relapse_ratio_battle")
EPSTEIN_OUTCOMES = ("mean_share_active", "peak_active", "outbursts", "killings_total",
                    "arrests_total")
HEADLINE = "casualties_total"
COST = "troop_weeks"
#: objectives of the trade-off view: (key, direction)
PARETO = ("casualties_total", "final_economy", "troop_weeks")

#: statistical and model terms, explained once in the glossary (key -> (term, text))
TERMS: dict[str, tuple[str, str]] = {
    "tick": ("Tick", "One simulated week in the peacekeeping scenarios (five years are 260 "
             "ticks); an abstract cycle in the Epstein scenarios."),
    "run": ("Run", "One simulation of one strategy in one context from one random seed."),
    "arm": ("Arm", "A strategy (at one setting of the experiment's factors, when it "
            "varies them) whose runs are compared with the others'."),
    "reference": ("Reference strategy", "The strategy every other is compared with, "
                  "usually the current practice."),
    "mean": ("Mean", "The average over the runs of an arm."),
    "ci": ("95% interval (confidence interval)", "The range that, by the usual "
           "t-statistics over independent runs, holds the long-run average of the model "
           "with 95% confidence. Narrow: the runs agree; wide: more runs are needed. It "
           "covers the model's randomness, not doubts about its assumptions."),
    "paired": ("Paired difference", "Each run of a strategy is matched with the run of the "
               "reference that started from the same random seed (common random numbers), "
               "and the difference is averaged over these pairs. Shared luck cancels, so the "
               "interval is narrower than comparing two independent sets of runs."),
    "unpaired": ("Unpaired interval (Welch)", "The interval the same runs would give if "
                 "they were not matched by seed; shown to say how much the pairing helped."),
    "significant": ("Clear difference", "The 95% interval of the difference excludes zero: "
                    "the difference is unlikely to be chance. Otherwise it is 'within the "
                    "noise' and these runs cannot tell the two apart."),
    "relative": ("Relative change", "The difference divided by the reference's mean, in "
                 "percent; its interval comes from a bootstrap (below)."),
    "bootstrap": ("Bootstrap", "Resample the (paired) runs with replacement 2,000 times, "
                  "recompute the number each time, and take the middle 95% of the results "
                  "as its interval. Used for ratios, which have no simple formula."),
    "ce": ("Cost-effectiveness", "Civilian casualties averted per 1,000 additional "
           "troop-weeks, moving from the cheaper of two strategies to the dearer one; "
           "interval by bootstrap. Only computed when the troop-weeks really differ (by at "
           f"least {SAME_COST:.0%} and clearly): smaller differences come from units lost in "
           "clashes, not from the deployment, and would make the ratio explode."),
    "dominated": ("Dominated with confidence", "Strategy B dominates A with confidence when "
                  "B is clearly better (95% interval of the paired difference excludes zero) "
                  "on at least one of civilian casualties, economy and troop-weeks, and not "
                  "clearly worse on any. An efficient strategy is one no other dominates "
                  "with confidence; differences within the noise never decide."),
    "box": ("Box plot", "The box spans the middle half of the runs (25th to 75th "
            "percentile), the line inside is the median, whiskers reach the most extreme "
            "run within 1.5 box-lengths; dots are single runs."),
    "envelope": ("Envelope", "Over time: the line is the median run, the shaded band holds "
                 "the middle 90% of runs (5th to 95th percentile) at each point in time."),
    "rank": ("Mean rank", "Each arm is ranked on each outcome by its mean (1 = best); the "
             "mean of these ranks orders the arms. It ignores the intervals."),
    "drawdown": ("Drawdown and exit", "The drawdown is the week the mission starts "
                 "withdrawing units; the exit is the week the last unit leaves."),
    "future": ("Future", "One combination of the uncertain factors the experiment samples "
               "(one point of its latin hypercube or factorial design) in one context: a "
               "world the mission might meet. Every strategy meets every future with the "
               "same seeds, so in each future the strategies are compared like for like."),
    "regret": ("Regret", "How far a strategy fell behind the best strategy in the same "
               "future, in the outcome's own unit (0: it was the best there). Each "
               "strategy's outcome in a future is the mean of its runs there. Mean regret "
               "averages over the futures; the 90th percentile is the regret that only the "
               "worst tenth of futures exceed: a robust strategy keeps both small."),
    "satisficing": ("Satisficing", "Meeting thresholds that are good enough (set in the "
                    "experiment file, e.g. fewer than 40 civilian casualties and trust above "
                    "0.4) rather than being best; the share of futures in which a strategy "
                    "meets every threshold says how often it is good enough."),
    "front": ("Pareto front", "The candidate strategies that no other candidate beats on "
              "every objective at once: moving along the front, one objective improves only "
              "if another gets worse."),
    "knee": ("Knee (balanced) point", "The front member nearest the ideal point (the best "
             "value of every objective at once) once each objective is scaled from its best "
             "to its worst value on the front: the member that gives up least on all "
             "objectives together."),
}


def outcome(key: str) -> Outcome:
    """The description of ``key`` (a plain one naming the key itself if it is not listed)."""
    return SUMMARY.get(key) or METRICS.get(key) or Outcome(key, key, "", "", "")


def label(key: str) -> str:
    return outcome(key).label


def better(key: str) -> str:
    return outcome(key).better


#: outcome keys outside :data:`SUMMARY` that a run's summary may hold: ``avg_<metric>``, the
#: mean of a kept per-tick metric (``sim.experiments.sweep.shape_result``)
AVG_PREFIX = "avg_"
#: per-tick metrics a sweep keeps when the experiment does not list its own
DEFAULT_METRICS = (
    "violence_mean", "civilian_casualties", "combatants", "economy_mean", "trust_pk_mean",
    "trust_police_mean", "peacekeepers", "police", "active", "jailed",
)


def known_outcome(key: str) -> bool:
    """True if ``key`` is a listed summary key or ``avg_<metric>`` of a listed metric (files
    that name outcomes, e.g. robustness thresholds, are checked against this)."""
    metric = key.removeprefix(AVG_PREFIX) if key.startswith(AVG_PREFIX) else None
    return key in SUMMARY or (metric is not None and (metric in METRICS
                                                      or metric in DEFAULT_METRICS))


def known_outcomes() -> list[str]:
    """Every key :func:`known_outcome` accepts (for "did you mean" hints)."""
    return [*SUMMARY, *(AVG_PREFIX + m for m in dict.fromkeys([*METRICS, *DEFAULT_METRICS]))]
