"""Mesa agent types that are views onto the model's arrays.

The arrays in :class:`sim.kernels.Agents` are the one source of truth; an agent object holds
only its slot and reads (and, for the few writable attributes, writes) the arrays. This keeps
Mesa's idioms (``model.agents_by_type[Resident]``, ``agent.cell``, AgentSet queries) while
the engine advances every agent inside numba kernels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa.discrete_space import CellAgent
from mesa.discrete_space.cell_agent import HasCell

from sim import kernels as K

if TYPE_CHECKING:
    from mesa.discrete_space import Cell

    from sim.model import PeaceSimModel

STATE_NAMES = {K.QUIESCENT: "quiescent", K.ACTIVE: "active", K.JAILED: "jailed"}


class ArrayAgent(CellAgent):
    """Base view: the agent in array slot ``slot`` of ``model.arrays``."""

    def __init__(self, model: PeaceSimModel, slot: int) -> None:
        super().__init__(model)
        self.slot = slot
        self.uid = int(model.arrays.uid[slot])

    @property
    def pos(self) -> tuple[int, int] | None:  # type: ignore[override]
        """``(x, y)`` of the agent's cell, or ``None`` when off the grid (jailed)."""
        x = int(self.model.arrays.x[self.slot])
        return None if x < 0 else (x, int(self.model.arrays.y[self.slot]))

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
        return bool(ag.alive[self.slot]) and int(ag.uid[self.slot]) == self.uid


class Resident(ArrayAgent):
    """A member of the population: hardship h, risk aversion R, state, jail term, group."""

    @property
    def hardship(self) -> float:
        return float(self.model.arrays.hardship[self.slot])

    @property
    def risk_aversion(self) -> float:
        return float(self.model.arrays.risk[self.slot])

    @property
    def state(self) -> str:
        """``"quiescent"``, ``"active"`` or ``"jailed"``."""
        return STATE_NAMES[int(self.model.arrays.state[self.slot])]

    @property
    def jail_term(self) -> int:
        return int(self.model.arrays.jail[self.slot])

    @property
    def group(self) -> int:
        return int(self.model.arrays.group[self.slot])

    @property
    def age(self) -> int:
        return int(self.model.arrays.age[self.slot])

    @property
    def grievance(self) -> float:
        """G = H (1 - L) at the current legitimacy."""
        return self.hardship * (1.0 - self.model.legitimacy)


class Police(ArrayAgent):
    """A police officer (Epstein's cop): arrests a random active in vision."""


class Peacekeeper(ArrayAgent):
    """A peacekeeping unit; in the Epstein scenarios an even-handed cop (Model II)."""


VIEW_CLASSES: dict[int, type[ArrayAgent]] = {
    K.RESIDENT: Resident,
    K.POLICE: Police,
    K.PEACEKEEPER: Peacekeeper,
}
