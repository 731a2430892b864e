"""A PostgreSQL cluster of the test's own, to stop and start at will: the machine's shared
server is never touched.

`initdb` into a new temporary directory, the server on a free loopback port (no Unix socket),
trust authentication for the superuser `postgres`, with the binaries of the newest version
under /usr/lib/postgresql/*/bin (Debian's layout; `MPS_TEST_POSTGRES_BIN` names another
directory). PostgreSQL refuses to run as root: when the tests run as root, every command runs
as the `postgres` OS user (`runuser -u postgres`, which the PostgreSQL packages create), in a
directory under the system's temporary directory that this user owns (pytest's `tmp_path`
is private to root). `fsync=off`: a stop in `immediate` mode is a crash of the server, not of
the machine, so what reached the kernel survives it as with fsync on.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.processes import free_port

COMMAND_TIMEOUT_S = 120
POSTGRES_OS_USER = "postgres"


def _bin_dir() -> Path:
    configured = os.environ.get("MPS_TEST_POSTGRES_BIN")
    if configured:
        return Path(configured)
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    )
    assert found, "no PostgreSQL binaries under /usr/lib/postgresql/*/bin (MPS_TEST_POSTGRES_BIN)"
    return found[-1]


class PrivateCluster:
    """One cluster in `root` (which this object made and removes)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.log = root / "server.log"
        self.port = free_port()
        self.bin = _bin_dir()
        self.as_user = ["runuser", "-u", POSTGRES_OS_USER, "--"] if os.geteuid() == 0 else []

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *arguments: str) -> None:
        command = [*self.as_user, str(self.bin / program), *arguments]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False
        )
        assert done.returncode == 0, (
            f"{' '.join(command)} exited with {done.returncode}:\n{done.stdout}\n{done.stderr}\n"
            + (self.log.read_text(errors="replace") if self.log.exists() else "")
        )

    def init(self) -> None:
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync",
            "--no-instructions", "-E", "UTF8",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
            " -c fsync=off -c shared_buffers=16MB -c max_connections=100"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
                  "-t", str(COMMAND_TIMEOUT_S), "start")  # fmt: skip

    def stop(self, mode: str) -> None:
        """`fast` (connections cut, a clean shutdown) or `immediate` (as in a crash: the
        next start recovers from the write-ahead log)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t",
                  str(COMMAND_TIMEOUT_S), "stop")  # fmt: skip

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


def _own_directory() -> Path:
    root = Path(tempfile.mkdtemp(prefix="mps-private-postgres-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam(POSTGRES_OS_USER)
        os.chown(root, user.pw_uid, user.pw_gid)
    return root


@contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    """A running private cluster; stopped and removed afterwards, whatever happened."""
    cluster = PrivateCluster(_own_directory())
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        try:
            if cluster.running():
                cluster.stop("immediate")
        finally:
            shutil.rmtree(cluster.root, ignore_errors=True)
