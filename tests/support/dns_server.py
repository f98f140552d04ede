"""A real DNS server on loopback, answering from a zone the test controls (UDP and TCP)."""

from __future__ import annotations

import socket
import socketserver
import struct
import threading
from collections import defaultdict
from typing import Any

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset


class Zone:
    """Records by (name, type); names are absolute and case-insensitive."""

    def __init__(self) -> None:
        self._records: dict[tuple[dns.name.Name, dns.rdatatype.RdataType], list[str]] = defaultdict(
            list
        )
        self.ttl = 300
        self._lock = threading.Lock()

    @staticmethod
    def _key(name: str, rdtype: str) -> tuple[dns.name.Name, dns.rdatatype.RdataType]:
        return dns.name.from_text(name.rstrip(".") + "."), dns.rdatatype.from_text(rdtype)

    def add(self, name: str, rdtype: str, value: str) -> None:
        """Publish a record, e.g. ``add("example.test", "MX", "10 mx.example.test.")``."""
        with self._lock:
            self._records[self._key(name, rdtype)].append(value)

    def add_txt(self, name: str, text: str) -> None:
        """Publish a TXT record, split into 255-byte strings as DNS requires."""
        chunks = [text[i : i + 255] for i in range(0, len(text), 255)] or [""]
        self.add(name, "TXT", " ".join('"' + c.replace('"', '\\"') + '"' for c in chunks))

    def remove(self, name: str, rdtype: str | None = None) -> None:
        """Withdraw every record of ``name`` (of one type, when given)."""
        with self._lock:
            target = dns.name.from_text(name.rstrip(".") + ".")
            for key in list(self._records):
                if key[0] == target and (
                    rdtype is None or key[1] == dns.rdatatype.from_text(rdtype)
                ):
                    del self._records[key]

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._records.clear()

    def answer(self, query: dns.message.Message) -> dns.message.Message:
        """The response to ``query``: the records, NODATA, or NXDOMAIN."""
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        with self._lock:
            values = list(self._records.get((question.name, question.rdtype), []))
            cname = list(self._records.get((question.name, dns.rdatatype.CNAME), []))
            name_exists = any(key[0] == question.name for key in self._records)
        if not values and cname and question.rdtype != dns.rdatatype.CNAME:
            values, rdtype = cname, dns.rdatatype.CNAME
        else:
            rdtype = question.rdtype
        if values:
            rrset = dns.rrset.from_text_list(
                question.name, self.ttl, dns.rdataclass.IN, rdtype, values
            )
            response.answer.append(rrset)
        elif not name_exists:
            response.set_rcode(dns.rcode.NXDOMAIN)
        return response


class _UDPHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        server: Any = self.server
        try:
            query = dns.message.from_wire(data)
        except Exception:
            return
        response = server.zone.answer(query)
        wire = response.to_wire(max_size=65535 if query.edns >= 0 else 512)
        if len(wire) > 512 and query.edns < 0:
            response.flags |= dns.flags.TC
            response.answer.clear()
            wire = response.to_wire()
        sock.sendto(wire, self.client_address)


class _TCPHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server: Any = self.server
        header = self.request.recv(2)
        if len(header) < 2:
            return
        (length,) = struct.unpack("!H", header)
        data = b""
        while len(data) < length:
            chunk = self.request.recv(length - len(data))
            if not chunk:
                return
            data += chunk
        wire = server.zone.answer(dns.message.from_wire(data)).to_wire()
        self.request.sendall(struct.pack("!H", len(wire)) + wire)


class _UDPServer(socketserver.ThreadingUDPServer):
    daemon_threads = True


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class DNSServer:
    """Serve a :class:`Zone` on 127.0.0.1 over UDP and TCP on one free port."""

    def __init__(self, zone: Zone | None = None) -> None:
        self.zone = zone or Zone()
        for _ in range(20):
            udp = _UDPServer(("127.0.0.1", 0), _UDPHandler)
            port = udp.server_address[1]
            try:
                tcp = _TCPServer(("127.0.0.1", port), _TCPHandler)
            except OSError:
                udp.server_close()
                continue
            break
        else:  # pragma: no cover
            raise RuntimeError("no free port for the DNS server")
        udp.zone = tcp.zone = self.zone  # type: ignore[attr-defined]
        self._servers = (udp, tcp)
        self.port = port
        self._threads = [
            threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
            for s in self._servers
        ]

    @property
    def address(self) -> str:
        """``127.0.0.1:<port>``, the form ``OUTPOST_DNS_RESOLVER`` takes."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> DNSServer:
        """Start answering."""
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Stop and free the port."""
        for server in self._servers:
            server.shutdown()
            server.server_close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
