"""`claimwatch serve`: the monitor on a schedule on one machine, through Prefect's serve().

One process holds the schedule and runs each cycle in a subprocess. Schedules are not paused
when it stops (pause_on_shutdown=False), so a restart (a reboot, systemd, `docker restart`)
picks up where it left off. For many machines, see deploy/prefect.yaml and deploy/README.md.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from claimwatch.flows import settings
from claimwatch.flows.fetch.http import healthy, make_client

DEFAULT_CRON = "*/15 * * * *"  # RELIABILITY.md: poll interval of 15 minutes at the least
DIGEST_CRON = "0 7 * * *"  # daily, 07:00 in the server's time zone
MONITOR_DEPLOYMENT = "monitor"
DIGEST_DEPLOYMENT = "digest"


def _cancel_new() -> Any:
    # Prefect is imported when serving starts, not when the CLI loads this module (1.4 s).
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy

    # RELIABILITY.md rule 10: one run at a time; a run that finds one running is not queued.
    return ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)


def deployments(claims: Path, sources: Path, alerts: Path | None, cron: str,
                digest_cron: str) -> list[Any]:
    """The monitor deployment and the daily digest deployment."""
    from claimwatch.flows import monitor  # imports Prefect: only when serving starts

    parameters: dict[str, Any] = {"claims_path": str(claims), "sources_path": str(sources)}
    if alerts is not None:
        parameters["alerts_path"] = str(alerts)
    served = [monitor.cycle.to_deployment(
        name=MONITOR_DEPLOYMENT, cron=cron, parameters=parameters,
        concurrency_limit=_cancel_new(),
        description="claimwatch: poll, read, match and alert, on a schedule")]
    # The daily digest flow: sends what the outbox owes at the digest hour without polling.
    served.append(monitor.digest.to_deployment(
        name=DIGEST_DEPLOYMENT, cron=digest_cron, concurrency_limit=_cancel_new(),
        parameters={k: v for k, v in parameters.items() if k == "alerts_path"},
        description="claimwatch: the daily digest of alerts"))
    return served


SERVER_START_S = 90.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(api: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_S
    limits = replace(settings.FetchLimits(), connect_timeout_s=2.0, read_timeout_s=2.0)
    with make_client(limits, allow_private=True) as client:  # our own server, on loopback
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError(f"the local Prefect server stopped at start-up; see {log}")
            if healthy(client, f"{api}/health"):
                return
            time.sleep(0.5)
    raise RuntimeError(f"the local Prefect server did not start in {SERVER_START_S:.0f} s; see {log}")


def _stop(server: subprocess.Popen[bytes]) -> None:
    for sig, wait_s in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(server.pid, sig)
            server.wait(wait_s)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def prefect_api() -> Iterator[str]:
    """$PREFECT_API_URL when set; else a local Prefect server for as long as serve runs.

    Prefect's temporary in-process server runs no scheduler, so nothing scheduled would ever
    run: serve needs a real one. Its output (shutdown tracebacks included) goes to a log file.
    """
    configured = settings.prefect_api_url()
    if configured:
        yield configured
        return
    api = f"http://127.0.0.1:{_free_port()}/api"
    log = settings.data_dir() / "prefect-server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
             "--port", api.split(":")[2].split("/")[0]],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)  # its own group: Ctrl-C reaches us, and we stop it quietly
    try:
        _wait_healthy(api, server, log)
        settings.export("PREFECT_API_URL", api)
        yield api
    finally:
        _stop(server)


def serve(claims: Path, sources: Path, alerts: Path | None, db_url: str | None,
          cron: str = DEFAULT_CRON, digest_cron: str = DIGEST_CRON) -> None:
    """Serve until interrupted. The database URL travels in the environment, never as a
    parameter: parameters are shown in the Prefect UI and a URL may hold a password."""
    if db_url:
        settings.export("CLAIMWATCH_DATABASE_URL", db_url)
    with prefect_api() as api:
        # Prefect is imported when serving starts, not when the CLI loads this module (1.4 s).
        from prefect import serve as prefect_serve
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings({PREFECT_API_URL: api}):
            prefect_serve(*deployments(claims, sources, alerts, cron, digest_cron),
                          pause_on_shutdown=False)
