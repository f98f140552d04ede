"""Turn a stored message into the bytes that go on the wire: composed once, signed once."""

from __future__ import annotations

import threading

from outpost.delivery.batch import DomainInfo, MessageInfo
from outpost.delivery.compose import CompositionError, compose
from outpost.delivery.dkim import DkimSigner, signer_from_stored_keys, to_crlf
from outpost.sending.models import BodyFormat


class MessageUnusable(Exception):
    """The stored message cannot be sent at all (a permanent failure of the message)."""


class SignerCache:
    """Decrypted DKIM signers per domain, reloaded when the stored keys change."""

    def __init__(self, installation_secret: str) -> None:
        self.installation_secret = installation_secret
        self._signers: dict[tuple[int, str, str | None], DkimSigner] = {}
        self._lock = threading.Lock()

    def signer(self, domain: DomainInfo) -> DkimSigner:
        """The signer for ``domain``'s current keys."""
        key = (domain.id, domain.dkim_private_key, domain.dkim_ed25519_private_key)
        with self._lock:
            signer = self._signers.get(key)
        if signer is None:
            signer = signer_from_stored_keys(
                name=domain.name,
                selector=domain.dkim_selector,
                private_key=domain.dkim_private_key,
                ed25519_selector=domain.dkim_ed25519_selector,
                ed25519_private_key=domain.dkim_ed25519_private_key,
                installation_secret=self.installation_secret,
            )
            with self._lock:
                for old in [k for k in self._signers if k[0] == domain.id]:
                    del self._signers[old]
                self._signers[key] = signer
        return signer


def message_bytes(message: MessageInfo, signer: DkimSigner | None) -> bytes:
    """The CRLF message, DKIM-signed when its sending domain has keys."""
    if message.content is None or message.body_format is None:
        raise MessageUnusable("message content is no longer stored")
    if message.body_format is BodyFormat.api_json:
        try:
            data = compose(message.content)
        except CompositionError as exc:
            raise MessageUnusable(str(exc)) from exc
    else:
        data = to_crlf(message.content)
        if b"\r\n\r\n" not in data:
            data += b"\r\n" if data.endswith(b"\r\n") else b"\r\n\r\n"
    return signer.sign(data) if signer is not None else data
