"""Architecture documents (docs/nn.md) → patch ops creating them in a project tree.

The tree form is docs/libraries.md's: under a Folder "Architectures", one
Architecture node per architecture (main and blocks of every file), whose children
are its layers (instances of the library's meta types) and core Connections.

* Architecture: guid DeriveGuid(example, "architecture/" + name), base
  torch meta "Architecture", attrs {name}.
* Layer: guid DeriveGuid(architecture guid, "node/" + id), base torch meta of its
  type, attrs {name, **params}, registry {position: {x, y}}. Its ports are the
  meta type's, inherited: not created here; their guids are
  DeriveGuid(layer guid, DeriveGuid(meta guid, direction + "/" + port)).
* Block: as a layer but "block" is a pointer to the Architecture node, attribute
  count; its Port children are created here (base core Port, guid
  DeriveGuid(block guid, direction + "/" + name), attrs name/direction/dataType
  "tensor"), named after the block's Input and Output nodes.
* Connection: guid DeriveGuid(architecture guid, "connection/S.p->D.q"), base core
  Connection, pointers src/dst to the ports; created in edge order (the order of a
  Concatenate's operands).

Architectures are created blocks first, so a Block's pointer names a node that exists.
"""
import json

from guids import ROOT, derive_guid, meta, torch_meta
from kiln.nn.build import Graph, node_name

# Top to bottom: ACROSS between layers side by side (a node is 200 wide), DOWN between
# depths (a layer drawn top to bottom is about 60 high).
ACROSS, DOWN, MARGIN = 250, 110, 40


def _load(files) -> dict:
    """name → (document, file) over all files; one name defined twice must agree."""
    found = {}
    for path in files:
        document = json.loads(path.read_text())
        for name, arch in document["architectures"].items():
            if name in found and found[name][0]["architectures"][name] != arch:
                raise SystemExit(f"architecture {name!r} is defined differently in "
                                 f"{found[name][1]} and {path}")
            found.setdefault(name, (document, path))
    return found


def _dependency_order(found: dict) -> list:
    """Architecture names, each after the blocks it uses."""
    order, done = [], set()

    def visit(name, stack):
        if name in done:
            return
        if name in stack:
            raise SystemExit(f"architecture {name!r} uses itself through {stack}")
        for node in found[name][0]["architectures"][name].get("nodes", []):
            if node["type"] == "Block":
                visit(node["params"]["block"], stack + [name])
        done.add(name)
        order.append(name)

    for name in sorted(found):
        visit(name, [])
    return order


def _layout(graph: Graph) -> dict:
    """id → {x, y}, top to bottom as the architecture editor draws: a layer's depth is its
    longest path from the inputs (y), layers at one depth side by side in node order (x)."""
    column = {}
    for nid in graph.order:
        sources = [s for srcs in graph.incoming[nid].values() for s, _ in srcs]
        column[nid] = 1 + max((column[s] for s in sources), default=-1)
    rows = {}
    position = {}
    for nid in graph.nodes:  # node order: stable rows
        c = column[nid]
        rows[c] = rows.get(c, -1) + 1
        position[nid] = {"x": MARGIN + ACROSS * rows[c], "y": MARGIN + DOWN * c}
    return position


def architecture_ops(example: str, files, ops: list) -> dict:
    """Appends the create ops of every architecture in ``files``; returns name → guid."""
    found = _load(files)
    folder = derive_guid(example, "folder/architectures")

    def create(guid, parent, base, attrs, registry=None, pointers=None):
        op = {"op": "create", "guid": guid, "parent": parent, "base": base, "attrs": attrs}
        if registry:
            op["registry"] = registry
        if pointers:
            op["pointers"] = pointers
        ops.append(op)

    create(folder, ROOT, meta("Folder"), {"name": "Architectures"})
    guids = {}
    for name in _dependency_order(found):
        document = found[name][0]
        graph = Graph(document, name)  # checks the edges and resolves their ports
        arch = guids[name] = derive_guid(example, "architecture/" + name)
        create(arch, folder, torch_meta("Architecture"), {"name": name})
        layer_guid = {nid: derive_guid(arch, "node/" + nid) for nid in graph.nodes}
        ports = {}  # (id, direction, port) → port guid
        position = _layout(graph)
        for nid, node in graph.nodes.items():
            guid, params = layer_guid[nid], dict(node.get("params") or {})
            attrs = {"name": node_name(node)}
            ins, outs = graph.ports[nid]
            if node["type"] == "Block":
                attrs["count"] = params.get("count", 1)
                create(guid, arch, torch_meta("Block"), attrs, {"position": position[nid]},
                       {"block": guids[params["block"]]})
                for direction, names in (("input", ins), ("output", outs)):
                    for port in names:
                        port_guid = derive_guid(guid, f"{direction}/{port}")
                        create(port_guid, guid, meta("Port"),
                               {"name": port, "direction": direction, "dataType": "tensor"})
                        ports[(nid, direction, port)] = port_guid
                continue
            attrs.update(params)
            base = torch_meta(node["type"])
            create(guid, arch, base, attrs, {"position": position[nid]})
            for direction, names in (("input", ins), ("output", outs)):
                for port in names:  # inherited from the meta type, derived guids
                    ports[(nid, direction, port)] = derive_guid(
                        guid, derive_guid(base, f"{direction}/{port}"))
        for (src, sport), (dst, dport) in graph.edges:
            create(derive_guid(arch, f"connection/{src}.{sport}->{dst}.{dport}"), arch,
                   meta("Connection"), {},
                   pointers={"src": ports[(src, "output", sport)],
                             "dst": ports[(dst, "input", dport)]})
    return guids
