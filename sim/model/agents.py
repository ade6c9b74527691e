"""Mesa agent types that are views onto the model's arrays.

The arrays in :class:`sim.engine.layout.Agents` are the one source of truth; an agent object
holds only its slot and reads (and, for the few writable attributes, writes) the arrays. This
keeps Mesa's idioms (``model.agents_by_type[Resident]``, ``agent.cell``, AgentSet queries)
while the engine advances every agent inside compiled kernels. What an agent *does* is not here:
each class says which rules of :mod:`sim.rules` (and which ODD sections) drive it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa.discrete_space import CellAgent
from mesa.discrete_space.cell_agent import HasCell

from sim.engine import layout as K
from sim.rules.civil_violence import grievance

if TYPE_CHECKING:
    from mesa.discrete_space import Cell

    from sim.model.model import PeaceSimModel

STATE_NAMES = {K.QUIESCENT: "quiescent", K.ACTIVE: "active", K.JAILED: "jailed",
               K.DETAINED: "detained"}


class ArrayAgent(CellAgent):
    """Base view: the agent in array slot ``slot`` of ``model.arrays`` (its engine ``uid``:
    the one there now unless given; the model makes views after the fact, see
    :meth:`sim.model.model.PeaceSimModel._sync_views`)."""

    def __init__(self, model: PeaceSimModel, slot: int, uid: int | None = None) -> None:
        super().__init__(model)
        self.slot = slot
        self.uid = int(model.arrays.i[slot, K.I_UID]) if uid is None else uid

    @property
    def pos(self) -> tuple[int, int] | None:  # type: ignore[override]
        """``(x, y)`` of the agent's cell, or ``None`` when off the grid (jailed)."""
        x = int(self.model.arrays.i[self.slot, K.I_X])
        return None if x < 0 else (x, int(self.model.arrays.i[self.slot, K.I_Y]))

    @pos.setter
    def pos(self, value: object) -> None:  # Mesa's Agent.__init__ assigns pos = None
        if value is not None:
            raise AttributeError("positions are set by the engine, not by assignment")

    @property
    def cell(self) -> Cell | None:  # type: ignore[override]
        """The Mesa cell the agent occupies (the grid is brought up to date on demand)."""
        self.model.sync_grid()
        return self._mesa_cell

    @cell.setter
    def cell(self, cell: Cell | None) -> None:
        HasCell.cell.fset(self, cell)  # used by Mesa's remove() and by sync_grid()

    @property
    def alive(self) -> bool:
        """False once the agent died or left (its slot may since hold someone else)."""
        ag = self.model.arrays
        return bool(ag.i[self.slot, K.I_ALIVE]) and int(ag.i[self.slot, K.I_UID]) == self.uid


class Resident(ArrayAgent):
    """A member of the population: hardship h, risk aversion R, state, jail term, group.

    Behaviour: rule A, jail and release, Model II killing, births and ageing in
    :mod:`sim.rules.civil_violence` (ODD 7.2-7.5), activated by :mod:`sim.engine.tick`;
    recruitment and relapse in :mod:`sim.rules.transitions` (7.10); trust, tips and flight
    in :mod:`sim.rules.trust` (7.11); jobs in :mod:`sim.rules.livelihoods` (7.12)."""

    @property
    def hardship(self) -> float:
        return float(self.model.arrays.f[self.slot, K.F_HARDSHIP])

    @property
    def risk_aversion(self) -> float:
        return float(self.model.arrays.f[self.slot, K.F_RISK])

    @property
    def state(self) -> str:
        """``"quiescent"``, ``"active"`` or ``"jailed"``."""
        return STATE_NAMES[int(self.model.arrays.i[self.slot, K.I_STATE])]

    @property
    def jail_term(self) -> int:
        return int(self.model.arrays.i[self.slot, K.I_JAIL])

    @property
    def group(self) -> int:
        return int(self.model.arrays.i[self.slot, K.I_GROUP])

    @property
    def age(self) -> int:
        return int(self.model.arrays.i[self.slot, K.I_AGE])

    @property
    def grievance(self) -> float:
        """G at the current legitimacy, by the kernels' own formula
        (:func:`sim.rules.civil_violence.grievance`, ODD 7.2)."""
        m = self.model
        i, f = m.arrays.i[self.slot], m.arrays.f[self.slot]
        x = int(i[K.I_X])
        economy = float(m.cells.economy[x, int(i[K.I_Y])]) if x >= 0 else 0.0
        aid = float(m.cells.aid[x, int(i[K.I_Y])]) if x >= 0 and i[K.I_DISPLACED] else 0.0
        return float(grievance(float(f[K.F_HARDSHIP]), x >= 0, economy, int(i[K.I_EMPLOYED]),
                               float(f[K.F_TRUST_POLICE]), float(f[K.F_DIALOGUE]),
                               float(m.legitimacy), m.params, aid))

    @property
    def trust_pk(self) -> float:
        return float(self.model.arrays.f[self.slot, K.F_TRUST_PK])

    @property
    def trust_police(self) -> float:
        return float(self.model.arrays.f[self.slot, K.F_TRUST_POLICE])

    @property
    def employed(self) -> bool:
        return bool(self.model.arrays.i[self.slot, K.I_EMPLOYED])

    @property
    def ex_combatant(self) -> bool:
        return bool(self.model.arrays.i[self.slot, K.I_EX_COMBATANT])

    @property
    def displaced(self) -> bool:
        return bool(self.model.arrays.i[self.slot, K.I_DISPLACED])

    @property
    def leader(self) -> bool:
        return bool(self.model.arrays.i[self.slot, K.I_LEADER])


class Police(ArrayAgent):
    """A police officer (Epstein's cop): arrests a random active in vision.

    Behaviour: rule C and movement in :mod:`sim.rules.civil_violence` (ODD 7.3-7.4);
    combatant arrests in :mod:`sim.rules.armed_groups` (7.9); professionalism in
    :mod:`sim.rules.police` (7.12)."""

    @property
    def professionalism(self) -> float:
        return float(self.model.arrays.f[self.slot, K.F_PROFESSIONALISM])

    @property
    def community_policing(self) -> bool:
        return bool(self.model.arrays.i[self.slot, K.I_COMMUNITY])


ROLE_BY_CODE = {code: name for name, code in K.ROLE_CODES.items()}


class Peacekeeper(ArrayAgent):
    """A peacekeeping unit; in the Epstein scenarios an even-handed cop (Model II).

    Behaviour: movement by role in :mod:`sim.rules.peacekeepers` (ODD 7.8); interdiction in
    :mod:`sim.rules.armed_groups` (7.9); deployment, drawdown and review in
    :mod:`sim.rules.mission` and :class:`sim.model.layer.PeacekeepingLayer` (7.14-7.15); as
    cops (Model II), :mod:`sim.rules.civil_violence` (7.3, 7.5)."""

    @property
    def role(self) -> str:
        return ROLE_BY_CODE[int(self.model.arrays.i[self.slot, K.I_ROLE])]


class Combatant(ArrayAgent):
    """An armed-group member: faction, aggression.

    Behaviour: interdiction, arrest, clashes, attacks, moves and reinforcements in
    :mod:`sim.rules.armed_groups` (ODD 7.9); disarmament in :mod:`sim.rules.transitions`
    (7.10)."""

    @property
    def faction(self) -> int:
        return int(self.model.arrays.i[self.slot, K.I_FACTION])

    @property
    def aggression(self) -> float:
        return float(self.model.arrays.f[self.slot, K.F_AGGRESSION])

    @property
    def cohesion(self) -> float:
        return float(self.model.scenario_config.armed_groups.cohesion)

    @property
    def detained(self) -> bool:
        """Interdicted or arrested and held off the grid until released (ODD 7.9a)."""
        return self.alive and int(self.model.arrays.i[self.slot, K.I_STATE]) == K.DETAINED


VIEW_CLASSES: dict[int, type[ArrayAgent]] = {
    K.RESIDENT: Resident,
    K.POLICE: Police,
    K.PEACEKEEPER: Peacekeeper,
    K.COMBATANT: Combatant,
}
