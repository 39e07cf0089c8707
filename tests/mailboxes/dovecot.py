"""A real IMAP server for tests: Debian's Dovecot, started with its own configuration on free loopback ports.

The server lives in a directory of its own (configuration, passwords, maildirs, sockets, log), is shared by the tests
of a run (each test gets an account of its own) and is stopped and removed at the end. Its master and auth processes
run as the current user; mail is stored as that user, or as `nobody` when that is root (Dovecot never stores mail as
uid 0). Login and internal processes run as Debian's `dovenull` and `dovecot` users, so the directory is
world-readable.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.servers import free_port, stop_process

DOVECOT = '/usr/sbin/dovecot'
ACCOUNTS = 500

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
instance_name = pitcrew-test-{port}
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = {uid}
first_valid_gid = {gid}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:{root}/mail/%u
{ssl}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
service auth {{
  user = {user}
}}
service auth-worker {{
  user = {user}
}}
"""


@dataclass
class Dovecot:
    root: Path
    port: int
    tls_port: int
    cert: Path | None
    process: subprocess.Popen | None = None

    users: dict[str, str] | None = None
    handed_out: int = 0

    def add_user(self, username: str, password: str) -> None:
        self.users = {**(self.users or {}), username: password}
        # `plain*` accounts get a server that announces plain IMAP4rev1 only (no MOVE, as older servers).
        lines = [
            f'{name}:{{PLAIN}}{secret}::::::'
            + (' userdb_imap_capability=IMAP4rev1' if name.startswith('plain') else '')
            for name, secret in self.users.items()
        ]
        path = self.root / 'passwd'
        path.write_text('\n'.join(lines) + '\n')
        path.chmod(0o644)

    def client(self, username: str, password: str) -> imaplib.IMAP4:
        conn = imaplib.IMAP4('127.0.0.1', self.port, timeout=10)
        conn.login(username, password)
        return conn

    def deliver(self, username: str, password: str, raw: bytes, folder: str = 'INBOX', flags: str = '') -> None:
        """Put a message in a user's folder (IMAP APPEND), as a mail server's delivery would."""
        conn = self.client(username, password)
        try:
            if folder != 'INBOX':
                conn.create(folder)
            status, data = conn.append(folder, flags or None, None, raw)
            assert status == 'OK', data
        finally:
            conn.logout()

    def messages(self, username: str, password: str, folder: str = 'INBOX') -> list[tuple[bytes, set[str]]]:
        """(uid, flags) of every message in a folder (missing folder: none)."""
        conn = self.client(username, password)
        try:
            status, _ = conn.select(f'"{folder}"')
            if status != 'OK':
                return []
            _, data = conn.uid('SEARCH', None, 'ALL')
            found = []
            for uid in data[0].split():
                _, flags = conn.uid('FETCH', uid, '(FLAGS)')
                text = flags[0].decode()
                found.append((uid, set(text[text.index('FLAGS (') + 7 : text.index(')')].split())))
            return found
        finally:
            conn.logout()

    def account(self) -> Account:
        """An account nobody used yet, with an empty INBOX. They are all written when the server starts: Dovecot
        reads its passwd file again at most once a second, too late for a test that logs in at once."""
        self.handed_out += 1
        username = f'desk{self.handed_out}'
        return Account(self, username, self.users[username])

    def account_without_move(self) -> Account:
        """The account whose server announces no MOVE (one per server: use it in one test only)."""
        return Account(self, 'plain1', self.users['plain1'])

    def log(self) -> str:
        path = self.root / 'dovecot.log'
        return path.read_text(errors='replace') if path.exists() else ''

    def start(self) -> None:
        self.process = subprocess.Popen(
            [DOVECOT, '-F', '-c', str(self.root / 'dovecot.conf')],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.stdout.read().decode(errors='replace')
                raise RuntimeError(f'dovecot exited with {self.process.returncode}: {output}\n{self.log()}')
            with contextlib.suppress(OSError), socket.create_connection(('127.0.0.1', self.port), timeout=0.5) as sock:
                if sock.recv(100).startswith(b'* OK'):
                    return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f'dovecot did not answer on port {self.port}:\n{self.log()}')

    def stop(self) -> None:
        stop_process(self.process)
        if self.process is not None and self.process.stdout:
            self.process.stdout.close()


@dataclass
class Account:
    """One IMAP account on a running server: a test's own, so tests can share the server."""

    server: Dovecot
    username: str
    password: str

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def tls_port(self) -> int:
        return self.server.tls_port

    @property
    def cert(self) -> Path | None:
        return self.server.cert

    def deliver(self, raw: bytes, folder: str = 'INBOX', flags: str = '') -> None:
        self.server.deliver(self.username, self.password, raw, folder=folder, flags=flags)

    def messages(self, folder: str = 'INBOX') -> list[tuple[bytes, set[str]]]:
        return self.server.messages(self.username, self.password, folder=folder)


def make_certificate(root: Path) -> Path:
    """A self-signed certificate for 127.0.0.1 (key and certificate in one PEM file, also used as the CA file)."""
    key, cert = root / 'key.pem', root / 'cert.pem'
    subprocess.run(
        [
            'openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
            '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
            '-keyout', str(key), '-out', str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    key.chmod(0o644)
    return cert


@contextlib.contextmanager
def running_dovecot(*, tls: bool = False):
    root = Path(tempfile.mkdtemp(prefix='pitcrew-dovecot-'))
    root.chmod(0o755)
    for name in ('run', 'state', 'mail', 'home'):
        (root / name).mkdir()
    user = pwd.getpwuid(os.getuid())
    # Dovecot refuses uid 0 for mail whatever first_valid_uid says: as root, the maildirs belong to `nobody`.
    mail_user = pwd.getpwnam('nobody') if user.pw_uid == 0 else user
    for name in ('mail', 'home'):
        os.chown(root / name, mail_user.pw_uid, mail_user.pw_gid)
    port, tls_port = free_port(), free_port()
    cert = make_certificate(root) if tls else None
    ssl = f'ssl = yes\nssl_cert = <{cert}\nssl_key = <{root / "key.pem"}' if tls else 'ssl = no'
    (root / 'dovecot.conf').write_text(
        CONFIG.format(
            root=root,
            port=port,
            tls_port=tls_port,
            uid=mail_user.pw_uid,
            gid=mail_user.pw_gid,
            user=user.pw_name,
            ssl=ssl,
        )
    )
    server = Dovecot(root=root, port=port, tls_port=tls_port, cert=cert)
    server.users = {f'desk{n}': f'secret-{n}' for n in range(1, ACCOUNTS + 1)}
    server.users['plain1'] = 'plain-secret'
    server.add_user('desk0', 'secret-0')
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
