"""督办: instructions (duban), their steps (duban_events) and feedback attachments (duban_files).

Why: the 问题清单 becomes a closed loop (issue 19): an instruction to a responsible unit, signed for, fed
back, accepted or sent back, each step on record.

Revision ID: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "duban",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("region_code", sa.String(12), nullable=False),
        sa.Column("origin", sa.String(12), nullable=False),
        sa.Column("indicator", sa.String(32)),
        sa.Column("month", sa.Integer),
        sa.Column("level_name", sa.String(16)),
        sa.Column("case_ids", sa.Text),
        sa.Column("unit_code", sa.String(12), nullable=False),
        sa.Column("unit_name", sa.String(64), nullable=False),
        sa.Column("unit_person", sa.String(32)),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text),
        sa.Column("deadline", sa.DateTime, nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("author_region", sa.String(12), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("first_feedback_at", sa.DateTime),
        sa.Column("feedback_on_time", sa.SmallInteger),
        sa.Column("feedback", sa.Text),
        sa.Column("closed_at", sa.DateTime),
        sa.Column("close_hours", sa.Float),
        sa.Column("returns", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_duban_unit", "duban", ["unit_code", "status"])
    op.create_index("ix_duban_author", "duban", ["author_region", "status"])
    op.create_index("ix_duban_region", "duban", ["region_code", "indicator"])
    op.create_table(
        "duban_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("duban_id", sa.Integer, nullable=False, index=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("actor_region", sa.String(12), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("from_state", sa.String(12)),
        sa.Column("to_state", sa.String(12), nullable=False),
        sa.Column("text", sa.Text),
    )
    op.create_table(
        "duban_files",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("duban_id", sa.Integer, nullable=False, index=True),
        sa.Column("event_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
    )


def downgrade():
    op.drop_table("duban_files")
    op.drop_table("duban_events")
    op.drop_table("duban")
