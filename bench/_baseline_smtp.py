"""The SMTP baseline: a bare aiosmtpd server with the same TLS and AUTH that answers 250."""

from __future__ import annotations

import asyncio
import sys
import warnings
from pathlib import Path

import uvloop
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from outpost.config import Settings
from outpost.sending.smtp.tls import server_context


class AcceptAll:
    """Takes every message and stores nothing."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 OK"


def accept_login(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: object
) -> AuthResult:
    return AuthResult(success=isinstance(data, LoginPassword))


async def main(port: int, data_dir: Path) -> None:
    context = server_context(Settings(data_dir=data_dir))
    handler = AcceptAll()

    def protocol() -> SMTP:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return SMTP(
                handler,
                tls_context=context,
                require_starttls=True,
                auth_required=True,
                auth_require_tls=True,
                authenticator=accept_login,
                decode_data=False,
            )

    server = await asyncio.get_running_loop().create_server(protocol, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1]), Path(sys.argv[2])))
