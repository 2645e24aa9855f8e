"""Shared fixtures. The knowledge base and the engine over the shipped plan are built once
per test process (tests/bot_harness.py caches them) and shared: both are immutable."""

from __future__ import annotations

import compileall
from pathlib import Path

import pytest

from knowledge.engine import Engine
from knowledge.model import KnowledgeBase
from tests.bot_harness import shipped_engine, shipped_kb

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    """Compile lvdong's modules once, before the workers start: every ``lvdong`` process
    a test starts would otherwise compile them again (about 0.2 s of CPU each) wherever
    PYTHONDONTWRITEBYTECODE keeps the interpreter from caching them itself."""
    if not hasattr(config, "workerinput"):  # the controller (or a run without -n)
        for package in ("bot", "handlers", "knowledge", "storage"):
            compileall.compile_dir(ROOT / package, quiet=2)


@pytest.fixture(scope="session")
def engine() -> Engine:
    return shipped_engine()


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return shipped_kb()
