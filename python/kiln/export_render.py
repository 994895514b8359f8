"""The text of an exported pipeline's ``main.py`` and ``README.md``.

What: ``main_py(plan, date)`` writes the pipeline out as a readable script —
one block per step in dependency order, each operation constructed with its
attributes (``argparse`` options defaulting to the pipeline's values) and its
``execute`` called with the values of the steps that feed it — and
``readme(plan, date)`` says how to run it, its options, what it makes and where
it came from.  ``plan`` is a checked ``kiln.export_plan.Plan`` (all names are
already unique and valid); nothing here reads files.

Thread-safety: pure functions; safe from any thread.
"""
from __future__ import annotations

import ast
import json
import math
import sys
import urllib.parse

from .export_plan import Plan

__all__ = ["main_py", "readme", "imported_packages"]

TYPE_EXPR = {"int": "int", "float": "float", "str": "str", "bool": "standalone.parse_bool",
             "json": "standalone.parse_json"}
TYPE_WORD = {"int": "integer", "float": "number", "str": "text", "bool": "true/false",
             "json": "JSON"}


def _lit(value) -> str:
    """A JSON value as Python source, strings in double quotes (JSON's escapes are Python's)."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_lit(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_lit(str(k))}: {_lit(v)}" for k, v in value.items()) + "}"
    if isinstance(value, float) and not math.isfinite(value):
        return f'float("{value}")'  # Python's json reads NaN and Infinity
    return repr(value)  # None, bool, int, float


def _help(text: str) -> str:
    return text.replace("%", "%%")  # argparse formats help strings with %


def _docstring_safe(text: str) -> str:
    """One line that cannot end main.py's docstring or start an escape in it."""
    return " ".join(str(text).split()).replace("\\", "/").replace('"', "'")


def _header(plan: Plan, date: str) -> list:
    commit = _docstring_safe(plan.commit[:12]) or "unknown"
    return [
        "#!/usr/bin/env python3",
        f'"""{_docstring_safe(plan.name)}: a Kiln pipeline exported as plain Python.',
        "",
        f"Project {_docstring_safe(plan.project) or '?'}, commit {commit}, exported by Kiln "
        f"{_docstring_safe(plan.kiln_version) or '?'} on {date}.",
        "Runs the pipeline's steps in dependency order; every operation attribute is an",
        "option (python3 main.py --help). Exit status: 0 done, 1 a step failed, 2 an",
        "input artifact is missing or wrong. See README.md.",
        '"""',
    ]


def main_py(plan: Plan, date: str) -> str:
    lines = _header(plan, date)
    lines += [
        "import argparse",
        "import os",
        "import sys",
        "",
        "HERE = os.path.dirname(os.path.abspath(__file__))",
        'INPUTS = os.path.join(HERE, "inputs")',
        "sys.path.insert(0, HERE)  # this folder's kiln shim, operations/ and architectures",
        "# Figures are saved as PNG under --out/figures; set MPLBACKEND to show them instead.",
        'os.environ.setdefault("MPLBACKEND", "Agg")',
        "",
        "from kiln import standalone  # noqa: E402",
    ]
    for (file, cls), alias in sorted(plan.resource_imports.items()):
        module = file[:-3]
        as_ = f" as {alias}" if alias != cls else ""
        lines.append(f"from {module} import {cls}{as_}  # noqa: E402")
    seen = set()
    for i in plan.order:
        job = plan.jobs[i]
        if job.kind == "operation" and job.module not in seen:
            seen.add(job.module)
            as_ = f" as {job.class_alias}" if job.class_alias != job.class_name else ""
            lines.append(f"from operations.{job.module} import {job.class_name}{as_}"
                         "  # noqa: E402")
    lines += ["", f"TOTAL_STEPS = {len(plan.jobs)}"]
    if plan.inputs_mode == "fetch":
        lines += [f"SERVER = {_lit(plan.server)}  # inputs are downloaded from here",
                  f"PROJECT = {_lit(plan.project)}"]
    lines += ["", ""] + _parse_args(plan) + ["", ""] + _run(plan) + ["", ""] + [
        "def main(argv=None):",
        "    return standalone.main(run, parse_args(argv), TOTAL_STEPS)",
        "",
        "",
        'if __name__ == "__main__":',
        "    sys.exit(main())",
        "",
    ]
    return "\n".join(lines)


def _parse_args(plan: Plan) -> list:
    lines = [
        "def parse_args(argv=None):",
        "    parser = argparse.ArgumentParser(",
        f"        description={_lit(_help(f'Runs the Kiln pipeline {plan.name!r}.'))},",
        "        formatter_class=argparse.ArgumentDefaultsHelpFormatter)",
        '    parser.add_argument("--out", default="outputs",',
        '                        help="folder for the outputs, figures and metrics")',
    ]
    for i in plan.order:
        job = plan.jobs[i]
        if not job.options:
            continue
        about = _help(f"attributes of {job.class_name} (operations/{job.module}.py)")
        lines.append(f"    group = parser.add_argument_group({_lit(_help(job.name))}, "
                     f"{_lit(about)})")
        for opt in job.options:
            lines.append(f"    group.add_argument({_lit(opt.flag)}, dest={_lit(opt.dest)}, "
                         f"type={TYPE_EXPR[opt.type]},")
            help_text = _help(f"{opt.attribute} ({TYPE_WORD[opt.type]})")
            lines.append(f"                       default={_lit(opt.default)}, "
                         f"help={_lit(help_text)})")
    lines.append("    return parser.parse_args(argv)")
    return lines


def _value_of(plan: Plan, job, inp: str) -> str:
    src, out = job.feeds[inp]
    return plan.jobs[src].values[out]


def _run(plan: Plan) -> list:
    lines = ["def run(args, steps):"]
    for n, i in enumerate(plan.order):
        job = plan.jobs[i]
        if n:
            lines.append("")
        if job.kind == "input":
            art = job.artifact
            path = f"os.path.join(INPUTS, {_lit(job.input_file)})"
            lines.append(f"    steps.step({_lit(job.title)})")
            call = (f"    {job.values[job.outputs[0]]} = standalone.load_input(\n"
                    f"        {_lit(job.name)}, {path},\n"
                    f"        {_lit(art['digest'])}, {_lit(art['serializer'])}")
            if plan.inputs_mode == "fetch":
                call += (f",\n        url=SERVER + {_lit('/api/v1/artifacts/' + art['digest'])}"
                         f' + "?project=" + {_lit(urllib.parse.quote(plan.project, safe=""))}')
            lines.append(call + ")")
        elif job.kind == "output":
            lines.append(f"    steps.step({_lit(job.title)})")
            for inp in job.inputs:
                lines.append(f"    steps.save_output({_lit(job.output_names[inp])}, "
                             f"{_value_of(plan, job, inp)})")
        else:
            lines += _operation_step(plan, job)
    return lines


def _operation_step(plan: Plan, job) -> list:
    lines = [f"    steps.step({_lit(job.title)}, {_lit(job.name)})"]
    kwargs = [f"{opt.attribute}=args.{opt.dest}" for opt in job.options]
    for ref in job.references:
        entry = job.resources[ref]
        kwargs.append(f"{ref}={plan.resource_imports[(entry['file'], entry['class'])]}")
    lines.append(_call(f"    operation = {job.class_alias}(", kwargs, ")"))
    inputs = [f"{inp}={_value_of(plan, job, inp)}" for inp in job.inputs]
    execute = _call("        operation.execute(", inputs, "),", indent="            ")
    names = [job.values[o] for o in job.outputs]
    target = ", ".join(names) + " = " if names else ""
    lines.append(f"    {target}steps.collect(")
    lines.append(execute)
    lines.append(f"        {_lit(job.outputs)}, {_lit(job.style)})")
    return lines


def _call(head: str, args: list, tail: str, indent: str = "        ") -> str:
    one_line = head + ", ".join(args) + tail
    if len(one_line) <= 99:
        return one_line
    return head + "\n" + "".join(f"{indent}{a},\n" for a in args) + indent[:-4] + tail


def imported_packages(codes) -> list:
    """Top-level packages the operations import, other than kiln and the standard library."""
    names = set()
    for code in codes:
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    stdlib = getattr(sys, "stdlib_module_names", set())
    return sorted(n for n in names if n != "kiln" and n not in stdlib
                  and not n.startswith("kiln_architecture_"))


def readme(plan: Plan, date: str) -> str:
    ops = [plan.jobs[i] for i in plan.order if plan.jobs[i].kind == "operation"]
    out = [f"# {plan.name}", "",
           f"The Kiln pipeline **{plan.name}** as plain Python: `main.py` runs its "
           f"{len(plan.jobs)} steps in dependency order without Kiln installed.", "",
           "## Run it", "", "```",
           ]
    if plan.requirements.strip():
        out.append("python3 -m pip install -r requirements.txt")
    out += ["python3 main.py                 # outputs go to ./outputs",
            "python3 main.py --help          # every attribute is an option",
            "python3 main.py --out results   # another output folder", "```", ""]
    packages = imported_packages(plan.modules.values())
    if packages:
        out += [f"The operations import {', '.join(f'`{p}`' for p in packages)}; "
                "install them first.", ""]
    if plan.inputs_mode == "fetch":
        out += [f"The input artifacts are downloaded from {plan.server} on the first run "
                "(checked against their SHA-256, kept in `inputs/`); set `KILN_TOKEN` to "
                "a Kiln API token when the server asks for one.", ""]
    out += ["## Steps", ""]
    for n, i in enumerate(plan.order, 1):
        job = plan.jobs[i]
        if job.kind == "input":
            art = job.artifact
            what = (f"loads `inputs/{job.input_file}` (artifact `{art['digest'][:12]}…`, "
                    f"serializer `{art['serializer']}`)")
        elif job.kind == "output":
            what = "saves " + ", ".join(f"`<out>/{p}`" for p in job.output_names.values())
        else:
            what = f"`{job.class_name}` from `operations/{job.module}.py`"
        out.append(f"{n}. **{job.title}**: {what}")
    out += ["", "## Options", ""]
    options = [(job, opt) for job in ops for opt in job.options]
    if options:
        out += ["| option | operation | attribute | type | default |", "|---|---|---|---|---|"]
        for job, opt in options:
            out.append(f"| `{opt.flag}` | {_cell(job.name)} | `{opt.attribute}` | "
                       f"{TYPE_WORD[opt.type]} | `{_cell(_json(opt.default))}` |")
    else:
        out.append("The operations have no attributes.")
    out += ["", "`--out DIR` (default `outputs`, relative to the current folder) receives:", "",
            "- what each Output step receives, saved with Kiln's serializers (no file "
            "extension; an Output with several inputs is a folder `<Output>/<input>`); "
            "`outputs.json` lists each with its serializer, SHA-256 and size, and "
            "`kiln.serializers.load(path, serializer)` (in `kiln/`) reads it back;",
            "- `figures/<operation>-<n>.png`: the matplotlib figures an operation left open;",
            "- `metrics.jsonl`: every `kiln.log_metric` call, one JSON object a line.", "",
            "Exit status: 0 done, 1 a step failed (its traceback is printed), 2 an input "
            "artifact is missing, changed or cannot be downloaded.", "",
            "## Files", "",
            "- `main.py`: the pipeline (edit it freely);",
            "- `operations/`: the operations' code, as in the pipeline;"]
    if plan.files:
        out.append("- " + ", ".join(f"`{f}`" for f in sorted(plan.files))
                   + ": generated code of the architectures the operations reference;")
    out.append("- `kiln/`: a small stand-in for Kiln's `kiln` package (metrics and progress "
               "print to the console; `kiln/serializers.py` is Kiln's own);")
    if any(job.kind == "input" for job in plan.jobs):
        out.append("- `inputs/`: the input artifacts"
                   + (" (downloaded on the first run)." if plan.inputs_mode == "fetch" else "."))
    out += ["", "## Provenance", "",
            f"- project: `{plan.project or '?'}`",
            f"- commit: `{plan.commit or '?'}`",
            f"- pipeline: {plan.name} (`{plan.raw['pipeline'].get('guid', '?')}`)",
            f"- Kiln version: {plan.kiln_version or '?'}",
            f"- exported: {date}", ""]
    return "\n".join(out)


def _json(value) -> str:
    return json.dumps(value)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
