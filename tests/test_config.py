"""Settings come from OUTPOST_* variables first, then outpost.toml, then the defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from outpost.config import Settings


def test_toml_then_environment_then_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "outpost.toml"
    config.write_text('hostname = "mail.example.net"\nhttp_port = 9000\nsmtp_tls_port = 4650\n')
    monkeypatch.setenv("OUTPOST_CONFIG", str(config))
    monkeypatch.setenv("OUTPOST_HTTP_PORT", "9100")
    settings = Settings()
    assert settings.hostname == "mail.example.net"  # from the file
    assert settings.http_port == 9100  # the environment wins over the file
    assert settings.smtp_tls_port == 4650
    assert settings.smtp_submission_port == 2587  # the default


def test_embedded_default_is_sqlite_in_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTPOST_CONFIG", str(tmp_path / "missing.toml"))
    monkeypatch.setenv("OUTPOST_DATA_DIR", str(tmp_path / "data"))
    settings = Settings()
    assert settings.resolved_database_url() == f"sqlite:///{tmp_path / 'data' / 'outpost.db'}"
    secret = settings.installation_secret()
    assert len(secret) >= 40
    assert settings.installation_secret() == secret  # generated once, then kept
    assert (tmp_path / "data" / "secret.key").stat().st_mode & 0o777 == 0o600
