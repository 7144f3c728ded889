"""claimwatch is imported by its own name: a Prefect project's flows/ beside it changes nothing,
and a non-editable install finds its seeds, templates and migrations as package data."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _hostile(folder: Path) -> Path:
    """A working directory holding another project's flows/ and storage/ packages."""
    for name, text in {"flows/__init__.py": "", "storage/__init__.py": "raise ImportError('x')",
                       "flows/settings.py": "raise ImportError('not claimwatch settings')"}.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def _env(home: Path) -> dict[str, str]:
    (home / "prefect").mkdir(parents=True, exist_ok=True)
    return {**os.environ, "CLAIMWATCH_HOME": str(home), "PREFECT_HOME": str(home / "prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


def test_help_works_beside_another_projects_flows_package(tmp_path: Path) -> None:
    cwd = _hostile(tmp_path / "project")
    for command in ([str(BIN / "claimwatch"), "run", "--help"],
                    [sys.executable, "-m", "claimwatch.flows.app.cli", "run", "--help"]):
        done = subprocess.run(command, cwd=cwd, env=_env(tmp_path), capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "usage: claimwatch run" in done.stdout


@pytest.mark.slow
def test_a_wheel_install_runs_the_demo_beside_another_projects_flows(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "dist")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for shipped in ("claimwatch/seeds/claims.toml", "claimwatch/seeds/sources.toml",
                    "claimwatch/flows/report/templates/report.html",
                    "claimwatch/storage/migrations/env.py",
                    "claimwatch/flows/engine/language/stopwords.txt"):
        assert shipped in names
    venv = _venv_with(tmp_path / "venv", wheel)
    cwd = _hostile(tmp_path / "project")
    done = subprocess.run([str(venv / "bin" / "claimwatch"), "demo"], cwd=cwd,
                          env=_env(tmp_path / "home"), capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "=== Round 3 of 3 ===" in done.stdout and "Traceback" not in done.stderr
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "from claimwatch.flows import "
                            "settings; print(settings.DEFAULT_CLAIMS.resolve())"], cwd=cwd,
                           capture_output=True, text=True, check=True, timeout=60).stdout
    assert Path(where.strip()).is_relative_to(venv)  # the install's seeds, not this checkout's


def _wheel(out: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--quiet", "-w", str(out), str(ROOT)], check=True, timeout=300)
    return next(out.glob("claimwatch-*.whl"))


def _venv_with(venv: Path, wheel: Path) -> Path:
    """A fresh venv holding the wheel, its dependencies borrowed from this one (no download):
    a .pth line adds our site-packages, whose own .pth files (the editable finder) stay unread."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-index", str(wheel)], check=True, timeout=300)
    return venv
