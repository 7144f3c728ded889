"""The initial schema: sources, items, articles and versions, claims, developments, matches,
runs and leases, as storage/models.py defined them when migrations began.

Written out in full (no imports from storage.models) so that later changes to the models can
never change what this migration does.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("etag", sa.String(), nullable=True),
        sa.Column("last_modified", sa.String(), nullable=True),
        sa.Column("last_status", sa.String(), nullable=True),
        sa.Column("error_score", sa.Float(), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("unhealthy_reported", sa.Boolean(), nullable=False),
        _when("added_at", nullable=False),
        _when("last_polled_at"),
        _when("last_success_at"),
        _when("next_poll_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("url"),
    )
    op.create_table(
        "article",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("outlet", sa.String(), nullable=True),
        sa.Column("author", sa.String(), nullable=True),
        sa.Column("language", sa.String(), nullable=True),
        _when("published_at"),
        _when("first_seen_at", nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("url"),
    )
    op.create_table(
        "claim",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("statement", sa.String(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        _when("added_at", nullable=False),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "run",
        sa.Column("id", sa.Integer(), nullable=False),
        _when("started_at", nullable=False),
        _when("finished_at"),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "lease",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=True),
        _when("acquired_at"),
        _when("expires_at"),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "article_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.BigInteger(), nullable=False),
        _when("fetched_at", nullable=False),
        _when("matched_at"),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("article_id", "version"),
    )
    op.create_index("ix_article_version_article_id", "article_version", ["article_id"])
    op.create_index("ix_article_version_matched_at", "article_version", ["matched_at"])
    op.create_table(
        "development",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.String(length=80), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.String(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        _when("first_seen_at", nullable=False),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_development_claim_id", "development", ["claim_id"])
    op.create_table(
        "item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("revision", sa.String(), nullable=False),
        _when("published_at"),
        _when("first_seen_at", nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.Column("read_attempts", sa.Integer(), nullable=False),
        sa.Column("fetch_error", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"]),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "key"),
    )
    op.create_index("ix_item_article_id", "item", ["article_id"])
    op.create_index("ix_item_pending", "item", ["pending"])
    op.create_index("ix_item_source_id", "item", ["source_id"])
    op.create_table(
        "match",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.String(length=80), nullable=False),
        sa.Column("article_version_id", sa.Integer(), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("development_id", sa.Integer(), nullable=True),
        _when("matched_at", nullable=False),
        sa.ForeignKeyConstraint(["article_version_id"], ["article_version.id"]),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.id"]),
        sa.ForeignKeyConstraint(["development_id"], ["development.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("claim_id", "article_version_id"),
    )
    op.create_index("ix_match_article_version_id", "match", ["article_version_id"])
    op.create_index("ix_match_development", "match", ["development_id"])


def downgrade() -> None:
    for table in ("match", "item", "development", "article_version", "lease", "run", "claim",
                  "article", "source"):
        op.drop_table(table)
