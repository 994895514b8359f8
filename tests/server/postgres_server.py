"""A throwaway PostgreSQL server for the end-to-end tests (the Python twin of
src/store/testing/postgres_server.h): initdb in a temporary folder (as the
`postgres` user when running as root: initdb refuses root), pg_ctl start on
a free loopback port with its socket in the folder, a database per test.
stop() shuts it down and removes the folder.
"""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid


class PostgresNotInstalled(Exception):
    pass


def _bin_dir():
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not dirs or not os.path.exists(os.path.join(dirs[-1], "initdb")):
        raise PostgresNotInstalled("PostgreSQL is not installed (no initdb under "
                                   "/usr/lib/postgresql): run scripts/bootstrap")
    return dirs[-1]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self):
        self.bin = _bin_dir()
        self.dir = tempfile.mkdtemp(prefix="kiln-pg-")
        self.port = None
        self.as_postgres = os.geteuid() == 0
        os.makedirs(os.path.join(self.dir, "sockets"))
        if self.as_postgres:
            pw = pwd.getpwnam("postgres")
            for p in (self.dir, os.path.join(self.dir, "sockets")):
                os.chown(p, pw.pw_uid, pw.pw_gid)

    def _run(self, tool, *args):
        argv = (["runuser", "-u", "postgres", "--"] if self.as_postgres else []) + \
            [os.path.join(self.bin, tool), *args]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"{tool} failed: {out.stderr.strip()[-2000:]}")
        return out.stdout

    def start(self):
        self._run("initdb", "-D", os.path.join(self.dir, "data"), "-U", "postgres",
                  "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
        for _ in range(5):
            port = _free_port()
            try:
                self._run("pg_ctl", "-D", os.path.join(self.dir, "data"),
                          "-l", os.path.join(self.dir, "server.log"),
                          "-o", f"-p {port} -k {self.dir}/sockets -c listen_addresses=127.0.0.1",
                          "-w", "-t", "60", "start")
                self.port = port
                return self
            except RuntimeError:
                continue
        raise RuntimeError("pg_ctl start failed 5 times")

    def create_database(self):
        name = "kiln_" + uuid.uuid4().hex[:12]
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return name

    def conninfo(self, dbname):
        return f"host=127.0.0.1 port={self.port} dbname={dbname} user=postgres"

    def stop(self):
        if self.port is not None:
            try:
                self._run("pg_ctl", "-D", os.path.join(self.dir, "data"), "-m", "fast", "-w", "stop")
            except RuntimeError:
                pass
            self.port = None
        shutil.rmtree(self.dir, ignore_errors=True)
