"""Process settings: the environment variables of the outside contract, read once at startup.

Nothing outside `bot/` reads `os.environ`; features receive plain values from here.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///platform-bot.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class Settings(BaseSettings):
    """Every environment variable Platform Bot reads (documented in README, "Environment")."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    slack_bot_token: SecretStr | None = Field(default=None, description="xoxb- bot token")
    slack_signing_secret: SecretStr | None = Field(default=None, description="request signing")
    slack_app_token: SecretStr | None = Field(default=None, description="xapp- Socket Mode token")
    slack_api_url: str = Field(default=DEFAULT_SLACK_API_URL, description="Web API base URL")
    slack_client_id: str | None = Field(
        default=None, description="OAuth client id: installs in several workspaces"
    )
    slack_client_secret: SecretStr | None = Field(default=None, description="OAuth secret")
    slack_redirect_uri: str | None = Field(
        default=None, description="public URL of /slack/oauth_redirect (else the manifest's)"
    )
    platform_workspace_configs: Path | None = Field(
        default=None, description="directory of per-workspace platform configs (<TEAM>.yaml)"
    )
    database_url: str = Field(default=DEFAULT_DATABASE_URL, description="SQLAlchemy URL")
    platform_config: Path = Field(
        default=Path("platform.example.yaml"), description="path of the YAML platform config"
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR")
    log_format: LogFormat = Field(default=LogFormat.TEXT, description="text or json")
    platform_bot_specs_dir: Path = Field(
        default=Path("../shared/specs"),
        description="Slack's OpenAPI spec, used by the emulator to check parameters if present",
    )

    @property
    def multi_workspace(self) -> bool:
        """Installed through OAuth in any number of workspaces, not run on one bot token."""
        secret = self.slack_client_secret
        return bool(self.slack_client_id) or bool(secret and secret.get_secret_value())

    def oauth_authorize_url(self) -> str:
        """Slack's authorize page on the host of the Web API (slack.com, GovSlack, the
        emulator): https://slack.com/api/ → https://slack.com/oauth/v2/authorize."""
        return self.api_url().removesuffix("api/") + "oauth/v2/authorize"

    def api_url(self) -> str:
        """The Web API base URL with the trailing slash slack_sdk expects."""
        return self.slack_api_url if self.slack_api_url.endswith("/") else self.slack_api_url + "/"
