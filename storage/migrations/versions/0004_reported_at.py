"""When news was reported: article_version.reported_at and development.reported_at.

A claim's developments are decided in the order things happened, never in fetch order (issue
13): each version carries the date its news was reported, and each development the date of the
version that established it. Existing rows are filled from what is known: a version's article
publication date, else its fetch time; a development's first sighting.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("article_version") as batch:
        batch.add_column(sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_article_version_reported_at", ["reported_at"])
    with op.batch_alter_table("development") as batch:
        batch.add_column(sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_development_reported_at", ["reported_at"])
    op.execute(
        "UPDATE article_version SET reported_at = COALESCE("
        "(SELECT article.published_at FROM article WHERE article.id = article_version.article_id"
        " AND article_version.version = 1), fetched_at)")
    op.execute("UPDATE development SET reported_at = first_seen_at")


def downgrade() -> None:
    with op.batch_alter_table("development") as batch:
        batch.drop_index("ix_development_reported_at")
        batch.drop_column("reported_at")
    with op.batch_alter_table("article_version") as batch:
        batch.drop_index("ix_article_version_reported_at")
        batch.drop_column("reported_at")
