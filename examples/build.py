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

    /usr/bin/python3 examples/build.py        # rebuild every example
"""
import hashlib
import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "python"))
from kiln.interface import parse_interface  # noqa: E402

NAMESPACE = "kiln-core-meta"  # must match kNamespace in src/model/meta.cc


def derive_guid(a: str, b: str) -> str:
    """DeriveGuid of src/core/guid.cc: SHA-256 of "a/b", shaped as a UUID."""
    d = bytearray(hashlib.sha256(f"{a}/{b}".encode()).digest()[:16])
    d[6] = (d[6] & 0x0F) | 0x50
    d[8] = (d[8] & 0x3F) | 0x80
    h = d.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


ROOT = derive_guid(NAMESPACE, "root")


def meta(name: str) -> str:
    return derive_guid(NAMESPACE, "meta/" + name)


def build(example: pathlib.Path) -> dict:
    spec = json.loads((example / "pipeline.json").read_text())
    name = example.name
    ops = []

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
        create(guid, pipeline, definition, attrs,
               registry={"position": {"x": inst.get("x", 240 * i), "y": inst.get("y", 0)}})
        # The instance's ports are materialized from the definition's.
        instances[inst["id"]] = {key: derive_guid(guid, port) for key, port in ports.items()}
    for src, dst in spec["connections"]:
        src_id, src_port = src.split(".")
        dst_id, dst_port = dst.split(".")
        guid = derive_guid(pipeline, f"connection/{src}->{dst}")
        create(guid, pipeline, meta("Connection"), {},
               pointers={"src": instances[src_id][("output", src_port)],
                         "dst": instances[dst_id][("input", dst_port)]})
    return {"message": spec.get("description", f"The {name} example"), "ops": ops}


def main():
    for example in sorted(p for p in HERE.iterdir() if (p / "pipeline.json").exists()):
        patch = build(example)
        (example / "project.json").write_text(json.dumps(patch, indent=1) + "\n")
        print(f"{example.name}: {len(patch['ops'])} operations → {example / 'project.json'}")


if __name__ == "__main__":
    main()
