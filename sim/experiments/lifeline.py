"""Pool processes that never outlive their sweep coordinator.

A coordinator killed with SIGKILL (as the out-of-memory killer does) cannot shut its process
pool down. Left alone, the forkserver and the workers wait forever for tasks: each worker holds
the write end of its own task queue, so it never sees end-of-file, and the forkserver lives as
long as any worker does. Two mechanisms end them within a second:

* the parent-death signal (Linux ``prctl(PR_SET_PDEATHSIG)``): the kernel kills the forkserver
  when the coordinator dies (armed when the forkserver imports :mod:`sim.experiments.
  forkserver_preload`) and each worker when the forkserver dies (armed in the worker's
  initialiser);
* a watchdog thread in every worker (:func:`watch`) that ends the worker once the coordinator
  is gone or the worker's parent changed, which also covers systems without ``prctl``.

The module has no side effects on import: the coordinator imports it too.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

#: environment variable holding the coordinator's pid while it starts the forkserver
PARENT_ENV = "PEACESIM_FORKSERVER_PARENT"
#: how often a worker's watchdog looks at its coordinator (seconds)
WATCH_INTERVAL_S = 0.25
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_HAS_PROC = os.path.exists("/proc/self/stat")


def die_with_parent(sig: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send ``sig`` to this process when its parent dies (Linux only);
    True if armed. Not inherited by children: each process arms its own."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def identity(pid: int) -> str | None:
    """What tells process ``pid`` apart from a later process that reuses its number (its
    start time where there is ``/proc``, else ``""``), or None when it is gone or a zombie
    (killed, not yet reaped by its own parent)."""
    if not _HAS_PROC:  # macOS, ...: only whether the pid exists
        try:
            os.kill(pid, 0)
        except (ProcessLookupError, PermissionError):  # gone, or reused by another user
            return None
        return ""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode(errors="replace")
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()  # after "pid (comm) "
    if not fields or fields[0] in ("Z", "X"):
        return None
    return fields[19] if len(fields) > 19 else ""  # field 22 of stat(5): start time


def watch(coordinator: int, coordinator_id: str | None, parent: int,
          interval: float = WATCH_INTERVAL_S) -> threading.Thread:
    """Start a daemon thread that ends this process (``os._exit``) as soon as the process
    ``coordinator`` is gone (or another process took its pid) or this process's parent is no
    longer ``parent`` (the forkserver died). ``coordinator_id`` is :func:`identity` of the
    coordinator taken while it lived (None: it was gone already)."""

    def run() -> None:
        while True:
            if (coordinator_id is None or os.getppid() != parent
                    or identity(coordinator) != coordinator_id):
                os._exit(75)  # EX_TEMPFAIL: nobody is left to take the result
            time.sleep(interval)

    thread = threading.Thread(target=run, name="peacesim-coordinator-watch", daemon=True)
    thread.start()
    return thread


def arm_forkserver() -> None:
    """In the forkserver (its preload module calls this): die with the coordinator.

    Acts only when this process's parent is the coordinator that set :data:`PARENT_ENV`;
    if the coordinator is already gone, the forkserver ends by itself (its "alive" pipe
    reads end-of-file once no client holds it)."""
    expected = os.environ.pop(PARENT_ENV, None)
    if expected is None or expected != str(os.getppid()):
        return
    if die_with_parent() and str(os.getppid()) != expected:  # died before prctl took effect
        os._exit(0)
