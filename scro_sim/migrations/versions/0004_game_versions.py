"""Games carry a version for optimistic concurrency; a game has at most one scored run.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

``games.version`` is incremented by every save, and a save names the version it read, so
two windows (or two servers) deciding in the same game cannot overwrite each other's
decisions.  ``runs.game_id`` names the game a run scores; its unique index lets the
database refuse a second scored run of one game when two windows finish it together.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # Plain ADD COLUMN and a unique index (not a constraint): SQLite cannot add a constraint
    # without re-creating ``runs``, which the foreign keys pointing at it forbid (see 0002).
    op.add_column("games", sa.Column("version", sa.Integer(), server_default="0", nullable=False))
    op.add_column("runs", sa.Column("game_id", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_runs_game_id"), "runs", ["game_id"], unique=True)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_runs_game_id"), table_name="runs")
    op.drop_column("runs", "game_id")
    op.drop_column("games", "version")
