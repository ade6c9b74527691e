"""Imported first by the process pool's forkserver (``set_forkserver_preload``): ties the
forkserver's life to its coordinator's (:func:`sim.experiments.lifeline.arm_forkserver`).

Importing it anywhere else does nothing: it acts only in a process whose parent set
:data:`sim.experiments.lifeline.PARENT_ENV` to its own pid.
"""

from sim.experiments.lifeline import arm_forkserver

arm_forkserver()
