"""Shared fixtures. The knowledge base and the engine over the shipped plan are built once
per test process (tests/bot_harness.py caches them) and shared: both are immutable."""

from __future__ import annotations

import pytest

from knowledge.engine import Engine
from knowledge.model import KnowledgeBase
from tests.bot_harness import shipped_engine, shipped_kb


@pytest.fixture(scope="session")
def engine() -> Engine:
    return shipped_engine()


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return shipped_kb()
