"""Debian's PgBouncer in transaction mode in front of a PostgreSQL reached over its Unix socket: a generated ini
and userlist in a temporary directory, a free loopback port; stopped (and its directory deleted) at the end."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.live_server import free_port

PGBOUNCER = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)
SERVER_CONNECTIONS = 3  # fewer server connections than clients: every test shares them between clients


@dataclass(frozen=True)
class PgBouncer:
    port: int
    directory: Path

    def url(self, database: str) -> str:
        """The asyncpg URL of `database` through PgBouncer."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def admin_dsn(self) -> str:
        """PgBouncer's own console (SHOW POOLS, SHOW STATS …)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/pgbouncer"


def ini_text(*, server_url: str, port: int, directory: Path, run_as: str | None) -> str:
    """Transaction pooling of every database of `server_url`'s server (a Unix-socket asyncpg URL)."""
    url = make_url(server_url)
    socket_dir = str(url.query["host"])
    server_port = url.port or int(str(url.query.get("port", "5432")))
    lines = [
        "[databases]",
        # Every server connection starts in another time zone: the client's TimeZone=UTC must be set on it by PgBouncer
        f"* = host={socket_dir} port={server_port} connect_query='SET TimeZone = japan'",
        "[pgbouncer]",
        "listen_addr = 127.0.0.1",
        f"listen_port = {port}",
        "unix_socket_dir =",
        "auth_type = trust",
        f"auth_file = {directory / 'userlist.txt'}",
        "admin_users = postgres",
        "pool_mode = transaction",
        f"default_pool_size = {SERVER_CONNECTIONS}",
        "max_client_conn = 400",
        f"logfile = {directory / 'pgbouncer.log'}",
        f"pidfile = {directory / 'pgbouncer.pid'}",
    ]
    if run_as:
        lines.append(f"user = {run_as}")
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def running_pgbouncer(server_url: str) -> Iterator[PgBouncer]:
    """PgBouncer in front of `server_url`'s server until the block ends."""
    assert PGBOUNCER is not None
    directory = Path(tempfile.mkdtemp(prefix="llm-usage-pgbouncer-"))
    socket_dir = Path(str(make_url(server_url).query["host"]))
    # PgBouncer refuses to run as root: as root it runs as the server's own user (who may open its socket)
    run_as = pwd.getpwuid(socket_dir.stat().st_uid).pw_name if os.geteuid() == 0 else None
    port = free_port()
    (directory / "userlist.txt").write_text('"postgres" ""\n')
    (directory / "pgbouncer.ini").write_text(
        ini_text(server_url=server_url, port=port, directory=directory, run_as=run_as)
    )
    if run_as:
        user = pwd.getpwnam(run_as)
        os.chown(directory, user.pw_uid, user.pw_gid)
    output = directory / "stderr.log"  # a file, not a pipe: a pipe nobody reads would fill and stall PgBouncer
    with output.open("wb") as stderr:
        process = subprocess.Popen([PGBOUNCER, str(directory / "pgbouncer.ini")], stderr=stderr)
    try:
        wait_for_port(port, process, output)
        yield PgBouncer(port=port, directory=directory)
    finally:
        process.send_signal(signal.SIGTERM)  # immediate shutdown (SIGINT would wait for its clients)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(directory, ignore_errors=True)


def wait_for_port(port: int, process: subprocess.Popen[bytes], output: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited: {output.read_text(errors='replace')}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("pgbouncer did not listen in 10 s")
