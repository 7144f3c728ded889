"""No overlapping cycles on the same sources: a lease row in the database, taken or refused.

A lease works wherever the database is shared (one SQLite file, or PostgreSQL behind many
workers) and with or without a Prefect server. It expires unless renewed, so a run killed
mid-cycle blocks the next one for at most TTL; a holder on this host whose process is gone
is overtaken at once.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import col

from claimwatch.storage.db import session
from claimwatch.storage.inserts import add_unless_present
from claimwatch.storage.models import Lease

TTL = timedelta(minutes=10)  # under the 15-minute schedule: a crashed run never costs two
RENEW_EVERY = TTL / 4


@dataclass(frozen=True, slots=True)
class Grant:
    name: str
    holder: str


@dataclass(frozen=True, slots=True)
class Busy:
    """Another run holds the lease: who, since when, and until when at the latest."""

    name: str
    holder: str
    since: datetime | None
    until: datetime | None

    def message(self) -> str:
        since = f" since {self.since:%Y-%m-%d %H:%M:%S} UTC" if self.since else ""
        return (f"another claimwatch cycle is already running on these sources ({self.name},"
                f" {self.holder}{since}); this run did nothing and will not overlap it")


def name_for(shard: str | None) -> str:
    return f"cycle {shard.strip()}" if shard and shard.strip() else "cycle all"


def _holder() -> str:
    return f"{socket.gethostname()} pid {os.getpid()} {uuid.uuid4().hex[:8]}"


def _gone(holder: str | None) -> bool:
    """A holder on this host whose process no longer exists (killed mid-cycle)."""
    parts = (holder or "").split(" ")
    if len(parts) != 4 or parts[0] != socket.gethostname() or not parts[2].isdigit():
        return False
    try:
        os.kill(int(parts[2]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def take(engine: Engine, name: str, now: datetime, ttl: timedelta = TTL) -> Grant | Busy:
    """Take the lease if free, expired or left by a dead process; else say who holds it."""
    me = _holder()
    with session(engine) as s:
        add_unless_present(s, Lease(name=name), ("name",))
        row = s.get(Lease, name)
        assert row is not None
        free = or_(col(Lease.holder).is_(None), col(Lease.expires_at) < now)
        if _gone(row.holder):
            free = or_(free, col(Lease.holder) == row.holder)
        taken = s.execute(update(Lease).where(col(Lease.name) == name, free)
                          .values(holder=me, acquired_at=now, expires_at=now + ttl))
        if taken.rowcount:  # type: ignore[attr-defined]
            return Grant(name, me)
        s.refresh(row)
        return Busy(name, row.holder or "?", row.acquired_at, row.expires_at)


def renew(engine: Engine, grant: Grant, now: datetime, ttl: timedelta = TTL) -> bool:
    """Push the expiry back; False if the lease was lost (expired and taken by another run)."""
    with session(engine) as s:
        renewed = s.execute(update(Lease)
                            .where(col(Lease.name) == grant.name, col(Lease.holder) == grant.holder)
                            .values(expires_at=now + ttl))
        return bool(renewed.rowcount)  # type: ignore[attr-defined]


def release(engine: Engine, grant: Grant) -> None:
    with session(engine) as s:
        s.execute(update(Lease)
                  .where(col(Lease.name) == grant.name, col(Lease.holder) == grant.holder)
                  .values(holder=None, expires_at=None))


@contextmanager
def hold(engine: Engine, name: str) -> Iterator[Grant | Busy]:
    """Take the lease, renew it in the background while the block runs, release it after."""
    lease = take(engine, name, datetime.now(UTC))
    if isinstance(lease, Busy):
        yield lease
        return
    stop = threading.Event()

    def heartbeat() -> None:
        while not stop.wait(RENEW_EVERY.total_seconds()):
            try:
                renew(engine, lease, datetime.now(UTC))
            except Exception:  # noqa: S112  (a missed beat is retried; the cycle goes on)
                continue

    beating = threading.Thread(target=heartbeat, name=f"lease {name}", daemon=True)
    beating.start()
    try:
        yield lease
    finally:
        stop.set()
        beating.join()
        release(engine, lease)
