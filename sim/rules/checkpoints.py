"""Checkpoints (ODD 7.22): units that hold a post on a road or market approach and control
movement through their neighbourhood.

A checkpoint unit (role ``checkpoint``) walks to its post like any posted unit (ODD 7.8) and
controls the cells within ``checkpoints.radius`` of where it stands; the number of checkpoints
controlling each cell is a box sum computed once a tick after the units moved
(:func:`sim.engine.layer_tick.checkpoint_phase`). A move passes the checkpoints that control
its cell of departure or of arrival, whichever are more (:func:`passage_control`):

- a fighter may be detected (the mission gets a fresh tip on it; some are held there) and may
  be stopped (it does not move) (:func:`pass_checkpoint`, called from the fighter's turn,
  :func:`sim.rules.armed_groups.combatant_turn`);
- a resident's move may be refused (it stays) (:func:`held_probability`, applied in the
  core's move, :func:`sim.engine.tick.tick`);
- trade passes them no easier than people: the market access of a controlled cell falls
  with the same probability of being held (:func:`trade_passage`, ODD 7.13).

Nothing here is active without a checkpoint share in the strategy or with
``mechanisms.checkpoints`` off (:func:`checkpoints_on`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engine.layout import (
    EV_CHECKPOINT_DETECTIONS,
    EV_CHECKPOINT_DETENTIONS,
    EV_CHECKPOINT_STOPS,
    I_UID,
    META_TIP_NEXT,
    MISSION,
    T_AGE,
)
from sim.engine.rng import uniform
from sim.rules.information import file_tip

#: what happened to a fighter's move at a checkpoint (:func:`pass_checkpoint`)
PASSED, STOPPED, HELD = 0, 1, 2


@njit(inline="always", cache=True)
def has_checkpoints(prm):
    """ODD 7.22: the strategy posts checkpoints (a checkpoint share above 0); where they
    stand is then known (the control field, also with ``mechanisms.checkpoints`` off, so
    that a knock-out can be compared near the same posts)."""
    return prm.strategy_roles_checkpoint > 0.0


@njit(inline="always", cache=True)
def checkpoints_on(prm):
    """ODD 7.22: checkpoints control movement and trade only with ``mechanisms.checkpoints``
    on and a checkpoint share in the strategy (otherwise the control field is never read)."""
    return prm.mechanisms_checkpoints and prm.strategy_roles_checkpoint > 0.0


@njit(inline="always", cache=True)
def passage_control(control_from, control_to):
    """ODD 7.22: the checkpoints a move passes, K = the more of those controlling its cell of
    departure and those controlling its cell of arrival."""
    return max(control_from, control_to)


@njit(inline="always", cache=True)
def held_probability(control, rate):
    """ODD 7.22: the probability that K controlling checkpoints hold a move, 1 - exp(-rate
    K) (``stop_rate``, ``detect_rate`` or ``slow_rate``); exactly 0 where no checkpoint
    controls."""
    if control <= 0.0:
        return 0.0
    return 1.0 - np.exp(-rate * control)


@njit(inline="always", cache=True)
def trade_passage(control, prm):
    """ODD 7.22, trade: the share of a controlled cell's market access that gets through,
    1 - ``trade_cost`` x (the probability that a resident's move there is refused,
    :func:`held_probability` with ``slow_rate``): goods pass a checkpoint no easier than
    people (1 where no checkpoint controls)."""
    return 1.0 - prm.checkpoints_trade_cost * held_probability(control,
                                                               prm.checkpoints_slow_rate)


@njit(inline="always", cache=True)
def pass_checkpoint(ag, prm, lay, rng, c, control, here, there, height, meta, events):
    """ODD 7.22, a fighter ``c`` moving from flat cell ``here`` to ``there`` through K =
    ``control`` checkpoints (K > 0): it is detected with probability 1 - exp(-``detect_rate``
    K), and a detected fighter is held at the checkpoint with probability ``detain_share``
    (returns HELD: the caller detains it); otherwise it is stopped with probability
    1 - exp(-``stop_rate`` K) (STOPPED: it stays), else it passes (PASSED). A detected fighter
    who is not held becomes a fresh tip of the mission, actionable at once, pointing at the
    cell where it now stands (with ``mechanisms.information`` on)."""
    detected = uniform(rng) < held_probability(control, prm.checkpoints_detect_rate)
    if detected:
        events[EV_CHECKPOINT_DETECTIONS] += 1
        if uniform(rng) < prm.checkpoints_detain_share:
            events[EV_CHECKPOINT_DETENTIONS] += 1
            return HELD
    stopped = uniform(rng) < held_probability(control, prm.checkpoints_stop_rate)
    if stopped:
        events[EV_CHECKPOINT_STOPS] += 1
    if detected and prm.mechanisms_information:
        cell = here if stopped else there
        x = cell // height
        k = meta[META_TIP_NEXT] % lay.tips.shape[0]
        meta[META_TIP_NEXT] = file_tip(lay.tips, meta[META_TIP_NEXT], c, ag.i[c, I_UID], x,
                                       cell - x * height, MISSION, prm)
        lay.tips[k, T_AGE] = 0  # seen by the unit itself: no report delay
    return STOPPED if stopped else PASSED
