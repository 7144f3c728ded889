"""Every stored noun as a SQLModel table. Timestamps are UTC; JSON columns hold small dicts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint
from sqlalchemy.types import DateTime, TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes; SQLite drops the zone, so it is put back on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: Any) -> datetime | None:
    """A timestamp from an aggregate (min, max), which bypasses the column type on SQLite:
    parsed when it is text, with the UTC zone put back."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _when(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def _json() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Source(SQLModel, table=True):
    """A feed or a watched page, with its HTTP cache state and health."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=8)  # "feed" | "page"
    name: str
    url: str = Field(sa_column=Column(Text, unique=True, nullable=False))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    etag: str | None = None
    last_modified: str | None = None
    last_status: str | None = None  # "ok", "not modified", or the error
    error_score: float = 0.0
    consecutive_failures: int = 0
    unhealthy_reported: bool = False
    added_at: datetime | None = _when(nullable=False)
    last_polled_at: datetime | None = _when()
    last_success_at: datetime | None = _when()
    next_poll_at: datetime | None = _when()


class Item(SQLModel, table=True):
    """A feed entry (or the watched page itself), keyed durably within its source."""

    __table_args__ = (UniqueConstraint("source_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="source.id", index=True)
    key: str = Field(sa_column=Column(Text, nullable=False))
    url: str = Field(sa_column=Column(Text, nullable=False))
    title: str = ""
    revision: str = ""
    published_at: datetime | None = _when()
    first_seen_at: datetime | None = _when(nullable=False)
    article_id: int | None = Field(default=None, foreign_key="article.id", index=True)
    pending: bool = Field(default=True, index=True)  # to be read: new, or edited by its publisher
    read_attempts: int = 0
    fetch_error: str | None = None


class Article(SQLModel, table=True):
    """One article, however many items and URLs lead to it."""

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(sa_column=Column(Text, unique=True, nullable=False))  # canonical
    title: str = ""
    outlet: str | None = None
    author: str | None = None
    language: str | None = None
    published_at: datetime | None = _when()
    first_seen_at: datetime | None = _when(nullable=False)
    latest_version: int = 0


class ArticleVersion(SQLModel, table=True):
    """The article's text as extracted at one time; a changed text is a new version."""

    __tablename__ = "article_version"
    __table_args__ = (UniqueConstraint("article_id", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="article.id", index=True)
    version: int
    title: str = ""
    text: str = Field(sa_column=Column(Text, nullable=False))
    text_hash: str = Field(max_length=64)
    fingerprint: int = Field(sa_column=Column(BigInteger, nullable=False))
    fetched_at: datetime | None = _when(nullable=False)
    # When this text's news was reported: the first version's publication date, an edit's own
    # date (the page's modified time, else when we fetched it). Decisions follow this order.
    reported_at: datetime | None = _when(index=True)
    matched_at: datetime | None = _when(index=True)  # set once compared with every claim


class ClaimRecord(SQLModel, table=True):
    """A claim from claims.toml and its current state (its facts as last updated)."""

    __tablename__ = "claim"
    id: str = Field(primary_key=True, max_length=80)
    statement: str
    keywords: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    facts: dict[str, str] = _json()
    state: dict[str, str] = _json()
    added_at: datetime | None = _when(nullable=False)
    updated_at: datetime | None = _when()


class Development(SQLModel, table=True):
    """A change of a claim's state, or a contradiction, with every source that supports it."""

    id: int | None = Field(default=None, primary_key=True)
    claim_id: str = Field(foreign_key="claim.id", index=True, max_length=80)
    relation: str = Field(max_length=16)
    summary: str
    changes: dict[str, Any] = _json()  # slot -> [old, new]
    facts: dict[str, str] = _json()  # the claim's state after this development
    first_seen_at: datetime | None = _when(nullable=False)
    reported_at: datetime | None = _when(index=True)  # when its news was reported


class Match(SQLModel, table=True):
    """An article version found to be about a claim: relation, evidence and the facts seen."""

    __table_args__ = (
        UniqueConstraint("claim_id", "article_version_id"),
        Index("ix_match_development", "development_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    claim_id: str = Field(foreign_key="claim.id", max_length=80)
    article_version_id: int = Field(foreign_key="article_version.id", index=True)
    relation: str = Field(max_length=16)
    evidence: str = Field(sa_column=Column(Text, nullable=False))
    facts: dict[str, str] = _json()
    score: float = 0.0
    development_id: int | None = Field(default=None, foreign_key="development.id")
    matched_at: datetime | None = _when(nullable=False)


class Run(SQLModel, table=True):
    """One monitoring cycle and its summary."""

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime | None = _when(nullable=False)
    finished_at: datetime | None = _when()
    status: str = "running"
    summary: dict[str, Any] = _json()
    # The Prefect flow run that ran this cycle (a UUID), when one did: find one from the other.
    prefect_flow_run_id: str | None = Field(default=None, max_length=36, index=True)


class Lease(SQLModel, table=True):
    """Who is running a cycle over a set of sources, and until when: runs never overlap."""

    name: str = Field(primary_key=True, max_length=120)  # "cycle all", "cycle 2/4"
    holder: str | None = Field(default=None, max_length=200)  # host, pid and a token
    acquired_at: datetime | None = _when()
    expires_at: datetime | None = _when()


class Alert(SQLModel, table=True):
    """One message owed to one channel (the outbox): a development, a confirmation or a digest.

    Written in the transaction that stores its development or match, delivered afterwards.
    Digest items wait (mode "digest") until a digest row (kind "digest") takes them in.
    """

    __table_args__ = (
        UniqueConstraint("subject", "channel"),
        Index("ix_alert_due", "status", "next_attempt_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=80)
    subject: str = Field(max_length=80)  # "development:12", "match:34" or "digest:<key>"
    # "development" | "confirmation" | "ops" | "digest" | "confirmations" (a claim's
    # confirmations folded into one message)
    kind: str = Field(max_length=16)
    development_id: int | None = Field(default=None, foreign_key="development.id", index=True)
    match_id: int | None = Field(default=None, foreign_key="match.id")
    claim_id: str | None = Field(default=None, max_length=80)
    relation: str | None = Field(default=None, max_length=16)
    mode: str = Field(max_length=16)  # "immediate" (a message of its own) | "digest"
    reason: str = ""  # why it waits for the digest, e.g. "backlog: first poll of the source"
    # the message carrying this item: a digest, or folded confirmations
    digest_id: int | None = Field(default=None, foreign_key="alert.id", index=True)
    status: str = Field(default="pending", max_length=16)  # pending|sending|sent|failed|batched
    attempts: int = 0
    next_attempt_at: datetime | None = _when()
    last_error: str | None = None
    idempotency_key: str = Field(max_length=64, unique=True)
    created_at: datetime | None = _when(nullable=False)
    sent_at: datetime | None = _when()
