"""PatchBuilder: common model edits as patch operations (docs/patches.md), for kiln.client.

What: a builder collects the ``ops`` of ONE patch — operation definitions made
from code (ports and attribute defaults from the server's interface parser),
pipelines, operation instances, Inputs bound to artifacts, Outputs,
connections, attribute and pointer edits — and ``commit()`` sends them as one
commit, so either all of it applies or nothing does.  The shapes are those the
editor and ``examples/build.py`` make:

* a definition is a node based on the meta type ``Operation`` with attributes
  ``name``, ``code`` and one per constructor parameter (its default), and one
  ``Port`` child per input and output (``name``, ``direction``, ``dataType``);
* an instance is a child of the pipeline whose base is the definition; the
  server gives it one inheriting port per definition port, at the guid
  ``derive_guid(instance, definition port)``, which is how ``connect`` names
  the ends of a connection;
* Input and Output definitions (attribute ``kind``) are the editor's own, at
  ``derive_guid(root, "kiln-data/input")`` (``/output``), made the first time
  one is needed (docs/execution.md, "Plan").

The builder reads the branch's tree (once, lazily) only for what it must look
up: existing definitions and their ports, the Operations folder, whether the
Input/Output definitions exist.  Guids of new nodes are random UUIDs, those of
their ports derived.  A builder is meant for one thread and one patch.
"""
from __future__ import annotations

import hashlib
import uuid
from typing import Any, Dict, List, Optional, Tuple, Union

__all__ = ["PatchBuilder", "Definition", "Instance", "derive_guid", "meta_guid", "ROOT_GUID"]

_NAMESPACE = "kiln-core-meta"  # kNamespace of src/model/meta.cc


def derive_guid(a: str, b: str) -> str:
    """DeriveGuid of src/core/guid.cc: SHA-256 of "a/b", shaped as a version-5-style UUID."""
    d = bytearray(hashlib.sha256(f"{a}/{b}".encode()).digest()[:16])
    d[6] = (d[6] & 0x0F) | 0x50
    d[8] = (d[8] & 0x3F) | 0x80
    h = d.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


ROOT_GUID = derive_guid(_NAMESPACE, "root")


def meta_guid(name: str) -> str:
    """The guid of a core meta type: Folder, Operation, Port, Connection, Pipeline, Artifact..."""
    return derive_guid(_NAMESPACE, "meta/" + name)


# What an Input / Output definition is (web/src/pipeline/data.ts DATA_OPERATIONS).
_DATA = {
    "input": ("Input", "Data from an artifact of the project: an upload or an output of a run",
              "output"),
    "output": ("Output", "Stores what flows in as an artifact of the project, under its name",
               "input"),
}
_DATA_PORT = "data"


class Definition:
    """An operation definition: its guid, name and ports ``{(direction, name): port guid}``."""

    def __init__(self, guid: str, name: str, ports: Dict[Tuple[str, str], str]):
        self.guid, self.name, self.ports = guid, name, ports

    def __repr__(self):
        return f"Definition({self.name!r}, {self.guid})"


class Instance:
    """An operation instance in a pipeline; ``input(name)`` / ``output(name)`` give its port guids."""

    def __init__(self, guid: str, name: str, definition: Definition, pipeline: str):
        self.guid, self.name, self.definition, self.pipeline = guid, name, definition, pipeline

    def port(self, direction: str, name: str) -> str:
        key = (direction, name)
        if key not in self.definition.ports:
            have = ", ".join(f"{d} {n}" for d, n in sorted(self.definition.ports)) or "none"
            raise KeyError(f"{self.name!r} ({self.definition.name}) has no {direction} "
                           f"{name!r}; its ports: {have}")
        return derive_guid(self.guid, self.definition.ports[key])

    def input(self, name: str) -> str:
        return self.port("input", name)

    def output(self, name: str) -> str:
        return self.port("output", name)

    def __repr__(self):
        return f"Instance({self.name!r} of {self.definition.name!r}, {self.guid})"


Node = Union[str, Definition, Instance]


def _guid(node: Node) -> str:
    return node if isinstance(node, str) else node.guid


class PatchBuilder:
    """Collects the operations of one patch to ``project``'s ``branch``.

    ``client`` (a kiln.Client) parses operation code and reads the branch's
    tree when needed; ``tree`` (the ``tree`` object of GET /tree) may be given
    instead of reading it.
    """

    def __init__(self, client=None, project: Optional[str] = None, branch: str = "main",
                 tree: Optional[dict] = None):
        self.client, self.project, self.branch = client, project, branch
        self._tree = tree
        self.ops: List[dict] = []
        self._created: Dict[str, dict] = {}  # guid → its create op (nodes of this patch)
        self._definitions: Dict[str, Definition] = {}
        self._instances_in: Dict[str, int] = {}  # pipeline → instances placed (for positions)
        self._folder: Optional[str] = None

    # ---- reading what is there ----

    @property
    def tree(self) -> dict:
        if self._tree is None:
            if self.client is None or self.project is None:
                raise ValueError("this PatchBuilder has neither a tree nor a client and project "
                                 "to read one from")
            self._tree = self.client.tree(self.project, ref=self.branch)["tree"]
        return self._tree

    def definition(self, which: Union[str, Definition]) -> Definition:
        """An operation definition of this patch or of the branch, by guid or by name."""
        if isinstance(which, Definition):
            return which
        if which in self._definitions:
            return self._definitions[which]
        for d in self._definitions.values():
            if d.name == which:
                return d
        nodes = self.tree["nodes"]
        guid = which if which in nodes else None
        if guid is None:
            named = [g for g, n in nodes.items() if n.get("attrs", {}).get("name") == which
                     and not n.get("registry", {}).get("isMeta")
                     and ("code" in n.get("attrs", {}) or "kind" in n.get("attrs", {}))
                     and not self._in_pipeline(g)]
            if len(named) != 1:
                what = "no operation definition" if not named else \
                    f"{len(named)} operation definitions ({', '.join(sorted(named))})"
                raise KeyError(f"{what} named {which!r} in {self.project}/{self.branch}; "
                               "pass a guid")
            guid = named[0]
        node = nodes[guid]
        ports = {}
        for child in node.get("children", []):
            attrs = nodes.get(child, {}).get("attrs", {})
            if attrs.get("direction") in ("input", "output") and "name" in attrs:
                ports[(attrs["direction"], attrs["name"])] = child
        d = Definition(guid, node.get("attrs", {}).get("name", guid), ports)
        self._definitions[guid] = d
        return d

    def _in_pipeline(self, guid: str) -> bool:
        nodes = self.tree["nodes"]
        parent = nodes.get(guid, {}).get("parent")
        return parent is not None and nodes.get(parent, {}).get("base") == meta_guid("Pipeline")

    # ---- the operations ----

    def create(self, parent: Node, base: Optional[Node], attrs: Optional[dict] = None, *,
               guid: Optional[str] = None, pointers: Optional[dict] = None,
               registry: Optional[dict] = None, index: Optional[int] = None) -> str:
        """A ``create`` op (any node); returns the new node's guid."""
        guid = guid or str(uuid.uuid4())
        op: Dict[str, Any] = {"op": "create", "guid": guid, "parent": _guid(parent),
                              "base": None if base is None else _guid(base), "attrs": attrs or {}}
        if pointers:
            op["pointers"] = {k: None if v is None else _guid(v) for k, v in pointers.items()}
        if registry:
            op["registry"] = registry
        if index is not None:
            op["index"] = index
        self.ops.append(op)
        self._created[guid] = op
        return guid

    def set_attr(self, node: Node, name: str, value: Any) -> "PatchBuilder":
        self.ops.append({"op": "set_attr", "node": _guid(node), "name": name, "value": value})
        return self

    def del_attr(self, node: Node, name: str) -> "PatchBuilder":
        self.ops.append({"op": "del_attr", "node": _guid(node), "name": name})
        return self

    def set_pointer(self, node: Node, name: str, target: Optional[Node]) -> "PatchBuilder":
        self.ops.append({"op": "set_pointer", "node": _guid(node), "name": name,
                         "target": None if target is None else _guid(target)})
        return self

    def set_registry(self, node: Node, name: str, value: Any) -> "PatchBuilder":
        self.ops.append({"op": "set_registry", "node": _guid(node), "name": name, "value": value})
        return self

    def move(self, node: Node, parent: Node, index: Optional[int] = None) -> "PatchBuilder":
        op = {"op": "move", "node": _guid(node), "parent": _guid(parent)}
        if index is not None:
            op["index"] = index
        self.ops.append(op)
        return self

    def delete(self, node: Node) -> "PatchBuilder":
        self.ops.append({"op": "delete", "node": _guid(node)})
        return self

    def add_folder(self, name: str, parent: Optional[Node] = None) -> str:
        return self.create(parent or ROOT_GUID, meta_guid("Folder"), {"name": name})

    def operations_folder(self) -> str:
        """The root's folder "Operations" (made in this patch when the branch has none)."""
        if self._folder is None:
            nodes = self.tree["nodes"]
            root = nodes.get(self.tree.get("root", ROOT_GUID), {})
            for child in root.get("children", []):
                n = nodes.get(child, {})
                if n.get("attrs", {}).get("name") == "Operations" and n.get("base") == meta_guid("Folder"):
                    self._folder = child
                    break
            else:
                self._folder = self.add_folder("Operations")
        return self._folder

    def add_operation(self, name: Optional[str], code: str, folder: Optional[Node] = None,
                      interface: Optional[dict] = None) -> Definition:
        """An operation definition from its code: ports and attribute defaults as the code declares.

        The interface comes from the server (POST /interface/parse, which
        raises FailedPrecondition with line and column for wrong code) unless
        given.  ``name`` None: the class name.
        """
        if interface is None:
            if self.client is None:
                raise ValueError("add_operation needs a client to parse the code, or interface=")
            interface = self.client.parse_interface(self.project, code)
        name = name or interface["name"]
        references = {r["name"] for r in interface.get("references", [])}
        params = [a for a in interface.get("attributes", []) if a["name"] not in references]
        attrs = {"name": name, "code": code}
        for a in params:
            attrs[a["name"]] = a.get("default")
        order = [a["name"] for a in params]
        guid = self.create(folder or self.operations_folder(), meta_guid("Operation"), attrs,
                           registry={"attributeOrder": order} if len(order) >= 2 else None)
        ports = {}
        for direction, key in (("input", "inputs"), ("output", "outputs")):
            for port in interface.get(key, []):
                ports[(direction, port["name"])] = self.create(
                    guid, meta_guid("Port"),
                    {"name": port["name"], "direction": direction,
                     "dataType": port.get("type") or "any"},
                    guid=derive_guid(guid, f"{direction}/{port['name']}"))
        d = Definition(guid, name, ports)
        self._definitions[guid] = d
        return d

    def data_definition(self, kind: str) -> Definition:
        """The project's Input (``kind="input"``) or Output definition, made when missing."""
        if kind not in _DATA:
            raise ValueError(f"kind must be 'input' or 'output', not {kind!r}")
        guid = derive_guid(self.tree.get("root", ROOT_GUID), f"kiln-data/{kind}")
        if guid in self._definitions:
            return self._definitions[guid]
        if guid in self.tree["nodes"]:
            return self.definition(guid)
        for g, n in self.tree["nodes"].items():  # one a script made elsewhere
            if n.get("attrs", {}).get("kind") == kind and not self._in_pipeline(g):
                return self.definition(g)
        name, description, direction = _DATA[kind]
        self.create(self.operations_folder(), meta_guid("Operation"),
                    {"name": name, "kind": kind, "description": description}, guid=guid)
        port = self.create(guid, meta_guid("Port"),
                           {"name": _DATA_PORT, "direction": direction, "dataType": "any"},
                           guid=derive_guid(guid, f"{direction}/{_DATA_PORT}"))
        d = Definition(guid, name, {(direction, _DATA_PORT): port})
        self._definitions[guid] = d
        return d

    def add_pipeline(self, name: str, parent: Optional[Node] = None) -> str:
        return self.create(parent or ROOT_GUID, meta_guid("Pipeline"), {"name": name})

    def add_instance(self, pipeline: Node, definition: Union[str, Definition],
                     attrs: Optional[dict] = None, name: Optional[str] = None,
                     pointers: Optional[dict] = None,
                     position: Optional[Tuple[int, int]] = None) -> Instance:
        """An instance of ``definition`` (a Definition, guid or name) in ``pipeline``.

        ``attrs`` override the definition's attribute values; ``pointers`` set
        references (``{"net": architecture guid}``).
        """
        d = self.definition(definition)
        pipeline = _guid(pipeline)
        n = self._instances_in.get(pipeline, 0)
        self._instances_in[pipeline] = n + 1
        x, y = position or (260 * n, 80)
        name = name or d.name
        guid = self.create(pipeline, d.guid, {**(attrs or {}), "name": name}, pointers=pointers,
                           registry={"position": {"x": int(x), "y": int(y)}})
        return Instance(guid, name, d, pipeline)

    def add_input(self, pipeline: Node, digest: str, name: Optional[str] = None,
                  serializer: str = "raw") -> Instance:
        """An Input bound to the artifact ``digest`` (an upload is ``raw``: the job gets its bytes)."""
        if not (isinstance(digest, str) and len(digest) == 64
                and all(c in "0123456789abcdef" for c in digest)):
            raise ValueError(f"an Input needs an artifact digest (64 lowercase hex), not {digest!r}")
        return self.add_instance(pipeline, self.data_definition("input"),
                                 {"artifact": digest, "serializer": serializer},
                                 name=name or "Input")

    def add_output(self, pipeline: Node, name: str = "Output") -> Instance:
        """An Output: what flows into it becomes an artifact of the project named ``name``."""
        return self.add_instance(pipeline, self.data_definition("output"), name=name)

    def connect(self, src: Instance, output: str, dst: Instance, input: str) -> str:
        """A connection from ``src``'s output to ``dst``'s input (both in the same pipeline)."""
        if src.pipeline != dst.pipeline:
            raise ValueError(f"{src.name!r} and {dst.name!r} are in different pipelines")
        return self.create(src.pipeline, meta_guid("Connection"), {},
                           pointers={"src": src.output(output), "dst": dst.input(input)})

    # ---- the patch ----

    def patch(self, message: str = "", base: Optional[str] = None) -> dict:
        """The patch document (docs/patches.md)."""
        p: Dict[str, Any] = {"message": message, "ops": list(self.ops)}
        if base:
            p["base"] = base
        return p

    def commit(self, message: str, base: Optional[str] = None) -> dict:
        """Sends the patch to the branch: ``{"commit", "parent"}``; raises FailedPrecondition (422)."""
        if self.client is None or self.project is None:
            raise ValueError("commit needs a client and a project")
        if not self.ops:
            raise ValueError("the patch is empty")
        return self.client.patch(self.project, self.branch, self.ops, message, base=base)
