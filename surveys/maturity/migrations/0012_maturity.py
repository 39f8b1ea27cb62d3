"""Maturity self-assessment: the schedule, rounds, deliveries, respondents and answers.

Revision ID: 0012_maturity
Revises: 0001_core
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.core.db import JsonDocument, UtcDateTime

revision: str = "0012_maturity"
down_revision: str | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _round_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["round_id"],
        ["maturity_round.id"],
        name=op.f(f"fk_{table}_round_id_maturity_round"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "maturity_schedule",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last_scheduled_for", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_maturity_schedule")),
    )
    op.create_table(
        "maturity_round",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("scheduled_for", UtcDateTime(), nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("closes_at", UtcDateTime(), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("attribute_to", sa.String(length=16), nullable=False),
        sa.Column("min_group_size", sa.Integer(), nullable=False),
        sa.Column("teams", JsonDocument, nullable=False),
        sa.Column("questionnaire", JsonDocument, nullable=False),
        sa.Column("reminders_planned", sa.Integer(), nullable=False),
        sa.Column("reminder_every_hours", sa.Float(), nullable=False),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.Column("audience_size", sa.Integer(), nullable=True),
        sa.Column("close_noticed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maturity_round")),
        sa.UniqueConstraint("number", name=op.f("uq_maturity_round_number")),
    )
    op.create_table(
        "maturity_delivery",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("round_id", BigId, nullable=False),
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("tz", sa.String(length=64), nullable=True),
        sa.Column("send_after", UtcDateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(length=200), nullable=True),
        sa.Column("claimed_at", UtcDateTime(), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        _round_key("maturity_delivery"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maturity_delivery")),
        sa.UniqueConstraint(
            "round_id", "team", "user_id", "kind", name=op.f("uq_maturity_delivery_round_id")
        ),
    )
    op.create_index(
        "ix_maturity_delivery_round_id_state_send_after",
        "maturity_delivery",
        ["round_id", "state", "send_after"],
    )
    op.create_table(
        "maturity_respondent",
        sa.Column("round_id", BigId, nullable=False),
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        _round_key("maturity_respondent"),
        sa.PrimaryKeyConstraint("round_id", "team", "user_id", name=op.f("pk_maturity_respondent")),
    )
    op.create_table(
        "maturity_answer",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("round_id", BigId, nullable=False),
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("dimension", sa.String(length=64), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=False),
        sa.CheckConstraint(
            "level >= 1 AND level <= 5", name=op.f("ck_maturity_answer_level_range")
        ),
        _round_key("maturity_answer"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maturity_answer")),
    )
    op.create_index("ix_maturity_answer_round_id_team", "maturity_answer", ["round_id", "team"])


def downgrade() -> None:
    op.drop_index("ix_maturity_answer_round_id_team", table_name="maturity_answer")
    op.drop_table("maturity_answer")
    op.drop_table("maturity_respondent")
    op.drop_index("ix_maturity_delivery_round_id_state_send_after", table_name="maturity_delivery")
    op.drop_table("maturity_delivery")
    op.drop_table("maturity_round")
    op.drop_table("maturity_schedule")
