"""Run manifests: everything needed to reproduce (or distrust) a run, as one JSON-able dict."""

from __future__ import annotations

import hashlib
import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from sim.config.base import canonical_json
from sim.config.scenario import Scenario

PACKAGES = ("mesa", "numpy", "numba", "scipy", "pandas", "pyarrow", "pydantic", "matplotlib")
SEED_ENTROPY = "numpy.random.SeedSequence(seed)"


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    """Installed versions of the libraries whose behaviour can change results."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def git_state(source_dir: Path | None = None) -> dict[str, Any]:
    """Commit and dirtiness of the source tree; ``None`` values when that cannot be known.

    Never raises: a missing git binary or a non-git install is normal for users.
    """
    if source_dir is None:
        source_dir = Path(__file__).resolve().parents[2]
    head = _git(["rev-parse", "HEAD"], source_dir)
    if head is None:
        return {"commit": None, "dirty": None}
    status = _git(["status", "--porcelain"], source_dir)
    return {"commit": head.strip(), "dirty": None if status is None else bool(status.strip())}


def scenario_hash(scenario: Scenario) -> str:
    """sha256 of the full parameter set: identical hash means identical parameters."""
    return hashlib.sha256(canonical_json(scenario.model_dump(mode="json")).encode()).hexdigest()


def build_manifest(
    scenario: Scenario,
    seed: int,
    ticks: int,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Describe a run: when, with which code and libraries, which parameters and seed."""
    import sim

    manifest: dict[str, Any] = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "peacesim_version": sim.__version__,
        "python_version": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "executable": sys.executable,
        "packages": package_versions(),
        "git": git_state(),
        "scenario": scenario.name,
        "parameters": scenario.model_dump(mode="json"),
        "scenario_hash": scenario_hash(scenario),
        "seed": int(seed),
        "seed_entropy": SEED_ENTROPY,
        "ticks": int(ticks),
    }
    if extra:
        manifest.update(extra)
    return manifest
