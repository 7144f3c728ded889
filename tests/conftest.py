"""Shared test set-up: Prefect offline in a temp home, no internet, real servers on 127.0.0.1."""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before anything imports prefect: its home, database and settings stay in a temp folder.
_TMP = Path(tempfile.mkdtemp(prefix="claimwatch-tests-"))
os.environ["PREFECT_HOME"] = str(_TMP / "prefect")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
os.environ["PREFECT_UI_ENABLED"] = "false"
os.environ["CLAIMWATCH_HOME"] = str(_TMP / "home")
os.environ.pop("CLAIMWATCH_DATABASE_URL", None)
os.environ.pop("CLAIMWATCH_ALLOW_PRIVATE_NETWORKS", None)

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _loopback(host: object) -> bool:
    if not isinstance(host, str):
        return True  # AF_UNIX paths
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return host in {"localhost"}


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _guarded_connect(self: socket.socket, address: object) -> None:
    if isinstance(address, tuple) and not _loopback(address[0]):
        raise OSError(f"test guard: connection to {address[0]} refused (tests stay on 127.0.0.1)")
    return _real_connect(self, address)  # type: ignore[arg-type]


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    if isinstance(address, tuple) and not _loopback(address[0]):
        raise OSError(f"test guard: connection to {address[0]} refused (tests stay on 127.0.0.1)")
    return _real_connect_ex(self, address)  # type: ignore[arg-type]


def _guarded_getaddrinfo(host: object, *args: object, **kwargs: object) -> list:  # type: ignore[type-arg]
    if isinstance(host, str | bytes):
        name = host.decode() if isinstance(host, bytes) else host
        if not _loopback(name):
            raise socket.gaierror(socket.EAI_NONAME, f"test guard: no DNS for {name}")
    return _real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing reaches the internet during tests: sockets and DNS are held to loopback."""
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", _guarded_getaddrinfo)


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    """One temporary Prefect server for the whole session; its URL for subprocesses."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield str(PREFECT_API_URL.value())


@pytest.fixture()
def db_url(tmp_path: Path) -> str:
    """A real SQLite file per test."""
    return f"sqlite:///{tmp_path / 'claimwatch.db'}"


def _corpus_dir() -> Path | None:
    candidates = [os.environ.get("CLAIMWATCH_CORPUS"), str(ROOT.parent / "shared" / "corpus")]
    for candidate in filter(None, candidates):
        path = Path(candidate)
        if (path / "index.json").is_file():
            return path
    return None


@pytest.fixture(scope="session")
def corpus() -> Path:
    """../shared/corpus, read in place; absent: skip with a reason, or fail in CI."""
    path = _corpus_dir()
    if path is None:
        if IN_CI:
            pytest.fail("../shared/corpus is missing, and CI=true requires it")
        pytest.skip("../shared/corpus is absent (outside CI these tests skip)")
    return path


@pytest.fixture(scope="session")
def corpus_index(corpus: Path) -> list[dict[str, object]]:
    return json.loads((corpus / "index.json").read_text())
