"""Room for sealed Slack tokens: the token columns of the install tables grow to 400.

Multi-workspace mode seals bot and user tokens (and their refresh tokens) with the bot's
credential key before storing them (`bot.runtime.install_store`); a sealed token of
slack-sdk's 200 characters is 356 characters long. Tokens stored before are sealed in place
when the bot starts (the key is not available to a migration).

Revision ID: 0014_sealed_slack_tokens
Revises: 0013_slack_installations
Create Date: 2027-01-20
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_sealed_slack_tokens"
down_revision: str | None = "0013_slack_installations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BOT_TOKENS = ("bot_token", "bot_refresh_token")
_TOKENS = {
    "slack_bots": _BOT_TOKENS,
    "slack_installations": (*_BOT_TOKENS, "user_token", "user_refresh_token"),
}


def _resize(old: int, new: int) -> None:
    for table, columns in _TOKENS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(
                    column, existing_type=sa.String(old), type_=sa.String(new), nullable=True
                )


def upgrade() -> None:
    _resize(200, 400)


def downgrade() -> None:
    # Sealed tokens do not fit back: a downgrade needs the installs removed first.
    _resize(400, 200)
