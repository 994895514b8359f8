"""A real one-node Slurm cluster on loopback, for the Slurm backend's tests.

SlurmCluster writes a slurm.conf into a fresh temporary folder, starts
`slurmctld -D` and `slurmd -D -N <node>` (no systemd, no munge: auth/none and
cred/none) on two free loopback ports, and waits until `sinfo` shows the node
idle. Tests pass `cluster.env` (SLURM_CONF and PATH) to every Slurm command
and to the Kiln server under test; nothing in this process's own environment
is changed, so several clusters (one per test session, one per agent) can run
side by side: each has its own ports, its own node name (the node name also
names its cgroups and spool sockets) and its own folder.

What the configuration gives, and why (docs/compute.md maps these states):
  * OUT_OF_MEMORY for a job over its --mem: task/cgroup with ConstrainRAMSpace
    on the cgroup-v1 memory controller, when /sys/fs/cgroup/memory is a
    writable v1 hierarchy (as on the dev machine). Without it the fallback is
    jobacct_gather/linux with OverMemoryKill, which kills the job within ~1 s
    but Slurm 22.05 records it as FAILED (state_reason JobLaunchFailure,
    exit_code 9: SIGKILL), not OUT_OF_MEMORY:
    `memory_enforcement` says which one a cluster has.
  * TIMEOUT for a job over --time: OverTimeLimit=0, KillWait=1. Slurm counts
    time limits in whole minutes and checks them every 30 s (hard-coded), so
    the fastest TIMEOUT is 60-90 s after the job starts.
  * `scontrol requeue` on a running job: JobRequeue=1, and cred_expire=5 (a
    requeued job waits cred_expire s before it may start again; default 120).
  * Jobs start within ~1 s: batch_sched_delay=0, sched_min_interval=0, and a
    1 s main/backfill scheduling interval (so a requeued job whose begin time
    has passed starts without waiting for the default 60 s loop).
  * 64 CPUs and 64000 MB advertised (SlurmdParameters=config_overrides lets
    slurmd claim more than the machine has), DefMemPerCPU=200, so a 50-task
    array runs all its tasks at once.

Thread-safety: one SlurmCluster is driven by one thread (the test session).
"""

from __future__ import annotations

import atexit
import getpass
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REQUIRED_PROGRAMS = ("slurmctld", "slurmd", "sbatch", "squeue", "scancel", "scontrol", "sinfo")
CGROUP_ROOT = Path("/sys/fs/cgroup")
MEMORY_CGROUP_V1 = CGROUP_ROOT / "memory"


class SlurmNotInstalled(RuntimeError):
    """The Slurm daemons or client commands are missing from this machine."""


class SlurmQueryError(RuntimeError):
    """squeue --json answered, but with errors instead of the job list."""


class SlurmCluster:
    """A slurmctld + one slurmd on 127.0.0.1, in a temporary folder of its own."""

    def __init__(self, cpus: int = 64, real_memory_mb: int = 64000, min_job_age_s: int = 300,
                 memory_enforcement: str | None = None, startup_timeout_s: float = 30.0):
        missing = [p for p in REQUIRED_PROGRAMS if not _which(p)]
        if missing:
            raise SlurmNotInstalled(
                f"Slurm is not installed ({', '.join(missing)} not found): run scripts/bootstrap, "
                "which installs slurmctld, slurmd, slurm-client and munge")
        self.cpus = cpus
        self.real_memory_mb = real_memory_mb
        # How long squeue keeps listing an ended job (slurm.conf MinJobAge; 0 = for ever).
        self.min_job_age_s = min_job_age_s
        self.startup_timeout_s = startup_timeout_s
        self.root = Path(tempfile.mkdtemp(prefix="kiln-slurm-"))
        # A node name of its own: the cgroup folders (slurm_<node>) and the
        # step sockets are named after it, so two clusters never share them.
        self.node = "kiln" + secrets.token_hex(3)
        self.partition = "debug"
        self.ctld_port, self.slurmd_port = _free_ports(2)
        # "cgroup" (OUT_OF_MEMORY) where the v1 memory controller is writable, else "jobacct".
        if memory_enforcement is None:
            memory_enforcement = "cgroup" if _memory_cgroup_v1_writable() else "jobacct"
        if memory_enforcement not in ("cgroup", "jobacct"):
            raise ValueError(f"memory_enforcement must be 'cgroup' or 'jobacct', not {memory_enforcement!r}")
        self.memory_enforcement = memory_enforcement
        self.conf_path = self.root / "slurm.conf"
        self.env = dict(os.environ)
        self.env["SLURM_CONF"] = str(self.conf_path)
        self.env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin"
        for var in ("SLURM_JOB_ID", "SLURM_JOBID", "SBATCH_PARTITION"):
            self.env.pop(var, None)  # a session run inside Slurm must not leak its job
        self._ctld: subprocess.Popen | None = None
        self._slurmd: subprocess.Popen | None = None
        self.started_in_s: float | None = None
        for sub in ("state", "spool", "run", "log", "jobs"):
            (self.root / sub).mkdir()
        self._write_config()

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> "SlurmCluster":
        """Starts both daemons on a fresh state folder and waits for an idle node."""
        began = time.monotonic()
        # A session that dies without its teardown (an exception outside the
        # fixture, Ctrl-C) still takes its daemons and jobs down with it.
        atexit.register(self.stop)
        try:
            self._ctld = self._spawn("slurmctld", ["slurmctld", "-D", "-f", str(self.conf_path)])
            self._slurmd = self._spawn("slurmd", ["slurmd", "-D", "-N", self.node, "-f", str(self.conf_path)])
            self.wait_node_usable(self.startup_timeout_s)
        except BaseException:
            self.stop()
            raise
        self.started_in_s = time.monotonic() - began
        return self

    def stop_controller(self, timeout_s: float = 15.0) -> None:
        """Stops slurmctld cleanly (SIGTERM: it saves its state to StateSaveLocation)."""
        if self._ctld is None:
            return
        _terminate(self._ctld, timeout_s)
        self._ctld = None

    def start_controller(self, timeout_s: float = 30.0) -> None:
        """Starts slurmctld again on the saved state (jobs, node) and waits until it answers."""
        if self._ctld is not None and self._ctld.poll() is None:
            raise RuntimeError("slurmctld is already running")
        # Without -c/-i slurmctld recovers jobs from StateSaveLocation.
        self._ctld = self._spawn("slurmctld", ["slurmctld", "-D", "-f", str(self.conf_path)])
        self.wait_node_usable(timeout_s)

    def stop(self) -> None:
        """Kills the daemons and every job process of this cluster, removes its cgroups and folder."""
        if self._ctld is not None and self._ctld.poll() is None and self._slurmd is not None:
            # Let Slurm end its jobs itself first; whatever is left is killed below.
            self._run(["scancel", "--full", "--quiet", "--partition", self.partition], check=False, timeout=10)
        for proc in (self._slurmd, self._ctld):
            if proc is not None:
                _terminate(proc, 10.0)
        self._slurmd = self._ctld = None
        self._kill_leftover_processes()
        self._remove_cgroups()
        shutil.rmtree(self.root, ignore_errors=True)
        atexit.unregister(self.stop)

    def __enter__(self) -> "SlurmCluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- commands ----------------------------------------------------------

    def sbatch(self, script_text: str, *args: str) -> int:
        """Submits script_text (a shell script; a #!/bin/bash line is added when missing) and returns the job id.

        Its output goes to <root>/jobs/slurm-%j.out unless args name --output.
        """
        if not script_text.startswith("#!"):
            script_text = "#!/bin/bash\n" + script_text
        script = self.root / "jobs" / f"script-{secrets.token_hex(4)}.sh"
        script.write_text(script_text)
        default_output = [] if any(a.startswith(("--output", "-o")) for a in args) else [
            f"--output={self.root / 'jobs' / 'slurm-%j.out'}"]
        out = self._run(["sbatch", "--parsable", f"--chdir={self.root / 'jobs'}", *default_output, *args,
                         str(script)])
        return int(out.strip().split(";")[0])

    def squeue_json(self) -> dict:
        """The whole `squeue --json` document (22.05 ignores filters with --json: all jobs come back).

        Raises SlurmQueryError when the document lists errors: with the
        controller down, squeue --json exits 0 after ~9 s with `"jobs": []`
        and an error, which must not be read as "no jobs".
        """
        document = json.loads(self._run(["squeue", "--json"]))
        if document.get("errors"):
            raise SlurmQueryError(f"squeue --json reported errors: {document['errors']}")
        return document

    def jobs(self) -> list[dict]:
        return self.squeue_json()["jobs"]

    def job(self, job_id: int) -> dict | None:
        """squeue's record for a job id (an array task's own job id, or a plain job's)."""
        for record in self.jobs():
            if record["job_id"] == job_id:
                return record
        return None

    def wait_state(self, job_id: int, states: set[str] | str, timeout_s: float, poll_s: float = 0.2) -> dict:
        """Polls squeue until the job is in one of `states`; returns its record."""
        wanted = {states} if isinstance(states, str) else set(states)
        deadline = time.monotonic() + timeout_s
        seen = None
        while time.monotonic() < deadline:
            seen = self.job(job_id)
            if seen is not None and seen["job_state"] in wanted:
                return seen
            time.sleep(poll_s)
        state = "missing from squeue" if seen is None else f"{seen['job_state']} ({seen['state_reason']})"
        raise TimeoutError(f"Slurm job {job_id} not in {sorted(wanted)} after {timeout_s} s: {state}\n"
                           + self.log_tail())

    def scontrol(self, *args: str) -> str:
        return self._run(["scontrol", *args])

    def scancel(self, *args: str) -> str:
        return self._run(["scancel", *args])

    def wait_node_usable(self, timeout_s: float) -> None:
        """Waits until the controller answers and the node takes jobs (idle, mixed or allocated)."""
        deadline = time.monotonic() + timeout_s
        last = ""
        while time.monotonic() < deadline:
            for name, proc in (("slurmctld", self._ctld), ("slurmd", self._slurmd)):
                if proc is not None and proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode} while starting\n" + self.log_tail())
            try:
                last = self._run(["sinfo", "--noheader", "--nodes", self.node, "--format", "%T"],
                                 timeout=5).strip()
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
                last = str(e)
            if last.rstrip("*~#!%$@^-") in ("idle", "mixed", "allocated"):
                return
            time.sleep(0.1)
        raise TimeoutError(f"Slurm node {self.node} not usable after {timeout_s} s (sinfo: {last!r})\n"
                           + self.log_tail())

    def log_tail(self, lines: int = 15) -> str:
        parts = []
        for log in sorted((self.root / "log").glob("*.log")):
            text = log.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {log.name}\n" + "\n".join(text))
        return "\n".join(parts)

    # -- internals ---------------------------------------------------------

    def _run(self, argv: list[str], check: bool = True, timeout: float = 30) -> str:
        result = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise subprocess.CalledProcessError(result.returncode, argv, result.stdout, result.stderr)
        return result.stdout

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        out = open(self.root / "log" / f"{name}.out", "ab")
        try:
            return subprocess.Popen(argv, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            out.close()

    def _write_config(self) -> None:
        r = self.root
        user = getpass.getuser()
        lines = [
            "# Written by tests/slurm/slurm_cluster.py: a one-node test cluster on loopback.",
            "ClusterName=kiln",
            "SlurmctldHost=localhost(127.0.0.1)",
            f"SlurmUser={user}",
            f"SlurmdUser={user}",
            f"SlurmctldPort={self.ctld_port}",
            f"SlurmdPort={self.slurmd_port}",
            "AuthType=auth/none",
            "CredType=cred/none",
            # A requeued job may start again only cred_expire s later (default 120).
            "AuthInfo=cred_expire=5",
            f"StateSaveLocation={r / 'state'}",
            f"SlurmdSpoolDir={r / 'spool' / 'slurmd-%n'}",
            f"SlurmctldPidFile={r / 'run' / 'slurmctld.pid'}",
            f"SlurmdPidFile={r / 'run' / 'slurmd-%n.pid'}",
            f"SlurmctldLogFile={r / 'log' / 'slurmctld.log'}",
            f"SlurmdLogFile={r / 'log' / 'slurmd-%n.log'}",
            "SlurmdParameters=config_overrides",
            "ProctrackType=proctrack/linuxproc",
            "JobAcctGatherType=jobacct_gather/linux",
            "JobAcctGatherFrequency=task=1",
            "AccountingStorageType=accounting_storage/none",
            "SwitchType=switch/none",
            "MpiDefault=none",
            "SchedulerType=sched/backfill",
            "SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,sched_interval=1,bf_interval=1",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core_Memory",
            "DefMemPerCPU=200",
            "ReturnToService=2",
            f"MinJobAge={self.min_job_age_s}",
            "OverTimeLimit=0",
            "KillWait=1",
            "JobRequeue=1",
            "MailProg=/bin/true",
            f"NodeName={self.node} NodeHostname=localhost NodeAddr=127.0.0.1 CPUs={self.cpus} "
            f"RealMemory={self.real_memory_mb} State=UNKNOWN",
            f"PartitionName={self.partition} Nodes={self.node} Default=YES MaxTime=INFINITE State=UP",
        ]
        if self.memory_enforcement == "cgroup":
            lines.append("TaskPlugin=task/cgroup")
            (r / "cgroup.conf").write_text("\n".join([
                "CgroupPlugin=cgroup/v1",
                f"CgroupMountpoint={CGROUP_ROOT}",
                "CgroupAutomount=no",
                "ConstrainRAMSpace=yes",
                "ConstrainSwapSpace=no",
                "ConstrainCores=no",
                "ConstrainDevices=no",
            ]) + "\n")
        else:
            lines += ["TaskPlugin=task/none", "JobAcctGatherParams=OverMemoryKill"]
        self.conf_path.write_text("\n".join(lines) + "\n")

    def _kill_leftover_processes(self) -> None:
        """SIGKILLs what this cluster started and outlived its daemons: slurmstepd and job scripts.

        They are found by the SLURM_CONF in their environment (slurmd hands its
        own to slurmstepd; jobs get sbatch's, which is self.env), so only this
        cluster's processes are touched, each by its pid.
        """
        marker = f"SLURM_CONF={self.conf_path}".encode()
        me = os.getpid()
        for _ in range(3):
            victims = []
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit() or int(entry.name) == me:
                    continue
                try:
                    environ = (entry / "environ").read_bytes()
                except OSError:
                    continue
                if marker in environ.split(b"\0"):
                    victims.append(int(entry.name))
            if not victims:
                return
            for pid in victims:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.2)

    def _remove_cgroups(self) -> None:
        """Removes this node's cgroup folders (slurm_<node>) in every v1 controller, deepest first."""
        if self.memory_enforcement != "cgroup":
            return
        for controller in CGROUP_ROOT.iterdir():
            top = controller / f"slurm_{self.node}"
            if not top.is_dir():
                continue
            for folder in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
                try:
                    folder.rmdir()
                except OSError:
                    pass
            try:
                top.rmdir()
            except OSError:
                pass


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


def _memory_cgroup_v1_writable() -> bool:
    return (MEMORY_CGROUP_V1 / "memory.limit_in_bytes").exists() and os.access(MEMORY_CGROUP_V1, os.W_OK)


def _terminate(proc: subprocess.Popen, timeout_s: float) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
