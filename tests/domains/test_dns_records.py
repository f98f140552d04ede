"""What SPF and return-path records ask for, by installation settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from outpost.config import Settings
from outpost.domains.dns_records import spf_mechanisms


def test_spf_mechanisms_follow_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert spf_mechanisms(Settings(hostname="mx.outpost.test")) == ("a:mx.outpost.test",)
    monkeypatch.setenv("OUTPOST_SENDING_IPS", "192.0.2.10, 2001:db8::/64 ,198.51.100.0/24")
    from_env = Settings(hostname="mx.outpost.test")
    assert from_env.sending_ips == ["192.0.2.10", "2001:db8::/64", "198.51.100.0/24"]
    assert spf_mechanisms(from_env) == (
        "ip4:192.0.2.10",
        "ip6:2001:db8::/64",
        "ip4:198.51.100.0/24",
    )
    with_include = Settings(spf_include="SPF.Outpost.test.", sending_ips=["192.0.2.10"])
    assert spf_mechanisms(with_include) == ("include:spf.outpost.test",)


def test_sending_ips_must_be_addresses() -> None:
    with pytest.raises(ValidationError, match="sending_ips"):
        Settings(sending_ips=["mail.example.com"])


def test_return_path_target_defaults_to_the_hostname() -> None:
    assert Settings(hostname="Out.Example.").resolved_return_path_target() == "out.example"
    assert Settings(return_path_target="b.example").resolved_return_path_target() == "b.example"
