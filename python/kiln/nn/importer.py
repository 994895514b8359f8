"""Import an existing PyTorch model (Python source) as an architecture document (docs/nn.md).

    PYTHONPATH=python python3 -m kiln.nn.importer FILE.py [--class NAME] [--input-shape N,3,32,32 ...]
    python3 -m kiln.nn.importer --json    # stdin {"code", "class", "inputs"}; stdout the document
                                          # or {"error": "..."}; exit 0 / 2

The code runs in a fresh namespace (compiled as "<imported model>", so errors name its lines);
the nn.Module subclass named by --class (default: the last one the code defines) is
instantiated without arguments and traced with torch.fx. torch.nn layers stay layers (their
constructor parameters read back from the instance); other submodules become Blocks, each
traced as its own architecture (identical ones shared); functions and methods become the
document's merge/shape types or activation/pooling layers; anything else becomes a Custom node
whose code is a generated nn.Module wrapping the call (see "Importing a model" in docs/nn.md).

Input shapes are needed (reshapes and the Block inputs are read from a run of the model):
--input-shape / "inputs", else the model's attribute ``example_input_shape``. A dimension may
be a name ("N"); the model is run with two values for each name so that a dimension that
follows the name is written as the name and a reshape of it as -1.
"""
import argparse
import contextlib
import inspect
import json
import linecache
import re
import sys

import torch
from torch import nn

from . import symbols
from .fxmap import ArchitectureImporter, BlockRegistry, _identifier
from .tracing import FILENAME, ImportFailure, user_line  # noqa: F401 (the API)


def load_class(code, class_name=None):
    """Exec ``code`` in a fresh namespace; the nn.Module subclass to import."""
    lines = code.splitlines(True)
    linecache.cache[FILENAME] = (len(code), None, lines, FILENAME)
    namespace = {"__name__": "kiln_imported_model", "__file__": FILENAME}
    try:
        exec(compile(code, FILENAME, "exec"), namespace)
    except SyntaxError as e:
        raise ImportFailure(f"the code does not compile: line {e.lineno}: {e.msg}") from None
    except (Exception, SystemExit) as e:
        where = user_line(e.__traceback__)
        raise ImportFailure(f"running the code failed at {where}: {type(e).__name__}: {e}") \
            from None
    if class_name:
        cls = namespace.get(class_name)
        if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
            raise ImportFailure(f"the code defines no nn.Module class '{class_name}'")
        return cls
    defined = [v for v in namespace.values() if isinstance(v, type) and
               issubclass(v, nn.Module) and v.__module__ == namespace["__name__"]]
    if not defined:
        raise ImportFailure("the code defines no nn.Module subclass")
    return defined[-1]


def instantiate(cls):
    required = [p.name for p in list(inspect.signature(cls.__init__).parameters.values())[1:]
                if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if required:
        raise ImportFailure(f"{cls.__name__}() needs constructor arguments "
                            f"({', '.join(required)}); give them defaults, or import a "
                            f"subclass whose __init__ takes none")
    try:
        return cls()
    except Exception as e:
        raise ImportFailure(f"{cls.__name__}() failed at {user_line(e.__traceback__)}: "
                            f"{type(e).__name__}: {e}") from None


def parse_shape(text):
    """'N,3,32,32' → ['N', 3, 32, 32]."""
    dims = []
    for part in str(text).split(","):
        part = part.strip()
        if re.fullmatch(r"-?\d+", part):
            dims.append(int(part))
        elif re.fullmatch(r"[A-Za-z_]\w*", part):
            dims.append(part)
        else:
            raise ImportFailure(f"'{part}' in the input shape '{text}' is neither a number "
                                f"nor a name")
    return dims


def import_module(code, class_name=None, input_shapes=None):
    """The architecture document of the model in ``code`` (see the module docstring)."""
    cls = load_class(code, class_name)
    model = instantiate(cls)
    model.eval()  # batch norm and dropout as at inference; running stats left alone
    shapes = input_shapes
    if not shapes:
        shapes = getattr(model, "example_input_shape", None)
        if shapes is None:
            raise ImportFailure(f"no input shapes: give them (--input-shape N,3,32,32 / "
                                f"\"inputs\": [[\"N\", 3, 32, 32]]) or set "
                                f"{cls.__name__}.example_input_shape")
        if shapes and not isinstance(shapes[0], (list, tuple)):
            shapes = [shapes]
    shapes = [parse_shape(s) if isinstance(s, str) else list(s) for s in shapes]
    subs = symbols.substitutions(shapes)

    # Documents have no dtypes: a model that embeds tokens gets integer inputs (zeros are
    # valid indices), any other model floats.
    embeds = any(isinstance(m, (torch.nn.Embedding, torch.nn.EmbeddingBag))
                 for m in model.modules())
    dtype = torch.long if embeds else torch.float32

    def tensors(run):
        return [torch.zeros(symbols.concrete(s, subs[run]), dtype=dtype) for s in shapes]
    main = _identifier(cls.__name__)
    doc = {"main": main, "architectures": {}}
    registry = BlockRegistry(doc)
    arch = ArchitectureImporter(doc, registry, model, shapes, tensors(0), tensors(1),
                                subs).build()
    # main last in insertion order would be odd for readers: put it first
    doc["architectures"] = {main: arch, **{k: v for k, v in doc["architectures"].items()
                                           if k != main}}
    return doc


def format_document(doc):
    """The document as readable JSON: one line per node and per edge."""
    out = ["{", f' "main": {json.dumps(doc["main"])},', ' "architectures": {']
    names = list(doc["architectures"])
    for i, name in enumerate(names):
        arch = doc["architectures"][name]
        out.append(f'  {json.dumps(name)}: {{')
        out.append('   "nodes": [')
        out.append(",\n".join("    " + json.dumps(n) for n in arch["nodes"]))
        out.append('   ],')
        out.append('   "edges": [')
        out.append(",\n".join("    " + json.dumps(e) for e in arch["edges"]))
        out.append('   ]')
        out.append('  }' + ("," if i < len(names) - 1 else ""))
    out += [" }", "}"]
    return "\n".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?", help="the model's Python source")
    parser.add_argument("--class", dest="class_name", help="the nn.Module class to import")
    parser.add_argument("--input-shape", action="append", default=[],
                        help="one per forward argument, e.g. N,3,32,32")
    parser.add_argument("--json", action="store_true",
                        help='read {"code", "class", "inputs"} on stdin, answer JSON')
    args = parser.parse_args(argv)
    try:
        if args.json:
            try:
                request = json.load(sys.stdin)
            except ValueError as e:
                raise ImportFailure(f"the request is not JSON: {e}") from None
            if not isinstance(request, dict) or not isinstance(request.get("code"), str):
                raise ImportFailure('the request must be {"code": str, "class"?: str, '
                                    '"inputs": [[dims]]}')
            with contextlib.redirect_stdout(sys.stderr):  # the model's prints: not the answer
                doc = import_module(request["code"], request.get("class"),
                                    request.get("inputs"))
        else:
            if not args.file:
                parser.error("give FILE.py or --json")
            with open(args.file) as f:
                code = f.read()
            doc = import_module(code, args.class_name, args.input_shape or None)
    except ImportFailure as e:
        return _fail(args.json, str(e))
    except Exception as e:  # the server reads JSON whatever happens
        if not args.json:
            raise
        return _fail(True, f"the importer failed: {type(e).__name__}: {e}")
    print(json.dumps(doc) if args.json else format_document(doc))
    return 0


def _fail(as_json, message):
    if as_json:
        print(json.dumps({"error": message}))
    else:
        print(f"kiln.nn.importer: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
