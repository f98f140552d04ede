"""Domain tests run the app against a real DNS server on loopback that the test controls."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from outpost.app import create_app
from outpost.config import Settings
from outpost.db import Database
from tests.support.dns_server import DNSServer

SPF_INCLUDE = "spf.outpost.test"
RETURN_PATH_TARGET = "bounces.outpost.test"


@pytest.fixture
def dns_server() -> Iterator[DNSServer]:
    server = DNSServer().start()
    yield server
    server.stop()


@pytest.fixture
def dns_settings(settings: Settings, dns_server: DNSServer) -> Settings:
    return settings.model_copy(
        update={
            "dns_resolver": dns_server.address,
            "dns_timeout": 2.0,
            "spf_include": SPF_INCLUDE,
            "return_path_target": RETURN_PATH_TARGET,
        }
    )


@pytest.fixture
def app(dns_settings: Settings, db: Database) -> FastAPI:
    return create_app(dns_settings, db)
