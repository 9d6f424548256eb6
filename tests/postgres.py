"""A throwaway PostgreSQL cluster for tests: `initdb` in a temporary directory, listening on 127.0.0.1 at a free
port, run as the `postgres` system user when the tests run as root (the server refuses to run as root), and
stopped and removed at the end. The binaries come from Debian's `postgresql` package (`make postgres`)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg2


def pg_binary(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed: run `make postgres` (Debian package postgresql)")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresCluster:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="pg-test-"))
        self.port = free_port()
        self.data = self.root / "data"
        self.user = "postgres"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.root, "postgres")
            os.chmod(self.root, 0o700)

    def _run(self, *args: str) -> None:
        command = ["runuser", "-u", "postgres", "--", *args] if self._as_postgres else list(args)
        proc = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")

    def start(self) -> PostgresCluster:
        self._run(pg_binary("initdb"), "-D", str(self.data), "-U", self.user, "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8")
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c max_connections=200"
        self._run(pg_binary("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.root / "server.log"),
                  "-w", "start")
        return self

    def stop(self) -> None:
        try:
            self._run(pg_binary("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def execute(self, sql: str, params: list | None = None, *, dbname: str = "postgres") -> None:
        """One statement, outside a transaction (CREATE DATABASE cannot run inside one)."""
        con = psycopg2.connect(host="127.0.0.1", port=self.port, user=self.user, dbname=dbname)
        try:
            con.autocommit = True
            with con.cursor() as cur:
                cur.execute(sql, params)
        finally:
            con.close()

    def create_database(self, name: str, template: str | None = None) -> str:
        self.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return name

    def libpq(self, dbname: str) -> str:
        return f"dbname={dbname} host=127.0.0.1 port={self.port} user={self.user}"

    def lake_url(self, dbname: str) -> str:
        """WAREHOUSE_URL of a DuckLake whose catalog is this database."""
        return f"ducklake:postgres:{self.libpq(dbname)}"

    def url(self, dbname: str) -> str:
        """DAGSTER_PG_URL of this database."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"
