"""The layout holds: each library in its one home, storage never importing flows, no cycles.

Every rule is also run on a small made-up tree that breaks it, so each check is shown to fail.
"""

from __future__ import annotations

import importlib.metadata
import sys
import tomllib
from pathlib import Path

import pytest

from tests import layout_rules as rules

MODULES = rules.modules()


def _tree(tmp_path: Path, files: dict[str, str]) -> list[rules.Module]:
    for name, text in {"flows/__init__.py": '"""F."""\n', "storage/__init__.py": '"""S."""\n',
                       **files}.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return rules.modules(tmp_path)


def test_each_library_is_imported_in_its_one_home_only() -> None:
    assert rules.library_violations(MODULES) == []


@pytest.mark.parametrize(("path", "source", "expected"), [
    ("flows/engine/claims.py", "import httpx\n", "imports httpx"),
    ("flows/report/exports.py", "from sqlmodel import select\n", "imports sqlmodel"),
    ("flows/stages/reads.py", "from sqlalchemy.engine import Engine\n", "imports sqlalchemy"),
    ("flows/fetch/pages.py", "import trafilatura\n", "imports trafilatura"),
    ("flows/report/report.py", "from prefect import flow\n", "imports prefect"),
    ("flows/stages/polls.py", "import feedparser\n", "imports feedparser"),
    ("storage/claims.py", "from claimwatch.flows.engine.claims import Claim\n",
     "storage never imports flows"),
    ("storage/claims.py", "from claimwatch.flows import settings\n",
     "storage never imports flows"),
])
def test_a_forbidden_import_is_caught(tmp_path: Path, path: str, source: str,
                                      expected: str) -> None:
    found = rules.library_violations(_tree(tmp_path, {path: source}))
    assert found and expected in found[0]


def test_only_settings_reads_the_environment(tmp_path: Path) -> None:
    assert rules.environment_violations(MODULES) == []
    broken = _tree(tmp_path, {"flows/app/cli.py": "import os\nx = os.environ.get('A')\n",
                              "flows/settings.py": "import os\nx = os.environ.get('A')\n"})
    assert [v.split(":")[0] for v in rules.environment_violations(broken)] == [
        "claimwatch.flows.app.cli"]


def test_no_import_cycles(tmp_path: Path) -> None:
    assert rules.cycles(MODULES) == []
    broken = _tree(tmp_path, {"flows/a.py": "from claimwatch.flows import b\n",
                              "flows/b.py": "from claimwatch.flows.a import x\n"})
    assert rules.cycles(broken) == [["claimwatch.flows.a", "claimwatch.flows.b",
                                     "claimwatch.flows.a"]]


def test_imports_sit_at_the_top_unless_a_comment_says_why(tmp_path: Path) -> None:
    assert rules.inner_import_violations(MODULES) == []
    broken = _tree(tmp_path, {
        "flows/a.py": "def f():\n    import json\n    return json\n",
        "flows/b.py": "def f():\n    # lazy: costs 1 s to import\n    import json\n    return json\n"})
    assert [v.split(":")[0] for v in rules.inner_import_violations(broken)] == [
        "claimwatch.flows.a"]


def test_files_stay_short_or_say_why(tmp_path: Path) -> None:
    assert rules.length_violations(MODULES) == []
    long = "x = 1\n" * (rules.MAX_LINES + 5)
    broken = _tree(tmp_path, {"flows/a.py": long,
                              "flows/b.py": '"""B. Longer than 300 lines because ..."""\n' + long})
    found = rules.length_violations(broken)
    assert len(found) == 1 and "a.py" in found[0]


def test_every_package_says_what_it_owns() -> None:
    assert rules.package_violations(MODULES) == []


def test_the_installed_packages_are_the_folders() -> None:
    """pyproject.toml lists the packages by hand (they are mapped to top-level folders)."""
    config = tomllib.loads((rules.ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"]) - {"claimwatch.seeds"}
    folders = {m.name for m in MODULES if m.path.name == "__init__.py"}
    assert listed == folders


def test_every_imported_library_is_declared() -> None:
    config = tomllib.loads((rules.ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    declared = {_dist(d) for d in config["project"]["dependencies"]}
    providers = importlib.metadata.packages_distributions()
    missing = set()
    for m in MODULES:
        for name, _node in rules.imports(m):
            top = name.split(".")[0]
            if not top or top == "claimwatch" or top in sys.stdlib_module_names:
                continue
            dists = {_dist(d) for d in providers.get(top, [top])}
            if not dists & declared:
                missing.add(f"{top} (in {m.name})")
    assert sorted(missing) == []


def _dist(requirement: str) -> str:
    name = requirement.split(";")[0].split("[")[0]
    for mark in "<>=!~ ":
        name = name.split(mark)[0]
    return name.strip().lower().replace("_", "-")
