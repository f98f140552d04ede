"""A throwaway Postfix instance relaying to the sink: the reference for delivery speed.

Own configuration and queue folders, listening on loopback only, ``relayhost`` = the sink.
Mail from the bench sender is put on hold as it is accepted, so the measurement covers
relaying from the queue to the sink, the same work the Outpost workers do.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

SENDER = "from@bench.test"

MASTER_CF = """\
{listen} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
local     unix  - n n - - local
virtual   unix  - n n - - virtual
lmtp      unix  - - n - - lmtp
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


def ensure_installed() -> bool:
    """Install Debian's postfix package when missing; whether it is usable."""
    if shutil.which("postfix") or Path("/usr/sbin/postfix").exists():
        return True
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    selections = "postfix postfix/main_mailer_type select No configuration\n"
    subprocess.run(["debconf-set-selections"], input=selections.encode(), check=False, env=env)
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "postfix"],
        check=False,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return Path("/usr/sbin/postfix").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Postfix:
    """One Postfix instance in a temporary folder."""

    def __init__(self, sink_port: int) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="outpost-bench-postfix-"))
        self.root.chmod(0o755)  # the postfix user must reach its queue and data folders
        self.config = self.root / "etc"
        self.port = _free_port()
        self.config.mkdir()
        (self.root / "spool").mkdir()
        (self.root / "lib").mkdir()
        shutil.chown(self.root / "lib", "postfix", "postfix")
        (self.config / "main.cf").write_text(
            "\n".join(
                [
                    "compatibility_level = 3.6",
                    f"queue_directory = {self.root / 'spool'}",
                    f"data_directory = {self.root / 'lib'}",
                    "mail_owner = postfix",
                    "setgid_group = postdrop",
                    "inet_interfaces = 127.0.0.1",
                    "inet_protocols = ipv4",
                    "myhostname = postfix.bench.test",
                    "mydestination =",
                    "mynetworks = 127.0.0.0/8",
                    f"relayhost = [127.0.0.1]:{sink_port}",
                    "smtpd_relay_restrictions = permit_mynetworks, reject",
                    f"smtpd_sender_restrictions = check_sender_access inline:{{{SENDER}=HOLD}}",
                    "smtp_tls_security_level = none",
                    "smtpd_tls_security_level = none",
                    "alias_maps =",
                    "alias_database =",
                    "local_recipient_maps =",
                    "biff = no",
                    "smtputf8_enable = no",
                    f"maillog_file = {self.root / 'maillog'}",
                    f"maillog_file_prefixes = {self.root}",
                    "",
                ]
            )
        )
        (self.config / "master.cf").write_text(MASTER_CF.format(listen=f"127.0.0.1:{self.port}"))

    def postfix(self, *args: str) -> None:
        """Run the ``postfix`` command for this instance."""
        subprocess.run(["postfix", "-c", str(self.config), *args], check=True)

    def start(self) -> None:
        """Create the queue folders and start the master."""
        self.postfix("check")
        self.postfix("start")

    def inject(self, messages: int, size: int, sessions: int = 20) -> None:
        """Submit ``messages`` of about ``size`` bytes over SMTP with smtp-source."""
        subprocess.run(
            [
                "smtp-source",
                "-s",
                str(sessions),
                "-m",
                str(messages),
                "-l",
                str(size),
                "-f",
                SENDER,
                "-t",
                "rcpt@sink.test",
                "-S",
                "Postfix reference",
                f"127.0.0.1:{self.port}",
            ],
            check=True,
        )

    def held(self) -> int:
        """How many messages wait on hold."""
        hold = self.root / "spool" / "hold"
        return sum(1 for p in hold.rglob("*") if p.is_file()) if hold.exists() else 0

    def release(self) -> None:
        """Release every held message and have the queue manager deliver it now."""
        subprocess.run(
            ["postsuper", "-c", str(self.config), "-H", "ALL"], check=True, capture_output=True
        )
        self.postfix("flush")

    def stop(self) -> None:
        """Stop the instance and remove its folders."""
        subprocess.run(["postfix", "-c", str(self.config), "stop"], check=False)
        subprocess.run(
            ["postsuper", "-c", str(self.config), "-d", "ALL"], check=False, capture_output=True
        )
        shutil.rmtree(self.root, ignore_errors=True)
