"""What the benchmarks share: databases, processes, ports and result files."""

from __future__ import annotations

import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

RESULTS = Path(__file__).parent / "results"
PG_ADMIN_URL = os.environ.get("OUTPOST_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    """Block until something listens on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


@contextmanager
def database_url(kind: str, name: str) -> Iterator[str]:
    """A fresh, empty database of ``kind`` (sqlite or postgresql), dropped afterwards."""
    if kind == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix=f"{name}-"))
        try:
            yield f"sqlite:///{folder / 'outpost.db'}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def process(
    args: list[str], env: Mapping[str, str], port: int
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``args`` until the block ends, once it listens on ``port``."""
    child = subprocess.Popen(
        args,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port)
        yield child
    finally:
        child.terminate()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def python(*module_args: str) -> list[str]:
    """A command running a module with this interpreter."""
    return [sys.executable, "-m", *module_args]


def outpost(*command: str) -> list[str]:
    """A command running the ``outpost`` CLI of this interpreter's environment."""
    return [str(Path(sys.executable).with_name("outpost")), *command]


def median(values: list[float]) -> float:
    """The median, rounded for reports."""
    return round(statistics.median(values), 1)


def write_results(name: str, data: dict[str, Any], markdown: str) -> None:
    """Write ``bench/results/<name>.json`` and ``.md``."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2, default=str) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown)
    print(markdown)


def ensure_debian_package(command: str, package: str) -> str:
    """The path of ``command``, installing its Debian package first when it is missing."""
    path = shutil.which(command)
    if path is None:
        subprocess.run(
            ["apt-get", "install", "-y", "-q", package],
            check=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            stdout=subprocess.DEVNULL,
        )
        path = shutil.which(command)
    if path is None:
        raise RuntimeError(f"{command} is not available")
    return path


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[int, str, float]]:
    """Every process: pid → (parent pid, command name, user + system CPU seconds so far)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, _, rest = (entry / "stat").read_text().rpartition(")")
        except OSError:
            continue
        fields = rest.split()
        name = head.partition("(")[2]
        table[int(entry.name)] = (
            int(fields[1]),
            name,
            (int(fields[11]) + int(fields[12])) / CLOCK_TICKS,
        )
    return table


def _tree_cpu(table: dict[int, tuple[int, str, float]], root: int) -> float:
    """CPU seconds of ``root`` and every process under it (a server's helper processes)."""
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += table.get(pid, (0, "", 0.0))[2]
        todo += [child for child, (parent, _, _) in table.items() if parent == pid]
    return total


@dataclass(frozen=True)
class CpuClock:
    """CPU seconds used so far by the server under test (with its helper processes),
    PostgreSQL's processes and the load generator (this process's finished children, or
    this process itself)."""

    server: float
    database: float
    load: float

    @classmethod
    def read(cls, server_pid: int, *, load_in_children: bool) -> CpuClock:
        """The clocks now."""
        usage = resource.getrusage(
            resource.RUSAGE_CHILDREN if load_in_children else resource.RUSAGE_SELF
        )
        table = _processes()
        return cls(
            server=_tree_cpu(table, server_pid),
            database=sum(cpu for _, name, cpu in table.values() if name == "postgres"),
            load=usage.ru_utime + usage.ru_stime,
        )

    def per_message_ms(self, later: CpuClock, messages: float) -> dict[str, float]:
        """Milliseconds of CPU per message of each part between this reading and ``later``."""
        return {
            part: round(1000 * (getattr(later, part) - getattr(self, part)) / messages, 3)
            for part in ("server", "database", "load")
        }
