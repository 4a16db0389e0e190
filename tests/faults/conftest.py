"""Private PostgreSQL and Redis servers the fault tests may stop, kill and restart at will.

The machine's shared servers serve every other test (and every other developer's run); the
fault tests get their own, on free loopback ports, in the test's temporary folder.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import redis

from tests.fixtures.backends import free_port, service_missing, wait_until
from ticketbridge import migrate

PG_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"))


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of the test's own; `stop()` and `start()` keep its data."""

    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(PG_BIN[-1] / "pg_ctl"), "-D", str(self.data)]
            + list(args),
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1"
        self._ctl("-o", options, "-l", str(self.data / "log"), "-w", "start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "-w", "stop")

    def ready(self) -> bool:
        try:
            psycopg.connect(
                f"postgresql://postgres@127.0.0.1:{self.port}/postgres", connect_timeout=1
            ).close()
        except psycopg.OperationalError:
            return False
        return True


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """Outside pytest's temporary folders, which only root may enter: the server runs as
    `postgres`, as initdb insists."""
    if not PG_BIN or shutil.which("runuser") is None:
        service_missing("PostgreSQL's server binaries", "apt-get install postgresql")
    folder = Path(tempfile.mkdtemp(prefix="ticketbridge-pg-"))
    folder.chmod(0o755)
    data = folder / "data"
    data.mkdir(mode=0o700)
    shutil.chown(data, "postgres", "postgres")
    subprocess.run(
        ["runuser", "-u", "postgres", "--", str(PG_BIN[-1] / "initdb"), "-D", str(data)]
        + ["--auth=trust", "-U", "postgres", "--no-sync"],
        check=True,
        capture_output=True,
    )
    server = PrivatePostgres(data, free_port())
    server.start()
    migrate.upgrade(server.url)
    yield server
    if server.ready():
        server.stop()
    shutil.rmtree(folder, ignore_errors=True)


@dataclass
class PrivateRedis:
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        wait_until(lambda: _pings(client), what="the private Redis server")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        service_missing("redis-server", "apt-get install redis-server")
    server = PrivateRedis(free_port())
    server.start()
    yield server
    server.stop()
