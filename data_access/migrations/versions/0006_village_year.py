"""village_year: the yearly village table (村社年度表) behind the 强基善治指数's non-case indicators.

Why: collective income, party members, households linked by party members … are not in any case; counties
collect them once a year per village (Excel). One row per (village, year); imported with the same
nothing-lost validation as cases (data_access.village_import). Columns written out, not imported from
schema.py: a migration must keep meaning what it meant when it was written.

Revision ID: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "village_year",
        sa.Column("village_code", sa.String(12), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("collective_income", sa.Float),
        sa.Column("income_growth", sa.Float),
        sa.Column("environment_score", sa.Float),
        sa.Column("households", sa.Integer),
        sa.Column("linked_households", sa.Integer),
        sa.Column("party_members", sa.Integer),
        sa.Column("young_members", sa.Integer),
    )
    op.create_index("ix_village_year_year", "village_year", ["year", "village_code"])


def downgrade():
    op.drop_index("ix_village_year_year", table_name="village_year")
    op.drop_table("village_year")
