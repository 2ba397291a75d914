"""Accounts: database settings (the demo mark), the sign-in throttle, erasure records.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

A frozen snapshot like 0001: plain SQLAlchemy types only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    op.create_table(
        "sign_in_throttle",
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        _when("first_at"),
        _when("last_at"),
        _when("next_at", nullable=True),
        _when("locked_until", nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_throttle")),
    )
    op.create_index(op.f("ix_sign_in_throttle_last_at"), "sign_in_throttle", ["last_at"])
    op.create_table(
        "erasures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        _when("erased_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasures")),
        sa.UniqueConstraint("pseudonym", name=op.f("uq_erasures_pseudonym")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("erasures")
    op.drop_index(op.f("ix_sign_in_throttle_last_at"), table_name="sign_in_throttle")
    op.drop_table("sign_in_throttle")
    op.drop_table("settings")
