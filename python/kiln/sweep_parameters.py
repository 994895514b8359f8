"""Sweep parameters as the Python client takes them, turned into docs/sweeps.md's request.

``Client.sweep`` takes ``{"Train.learning_rate": [0.001, 0.01], "epochs":
{"min": 2, "max": 10, "steps": 3}}``: a key names an attribute of one of the
pipeline's operation instances, as ``<operation name>.<attribute>`` or as a
bare ``<attribute>`` when exactly one operation has it; a value is the list
of values tried or a range (``min``, ``max``, and ``steps``, ``log``,
``integer`` as the server takes them).  This module reads the pipeline's
instances and their effective attributes from a tree (``GET
/projects/{p}/tree``) and builds the request's ``parameters``; the server
checks the ranges and values again.  Pure functions, no requests.
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Tuple

from .patch_builder import meta_guid

# Not parameters: identity, code and what kind of operation it is (web: RESERVED_ATTRIBUTES).
_RESERVED = {"name", "code", "description", "kind"}
# What an Input or Output reads or stores: Kiln's, not the operation's.
_DATA = {"artifact", "serializer"}
_RANGE_KEYS = {"min", "max", "steps", "log", "integer"}


def _effective_attrs(nodes: Mapping[str, dict], guid: str) -> Dict[str, Any]:
    """A node's attributes with its base chain's underneath (the nearest wins)."""
    chain = []
    seen = set()
    while guid and guid in nodes and guid not in seen:
        seen.add(guid)
        chain.append(nodes[guid])
        guid = nodes[guid].get("base")
    out: Dict[str, Any] = {}
    for node in reversed(chain):
        out.update(node.get("attrs", {}))
    return out


def _is_operation(nodes: Mapping[str, dict], guid: str) -> bool:
    operation = meta_guid("Operation")
    seen = set()
    while guid and guid in nodes and guid not in seen:
        if guid == operation:
            return True
        seen.add(guid)
        guid = nodes[guid].get("base")
    return guid == operation


def pipeline_attributes(tree: Mapping[str, Any], pipeline: str) -> List[Tuple[str, str, str, Any]]:
    """``(instance guid, instance name, attribute, value)`` for every operation of the pipeline."""
    nodes = tree["nodes"]
    if pipeline not in nodes:
        raise ValueError(f"no pipeline {pipeline} in this tree")
    out = []
    for child in nodes[pipeline].get("children", []):
        if not _is_operation(nodes, child):
            continue
        attrs = _effective_attrs(nodes, child)
        skip = _RESERVED | (_DATA if attrs.get("kind") in ("input", "output") else set())
        name = attrs.get("name", child)
        for attribute, value in sorted(attrs.items()):
            if attribute not in skip:
                out.append((child, name, attribute, value))
    return out


def _values_spec(key: str, spec: Any) -> Dict[str, Any]:
    if isinstance(spec, Mapping):
        unknown = set(spec) - _RANGE_KEYS
        if unknown:
            raise ValueError(f"{key}: a range takes {', '.join(sorted(_RANGE_KEYS))}, "
                             f"not {', '.join(sorted(unknown))}")
        if "min" not in spec or "max" not in spec:
            raise ValueError(f"{key}: a range needs min and max")
        return {"range": dict(spec)}
    if isinstance(spec, (str, bytes)) or not hasattr(spec, "__iter__"):
        raise ValueError(f"{key}: give a list of values or a range dict, not {spec!r}")
    values = list(spec)
    if not values:
        raise ValueError(f"{key}: the list of values is empty")
    return {"values": values}


def resolve_parameters(tree: Mapping[str, Any], pipeline: str,
                       parameters: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """The request's ``parameters`` for ``{"Op.attribute" or "attribute": list | range}``."""
    if not parameters:
        raise ValueError("a sweep needs at least one parameter")
    attrs = pipeline_attributes(tree, pipeline)
    out = []
    for key, spec in parameters.items():
        if "." in key:
            op, attribute = key.rsplit(".", 1)
            found = [a for a in attrs if a[1] == op and a[2] == attribute]
        else:
            attribute = key
            found = [a for a in attrs if a[2] == attribute]
        if not found:
            known = ", ".join(sorted({f"{a[1]}.{a[2]}" for a in attrs})) or "none"
            raise ValueError(f"{key}: no operation of the pipeline has this attribute (attributes: {known})")
        if len(found) > 1:
            names = ", ".join(sorted(f"{a[1]}.{a[2]}" for a in found))
            raise ValueError(f"{key}: {len(found)} operations have it; say which: {names}")
        node = found[0][0]
        out.append({"node": node, "attribute": attribute, **_values_spec(key, spec)})
    return out
