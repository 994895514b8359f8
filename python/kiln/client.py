"""kiln.Client: a Kiln server's REST API (docs/api.md) from Python, standard library only.

What::

    from kiln import Client
    kiln = Client("http://127.0.0.1:8080")           # token: argument or $KILN_TOKEN
    kiln.create_project("demo")
    data = kiln.upload("demo", "numbers.txt")       # streamed, 1 MiB at a time
    b = kiln.builder("demo")                        # one patch, see kiln.patch_builder
    ...
    b.commit("A pipeline")
    ex = kiln.run("demo", "Sum", on_event=print)    # waits, polling the job events
    kiln.download(ex.output("Sum", "total"), "total.json", project="demo")

Every method is one request or a short sequence of them; errors come back as
``KilnError`` subclasses (``kiln.client_http``) carrying the HTTP status, the
server's error code and message.  Live execution events are read by polling
``GET /jobs/{job}/events?after=`` (``Execution.wait``, ``Client.follow_events``),
not the WebSocket ``watch``: simpler, stdlib-only, and it loses nothing, since
events are numbered and every poll asks for those after the last one seen.
Reference and examples: docs/python-client.md.

Thread-safety: a Client keeps no connection or mutable state between
requests, so threads may share one.  An Execution object is refreshed in
place by ``refresh``/``wait``: share it between threads only read-only.
"""
from __future__ import annotations

import io
import os
import re
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Union

from .client_http import (BadRequest, Conflict, FailedPrecondition, KilnError,  # noqa: F401
                          MethodNotAllowed, NotFound, PayloadTooLarge, PermissionDenied,
                          Progress, ServerError, TooManyRequests, Transport, Unauthenticated,
                          Unavailable, query, segment)
from .patch_builder import PatchBuilder, meta_guid
from .sweep_parameters import resolve_parameters

__all__ = [
    "Client", "Execution", "ExecutionFailed", "PatchBuilder", "KilnError", "BadRequest",
    "Unauthenticated", "PermissionDenied", "NotFound", "MethodNotAllowed", "Conflict",
    "PayloadTooLarge", "FailedPrecondition", "TooManyRequests", "ServerError", "Unavailable",
]

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_FINAL_EXECUTION = {"succeeded", "failed", "cancelled"}
_FINAL_JOB = {"succeeded", "cached", "failed", "skipped", "cancelled"}

EventCallback = Callable[[dict, dict], None]  # (job, event)


class ExecutionFailed(Exception):
    """An execution that ended other than succeeded (``Execution.raise_if_failed``)."""

    def __init__(self, execution: "Execution"):
        self.execution = execution
        failed = [f"{j['name']}: {j.get('reason') or j['state']}" for j in execution.jobs
                  if j["state"] in ("failed", "cancelled")]
        detail = "; ".join(failed) or execution.reason or ""
        super().__init__(f"execution {execution.id} {execution.state}"
                         + (f": {detail}" if detail else ""))


class Execution:
    """One execution: its record (``data``) and jobs, refreshed by ``refresh`` and ``wait``."""

    def __init__(self, client: "Client", data: dict):
        self.client = client
        self.data = data

    id = property(lambda self: self.data["id"])
    project = property(lambda self: self.data.get("project"))
    pipeline = property(lambda self: self.data.get("pipeline"))
    state = property(lambda self: self.data.get("state"))
    reason = property(lambda self: self.data.get("reason"))
    jobs = property(lambda self: self.data.get("jobs", []))

    @property
    def done(self) -> bool:
        return self.state in _FINAL_EXECUTION

    @property
    def succeeded(self) -> bool:
        return self.state == "succeeded"

    def refresh(self) -> "Execution":
        self.data = self.client._t.json("GET", f"/executions/{segment(self.id)}")
        return self

    def job(self, name: str) -> dict:
        """The job of the operation instance named ``name``."""
        for j in self.jobs:
            if j.get("name") == name:
                return j
        raise KeyError(f"execution {self.id} has no job {name!r} "
                       f"(jobs: {', '.join(j.get('name', '?') for j in self.jobs)})")

    def output(self, job: str, output: str) -> str:
        """The digest of ``job``'s output ``output`` (download it with Client.download)."""
        outputs = self.job(job).get("outputs") or {}
        if output not in outputs:
            raise KeyError(f"job {job!r} has no output {output!r} (outputs: {', '.join(outputs)})")
        return outputs[output]["digest"]

    def wait(self, timeout: Optional[float] = None, on_event: Optional[EventCallback] = None,
             poll: float = 0.2) -> "Execution":
        """Waits until the execution ends; ``on_event(job, event)`` sees each job's events in order.

        Raises TimeoutError after ``timeout`` seconds (the execution goes on).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        cursors: Dict[str, int] = {}
        read_out = set()  # jobs that had ended before their last read: nothing more comes
        while True:
            self.refresh()
            if on_event is not None:
                for job in self.jobs:
                    if job["state"] in ("pending", "queued") or job["id"] in read_out:
                        continue
                    cursors[job["id"]] = self.client._drain_events(
                        job, cursors.get(job["id"], 0), on_event)
                    if job["state"] in _FINAL_JOB:
                        read_out.add(job["id"])
            if self.done:
                return self
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"execution {self.id} still {self.state} after {timeout} s")
            time.sleep(poll)

    def raise_if_failed(self) -> "Execution":
        if self.state != "succeeded":
            raise ExecutionFailed(self)
        return self

    def cancel(self) -> "Execution":
        self.client._t.json("POST", f"/executions/{segment(self.id)}/cancel")
        return self.refresh()

    def rerun(self, force: bool = False, wait: bool = True, **wait_args) -> "Execution":
        """A new execution of the same pipeline at the same commit."""
        r = self.client._t.json("POST", f"/executions/{segment(self.id)}/rerun", {"force": force})
        ex = self.client.execution(r["id"])
        return ex.wait(**wait_args) if wait else ex

    def __repr__(self):
        return f"<Execution {self.id} {self.state} ({len(self.jobs)} jobs)>"


class Client:
    """A Kiln server at ``url`` (``http://host:port``).

    ``token``: a bearer token (``kiln users token``); None reads ``$KILN_TOKEN``,
    and without one the requests are anonymous (fine on loopback without
    ``--auth``).  ``timeout``: seconds a request may wait for the server.
    """

    def __init__(self, url: str = "http://127.0.0.1:8080", token: Optional[str] = None,
                 timeout: float = 60.0):
        self._t = Transport(url, token if token is not None else os.environ.get("KILN_TOKEN"),
                            timeout)
        self.url = self._t.url

    def __repr__(self):
        return f"Client({self.url!r})"

    def _p(self, project: str) -> str:
        return "/projects/" + segment(project)

    # ---- the server ----

    def health(self) -> dict:
        return self._t.json("GET", "/health")

    def me(self) -> dict:
        return self._t.json("GET", "/me")

    # ---- projects ----

    def projects(self) -> List[dict]:
        """The projects you may read: ``[{"name", "description", "created_ms"}]``."""
        return self._t.json("GET", "/projects")["projects"]

    def project(self, project: str) -> dict:
        """``{"name", "description", "created_ms", "branches", "tags"}``."""
        return self._t.json("GET", self._p(project))

    def create_project(self, name: str, description: Optional[str] = None) -> dict:
        """A new empty project (you become its admin): ``{"name", "commit"}``."""
        body: Dict[str, Any] = {"name": name}
        if description is not None:
            body["description"] = description
        return self._t.json("POST", "/projects", body)

    def fork(self, source: str, name: str, ref: Optional[str] = None,
             description: Optional[str] = None) -> dict:
        """A new project whose main starts from ``source`` at ``ref`` (default its main)."""
        body: Dict[str, Any] = {"name": name, "from": {"project": source}}
        if ref is not None:
            body["from"]["ref"] = ref
        if description is not None:
            body["description"] = description
        return self._t.json("POST", "/projects", body)

    def delete_project(self, project: str) -> None:
        self._t.json("DELETE", self._p(project))

    def set_access(self, project: str, user: str, role: str) -> None:
        """``role``: read, write, admin or none."""
        self._t.json("PUT", f"{self._p(project)}/access/{segment(user)}", {"role": role})

    # ---- branches, tags, commits ----

    def branches(self, project: str) -> List[dict]:
        return self._t.json("GET", f"{self._p(project)}/branches")["branches"]

    def create_branch(self, project: str, name: str, from_: Optional[str] = None) -> dict:
        body = {"name": name, **({"from": from_} if from_ else {})}
        return self._t.json("POST", f"{self._p(project)}/branches", body)

    def delete_branch(self, project: str, name: str) -> None:
        self._t.json("DELETE", f"{self._p(project)}/branches/{segment(name)}")

    def tags(self, project: str) -> List[dict]:
        return self._t.json("GET", f"{self._p(project)}/tags")["tags"]

    def create_tag(self, project: str, name: str, ref: Optional[str] = None) -> dict:
        body = {"name": name, **({"ref": ref} if ref else {})}
        return self._t.json("POST", f"{self._p(project)}/tags", body)

    def delete_tag(self, project: str, name: str) -> None:
        self._t.json("DELETE", f"{self._p(project)}/tags/{segment(name)}")

    def commits(self, project: str, ref: Optional[str] = None, limit: Optional[int] = None,
                first_parent: Optional[bool] = None) -> List[dict]:
        """Newest first: ``[{"commit", "root", "parents", "author", "message", "time_ms"}]``."""
        q = query({"ref": ref, "limit": limit, "first_parent": first_parent})
        return self._t.json("GET", f"{self._p(project)}/commits{q}")["commits"]

    def commit(self, project: str, commit: str) -> dict:
        return self._t.json("GET", f"{self._p(project)}/commits/{segment(commit)}")

    # ---- the model ----

    def tree(self, project: str, ref: Optional[str] = None) -> dict:
        """``{"commit", "tree": {"root", "nodes": {guid: node}}}`` at ``ref`` (default main)."""
        return self._t.json("GET", f"{self._p(project)}/tree{query({'ref': ref})}")

    def node(self, project: str, guid: str, ref: Optional[str] = None) -> dict:
        """One node with its inherited values."""
        return self._t.json("GET", f"{self._p(project)}/nodes/{segment(guid)}{query({'ref': ref})}")

    def diff(self, project: str, from_: str, to: str) -> List[dict]:
        """The patch operations that make ``to`` from ``from_``."""
        return self._t.json("GET", f"{self._p(project)}/diff{query({'from': from_, 'to': to})}")["ops"]

    def merge(self, project: str, from_: str, into: str, message: Optional[str] = None) -> dict:
        """``{"commit", "up_to_date"}``; a Conflict (409) lists ``conflicts``."""
        body = {"from": from_, "into": into, **({"message": message} if message else {})}
        return self._t.json("POST", f"{self._p(project)}/merge", body)

    def patch(self, project: str, branch: str, ops: List[dict], message: str = "",
              base: Optional[str] = None) -> dict:
        """Applies ``ops`` (docs/patches.md) as one commit: ``{"commit", "parent"}``.

        A patch that breaks a rule raises FailedPrecondition (422) and changes nothing.
        """
        body: Dict[str, Any] = {"message": message, "ops": ops}
        if base:
            body["base"] = base
        return self._t.json("POST", f"{self._p(project)}/branches/{segment(branch)}/patches", body)

    def builder(self, project: str, branch: str = "main") -> PatchBuilder:
        """A PatchBuilder for one patch to ``branch``."""
        return PatchBuilder(self, project, branch)

    def parse_interface(self, project: str, code: str) -> dict:
        """The interface operation code declares (FailedPrecondition with line, column if wrong)."""
        return self._t.json("POST", f"{self._p(project)}/interface/parse", {"code": code})["interface"]

    def update_interface(self, project: str, code: str, interface: dict) -> str:
        """``code`` rewritten to declare ``interface``."""
        return self._t.json("POST", f"{self._p(project)}/interface/update",
                            {"code": code, "interface": interface})["code"]

    def pipelines(self, project: str, ref: Optional[str] = None) -> List[dict]:
        """The pipelines at ``ref``: ``[{"guid", "name"}]``."""
        nodes = self.tree(project, ref)["tree"]["nodes"]
        pipeline = meta_guid("Pipeline")
        return [{"guid": g, "name": n.get("attrs", {}).get("name")} for g, n in nodes.items()
                if n.get("base") == pipeline]

    def pipeline_guid(self, project: str, pipeline: str, ref: Optional[str] = None) -> str:
        """A pipeline's guid from its guid or its name."""
        if _GUID.match(pipeline):
            return pipeline
        found = [p["guid"] for p in self.pipelines(project, ref) if p["name"] == pipeline]
        if len(found) != 1:
            what = "no pipeline" if not found else f"{len(found)} pipelines"
            message = f"{what} named {pipeline!r} in {project} at {ref or 'main'}"
            raise NotFound(404, "NotFound", message, {"code": "NotFound", "message": message})
        return found[0]

    # ---- executions, jobs, events ----

    def run(self, project: str, pipeline: str, ref: str = "main", force: bool = False,
            wait: bool = True, on_event: Optional[EventCallback] = None,
            timeout: Optional[float] = None, poll: float = 0.2) -> Execution:
        """Runs a pipeline (guid or name) at ``ref``; ``force`` re-runs past the cache.

        With ``wait`` the execution is followed to its end (``on_event(job,
        event)`` for each event), else returned as started.  Check
        ``.state`` or call ``.raise_if_failed()``.
        """
        guid = self.pipeline_guid(project, pipeline, ref)
        r = self._t.json("POST", f"{self._p(project)}/executions",
                         {"pipeline": guid, "ref": ref, "force": force})
        ex = self.execution(r["id"])
        return ex.wait(timeout=timeout, on_event=on_event, poll=poll) if wait else ex

    def execution(self, execution_id: str) -> Execution:
        return Execution(self, self._t.json("GET", f"/executions/{segment(execution_id)}"))

    def executions(self, project: str, limit: Optional[int] = None) -> List[dict]:
        """The project's executions, newest first (without their jobs)."""
        return self._t.json("GET", f"{self._p(project)}/executions{query({'limit': limit})}")["executions"]

    # ---- sweeps (docs/sweeps.md) ----

    def sweep(self, project: str, pipeline: str, parameters: Dict[str, Any], mode: str = "grid",
              samples: Optional[int] = None, seed: Optional[int] = None, ref: str = "main",
              wait: bool = False, timeout: Optional[float] = None, poll: float = 1.0) -> dict:
        """Starts a sweep of a pipeline (guid or name) at ``ref``; returns the sweep with its trials.

        ``parameters``: ``{"Train.learning_rate": [0.001, 0.01], "epochs": {"min": 2,
        "max": 10, "steps": 3, "integer": True}}`` — an attribute as ``<operation
        name>.<attribute>``, or bare when one operation of the pipeline has it;
        a list of values or a range.  ``mode``: ``"grid"`` (every combination)
        or ``"random"`` (``samples`` trials; ``seed`` repeats them).  With
        ``wait`` it returns once every trial ended (TimeoutError after
        ``timeout`` s; the sweep goes on).
        """
        if mode not in ("grid", "random"):
            raise ValueError(f"mode is 'grid' or 'random', not {mode!r}")
        if mode == "random" and samples is None:
            raise ValueError("a random sweep needs samples (the number of trials)")
        guid = self.pipeline_guid(project, pipeline, ref)
        body: Dict[str, Any] = {
            "pipeline": guid, "ref": ref, "mode": mode,
            "parameters": resolve_parameters(self.tree(project, ref)["tree"], guid, parameters)}
        if samples is not None:
            body["samples"] = samples
        if seed is not None:
            body["seed"] = seed
        sweep_id = self._t.json("POST", f"{self._p(project)}/sweeps", body)["id"]
        return self.wait_sweep(sweep_id, timeout=timeout, poll=poll) if wait else self.get_sweep(sweep_id)

    def sweeps(self, project: str) -> List[dict]:
        """The project's sweeps, newest first (without their trials)."""
        return self._t.json("GET", f"{self._p(project)}/sweeps")["sweeps"]

    def get_sweep(self, sweep_id: str) -> dict:
        """A sweep with its ``trials``: each one's values, execution, state and final metrics."""
        return self._t.json("GET", f"/sweeps/{segment(sweep_id)}")

    def cancel_sweep(self, sweep_id: str) -> dict:
        """Cancels the sweep's running trials; returns the sweep as it is then."""
        self._t.json("POST", f"/sweeps/{segment(sweep_id)}/cancel")
        return self.get_sweep(sweep_id)

    def wait_sweep(self, sweep_id: str, timeout: Optional[float] = None, poll: float = 1.0) -> dict:
        """The sweep once it is no longer running (TimeoutError after ``timeout`` s)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            sweep = self.get_sweep(sweep_id)
            if sweep.get("state") != "running":
                return sweep
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"sweep {sweep_id} still running after {timeout} s")
            time.sleep(poll)

    def job(self, job_id: str) -> dict:
        return self._t.json("GET", f"/jobs/{segment(job_id)}")

    def rerun_job(self, job_id: str) -> Execution:
        """Re-runs one job past the cache (a new execution, not waited for)."""
        return self.execution(self._t.json("POST", f"/jobs/{segment(job_id)}/rerun")["id"])

    def cancel_job(self, job_id: str) -> None:
        self._t.json("POST", f"/jobs/{segment(job_id)}/cancel")

    def events(self, job_id: str, after: int = 0, kind: Optional[str] = None,
               limit: Optional[int] = None) -> dict:
        """One page of a job's events: ``{"events": [{"seq", "time", "kind", "name", "payload"}], "next"}``."""
        q = query({"after": after, "kind": kind, "limit": limit})
        return self._t.json("GET", f"/jobs/{segment(job_id)}/events{q}")

    def logs(self, job_id: str, after: int = 0) -> dict:
        """Like events, log lines only (``payload.line``, ``payload.stream``)."""
        return self._t.json("GET", f"/jobs/{segment(job_id)}/logs{query({'after': after})}")

    def metrics(self, job_id: str, max_points: Optional[int] = None) -> dict:
        """``{"metrics": {name: [[step, value], ...]}, "points": {name: count}}``."""
        return self._t.json("GET", f"/jobs/{segment(job_id)}/metrics{query({'max_points': max_points})}")

    def figures(self, job_id: str) -> List[dict]:
        return self._t.json("GET", f"/jobs/{segment(job_id)}/figures")["figures"]

    def follow_events(self, job_id: str, after: int = 0, kind: Optional[str] = None,
                      poll: float = 0.2, timeout: Optional[float] = None) -> Iterator[dict]:
        """Yields a job's events as they come, until the job has ended and all are read."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            finished = self.job(job_id)["state"] in _FINAL_JOB  # before reading: none lost
            page = self.events(job_id, after, kind)
            yield from page["events"]
            after = page.get("next", after)
            if page["events"]:
                continue
            if finished:
                return
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still running after {timeout} s")
            time.sleep(poll)

    def _drain_events(self, job: dict, after: int, on_event: EventCallback) -> int:
        """Calls on_event for each event of ``job`` after ``after``; returns the new cursor."""
        while True:
            page = self.events(job["id"], after)
            for event in page["events"]:
                on_event(job, event)
            after = page.get("next", after)
            if not page["events"]:
                return after

    # ---- artifacts ----

    def upload(self, project: str, path: Union[str, os.PathLike], name: Optional[str] = None,
               branch: Optional[str] = None, serializer: Optional[str] = None,
               progress: Optional[Progress] = None) -> dict:
        """Uploads a file as an artifact of the project, streamed (never all in memory).

        ``progress(sent, total)`` is called after each MiB.  Answers ``{"guid",
        "digest", "size", "commit"}`` (the Artifact node, committed to ``branch``).
        """
        path = os.fspath(path)
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            return self._upload(project, f, size, name or os.path.basename(path), branch,
                                serializer, progress)

    def upload_bytes(self, project: str, data: bytes, name: str, branch: Optional[str] = None,
                     serializer: Optional[str] = None) -> dict:
        """Uploads bytes already in memory (small data) as an artifact."""
        return self._upload(project, io.BytesIO(data), len(data), name, branch, serializer, None)

    def _upload(self, project, f, size, name, branch, serializer, progress) -> dict:
        q = query({"name": name, "branch": branch, "serializer": serializer})
        return self._t.json("POST", f"{self._p(project)}/artifacts{q}", file=f, size=size,
                            progress=progress)

    def artifacts(self, project: str, ref: Optional[str] = None, kind: Optional[str] = None,
                  pipeline: Optional[str] = None) -> List[dict]:
        """The project's artifacts (uploads and job outputs), once per digest."""
        q = query({"ref": ref, "kind": kind, "pipeline": pipeline})
        return self._t.json("GET", f"{self._p(project)}/artifacts{q}")["artifacts"]

    def delete_artifact(self, project: str, guid: str, branch: Optional[str] = None,
                        force: bool = False) -> dict:
        q = query({"branch": branch, "force": force or None})
        return self._t.json("DELETE", f"{self._p(project)}/artifacts/{segment(guid)}{q}")

    def download(self, digest: str, path: Union[str, os.PathLike], project: Optional[str] = None,
                 progress: Optional[Progress] = None, verify: bool = True) -> str:
        """Streams an artifact's bytes to ``path``; ``progress(received, total)`` after each MiB.

        With ``verify`` the bytes must hash to ``digest`` (SHA-256), else
        ValueError and no file.  Returns the path.
        """
        q = query({"project": project})
        self._t.download("GET", f"/artifacts/{segment(digest)}{q}", path, progress=progress,
                         sha256=digest if verify else None)
        return os.fspath(path)

    def artifact_bytes(self, digest: str, project: Optional[str] = None) -> bytes:
        """An artifact's bytes in memory (small artifacts; ``download`` streams to a file)."""
        return self._t.bytes("GET", f"/artifacts/{segment(digest)}{query({'project': project})}")

    # ---- provenance, reify, export (docs/provenance.md) ----

    def provenance(self, project: str, digest: str, depth: Optional[int] = None,
                   direction: Optional[str] = None, format: Optional[str] = None) -> dict:
        """An artifact's lineage: ``direction`` up (how it was made), down or both;
        ``format`` json or prov (W3C PROV-JSON)."""
        q = query({"depth": depth, "direction": direction, "format": format})
        return self._t.json("GET", f"{self._p(project)}/artifacts/{segment(digest)}/provenance{q}")

    def reify(self, project: str, digest: str, branch: str, from_: Optional[str] = None,
              name: Optional[str] = None) -> dict:
        """A new branch with a pipeline that makes ``digest`` again:
        ``{"branch", "commit", "pipeline", "jobs", "notes"}``."""
        body: Dict[str, Any] = {"branch": branch}
        if from_:
            body["from"] = from_
        if name:
            body["name"] = name
        return self._t.json("POST", f"{self._p(project)}/artifacts/{segment(digest)}/reify", body)

    def export_pipeline(self, project: str, pipeline: str, path: Union[str, os.PathLike],
                        ref: Optional[str] = None, inputs: Optional[str] = None,
                        progress: Optional[Progress] = None) -> str:
        """A pipeline (guid or name) as a zip of plain Python, streamed to ``path``.

        ``inputs``: ``bundle`` (the input artifacts in the zip) or ``fetch``
        (main.py downloads them).  Returns the path.
        """
        guid = self.pipeline_guid(project, pipeline, ref)
        q = query({"ref": ref, "inputs": inputs})
        self._t.download("GET", f"{self._p(project)}/pipelines/{segment(guid)}/export{q}", path,
                         progress=progress, headers={"Accept": "application/zip"})
        return os.fspath(path)

    def export_project(self, project: str, path: Union[str, os.PathLike],
                       progress: Optional[Progress] = None) -> str:
        """The project's export file (docs/formats.md), streamed to ``path``."""
        self._t.download("GET", f"{self._p(project)}/export", path, progress=progress,
                         headers={"Accept": "application/octet-stream"})
        return os.fspath(path)

    def import_project(self, path: Union[str, os.PathLike], name: str,
                       progress: Optional[Progress] = None) -> dict:
        """A new project ``name`` from an export file, streamed: ``{"name", "objects", "refs"}``."""
        path = os.fspath(path)
        with open(path, "rb") as f:
            return self._t.json("POST", f"/projects/import{query({'name': name})}", file=f,
                                size=os.path.getsize(path), progress=progress)
