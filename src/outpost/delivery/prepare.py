"""Turn a stored message into the bytes that go on the wire: composed once, signed once.

Composing and canonicalizing are Python and run on the worker's event loop. The RSA (and
Ed25519) private-key operations, about 0.7 ms of CPU per RSA-2048 signature and most of
a worker's CPU per message, run in OpenSSL with the GIL released: a small thread pool
does them, so one worker process signs on every core while its event loop keeps the SMTP
sessions going (measured: two threads sign twice as fast as one).
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from outpost.delivery.batch import DomainInfo, MessageInfo
from outpost.delivery.compose import CompositionError, compose
from outpost.delivery.dkim import DkimSigner, UnsignedMessage, signer_from_stored_keys, to_crlf
from outpost.sending.models import BodyFormat

# Messages per hand-over to a signing thread: enough to make the hop's cost negligible,
# few enough that the threads share a batch between them.
MIN_SIGNING_CHUNK = 8
# Threads beyond the cores would only queue; one pool per process, shared by its workers.
SIGNING_THREADS = os.cpu_count() or 1


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


def message_bytes(message: MessageInfo) -> bytes:
    """The CRLF message as it is to be signed and sent."""
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
    return data


@cache
def _signing_threads() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=SIGNING_THREADS, thread_name_prefix="dkim-sign")


def _sign_chunk(chunk: Sequence[UnsignedMessage]) -> list[bytes | Exception]:
    signed: list[bytes | Exception] = []
    for unsigned in chunk:
        try:
            signed.append(unsigned.signed(unsigned.signatures()))
        except Exception as exc:  # reported per message by the caller
            signed.append(exc)
    return signed


async def sign_all(unsigned: Mapping[int, UnsignedMessage]) -> dict[int, bytes | Exception]:
    """Each message signed, by id, on the signing threads; a failure is returned, not raised."""
    if not unsigned:
        return {}
    threads = _signing_threads()
    ids = list(unsigned)
    size = max(MIN_SIGNING_CHUNK, math.ceil(len(ids) / SIGNING_THREADS))
    chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
    loop = asyncio.get_running_loop()
    results = await asyncio.gather(
        *(
            loop.run_in_executor(threads, _sign_chunk, [unsigned[i] for i in chunk])
            for chunk in chunks
        )
    )
    return {
        message_id: outcome
        for chunk, outcomes in zip(chunks, results, strict=True)
        for message_id, outcome in zip(chunk, outcomes, strict=True)
    }
