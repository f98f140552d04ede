"""Installation settings from ``OUTPOST_*`` variables and an optional ``outpost.toml``."""

from __future__ import annotations

import ipaddress
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _ip_or_range(text: str) -> str:
    network = ipaddress.ip_network(text.strip())
    return str(network.network_address) if network.num_addresses == 1 else str(network)


def _toml_file() -> Path:
    return Path(os.environ.get("OUTPOST_CONFIG", "outpost.toml"))


class Settings(BaseSettings):
    """Everything an installation can configure; defaults give the embedded single process."""

    model_config = SettingsConfigDict(env_prefix="OUTPOST_", extra="ignore")

    data_dir: Path = Path("outpost-data")
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means SQLite in the data folder.",
    )
    secret_key: str = Field(
        default="",
        description="Installation secret (encrypts DKIM keys, signs sessions); generated "
        "into the data folder when empty.",
    )

    http_host: str = "127.0.0.1"
    http_port: int = 8025
    public_url: str = Field(default="", description="Base URL shown to users; derived if empty.")
    hostname: str = Field(
        default="localhost",
        description="Host name of this installation: SMTP banner, config_hostname, Message-IDs.",
    )

    smtp_host: str = "127.0.0.1"
    smtp_submission_port: int = 2587
    smtp_tls_port: int = 2465
    bounce_port: int = 2525
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None

    max_message_size: int = Field(
        default=25 * 1024 * 1024, description="Largest accepted message in bytes (SMTP SIZE)."
    )
    max_request_size: int = Field(
        default=50 * 1024 * 1024, description="Largest Send API request body in bytes."
    )
    max_recipients_per_message: int = 50
    send_api_rate_limit: float = Field(
        default=10.0, description="Send API requests per second per token (sustained)."
    )
    send_api_rate_burst: int = Field(default=20, description="Send API burst size per token.")
    smtp_login_max_failures: int = Field(
        default=5, description="Failed SMTP logins per IP or username before a pause."
    )
    smtp_login_failure_window: int = Field(
        default=300, description="Seconds over which failed SMTP logins are counted."
    )
    panel_login_max_failures: int = Field(
        default=10, description="Failed panel logins per IP or e-mail before a pause."
    )
    panel_login_failure_window: int = Field(
        default=900, description="Seconds over which failed panel logins are counted."
    )

    dns_resolver: str = Field(
        default="",
        description="host[:port] of the DNS server for MX and verification; empty = system.",
    )
    dns_timeout: float = Field(
        default=5.0, gt=0, description="Seconds one DNS look-up may take in all."
    )
    spf_include: str = Field(
        default="",
        description="Host customers include in their SPF record (include:<host>); when empty "
        "the SPF record lists sending_ips, or a:<hostname> when that is empty too.",
    )
    sending_ips: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Public IPv4/IPv6 addresses mail leaves from (comma-separated in the "
        "environment), for SPF records when spf_include is empty.",
    )
    return_path_target: str = Field(
        default="",
        description="Host every return-path (bounce) name points to by CNAME or MX; empty = "
        "hostname.",
    )

    @field_validator("sending_ips", mode="before")
    @classmethod
    def _split_ips(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            # Addresses or CIDR ranges, as SPF's ip4:/ip6: mechanisms take them.
            return [_ip_or_range(str(v)) for v in value]
        return value

    def resolved_return_path_target(self) -> str:
        """The host return-path names must point to."""
        return (self.return_path_target or self.hostname).rstrip(".").lower()

    # Delivery: workers, remote MX, retries (see README "Delivery").
    delivery_port: int = Field(default=25, description="TCP port of remote MX servers.")
    delivery_batch_size: int = Field(default=100, description="Recipients claimed per query.")
    delivery_batches_in_flight: int = Field(default=4, description="Claimed batches per worker.")
    delivery_lease_seconds: float = Field(
        default=600, description="How long a claim lasts before a crashed worker's work is retaken."
    )
    delivery_poll_seconds: float = Field(default=1.0, description="Idle wait between claims.")
    delivery_concurrency: int = Field(default=100, description="SMTP connections per worker.")
    delivery_domain_concurrency: int = Field(
        default=10, description="SMTP connections per destination domain and worker."
    )
    delivery_domain_limits: dict[str, int] = Field(
        default_factory=lambda: {
            "gmail.com": 5,
            "googlemail.com": 5,
            "outlook.com": 4,
            "hotmail.com": 4,
            "live.com": 4,
            "yahoo.com": 3,
            "aol.com": 3,
            "icloud.com": 3,
        },
        description="Per-domain connection limits overriding delivery_domain_concurrency.",
    )
    delivery_timeout_seconds: float = Field(default=120, description="SMTP command timeout.")
    delivery_tls_verify: bool = Field(
        default=False, description="Verify MX certificates (STARTTLS on port 25 is opportunistic)."
    )
    delivery_retry_base_seconds: float = Field(default=300, description="First retry delay.")
    delivery_retry_max_seconds: float = Field(default=4 * 3600, description="Longest retry delay.")
    delivery_deadline_seconds: float = Field(
        default=4 * 86400, description="Age after which a deferred recipient expires."
    )
    delivery_park_seconds: float = Field(
        default=3600, description="Wait before retrying a recipient an internal error parked."
    )
    delivery_mx_cache_max_seconds: float = Field(default=3600, description="Cap on MX TTLs.")
    relay_host: str = Field(
        default="", description="host[:port] of a smarthost for all outgoing mail; empty = MX."
    )
    relay_username: str = ""
    relay_password: str = ""
    relay_tls: Literal["starttls", "tls", "none"] = Field(
        default="starttls", description="starttls, tls (implicit) or none."
    )
    relay_tls_verify: bool = True
    system_sender: str = Field(
        default="", description="From of notices Outpost sends itself; empty = postmaster@hostname."
    )
    bounce_host: str = Field(default="", description="Bounce server address; empty = smtp_host.")
    message_body_retention_days: int = Field(default=30, description="Keep message content.")
    event_retention_days: int = Field(default=400, description="Keep events (the message log).")
    webhook_timeout_seconds: float = 10
    webhook_max_attempts: int = 8
    webhook_retry_base_seconds: float = 30
    webhook_allow_private_addresses: bool = Field(
        default=False,
        description="Let webhooks reach loopback, private, link-local and other non-public "
        "addresses; only for installations whose customers may reach the internal network.",
    )

    def resolved_system_sender(self) -> str:
        """The address Outpost's own notices come from."""
        return self.system_sender or f"postmaster@{self.hostname}"

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'outpost.db').resolve()}"

    def resolved_public_url(self) -> str:
        """The base URL people use to reach the panel and APIs."""
        return self.public_url.rstrip("/") or f"http://{self.http_host}:{self.http_port}"

    def installation_secret(self) -> str:
        """The configured secret, or one generated once and kept in the data folder."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_toml_file())
        return (init_settings, env_settings, toml, file_secret_settings)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
