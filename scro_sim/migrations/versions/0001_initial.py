"""Initial schema: users, cohorts, published scenarios, runs, judgements, games, batches.

Revision ID: 0001
Revises:
Create Date: 2026-11-28

Migrations are frozen snapshots: plain SQLAlchemy types only, never scro_sim.store's
classes.  Datetimes are stored as UTC (SQLite: naive UTC text); seeds as decimal text so
128-bit SeedSequence entropy fits.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=False),
        _when("created_at"),
        sa.CheckConstraint(
            "role IN ('learner', 'lecturer', 'assessor', 'admin')", name=op.f("ck_users_role")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "cohorts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        _when("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohorts")),
        sa.UniqueConstraint("name", name=op.f("uq_cohorts_name")),
    )
    op.create_table(
        "cohort_members",
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _when("added_at"),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["cohorts.id"], name=op.f("fk_cohort_members_cohort_id_cohorts")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_cohort_members_user_id_users")),
        sa.PrimaryKeyConstraint("cohort_id", "user_id", name=op.f("pk_cohort_members")),
    )
    op.create_index(op.f("ix_cohort_members_user_id"), "cohort_members", ["user_id"])
    op.create_table(
        "published_scenarios",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.String(length=128), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("yaml_text", sa.Text(), nullable=False),
        sa.Column("published_by_id", sa.Integer(), nullable=False),
        _when("published_at"),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["cohorts.id"], name=op.f("fk_published_scenarios_cohort_id_cohorts")
        ),
        sa.ForeignKeyConstraint(
            ["published_by_id"], ["users.id"], name=op.f("fk_published_scenarios_published_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_published_scenarios")),
        sa.UniqueConstraint("cohort_id", "scenario_id", name="uq_published_scenarios_cohort"),
    )
    op.create_table(
        "texts",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_texts")),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("learner", sa.String(length=64), nullable=False),
        sa.Column("cohort", sa.String(length=64), nullable=True),
        sa.Column("scenario_id", sa.String(length=128), nullable=False),
        sa.Column("scenario_version", sa.String(length=64), nullable=False),
        sa.Column("scenario_hash", sa.String(length=128), nullable=False),
        sa.Column("scenario_text", sa.String(length=64), nullable=False),
        sa.Column("city_hash", sa.String(length=128), nullable=False),
        sa.Column("engine_version", sa.String(length=64), nullable=False),
        sa.Column("seed", sa.String(length=80), nullable=False),
        sa.Column("decisions", sa.JSON(), nullable=False),
        sa.Column("policy", sa.String(length=255), nullable=True),
        sa.Column("plan_text", sa.String(length=64), nullable=True),
        sa.Column("log_z", sa.LargeBinary(), nullable=False),
        sa.Column("log_size", sa.Integer(), nullable=False),
        sa.Column("log_digest", sa.String(length=128), nullable=False),
        sa.Column("scorecard", sa.JSON(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        _when("started_at"),
        _when("finished_at"),
        _when("created_at"),
        sa.CheckConstraint("total >= 0 AND total <= 100", name=op.f("ck_runs_total_range")),
        sa.ForeignKeyConstraint(["plan_text"], ["texts.sha256"], name=op.f("fk_runs_plan_text_texts")),
        sa.ForeignKeyConstraint(
            ["scenario_text"], ["texts.sha256"], name=op.f("fk_runs_scenario_text_texts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    op.create_index(op.f("ix_runs_cohort"), "runs", ["cohort"])
    op.create_index("ix_runs_created", "runs", ["created_at", "id"])
    op.create_index(op.f("ix_runs_learner"), "runs", ["learner"])
    op.create_index(op.f("ix_runs_scenario_id"), "runs", ["scenario_id"])
    op.create_table(
        "scorecard_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("scorecard", sa.JSON(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        _when("replaced_at"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_scorecard_history_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorecard_history")),
    )
    op.create_index(op.f("ix_scorecard_history_run_id"), "scorecard_history", ["run_id"])
    for table in ("judgements", "overrides"):
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("run_id", sa.String(length=32), nullable=False),
            sa.Column("criterion_id", sa.String(length=128), nullable=False),
            sa.Column("rating", sa.String(length=1), nullable=False),
            sa.Column("comment", sa.Text(), nullable=False),
            sa.Column("assessor_id", sa.Integer(), nullable=False),
            _when("created_at"),
            sa.CheckConstraint("rating IN ('P', 'S', 'M', 'U')", name=op.f(f"ck_{table}_rating")),
            sa.ForeignKeyConstraint(
                ["assessor_id"], ["users.id"], name=op.f(f"fk_{table}_assessor_id_users")
            ),
            sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f(f"fk_{table}_run_id_runs")),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        )
        op.create_index(op.f(f"ix_{table}_run_id"), table, ["run_id"])
    op.create_table(
        "games",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("learner", sa.String(length=64), nullable=False),
        sa.Column("scenario_id", sa.String(length=128), nullable=False),
        sa.Column("scenario_hash", sa.String(length=128), nullable=False),
        sa.Column("seed", sa.String(length=80), nullable=False),
        sa.Column("decisions", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        _when("created_at"),
        _when("updated_at"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_games_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_games")),
    )
    op.create_index(op.f("ix_games_learner"), "games", ["learner"])
    op.create_table(
        "batches",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("scenario_hash", sa.String(length=128), nullable=False),
        sa.Column("plan_hash", sa.String(length=128), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("seed", sa.String(length=80), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        _when("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
    )
    op.create_table(
        "replications",
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("result", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _when("updated_at"),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_replications_batch_id_batches")),
        sa.PrimaryKeyConstraint("batch_id", "idx", name=op.f("pk_replications")),
    )


def downgrade() -> None:
    """Downgrade schema (drops everything)."""
    for table in (
        "replications",
        "batches",
        "games",
        "overrides",
        "judgements",
        "scorecard_history",
        "runs",
        "texts",
        "published_scenarios",
        "cohort_members",
        "cohorts",
        "users",
    ):
        op.drop_table(table)
