"""Runs carry a server signature and the rubric text that graded them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

``signature`` is the HMAC of everything shown of a run (scro_sim/store/signing.py); runs
stored before it have NULL and do not verify until ``scro-sim resign --unsigned`` has
re-simulated and signed them.  ``rubric_text`` names the scenario text of a revised rubric
that re-graded the run (NULL: the run's own scenario).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # Plain ADD COLUMN on every backend: re-creating ``runs`` (SQLite batch mode) would fail on
    # the foreign keys that point at it.  ``rubric_text`` has no foreign key for the same reason;
    # the store reports a run whose rubric text is missing.
    op.add_column("runs", sa.Column("rubric_text", sa.String(length=64), nullable=True))
    op.add_column("runs", sa.Column("signature", sa.Text(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column("runs", "signature")
    op.drop_column("runs", "rubric_text")
