"""A real S3 store on loopback for Kiln's tests: Ceph's radosgw on a one-mon, one-osd cluster.

Radosgw writes a ceph.conf into a fresh temporary folder and starts, each as
a child of this process in the foreground (no systemd, no cephx, as the
current user):
  1. ceph-mon  (`--mkfs`, then `-f`) on a free loopback port, msgr v1 only;
  2. ceph-osd  on `memstore` (objects live in the osd's memory), registered
     with `ceph osd create`, made with `--mkfs` and put into the CRUSH map
     under host=<host>, root=default by hand;
  3. radosgw   with the beast frontend on a second free loopback port;
then waits until radosgw answers HTTP and creates the S3 user `kiln-test`
with a random access key and secret (`radosgw-admin user create`).

Why the settings (tests/s3/README.md has the timings and pitfalls):
  * pool size 1, chooseleaf type 0, mon_allow_pool_size_one: one osd must be
    enough for every pool's placement groups to become active.
  * pg_num 8 a pool, autoscaler off: radosgw makes 4 pools as it starts
    and 3 more on first use (bucket index, data, multipart's non-ec); few
    PGs keep their creation on one osd short. mon_max_pg_per_osd 1000 so a
    test that makes more pools does not meet the 250 PG per osd limit.
  * osd_max_object_name_len 256 (default 2048): listed as needed in
    shared/STACK.md (filestore-era stores refuse the default at start); kept,
    though with memstore on Ceph 16.2.15 the rig also ran without it. It caps
    RADOS object names, so S3 keys stay far below it (rgw adds a prefix).
  * osd_crush_update_on_start / osd_class_update_on_start false: the osd
    is put into CRUSH by hand; its own device-class command raced its first
    monmap and went out with a zero fsid ("wrong fsid": the osd exits) in
    half the starts.
  * paxos_propose_interval 0.1 (default 1 s): the mon batches map changes
    for that long, and every pool creation waits on a few: start 13.8 s
    with the default, ~2.7 s with 0.1.
  * mon_data_avail_crit 0: the mon stops itself when its disk is under 5 %
    free; a test machine's disk is not this rig's business.
  * A restart on old memstore state hung (shared/STACK.md), so every
    start() begins in a new folder and stop() removes it.

Every daemon is started in a session of its own, killed with SIGKILL on
stop() (and by the kernel if this process dies: PR_SET_PDEATHSIG), and
stop() is registered with atexit, so no daemon outlives the tests, also
when start() fails halfway.

Thread-safety: one Radosgw is driven by one thread (the test session).
"""

from __future__ import annotations

import atexit
import ctypes
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

# The Debian packages that bring these: radosgw, ceph-mon, ceph-osd, ceph-common.
REQUIRED_PROGRAMS = ("ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "ceph", "curl")

# The SigV4 region radosgw accepts: the name of its zonegroup, which a fresh
# cluster calls "default". (rgw checks the region in the credential scope
# against it; tests/s3/test_radosgw.py shows what other names get.)
REGION = "default"

_PR_SET_PDEATHSIG = 1


class RadosgwNotInstalled(RuntimeError):
    """A Ceph program the rig needs is missing from this machine."""


class RadosgwStartError(RuntimeError):
    """A daemon did not come up; the message names it and ends with its log's last lines."""


class Radosgw:
    """One mon, one memstore osd and one radosgw on 127.0.0.1, in a temporary folder of its own."""

    def __init__(self, startup_timeout_s: float = 60.0, memstore_bytes: int = 1 << 30,
                 extra_conf: dict[str, dict[str, object]] | None = None):
        """memstore_bytes: the osd's capacity (kept in RAM as it fills).
        extra_conf: ceph.conf settings by section ("global", "client.rgw.kiln"),
        over the rig's own.
        """
        missing = [p for p in REQUIRED_PROGRAMS if not _which(p)]
        if missing:
            raise RadosgwNotInstalled(
                f"Ceph is not installed ({', '.join(missing)} not found): run scripts/bootstrap, "
                "which installs radosgw, ceph-mon, ceph-osd and ceph-common")
        self.startup_timeout_s = startup_timeout_s
        self.extra_conf = extra_conf or {}
        self.memstore_bytes = memstore_bytes
        self.access_key = "KILN" + secrets.token_hex(8).upper()
        self.secret_key = secrets.token_urlsafe(30)
        self.region = REGION
        self.user_id = "kiln-test"
        self.root: Path | None = None
        self.mon_port = self.rgw_port = 0
        self.started_in_s: float | None = None
        self._daemons: dict[str, subprocess.Popen] = {}

    # -- properties --------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.rgw_port}"

    @property
    def conf_path(self) -> Path:
        """<root>/ceph.conf. `root` is the rig's folder; it keeps naming it after stop() removed it."""
        assert self.root is not None, "Radosgw.start() has not been called"
        return self.root / "ceph.conf"

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> "Radosgw":
        """Makes and starts the cluster and radosgw in a new folder; returns when S3 answers."""
        if self._daemons or (self.root is not None and self.root.exists()):
            raise RuntimeError("this Radosgw is already started; stop() it first")
        began = time.monotonic()
        deadline = began + self.startup_timeout_s
        atexit.register(self.stop)
        try:
            self.root = Path(tempfile.mkdtemp(prefix="kiln-radosgw-"))
            for sub in ("log", "run", "mon", "osd", "rgw"):
                (self.root / sub).mkdir()
            self.mon_port, self.rgw_port = _free_ports(2)
            self._write_config()
            self._start_mon(deadline)
            self._start_osd(deadline)
            self._start_rgw(deadline)
            self._create_user()
        except BaseException:
            self.stop()
            raise
        self.started_in_s = time.monotonic() - began
        return self

    def stop(self) -> None:
        """Kills every daemon this rig started and removes its folder. Safe to call at any point, twice."""
        for name, proc in reversed(list(self._daemons.items())):
            _kill_session(proc)
        self._daemons.clear()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
        atexit.unregister(self.stop)

    def __enter__(self) -> "Radosgw":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def pids(self) -> dict[str, int]:
        """The pid of each daemon started (for tests that check stop() ends them)."""
        return {name: proc.pid for name, proc in self._daemons.items()}

    # -- S3 helpers --------------------------------------------------------

    def url(self, bucket: str, key: str = "") -> str:
        """The path-style URL of a bucket or an object (key already URL-safe)."""
        return f"{self.endpoint}/{bucket}" + (f"/{key}" if key else "")

    def curl(self, method: str, url: str, *args: str, secret: str | None = None,
             payload_sha256: str | None = "UNSIGNED-PAYLOAD", timeout: float = 60) -> "CurlResult":
        """Runs curl with SigV4 signing (as libcurl's CURLOPT_AWS_SIGV4 does for Kiln's client).

        payload_sha256 goes out as x-amz-content-sha256, which curl 7.88 does
        not add by itself and radosgw requires; None sends no such header.
        Returns the HTTP status and body; curl's own failures raise.
        """
        headers = [] if payload_sha256 is None else ["-H", f"x-amz-content-sha256: {payload_sha256}"]
        argv = ["curl", "--silent", "--show-error", "--request", method,
                "--aws-sigv4", f"aws:amz:{self.region}:s3",
                "--user", f"{self.access_key}:{self.secret_key if secret is None else secret}",
                *headers, "--write-out", "\n%{http_code}", *args, url]
        result = subprocess.run(argv, capture_output=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"curl {method} {url} failed ({result.returncode}): "
                               f"{result.stderr.decode(errors='replace').strip()}")
        body, _, status = result.stdout.rpartition(b"\n")
        return CurlResult(int(status), body)

    def create_bucket(self, name: str) -> None:
        """PUT /<name>; raises with radosgw's answer unless it is 200."""
        answer = self.curl("PUT", self.url(name))
        if answer.status != 200:
            raise RuntimeError(f"creating bucket {name!r} failed: HTTP {answer.status}: {answer.text}")

    def keys(self, bucket: str) -> list[str]:
        """The keys in `bucket` (one ListObjectsV2 page: the tests' buckets are small)."""
        listing = self.curl("GET", self.url(bucket) + "?list-type=2").text
        return re.findall(r"<Key>([^<]*)</Key>", listing)

    # -- start steps -------------------------------------------------------

    def _write_config(self) -> None:
        r = self.root
        self.fsid = str(uuid.uuid4())
        # `ceph osd crush` host bucket of the one osd.
        self.crush_host = "kiln-" + secrets.token_hex(3)
        sections = {
            "global": {
                "fsid": self.fsid,
                "mon_initial_members": "a",
                "mon_host": f"v1:127.0.0.1:{self.mon_port}",
                "ms_bind_msgr2": "false",
                "auth_cluster_required": "none",
                "auth_service_required": "none",
                "auth_client_required": "none",
                "run_dir": r / "run",
                "admin_socket": r / "run" / "$name.asok",
                "pid_file": r / "run" / "$name.pid",
                # Every program, the ceph CLI and radosgw-admin included, logs
                # here rather than to /var/log/ceph.
                "log_file": r / "log" / "$name.log",
                "log_to_stderr": "false",
                "err_to_stderr": "true",
                "crash_dir": r / "crash",
                "mon_data": r / "mon" / "$cluster-$id",
                "osd_data": r / "osd" / "$cluster-$id",
                "osd_objectstore": "memstore",
                "memstore_device_bytes": self.memstore_bytes,
                "osd_max_object_name_len": 256,
                "osd_max_object_namespace_len": 64,
                "osd_pool_default_size": 1,
                "osd_pool_default_min_size": 1,
                "mon_allow_pool_size_one": "true",
                "mon_warn_on_pool_no_redundancy": "false",
                "osd_crush_chooseleaf_type": 0,
                "osd_crush_update_on_start": "false",
                "osd_class_update_on_start": "false",
                "osd_pool_default_pg_num": 8,
                "osd_pool_default_pgp_num": 8,
                "osd_pool_default_pg_autoscale_mode": "off",
                "mon_max_pg_per_osd": 1000,
                "mon_data_avail_warn": 1,
                "mon_data_avail_crit": 0,
                # The mon batches map changes for 1 s by default; each pool
                # radosgw creates waits on a few of them (start 13.8 s -> 2.6 s).
                "paxos_propose_interval": 0.1,
                "paxos_min_wait": 0.01,
            },
            "client.rgw.kiln": {
                "rgw_frontends": f"beast endpoint=127.0.0.1:{self.rgw_port}",
                "rgw_data": r / "rgw",
                "rgw_enable_usage_log": "false",
            },
        }
        for section, settings in self.extra_conf.items():
            sections.setdefault(section, {}).update(settings)
        lines = ["# Written by tests/s3/radosgw.py: a one-mon, one-osd Ceph with radosgw, on loopback."]
        for section, settings in sections.items():
            lines.append(f"[{section}]")
            lines += [f"{key} = {value}" for key, value in settings.items()]
        self.conf_path.write_text("\n".join(lines) + "\n")

    def _start_mon(self, deadline: float) -> None:
        self._run(["ceph-mon", "--mkfs", "-i", "a", "--fsid", self.fsid, "--keyring", "/dev/null"],
                  what="ceph-mon --mkfs", log="mon.a")
        self._spawn("ceph-mon", ["ceph-mon", "-f", "-i", "a"], log="mon.a")
        self._wait(deadline, "ceph-mon", "mon.a", "the mon answers `ceph mon stat`",
                   lambda: self._ceph_ok(["mon", "stat"]))

    def _start_osd(self, deadline: float) -> None:
        osd_uuid = str(uuid.uuid4())
        osd_id = self._ceph(["osd", "create", osd_uuid]).strip()
        if osd_id != "0":
            raise RadosgwStartError(f"`ceph osd create` gave id {osd_id!r}, expected 0")
        (self.root / "osd" / "ceph-0").mkdir()
        self._run(["ceph-osd", "-i", "0", "--mkfs", "--osd-uuid", osd_uuid], what="ceph-osd --mkfs", log="osd.0")
        self._ceph(["osd", "crush", "add-bucket", self.crush_host, "host"])
        self._ceph(["osd", "crush", "move", self.crush_host, "root=default"])
        self._ceph(["osd", "crush", "add", "osd.0", "1.0", f"host={self.crush_host}"])
        self._spawn("ceph-osd", ["ceph-osd", "-f", "-i", "0"], log="osd.0")
        self._wait(deadline, "ceph-osd", "osd.0", "`ceph osd stat` shows the osd up and in",
                   self._osd_up)

    def _start_rgw(self, deadline: float) -> None:
        self._spawn("radosgw", ["radosgw", "-f", "-n", "client.rgw.kiln"], log="client.rgw.kiln")
        self._wait(deadline, "radosgw", "client.rgw.kiln", f"{self.endpoint}/ answers HTTP",
                   self._rgw_answers)

    def _create_user(self) -> None:
        self._run(["radosgw-admin", "-n", "client.admin", "user", "create", "--uid", self.user_id,
                   "--display-name", "Kiln tests", "--access-key", self.access_key,
                   "--secret", self.secret_key],
                  what="radosgw-admin user create", log="client.admin")

    # -- probes ------------------------------------------------------------

    def _osd_up(self) -> bool:
        out = self._ceph(["osd", "stat", "--format", "json"], check=False)
        try:
            stat = json.loads(out)
        except ValueError:
            return False
        return stat.get("num_up_osds") == 1 and stat.get("num_in_osds") == 1

    def _rgw_answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.endpoint + "/", timeout=2) as answer:
                return answer.status == 200
        except urllib.error.HTTPError:
            return True  # any HTTP answer means the frontend is serving
        except (urllib.error.URLError, OSError):
            return False

    def _ceph_ok(self, args: list[str]) -> bool:
        try:
            self._ceph(args, timeout=10)
            return True
        except (RuntimeError, subprocess.TimeoutExpired):
            return False

    # -- internals ---------------------------------------------------------

    def _base(self, program: str) -> list[str]:
        return [program, "--conf", str(self.conf_path)]

    def _ceph(self, args: list[str], check: bool = True, timeout: float = 30) -> str:
        """Runs the ceph CLI (as client.admin; no key with cephx off) and returns its stdout."""
        argv = self._base("ceph") + ["--connect-timeout", str(int(timeout))] + args
        for _ in range(5):
            result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 5,
                                    stdin=subprocess.DEVNULL)
            # With cephx off, a client can send its first command before it has
            # the monmap, so with a zero fsid; the mon refuses it unexecuted
            # ("wrong fsid", seen by the CLI as "problem getting command
            # descriptions"): the same command again is safe.
            if result.returncode == 0 or "EPERM" not in result.stderr:
                break
            time.sleep(0.1)
        if check and result.returncode != 0:
            raise RuntimeError(f"`ceph {' '.join(args)}` failed ({result.returncode}): {result.stderr.strip()}")
        return result.stdout

    def _run(self, argv: list[str], what: str, log: str, timeout: float = 60) -> str:
        """Runs a one-shot Ceph command; a failure raises RadosgwStartError with its output and log."""
        argv = [argv[0], "--conf", str(self.conf_path), *argv[1:]]
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                                    stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            raise RadosgwStartError(f"{what} did not finish in {timeout} s\n{self.log_tail(log)}") from e
        if result.returncode != 0:
            raise RadosgwStartError(
                f"{what} failed ({result.returncode}): {(result.stderr or result.stdout).strip()}\n"
                + self.log_tail(log))
        return result.stdout

    def _spawn(self, name: str, argv: list[str], log: str) -> None:
        argv = [argv[0], "--conf", str(self.conf_path), *argv[1:]]
        out = open(self.root / "log" / f"{log}.stderr", "ab")
        try:
            self._daemons[name] = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, preexec_fn=_die_with_parent)
        finally:
            out.close()

    def _wait(self, deadline: float, name: str, log: str, condition: str, ready) -> None:
        """Polls ready() until it holds; raises naming the daemon when it exits or time runs out."""
        proc = self._daemons[name]
        while True:
            if proc.poll() is not None:
                raise RadosgwStartError(f"{name} exited with {proc.returncode} while starting "
                                        f"(waiting until {condition})\n{self.log_tail(log)}")
            if ready():
                return
            if time.monotonic() > deadline:
                raise RadosgwStartError(f"{name} did not come up in {self.startup_timeout_s} s "
                                        f"(waiting until {condition})\n{self.log_tail(log)}")
            time.sleep(0.2)

    def log_tail(self, log: str, lines: int = 20) -> str:
        """The last lines of a daemon's log file and of its captured stderr."""
        parts = []
        if self.root is None or not self.root.exists():
            return "(no log: the rig's folder is gone)"
        for path in (self.root / "log" / f"{log}.log", self.root / "log" / f"{log}.stderr"):
            if path.exists():
                text = path.read_text(errors="replace").splitlines()[-lines:]
                if text:
                    parts.append(f"--- last lines of {path}\n" + "\n".join(text))
        return "\n".join(parts) or f"(no log lines for {log} in {self.root / 'log'})"


class CurlResult:
    """An HTTP status and body from Radosgw.curl."""

    def __init__(self, status: int, body: bytes):
        self.status = status
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")

    def __repr__(self) -> str:
        return f"CurlResult({self.status}, {self.text[:200]!r})"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _which(program: str) -> str | None:
    return shutil.which(program, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


def _free_ports(count: int) -> list[int]:
    """Ports the kernel hands out now (held open together so they differ)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _die_with_parent() -> None:
    """In the child before exec: the kernel SIGKILLs it when the process that started it dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _kill_session(proc: subprocess.Popen) -> None:
    """SIGKILLs the daemon's whole session (memstore keeps nothing worth a clean shutdown)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
