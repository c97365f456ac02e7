"""`audit_tree.indexed`: the subject index's watermark, so list reads are indexed in bulk.

A 100-record page wrote 100 `audit_subjects` rows with its entry, each on its own leaf
page of the (subject_id, seq) key: ~80% of the page's audit cost. Entries about many
people are now indexed later, sorted and many entries at a time, by the audit writer's
own batches; `indexed` says up to where the index is complete, and readers scan the
`subject_ids` of the entries above it. Every entry already in the log is indexed, so the
watermark starts at the tree size.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_tree") as batch:
        batch.add_column(sa.Column("indexed", sa.BigInteger(), nullable=False, server_default="0"))
    op.execute("UPDATE audit_tree SET indexed = size")


def downgrade() -> None:
    # The index is completed first: without the watermark, readers trust it alone.
    bind = op.get_bind()
    (indexed,) = bind.execute(sa.text("SELECT indexed FROM audit_tree WHERE id = 1")).one()
    rows = bind.execute(
        sa.text("SELECT seq, subject_ids FROM audit_events WHERE seq >= :s"), {"s": indexed}
    ).all()
    from audit.subjects import bulk_rows

    subjects = bulk_rows((seq, ids) for seq, ids in rows)
    if subjects:
        bind.execute(
            sa.text("INSERT INTO audit_subjects (subject_id, seq) VALUES (:subject_id, :seq)"),
            [{"subject_id": s, "seq": q} for s, q in subjects],
        )
    with op.batch_alter_table("audit_tree") as batch:
        batch.drop_column("indexed")
