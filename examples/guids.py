"""Guids of the example projects: DeriveGuid (src/core/guid.cc) and the meta types' guids.

Shared by build.py (operations, pipelines) and architecture_tree.py (architectures).
"""
import hashlib

NAMESPACE = "kiln-core-meta"  # must match kNamespace in src/model/meta.cc
TORCH_NAMESPACE = "kiln-library-torch"  # the PyTorch library's meta types (docs/libraries.md)


def derive_guid(a: str, b: str) -> str:
    """DeriveGuid of src/core/guid.cc: SHA-256 of "a/b", shaped as a UUID."""
    d = bytearray(hashlib.sha256(f"{a}/{b}".encode()).digest()[:16])
    d[6] = (d[6] & 0x0F) | 0x50
    d[8] = (d[8] & 0x3F) | 0x80
    h = d.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


ROOT = derive_guid(NAMESPACE, "root")


def meta(name: str) -> str:
    """A core meta type (Folder, Operation, Port, Connection, …)."""
    return derive_guid(NAMESPACE, "meta/" + name)


def torch_meta(name: str) -> str:
    """A meta type of the PyTorch library: Architecture, Layer, or a node type."""
    return derive_guid(TORCH_NAMESPACE, "meta/" + name)
