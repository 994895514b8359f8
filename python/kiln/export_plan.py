"""The export plan (docs/provenance.md, "Export"): read, checked, and named.

What: ``check(plan) -> Plan`` validates the JSON the server hands to
``python3 -m kiln.export`` and derives everything the writers need: the jobs in
dependency order, each operation's class, outputs and return style (parsed from
its code with ``kiln.interface``, as ``kiln.job`` does), the module each
operation's code goes to (identical code shares one), the Python variable that
holds each value, the command-line option of each attribute and the file of
each input and output.  Any problem is a ``PlanError`` whose message names the
job, edge or field.

Naming rules (documented for users in the generated README):

* operation modules: ``operations/<snake_case class name>.py``; different code
  under the same class name gets ``_2``, ``_3``...
* options: ``--<operation name>-<attribute>`` in kebab case; a second
  operation of the same name is ``--<name>-2-<attribute>``.
* inputs: ``inputs/<Input name as a safe file name>`` (one file per digest);
  outputs: ``<out>/<Output name>``, or ``<out>/<Output name>/<input>`` when
  the Output has several inputs (as the server names the artifacts).

Thread-safety: pure functions over the plan; safe from any thread.
"""
from __future__ import annotations

import builtins
import keyword
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Optional

from .interface import InterfaceError, _parse

__all__ = ["PlanError", "Plan", "Job", "Option", "check", "FORMAT", "safe_file_name"]

FORMAT = "kiln-export-plan/1"
KINDS = ("operation", "input", "output")
INPUTS_MODES = ("bundle", "fetch")
DIGEST = re.compile(r"^[0-9a-f]{64}$")
MODULE_FILE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.py$")
# Module names at the archive's top level a plan's generated files must not take
# (main.py, the kiln shim, the operations package, the inputs folder).
RESERVED_MODULES = {"main", "kiln", "operations", "inputs"}
# Names in --out that the run itself writes.
RESERVED_OUTPUTS = {"figures", "outputs.json", "metrics.jsonl"}
# Options main.py defines itself.
RESERVED_OPTIONS = {"out", "help", "h"}
# Identifiers main.py uses itself (imports, functions, constants).
RESERVED_IDENTIFIERS = {"argparse", "os", "sys", "kiln", "standalone", "HERE", "INPUTS",
                        "TOTAL_STEPS", "parse_args", "run", "main", "args", "steps",
                        "operations", "operation", "parser", "group", "SERVER", "PROJECT"}


class PlanError(Exception):
    """The plan is malformed; the message says where."""


@dataclass
class Option:
    attribute: str
    flag: str        # "--train-epochs"
    dest: str        # "train_epochs"
    type: str        # int | float | bool | str | json
    default: Any


@dataclass
class Job:
    index: int
    name: str
    kind: str
    inputs: list
    outputs: list
    node: str = ""
    code: str = ""
    attributes: dict = field(default_factory=dict)
    resources: dict = field(default_factory=dict)  # reference -> {"file", "class"}
    artifact: Optional[dict] = None
    # derived
    class_name: str = ""
    style: str = "none"          # how execute's returns name the outputs
    module: str = ""             # operations/<module>.py
    class_alias: str = ""        # the name main.py imports the class as
    references: list = field(default_factory=list)
    options: list = field(default_factory=list)
    values: dict = field(default_factory=dict)   # output -> variable in main.py
    feeds: dict = field(default_factory=dict)    # input -> (job index, output)
    input_file: str = ""         # inputs/<name> (Input jobs)
    output_names: dict = field(default_factory=dict)  # input -> name under --out (Outputs)

    @property
    def title(self) -> str:
        if self.kind == "input":
            return f"Input {self.name}"
        if self.kind == "output":
            return f"Output {self.name}"
        return self.name


@dataclass
class Plan:
    raw: dict
    name: str                # the pipeline's name
    folder: str              # the archive's top folder
    project: str
    commit: str
    kiln_version: str
    server: str
    inputs_mode: str
    requirements: str
    jobs: list               # Job, in plan order
    order: list              # job indices in dependency order
    files: dict              # generated file name -> content
    modules: dict            # operation module -> code
    resource_imports: dict   # (file, class) -> alias in main.py


def safe_file_name(text: str, fallback: str) -> str:
    """Letters and digits (any script), ``.-_``; runs of others become ``_``; no leading dot."""
    safe = re.sub(r"[^\w.-]+", "_", str(text)).strip("_")
    safe = safe.lstrip(".")
    return safe or fallback


def _snake(text: str, fallback: str) -> str:
    """ASCII snake_case (accents dropped: "Ünïcode" -> "unicode"), never empty or digit-first."""
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    s = re.sub(r"[^A-Za-z0-9]+", "_", s).strip("_").lower()
    if not s:
        s = fallback
    if s[0].isdigit():
        s = f"{fallback}_{s}"
    return s


def _kebab(text: str, fallback: str) -> str:
    return _snake(text, fallback).replace("_", "-")


class _Names:
    """Hands out unique names: the base, else base + sep + 2, 3..."""

    def __init__(self, taken=()):
        self.taken = set(taken)

    def take(self, base: str, sep: str = "_") -> str:
        name, n = base, 1
        while name in self.taken or keyword.iskeyword(name):
            n += 1
            name = f"{base}{sep}{n}"
        self.taken.add(name)
        return name


def _require(cond: bool, message: str) -> None:
    if not cond:
        raise PlanError(message)


def _string_list(value, what: str) -> list:
    _require(isinstance(value, list) and all(isinstance(v, str) and v for v in value),
             f"{what} must be a list of names")
    _require(len(set(value)) == len(value), f"{what} names a port twice")
    return list(value)


def _option_type(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    return "json"  # lists, dicts, None


def _read_job(i: int, raw) -> Job:
    _require(isinstance(raw, dict), f"jobs[{i}] must be a JSON object")
    name = raw.get("name")
    _require(isinstance(name, str) and name.strip() != "", f"jobs[{i}] has no name")
    where = f"job {i} ({name!r})"
    kind = raw.get("kind", "operation")
    _require(kind in KINDS, f"{where}: unknown kind {kind!r} (expected one of "
                            f"{', '.join(KINDS)})")
    job = Job(index=i, name=name, kind=kind, node=str(raw.get("node", "")),
              inputs=_string_list(raw.get("inputs", []), f"{where}: inputs"),
              outputs=_string_list(raw.get("outputs", []), f"{where}: outputs"))
    if kind == "input":
        art = raw.get("artifact")
        _require(isinstance(art, dict), f"{where}: an Input without artifact")
        digest = art.get("digest")
        _require(isinstance(digest, str) and DIGEST.match(digest) is not None,
                 f"{where}: artifact.digest must be 64 lowercase hex digits")
        serializer = art.get("serializer", "pickle")
        _require(isinstance(serializer, str) and serializer != "",
                 f"{where}: artifact.serializer must be a name")
        _require(len(job.outputs) == 1, f"{where}: an Input has exactly one output "
                                        f"(has {len(job.outputs)})")
        _require(not job.inputs, f"{where}: an Input has no inputs")
        job.artifact = {"digest": digest, "serializer": serializer, "size": art.get("size"),
                        "path": art.get("path")}
    elif kind == "output":
        _require(not job.outputs, f"{where}: an Output has no outputs")
        _require(bool(job.inputs), f"{where}: an Output without inputs")
    else:
        code = raw.get("code")
        _require(isinstance(code, str) and code.strip() != "", f"{where}: no code")
        attributes = raw.get("attributes", {})
        _require(isinstance(attributes, dict), f"{where}: attributes must be a JSON object")
        for key in attributes:
            _require(key.isidentifier() and not keyword.iskeyword(key),
                     f"{where}: attribute {key!r} is not a Python identifier")
        resources = raw.get("resources") or {}
        _require(isinstance(resources, dict), f"{where}: resources must be a JSON object")
        job.code, job.attributes, job.resources = code, dict(attributes), resources
        _parse_operation(job, where)
    return job


def _parse_operation(job: Job, where: str) -> None:
    try:
        parsed = _parse(job.code)
    except InterfaceError as e:
        at = f" (line {e.line})" if e.line else ""
        raise PlanError(f"{where}: its code{at}: {e.message}") from None
    interface = parsed.interface
    job.class_name = interface["name"]
    job.style = parsed.out_style
    returned = [o["name"] for o in interface["outputs"]]
    _require(returned == job.outputs, f"{where}: the plan lists outputs {job.outputs} but "
                                      f"the code returns {returned}")
    params = [p["name"] for p in interface["inputs"]]
    for name in job.inputs:
        _require(name in params, f"{where}: input {name!r} is not a parameter of execute "
                                 f"({', '.join(params) or 'none'})")
    job.references = [r["name"] for r in interface.get("references", [])]
    for ref in job.references:
        entry = job.resources.get(ref)
        _require(isinstance(entry, dict) and isinstance(entry.get("file"), str)
                 and isinstance(entry.get("class"), str) and entry["class"].isidentifier(),
                 f"{where}: the reference {ref!r} has no resource {{\"file\", \"class\"}}")
        _require(ref not in job.attributes, f"{where}: {ref!r} is both an attribute and a "
                                            f"reference")


def _read_edges(raw, jobs: list) -> None:
    _require(isinstance(raw, list), "edges must be a list")
    for k, edge in enumerate(raw):
        where = f"edge {k}"
        _require(isinstance(edge, dict), f"{where} must be a JSON object")
        src, dst = edge.get("from"), edge.get("to")
        for end, value in (("from", src), ("to", dst)):
            _require(isinstance(value, int) and not isinstance(value, bool)
                     and 0 <= value < len(jobs),
                     f"{where}: {end!r} names no job ({value!r}; there are {len(jobs)})")
        out, inp = edge.get("output"), edge.get("input")
        _require(out in jobs[src].outputs, f"{where}: job {src} ({jobs[src].name!r}) has no "
                                           f"output {out!r}")
        _require(inp in jobs[dst].inputs, f"{where}: job {dst} ({jobs[dst].name!r}) has no "
                                          f"input {inp!r}")
        _require(inp not in jobs[dst].feeds, f"{where}: input {inp!r} of job {dst} "
                                             f"({jobs[dst].name!r}) is fed twice")
        jobs[dst].feeds[inp] = (src, out)
    for job in jobs:
        for inp in job.inputs:
            _require(inp in job.feeds, f"job {job.index} ({job.name!r}): input {inp!r} has "
                                       f"no edge feeding it")


def _dependency_order(jobs: list) -> list:
    """Kahn's algorithm, lowest plan index first among the ready jobs (stable output)."""
    waiting = {j.index: {src for src, _ in j.feeds.values()} for j in jobs}
    order = []
    while waiting:
        ready = sorted(i for i, deps in waiting.items() if not deps)
        if not ready:
            raise PlanError("the edges make a cycle: " + _a_cycle(jobs, waiting))
        i = ready[0]
        order.append(i)
        del waiting[i]
        for deps in waiting.values():
            deps.discard(i)
    return order


def _a_cycle(jobs: list, waiting: dict) -> str:
    """One cycle among the jobs Kahn's algorithm could not order, written producer first."""
    path, seen = [], {}
    i = min(waiting)
    while i not in seen:  # every waiting job has a waiting producer: this must loop
        seen[i] = len(path)
        path.append(i)
        i = min(waiting[i])
    cycle = path[seen[i]:][::-1]  # followed consumer -> producer; show the data's way
    start = cycle.index(min(cycle))
    cycle = cycle[start:] + cycle[:start + 1]
    return " -> ".join(f"job {k} ({jobs[k].name!r})" for k in cycle)


def _name_things(plan: Plan) -> None:
    """Modules, class aliases, variables, options, input and output files."""
    idents = _Names(RESERVED_IDENTIFIERS | set(dir(builtins)))
    module_names = _Names({"__init__"})
    by_code = {}
    for (file, cls) in sorted(plan.resource_imports):
        plan.resource_imports[(file, cls)] = idents.take(cls)
    for i in plan.order:
        job = plan.jobs[i]
        if job.kind != "operation":
            continue
        if job.code not in by_code:
            module = module_names.take(_snake(job.class_name, "operation"))
            by_code[job.code] = (module, idents.take(job.class_name))
            plan.modules[module] = job.code
        job.module, job.class_alias = by_code[job.code]
    prefixes = _Names()
    flags = _Names(RESERVED_OPTIONS)
    dests = _Names()
    input_files = _Names()
    by_digest = {}
    out_names = _Names(RESERVED_OUTPUTS)
    for i in plan.order:
        job = plan.jobs[i]
        stem = _snake(job.name, job.kind)
        for out in job.outputs:
            job.values[out] = idents.take(f"{stem}_{_snake(out, 'value')}")
        if job.kind == "operation":
            prefix = prefixes.take(_kebab(job.name, "operation"), "-")
            for attr, value in job.attributes.items():
                flag = flags.take(f"{prefix}-{_kebab(attr, 'attribute')}", "-")
                dest = dests.take(flag.replace("-", "_"))
                job.options.append(Option(attr, "--" + flag, dest, _option_type(value), value))
        elif job.kind == "input":
            digest = job.artifact["digest"]
            if digest not in by_digest:
                by_digest[digest] = input_files.take(safe_file_name(job.name, "input"), "-")
            job.input_file = by_digest[digest]
        else:
            base = out_names.take(safe_file_name(job.name, "output"), "-")
            if len(job.inputs) == 1:
                job.output_names[job.inputs[0]] = base
            else:
                for inp in job.inputs:
                    job.output_names[inp] = f"{base}/{safe_file_name(inp, 'input')}"


def check(plan) -> Plan:
    """Validate ``plan`` (parsed JSON) and derive the names; raises PlanError."""
    _require(isinstance(plan, dict), "the plan must be a JSON object")
    fmt = plan.get("format")
    _require(fmt == FORMAT, f"unknown plan format {fmt!r} (this exporter reads {FORMAT!r})")
    pipeline = plan.get("pipeline")
    _require(isinstance(pipeline, dict) and isinstance(pipeline.get("name"), str),
             "pipeline must be {\"guid\", \"name\"}")
    mode = plan.get("inputs_mode", "bundle")
    _require(mode in INPUTS_MODES, f"unknown inputs_mode {mode!r} (expected bundle or fetch)")
    server = plan.get("server") or ""
    _require(isinstance(server, str), "server must be a URL")
    if mode == "fetch":
        _require(server.startswith(("http://", "https://")),
                 f"inputs_mode fetch needs the server's URL (server is {server!r})")
    files = plan.get("files") or {}
    _require(isinstance(files, dict) and all(isinstance(v, str) for v in files.values()),
             "files must map file names to their text")
    for name in files:
        _require(MODULE_FILE.match(name) is not None and name[:-3] not in RESERVED_MODULES,
                 f"files: {name!r} must be a Python module file name other than "
                 f"{', '.join(sorted(m + '.py' for m in RESERVED_MODULES))}")
    requirements = plan.get("requirements") or ""
    _require(isinstance(requirements, str), "requirements must be text (pip lines)")
    raw_jobs = plan.get("jobs")
    _require(isinstance(raw_jobs, list) and raw_jobs != [], "jobs must be a non-empty list")
    jobs = [_read_job(i, raw) for i, raw in enumerate(raw_jobs)]
    resource_imports = {}
    for job in jobs:
        for ref in job.references:
            entry = job.resources[ref]
            _require(entry["file"] in files, f"job {job.index} ({job.name!r}): reference "
                                             f"{ref!r} needs {entry['file']!r}, which is not "
                                             f"in files")
            resource_imports[(entry["file"], entry["class"])] = ""
    _read_edges(plan.get("edges", []), jobs)
    order = _dependency_order(jobs)
    result = Plan(raw=plan, name=pipeline["name"],
                  folder=safe_file_name(pipeline["name"], "pipeline"),
                  project=str(plan.get("project", "")), commit=str(plan.get("commit", "")),
                  kiln_version=str(plan.get("kiln_version", "")), server=server.rstrip("/"),
                  inputs_mode=mode, requirements=requirements, jobs=jobs, order=order,
                  files=dict(files), modules={}, resource_imports=resource_imports)
    _name_things(result)
    return result
