"""Shared fixtures. The engine over the shipped plan is built once per session."""

from __future__ import annotations

import pytest

from knowledge.engine import Engine, load_engine


@pytest.fixture(scope="session")
def engine() -> Engine:
    return load_engine()
