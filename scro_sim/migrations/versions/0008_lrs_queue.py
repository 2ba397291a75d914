"""A durable queue of xAPI statements for the Learning Record Store.

Revision ID: 0008_lrs
Revises: 0007_lti
Create Date: 2026-12-02

``lrs_queue`` holds every statement ``scro-sim lrs push`` sent or will send (``scro_sim/lrs.py``),
by its stable statement id: a statement stays ``pending`` (retried with backoff from ``next_at``)
until the LRS accepts it (``sent``) or refuses it as malformed (``rejected``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_lrs"
down_revision: str | Sequence[str] | None = "0007_lti"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "lrs_queue",
        sa.Column("statement_id", sa.String(length=36), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("statement_id", name=op.f("pk_lrs_queue")),
    )
    op.create_index(op.f("ix_lrs_queue_status"), "lrs_queue", ["status"], unique=False)
    op.create_index(op.f("ix_lrs_queue_next_at"), "lrs_queue", ["next_at"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_lrs_queue_next_at"), table_name="lrs_queue")
    op.drop_index(op.f("ix_lrs_queue_status"), table_name="lrs_queue")
    op.drop_table("lrs_queue")
