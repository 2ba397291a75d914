"""The feedback loop: comments on a run, ratings of discussion answers, improvement-plan items.

Revision ID: 0006_feedback
Revises: 0005
Create Date: 2026-12-02

Three tables, each row belonging to one run and covered by that run's signature (see
``scro_sim/store/feedback.py``): ``run_comments`` (an assessor's or lecturer's comment on a
criterion and/or a moment of the timeline), ``answer_ratings`` (an assessor's P/S/M/U rating
of a learner's answer to a discussion question) and ``plan_items`` (the run's improvement
plan: action, owner, due date, status).  New tables only: runs signed before keep verifying,
since a run without feedback signs exactly what it signed before.  A frozen snapshot like
0001: plain SQLAlchemy types only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_feedback"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _run_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f(f"fk_{table}_run_id_runs"))


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "run_comments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("criterion_id", sa.String(length=128), nullable=True),
        sa.Column("time_h", sa.Float(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        _when("created_at"),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_run_comments_author_id_users")),
        _run_fk("run_comments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_comments")),
    )
    op.create_index(op.f("ix_run_comments_run_id"), "run_comments", ["run_id"])
    op.create_table(
        "answer_ratings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("question_id", sa.String(length=128), nullable=False),
        sa.Column("rating", sa.String(length=1), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("assessor_id", sa.Integer(), nullable=False),
        _when("created_at"),
        sa.CheckConstraint("rating IN ('P', 'S', 'M', 'U')", name=op.f("ck_answer_ratings_rating")),
        sa.ForeignKeyConstraint(["assessor_id"], ["users.id"], name=op.f("fk_answer_ratings_assessor_id_users")),
        _run_fk("answer_ratings"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_ratings")),
    )
    op.create_index(op.f("ix_answer_ratings_run_id"), "answer_ratings", ["run_id"])
    op.create_table(
        "plan_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("due", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        sa.CheckConstraint("status IN ('open', 'in progress', 'done')", name=op.f("ck_plan_items_status")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_plan_items_created_by_id_users")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"], name=op.f("fk_plan_items_updated_by_id_users")),
        _run_fk("plan_items"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_items")),
    )
    op.create_index(op.f("ix_plan_items_run_id"), "plan_items", ["run_id"])


def downgrade() -> None:
    """Downgrade schema."""
    for table in ("plan_items", "answer_ratings", "run_comments"):
        op.drop_index(op.f(f"ix_{table}_run_id"), table_name=table)
        op.drop_table(table)
