"""LTI 1.3: OIDC login states and nonces, sign-in tickets, platform accounts and AGS line items.

Revision ID: 0007_lti
Revises: 0006_feedback
Create Date: 2026-12-02

A course platform launches scro_sim through ``scro-sim lti-serve`` (``scro_sim/lti``).  The
tables live in the database, not in a server's memory, so several launch endpoints and app
servers share them: ``lti_nonces`` holds each OIDC login's state and nonce (a launch uses
one once: a replay is refused), ``lti_tickets`` the single-use tickets that hand a launch's
sign-in to the app, ``lti_accounts`` which user a platform's user is, and ``lti_line_items``
where each user's grade for an exercise is posted (Assignment and Grade Services).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_lti"
down_revision: str | Sequence[str] | None = "0006_feedback"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "lti_nonces",
        sa.Column("state", sa.String(length=128), nullable=False),
        sa.Column("nonce", sa.String(length=128), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("state", name=op.f("pk_lti_nonces")),
    )
    op.create_index(op.f("ix_lti_nonces_expires_at"), "lti_nonces", ["expires_at"], unique=False)
    op.create_table(
        "lti_tickets",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("exercise", sa.String(length=128), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_lti_tickets_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_tickets")),
    )
    op.create_index(op.f("ix_lti_tickets_expires_at"), "lti_tickets", ["expires_at"], unique=False)
    op.create_index(op.f("ix_lti_tickets_user_id"), "lti_tickets", ["user_id"], unique=False)
    op.create_table(
        "lti_accounts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_lti_accounts_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_accounts")),
        sa.UniqueConstraint("issuer", "subject", name="uq_lti_accounts_issuer"),
    )
    op.create_index(op.f("ix_lti_accounts_user_id"), "lti_accounts", ["user_id"], unique=False)
    op.create_table(
        "lti_line_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.String(length=128), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("deployment_id", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("lineitem", sa.Text(), nullable=False),
        sa.Column("context_id", sa.String(length=255), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_lti_line_items_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_line_items")),
        sa.UniqueConstraint("user_id", "scenario_id", "lineitem", name="uq_lti_line_items_user_id"),
    )
    op.create_index(op.f("ix_lti_line_items_user_id"), "lti_line_items", ["user_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_lti_line_items_user_id"), table_name="lti_line_items")
    op.drop_table("lti_line_items")
    op.drop_index(op.f("ix_lti_accounts_user_id"), table_name="lti_accounts")
    op.drop_table("lti_accounts")
    op.drop_index(op.f("ix_lti_tickets_user_id"), table_name="lti_tickets")
    op.drop_index(op.f("ix_lti_tickets_expires_at"), table_name="lti_tickets")
    op.drop_table("lti_tickets")
    op.drop_index(op.f("ix_lti_nonces_expires_at"), table_name="lti_nonces")
    op.drop_table("lti_nonces")
