"""Import log, quarantined rows in the database, saved column mappings; case versions; grids' own codes.

Why: every import (cases, boundaries, Open311) is on record (who, when, which file by SHA-256, rows read /
inserted / updated / rejected / unchanged, duration) and its rejected rows stay with their reasons, so
nothing a county hands over is lost and the 数据导入 page can show and hand back every reject.
``cases.updated_at`` lets a newer version of a case win over an older one; ``grids.source_code`` keeps a
grid's code as the county writes it (CJ/T 349's 20 digits, local codes) beside the internal 15-digit code.

Revision ID: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "import_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64)),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("rows_read", sa.Integer, nullable=False, server_default="0"),
        sa.Column("inserted", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rejected", sa.Integer, nullable=False, server_default="0"),
        sa.Column("unchanged", sa.Integer, nullable=False, server_default="0"),
        sa.Column("seconds", sa.Float),
        sa.Column("message", sa.Text),
        sa.Column("details", sa.Text),
    )
    op.create_table(
        "import_rejects",
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("row_ref", sa.String(64), nullable=False),
        sa.Column("raw", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "seq"),
    )
    op.create_table(
        "column_mappings",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("mapping", sa.Text, nullable=False),
        sa.Column("saved_by", sa.String(64)),
        sa.Column("saved_at", sa.DateTime),
    )
    op.add_column("cases", sa.Column("updated_at", sa.DateTime))
    op.add_column("grids", sa.Column("source_code", sa.String(32)))


def downgrade():
    op.drop_column("grids", "source_code")
    op.drop_column("cases", "updated_at")
    op.drop_table("column_mappings")
    op.drop_table("import_rejects")
    op.drop_table("import_runs")
