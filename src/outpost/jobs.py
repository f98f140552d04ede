"""Every periodic job of the installation, in the order the scheduler runs them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from outpost.config import Settings
from outpost.delivery.retention import purge_events, purge_message_bodies
from outpost.scheduler import Job
from outpost.tenancy.auth import purge_expired_sessions


def _purge_sessions(session: Session, _settings: Settings) -> None:
    purge_expired_sessions(session=session)


def _purge_message_bodies(session: Session, settings: Settings) -> None:
    purge_message_bodies(session=session, settings=settings)


def _purge_events(session: Session, settings: Settings) -> None:
    purge_events(session=session, settings=settings)


ALL_JOBS: list[Job] = [
    Job("purge-expired-sessions", timedelta(hours=1), _purge_sessions),
    Job("purge-message-bodies", timedelta(minutes=1), _purge_message_bodies),
    Job("purge-events", timedelta(minutes=1), _purge_events),
]
