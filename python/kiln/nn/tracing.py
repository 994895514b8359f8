"""Loading and tracing a model for the importer (importer.py): the user's code compiled as
"<imported model>" so that every error can name its line, the fx tracer (torch.nn layers and
user submodules are leaves; containers are traced through; tuple unpacking fixed for Python
3.11), and a run that records every node's value.
"""
import dis
import inspect
import linecache
import re
import traceback

import torch
from torch import fx, nn

from . import symbols

FILENAME = "<imported model>"


class ImportFailure(ValueError):
    """The model cannot be imported; the message says why (and names the line)."""


def merge_shape(ta, tb, subs):
    return symbols.merge_shape(ta.shape, tb.shape, subs)


def user_line(tb_or_text):
    """'line N (`source`)' of the deepest frame in the user's code, or ''."""
    if isinstance(tb_or_text, str):
        found = re.findall(r'File "' + re.escape(FILENAME) + r'", line (\d+)', tb_or_text)
        lineno = int(found[-1]) if found else None
    else:
        lineno = None
        for frame in traceback.extract_tb(tb_or_text):
            if frame.filename == FILENAME:
                lineno = frame.lineno
    if lineno is None:
        return ""
    text = linecache.getline(FILENAME, lineno).strip()
    return f"line {lineno} (`{text}`)" if text else f"line {lineno}"




def _proxy_iter(self):
    """fx's Proxy.__iter__ with tuple unpacking (`out, (h, c) = self.lstm(x)`, `n, c, h, w =
    x.shape`) that works on Python 3.11: torch 1.13 finds the UNPACK_SEQUENCE by
    f_lasti // 2, which the 3.11 inline caches break; here it is looked up by offset."""
    frame = inspect.currentframe().f_back
    for inst in dis.get_instructions(frame.f_code):
        if inst.offset == frame.f_lasti and inst.opname == "UNPACK_SEQUENCE":
            return (self[i] for i in range(inst.argval))
    return self.tracer.iter(self)


class Tracer(fx.Tracer):
    """torch.nn layers are leaves (layers) and so are the other submodules (Blocks, traced
    separately); only containers (Sequential, ModuleList, ModuleDict) are traced through."""

    def __init__(self):
        super().__init__()
        self.record_stack_traces = True

    def trace(self, root, concrete_args=None):
        # every Proxy (x.shape is an fx.proxy.Attribute) unpacks: patched while tracing
        saved = fx.Proxy.__iter__
        fx.Proxy.__iter__ = _proxy_iter
        try:
            return super().trace(root, concrete_args)
        finally:
            fx.Proxy.__iter__ = saved

    def is_leaf_module(self, m, qualname):
        return not isinstance(m, (nn.Sequential, nn.ModuleList, nn.ModuleDict))


def forward_inputs(module, given):
    """Which forward arguments get tensors: the first ``given`` positional ones; the others
    must have defaults, and are traced as those constants (fx concrete_args)."""
    params = [p for p in list(inspect.signature(module.forward).parameters.values())
              if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    required = [p.name for p in params if p.default is p.empty]
    if given < len(required) or given > len(params):
        raise ImportFailure(f"{type(module).__name__}.forward takes "
                            f"{len(required)}{'' if len(params) == len(required) else f'-{len(params)}'}"
                            f" tensor(s) ({', '.join(p.name for p in params)}) but gets {given}")
    return {p.name: p.default for p in params[given:]}


def trace(module, given):
    concrete = forward_inputs(module, given)
    try:
        graph = Tracer().trace(module, concrete_args=concrete or None)
    except Exception as e:
        where = user_line(e.__traceback__)
        raise ImportFailure(f"{type(module).__name__} cannot be traced"
                            f"{' at ' + where if where else ''}: {type(e).__name__}: {e}"
                            f"{_trace_hint(e)}") from None
    return fx.GraphModule(module, graph, class_name=type(module).__name__)


def _trace_hint(e):
    if isinstance(e, fx.proxy.TraceError) or "symbolically traced" in str(e):
        return (" (control flow that depends on tensor values cannot be imported; move it "
                "into a submodule or a function the document can hold as Custom code)")
    return ""


def run(gm, inputs):
    """{fx node name: value} of one run of the traced module on ``inputs``."""
    values = {}

    class Recorder(fx.Interpreter):
        def run_node(self, n):
            out = super().run_node(n)
            values[n.name] = out
            return out

    with torch.no_grad():
        try:
            Recorder(gm).run(*inputs)
        except Exception as e:
            raise ImportFailure(f"running {gm.__class__.__name__} on the input shapes failed"
                                f"{_node_where(e)}: {type(e).__name__}: {e}") from None
    return values


def _node_where(e):
    where = user_line(e.__traceback__)
    return f" at {where}" if where else ""
