#!/usr/bin/env python3
"""Builds examples/<name>/project.json — the patch `kiln serve` applies to a new
project — from the example's operation files and its pipeline.json.

Each operation file becomes an Operation definition (attributes "name" and
"code", plus its typed attributes with their defaults) with one Port child per
input and output; its interface is parsed from the code by kiln.interface.
pipeline.json names the pipeline's operation instances and their connections;
instances inherit their definition's ports (derived guids, docs/patches.md).
An instance {"input": "FILE"} is an Input bound to examples/<name>/data/FILE
(an Artifact node of the project with the file's SHA-256; `kiln serve` puts
the example's data files into the artifact store), {"output": true} an Output;
both have one port named "data" (docs/execution.md, "Plan").

An example may also have architectures/*.json (architecture documents,
docs/nn.md): each architecture of each file (main and blocks) becomes an
Architecture node of the PyTorch library under a Folder "Architectures", in the
tree form of docs/libraries.md (architecture_tree.py), and project.json gets
"libraries": ["torch"] so that `kiln serve` adds the library's meta types first.
An instance's "references": {"net": "DigitsCNN"} sets its pointer "net" to that
architecture. An example needs pipeline.json, architectures/ or both.

    /usr/bin/python3 examples/build.py        # rebuild every example
"""
import hashlib
import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "python"))
sys.path.insert(0, str(HERE))
from kiln.interface import parse_interface  # noqa: E402

from architecture_tree import architecture_ops  # noqa: E402
from guids import ROOT, derive_guid, meta  # noqa: E402,F401  (tests use build.derive_guid)


def build(example: pathlib.Path) -> dict:
    name = example.name
    ops = []
    # Architectures first: pipeline instances point at them.
    arch_files = sorted((example / "architectures").glob("*.json"))
    architectures = architecture_ops(name, arch_files, ops) if arch_files else {}
    if not (example / "pipeline.json").exists():
        # An example of architectures only says what it is in description.txt.
        about = example / "description.txt"
        message = about.read_text().strip() if about.exists() else f"The {name} example"
        return _patch(message, ops, bool(arch_files))
    spec = json.loads((example / "pipeline.json").read_text())

    def create(guid, parent, base, attrs=None, registry=None, pointers=None):
        op = {"op": "create", "guid": guid, "parent": parent, "base": base,
              "attrs": attrs or {}}
        if registry:
            op["registry"] = registry
        if pointers:
            op["pointers"] = pointers
        ops.append(op)

    library = derive_guid(name, "folder/operations")
    create(library, ROOT, meta("Folder"), {"name": "Operations"})
    definitions = {}  # operation name → (guid, {port name: port guid})
    for path in sorted((example / "operations").glob("*.py")):
        code = path.read_text()
        interface = parse_interface(code)
        op_name = interface["name"]
        guid = derive_guid(name, "operation/" + op_name)
        attrs = {"name": op_name, "code": code}
        for attribute in interface["attributes"]:
            attrs[attribute["name"]] = attribute.get("default")
        # The server keeps attributes sorted by name; the editor lists them in
        # the code's order, kept as editor data (web/src/model/attributeOrder.ts).
        order = [a["name"] for a in interface["attributes"]]
        create(guid, library, meta("Operation"), attrs,
               registry={"attributeOrder": order} if len(order) >= 2 else None)
        ports = {}
        for direction, key in (("input", "inputs"), ("output", "outputs")):
            for port in interface[key]:
                port_guid = derive_guid(guid, f"{direction}/{port['name']}")
                create(port_guid, guid, meta("Port"),
                       {"name": port["name"], "direction": direction,
                        "dataType": port.get("type", "any")})
                ports[(direction, port["name"])] = port_guid
        definitions[op_name] = (guid, ports)

    # Input and Output definitions, when the pipeline has such instances.
    for kind in ("input", "output"):
        if not any(kind in inst for inst in spec["operations"]):
            continue
        guid = derive_guid(name, "operation/" + kind.capitalize())
        attrs = {"name": kind.capitalize(), "kind": kind}
        create(guid, library, meta("Operation"), attrs)
        direction = "output" if kind == "input" else "input"
        port_guid = derive_guid(guid, f"{direction}/data")
        create(port_guid, guid, meta("Port"),
               {"name": "data", "direction": direction, "dataType": "any"})
        definitions[kind] = (guid, {(direction, "data"): port_guid})

    # The example's data files, as uploaded artifacts the Inputs are bound to.
    artifacts = {}
    for inst in spec["operations"]:
        if "input" not in inst:
            continue
        data = (example / "data" / inst["input"]).read_bytes()
        if not artifacts:
            create(derive_guid(ROOT, "kiln-artifacts"), ROOT, meta("Folder"), {"name": "Artifacts"})
        digest = hashlib.sha256(data).hexdigest()
        artifacts[inst["input"]] = digest
        create(derive_guid(name, "artifact/" + inst["input"]), derive_guid(ROOT, "kiln-artifacts"),
               meta("Artifact"), {"name": inst["input"], "digest": digest, "size": len(data),
                                  "serializer": "raw", "uploaded_by": "kiln examples"})

    pipeline = derive_guid(name, "pipeline/" + spec["name"])
    create(pipeline, ROOT, meta("Pipeline"), {"name": spec["name"]})
    instances = {}
    for i, inst in enumerate(spec["operations"]):
        kind = "input" if "input" in inst else "output" if "output" in inst else None
        definition, ports = definitions[kind or inst["operation"]]
        guid = derive_guid(pipeline, "instance/" + inst["id"])
        attrs = dict(inst.get("attributes", {}))
        attrs["name"] = inst.get("label", inst.get("operation", kind and kind.capitalize()))
        if kind == "input":
            attrs.update(artifact=artifacts[inst["input"]], serializer="raw")
        pointers = {}
        for ref, arch in inst.get("references", {}).items():
            if arch not in architectures:
                raise SystemExit(f"{name}: instance {inst['id']!r} references {arch!r}, which "
                                 f"is no architecture of {example / 'architectures'}")
            pointers[ref] = architectures[arch]
        create(guid, pipeline, definition, attrs,
               registry={"position": {"x": inst.get("x", 240 * i), "y": inst.get("y", 0)}},
               pointers=pointers)
        # The instance's ports are materialized from the definition's.
        instances[inst["id"]] = {key: derive_guid(guid, port) for key, port in ports.items()}
    for src, dst in spec["connections"]:
        src_id, src_port = src.split(".")
        dst_id, dst_port = dst.split(".")
        guid = derive_guid(pipeline, f"connection/{src}->{dst}")
        create(guid, pipeline, meta("Connection"), {},
               pointers={"src": instances[src_id][("output", src_port)],
                         "dst": instances[dst_id][("input", dst_port)]})
    return _patch(spec.get("description", f"The {name} example"), ops, bool(arch_files))


def _patch(message: str, ops: list, uses_torch: bool) -> dict:
    # "libraries" first: `kiln serve` applies the library's meta patch before the ops.
    return {**({"libraries": ["torch"]} if uses_torch else {}), "message": message, "ops": ops}


def main():
    for example in sorted(p for p in HERE.iterdir()
                          if (p / "pipeline.json").exists() or (p / "architectures").is_dir()):
        patch = build(example)
        (example / "project.json").write_text(json.dumps(patch, indent=1) + "\n")
        print(f"{example.name}: {len(patch['ops'])} operations → {example / 'project.json'}")


if __name__ == "__main__":
    main()
