"""constraints.txt pins the whole environment: what tests/run installed is exactly what it says.

Each check fails when someone adds a dependency, raises a floor or installs by hand without
`bash tests/refresh-constraints`: CI then tests what deployments install, and nothing newer.
"""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "constraints.txt"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^=\s;]+)$")


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503


def _lines() -> list[str]:
    text = CONSTRAINTS.read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def pins() -> dict[str, str]:
    return {_name(m.group(1)): m.group(2) for line in _lines() if (m := PIN.match(line))}


def test_every_line_is_one_exact_pin() -> None:
    lines = _lines()
    assert [line for line in lines if not PIN.match(line)] == []
    assert len(pins()) == len(lines) > 50  # no name twice; the whole tree, not a few roots
    assert "bash tests/refresh-constraints" in CONSTRAINTS.read_text(encoding="utf-8")


def test_the_installed_environment_is_the_pinned_one() -> None:
    pinned = pins()
    installed = {_name(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}
    installed.pop("claimwatch", None)
    unpinned = sorted(set(installed) - set(pinned))
    assert unpinned == [], "installed but not pinned: run bash tests/refresh-constraints"
    assert {n: v for n, v in installed.items() if pinned[n] != v} == {}


@pytest.mark.parametrize("group", ["dependencies", "test", "postgres"])
def test_the_pins_meet_pyprojects_requirements(group: str) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = project[group] if group == "dependencies" else project["optional-dependencies"][group]
    pinned = pins()
    for requirement in map(Requirement, wanted):
        if requirement.marker is None or requirement.marker.evaluate():
            name = _name(requirement.name)
            assert name in pinned, f"{name} is not pinned"
            assert requirement.specifier.contains(pinned[name], prereleases=True), \
                f"{name}=={pinned[name]} does not meet {requirement}"
