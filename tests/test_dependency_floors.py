"""constraints-lowest.txt pins every direct dependency of pyproject.toml to its floor, so
the lowest-versions run of CI (.ci/run) tests exactly the floors pyproject.toml declares."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def _floors() -> dict[str, Version]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = project["dependencies"] + [
        line for extra in project["optional-dependencies"].values() for line in extra
    ]
    floors = {}
    for line in lines:
        requirement = Requirement(line)
        lowest = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
        assert lowest, f"{line}: every dependency declares its floor (>=)"
        floors[canonicalize_name(requirement.name)] = max(lowest)
    return floors


def _pins() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "constraints-lowest.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = re.fullmatch(r"([A-Za-z0-9._-]+)==(\S+)", line).groups()  # type: ignore[union-attr]
            pins[canonicalize_name(name)] = Version(version)
    return pins


def test_the_lowest_constraints_pin_each_floor() -> None:
    floors, pins = _floors(), _pins()
    assert {"sqlite-utils", "python-telegram-bot", "pytest"} <= set(floors)
    assert pins == floors, "raise a floor in pyproject.toml and constraints-lowest.txt together"
