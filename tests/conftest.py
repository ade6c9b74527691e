"""Shared test fixtures: where the repository's files are, and a tiny world for fast runs."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios"
# CLI arguments that make any scenario run in well under a second
SMALL_ARGS = ["--set", "world.width=12", "--set", "world.height=12", "--ticks", "5"]


@pytest.fixture
def repo_root() -> Path:
    """The repository root (for subprocesses that must import the source tree)."""
    return REPO


@pytest.fixture
def scenarios_dir() -> Path:
    """The shipped scenario files."""
    return SCENARIOS
