"""Every periodic job of the installation, in the order the scheduler runs them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from outpost.config import Settings
from outpost.scheduler import Job
from outpost.tenancy.auth import purge_expired_sessions


def _purge_sessions(session: Session, _settings: Settings) -> None:
    purge_expired_sessions(session=session)


ALL_JOBS: list[Job] = [
    Job("purge-expired-sessions", timedelta(hours=1), _purge_sessions),
]
