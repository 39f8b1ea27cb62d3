"""Survey tables: NPS campaigns, rounds, deliveries, respondents, answers; CSAT; office hours.

Revision ID: 0004_surveys
Revises: 0001_core
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.core.db import JsonDocument, UtcDateTime

revision: str = "0004_surveys"
down_revision: str | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "nps_campaign",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("last_scheduled_for", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_nps_campaign")),
    )
    op.create_table(
        "nps_round",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("campaign", sa.String(length=64), nullable=False),
        sa.Column("scheduled_for", UtcDateTime(), nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("closes_at", UtcDateTime(), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("anonymity", sa.String(length=16), nullable=False),
        sa.Column("question", sa.String(length=150), nullable=False),
        sa.Column("follow_up", sa.String(length=150), nullable=False),
        sa.Column("min_group_size", sa.Integer(), nullable=False),
        sa.Column("reminders_planned", sa.Integer(), nullable=False),
        sa.Column("reminder_every_hours", sa.Float(), nullable=False),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.Column("audience_size", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nps_round")),
        sa.UniqueConstraint("campaign", "scheduled_for", name=op.f("uq_nps_round_campaign")),
    )
    op.create_table(
        "nps_delivery",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("round_id", BigId, nullable=False),
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
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["nps_round.id"],
            name=op.f("fk_nps_delivery_round_id_nps_round"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nps_delivery")),
        sa.UniqueConstraint("round_id", "user_id", "kind", name=op.f("uq_nps_delivery_round_id")),
    )
    op.create_index(
        "ix_nps_delivery_round_id_state_send_after",
        "nps_delivery",
        ["round_id", "state", "send_after"],
    )
    op.create_table(
        "nps_respondent",
        sa.Column("round_id", BigId, nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["nps_round.id"],
            name=op.f("fk_nps_respondent_round_id_nps_round"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("round_id", "user_id", name=op.f("pk_nps_respondent")),
    )
    op.create_table(
        "nps_answer",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("round_id", BigId, nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("team", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=False),
        sa.CheckConstraint("score >= 0 AND score <= 10", name=op.f("ck_nps_answer_score_range")),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["nps_round.id"],
            name=op.f("fk_nps_answer_round_id_nps_round"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nps_answer")),
    )
    op.create_index("ix_nps_answer_round_id", "nps_answer", ["round_id"])
    op.create_table(
        "csat_request",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("requested_at", UtcDateTime(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("rated_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint(
            "score IS NULL OR (score >= 1 AND score <= 5)",
            name=op.f("ck_csat_request_score_range"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csat_request")),
    )
    op.create_index(
        "ix_csat_request_user_id_requested_at", "csat_request", ["user_id", "requested_at"]
    )
    op.create_table(
        "office_hours_session",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("schedule", sa.String(length=64), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("starts_at", UtcDateTime(), nullable=False),
        sa.Column("ends_at", UtcDateTime(), nullable=False),
        sa.Column("channel", sa.String(length=80), nullable=False),
        sa.Column("hosts", JsonDocument, nullable=False),
        sa.Column("follow_up_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_office_hours_session")),
        sa.UniqueConstraint(
            "schedule", "starts_at", name=op.f("uq_office_hours_session_schedule")
        ),
    )
    op.create_table(
        "office_hours_reminder",
        sa.Column("session_id", BigId, nullable=False),
        sa.Column("minutes_before", sa.Integer(), nullable=False),
        sa.Column("posted_at", UtcDateTime(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["office_hours_session.id"],
            name=op.f("fk_office_hours_reminder_session_id_office_hours_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "session_id", "minutes_before", name=op.f("pk_office_hours_reminder")
        ),
    )
    op.create_table(
        "office_hours_question",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("session_id", BigId, nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["office_hours_session.id"],
            name=op.f("fk_office_hours_question_session_id_office_hours_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_office_hours_question")),
    )
    op.create_index(
        "ix_office_hours_question_session_id", "office_hours_question", ["session_id"]
    )
    op.create_table(
        "office_hours_attendee",
        sa.Column("session_id", BigId, nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("follow_up_state", sa.String(length=16), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rated_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint(
            "rating IS NULL OR (rating >= 1 AND rating <= 5)",
            name=op.f("ck_office_hours_attendee_rating_range"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["office_hours_session.id"],
            name=op.f("fk_office_hours_attendee_session_id_office_hours_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "user_id", name=op.f("pk_office_hours_attendee")),
    )


def downgrade() -> None:
    op.drop_table("office_hours_attendee")
    op.drop_index("ix_office_hours_question_session_id", table_name="office_hours_question")
    op.drop_table("office_hours_question")
    op.drop_table("office_hours_reminder")
    op.drop_table("office_hours_session")
    op.drop_index("ix_csat_request_user_id_requested_at", table_name="csat_request")
    op.drop_table("csat_request")
    op.drop_index("ix_nps_answer_round_id", table_name="nps_answer")
    op.drop_table("nps_answer")
    op.drop_table("nps_respondent")
    op.drop_index("ix_nps_delivery_round_id_state_send_after", table_name="nps_delivery")
    op.drop_table("nps_delivery")
    op.drop_table("nps_round")
    op.drop_table("nps_campaign")
