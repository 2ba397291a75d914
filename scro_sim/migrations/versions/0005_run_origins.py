"""Runs record their origin; games can be practice games.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

``runs.origin`` says what a run is for (``scro_sim.store.RUN_ORIGINS``): only ``played``
games and a learner's own ``plan`` count toward a grade.  Runs stored before it did not
record it: a run that a game links to (``games.run_id``, or its own ``runs.game_id``) was
played and gets ``played``; every other one gets ``legacy``, which never counts (an expert
or baseline run stored from the command line under a learner's name must not become a
grade).  Their signatures were made without the origin; the store accepts such a signature
only while the origin is the one this migration gives, and ``scro-sim resign`` moves them to
signatures that cover it.  ``games.practice`` marks practice games, whose runs are never graded.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # Plain ADD COLUMN with a server default fills existing rows (no table re-creation, see 0002).
    op.add_column("runs", sa.Column("origin", sa.String(length=16), server_default="legacy", nullable=False))
    op.add_column("games", sa.Column("practice", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute("UPDATE runs SET origin = 'played' WHERE game_id IS NOT NULL "
               "OR id IN (SELECT run_id FROM games WHERE run_id IS NOT NULL)")


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column("games", "practice")
    op.drop_column("runs", "origin")
