"""Every setting, from the environment (and a `.env` file). The README lists them all."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True)

    # Storage
    database_url: str | None = Field(default=None, alias="RF_DATABASE_URL")
    sqlite_path: Path = Field(default=Path("data/resolutionflow.db"), alias="RF_SQLITE_PATH")

    # Server
    host: str = Field(default="0.0.0.0", alias="RF_HOST")
    port: int = Field(default=3000, alias="RF_PORT")

    # Logging
    log_level: str = Field(default="INFO", alias="RF_LOG_LEVEL")
    log_json: bool | None = Field(default=None, alias="RF_LOG_JSON")

    # Assistant (Anthropic)
    anthropic_api_key: SecretStr | None = Field(default=None, alias="ANTHROPIC_API_KEY")
    anthropic_base_url: str | None = Field(default=None, alias="ANTHROPIC_BASE_URL")
    main_model: str = Field(default="claude-sonnet-4-6", alias="RF_MAIN_MODEL")
    fast_model: str = Field(default="claude-haiku-4-5", alias="RF_FAST_MODEL")
    llm_timeout: float = Field(default=60.0, alias="RF_LLM_TIMEOUT")
    llm_max_retries: int = Field(default=2, alias="RF_LLM_MAX_RETRIES")
    llm_max_tokens: int = Field(default=2048, alias="RF_LLM_MAX_TOKENS")
    llm_deadline: float = Field(default=150.0, alias="RF_LLM_DEADLINE")

    # Engine
    turn_lease_seconds: float = Field(default=30.0, alias="RF_TURN_LEASE_SECONDS")
    turn_concurrency: int = Field(default=16, ge=1, le=512, alias="RF_TURN_CONCURRENCY")
    turn_deadline_seconds: float = Field(default=150.0, gt=0, alias="RF_TURN_DEADLINE_SECONDS")
    history_window: int = Field(default=40, alias="RF_HISTORY_WINDOW")
    redis_url: str | None = Field(default=None, alias="RF_REDIS_URL")

    # Credentials at rest and the PSA
    secret_key: SecretStr | None = Field(default=None, alias="RF_SECRET_KEY")
    psa_timeout: float = Field(default=15.0, alias="RF_PSA_TIMEOUT")
    cw_api_url: str | None = Field(default=None, alias="RF_CW_API_URL")
    writeback_lease_seconds: float = Field(default=120.0, alias="RF_WRITEBACK_LEASE_SECONDS")

    # Console
    console_account: str = Field(default="Local", alias="RF_CONSOLE_ACCOUNT")
    console_user: str | None = Field(default=None, alias="RF_CONSOLE_USER")

    # Platforms (their adapters arrive with their issues; their presence makes `rflow` serve)
    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_client_id: str | None = Field(default=None, alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(default=None, alias="SLACK_CLIENT_SECRET")
    slack_api_url: str | None = Field(default=None, alias="RF_SLACK_API_URL")
    slack_redirect_uri: str | None = Field(default=None, alias="RF_SLACK_REDIRECT_URI")
    slack_post_interval: float = Field(default=1.0, alias="RF_SLACK_POST_INTERVAL")
    microsoft_app_id: str | None = Field(default=None, alias="MICROSOFT_APP_ID")
    microsoft_app_password: SecretStr | None = Field(default=None, alias="MICROSOFT_APP_PASSWORD")
    microsoft_app_tenant_id: str | None = Field(default=None, alias="MICROSOFT_APP_TENANT_ID")
    teams_openid_url: str | None = Field(default=None, alias="RF_TEAMS_OPENID_URL")  # tests: a local issuer
    teams_login_url: str | None = Field(default=None, alias="RF_TEAMS_LOGIN_URL")  # `rflow doctor`'s token check
    teams_anonymous: bool = Field(default=False, alias="RF_TEAMS_ANONYMOUS")  # no app id: local testing only

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.sqlite_path}"

    @property
    def data_dir(self) -> Path:
        """Where rflow keeps its files: the folder of the SQLite database (RF_DATABASE_URL when it names
        a SQLite file, else RF_SQLITE_PATH, so `data/` by default, also with PostgreSQL). The console
        writes its log there (rflow.log)."""
        if self.database_url:
            try:
                url = make_url(self.database_url)
            except ArgumentError:
                url = None
            if url is not None and url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
                return Path(url.database).expanduser().parent
        return self.sqlite_path.expanduser().parent

    @property
    def slack_oauth(self) -> bool:
        return bool(self.slack_client_id and self.slack_client_secret)

    @property
    def slack_configured(self) -> bool:
        return bool(self.slack_signing_secret and (self.slack_bot_token or self.slack_oauth))

    @property
    def teams_configured(self) -> bool:
        """An Azure Bot app id, or anonymous Teams explicitly asked for (RF_TEAMS_ANONYMOUS=true)."""
        return bool(self.microsoft_app_id) or self.teams_anonymous

    @property
    def has_platform_credentials(self) -> bool:
        return self.slack_configured or self.teams_configured
