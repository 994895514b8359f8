"""Operation interface <-> operation code, both ways, with Python's own ``ast``.

What: the editor shows an operation as a box with typed attributes, named input
ports and named output ports.  That interface is *derived from the code* (the code
is the single source of truth) and, when a user edits the box, the code is
*rewritten* so that it derives the edited interface again.

* ``parse_interface(code) -> dict``  code -> interface
* ``update_code(code, interface) -> str``  interface -> code, splicing only the
  parts that changed (class name, ``__init__`` parameters, ``execute`` parameters,
  ``execute`` return annotation and return statements); every other byte of the
  file (comments, blank lines, formatting) is preserved.
* ``python3 -m kiln.interface parse|update``: JSON over stdin/stdout, used by the
  C++ server (directly, or through the warm worker, see ``kiln.zygote``).

Which class is the operation (top-level classes only):

1. the classes deriving from ``Operation`` (spelled ``Operation`` or
   ``<anything>.Operation``, e.g. ``kiln.Operation``), directly or through other
   classes of the same file; among them, those that no other candidate derives
   from.  Exactly one must remain.
2. if no class derives from ``Operation``: the top-level classes that define an
   ``execute`` method, again keeping only the most derived ones; exactly one must
   remain.

Interface rules (see docs/job-protocol.md, "Operation interface"):

* attributes = ``__init__`` parameters after ``self`` (positional and
  keyword-only; ``*args``/``**kwargs`` are not attributes), except references.
* references = ``__init__`` parameters annotated with a library's resource type
  (``kiln.Architecture``, also written ``Architecture`` or as a string):
  ``{"name", "type": "Architecture"}``. The operation node points at the resource
  and the job passes the generated class (docs/libraries.md). The key
  ``"references"`` is present only when there is at least one.  ``type`` = the
  annotation's source text, else the literal type of the default (``int``,
  ``float``, ``bool``, ``str``, ``list``, ``dict``), else ``"any"`` (a ``None``
  default says nothing about the type).  ``default`` = the default as a JSON
  value; a default that is not a JSON-able literal (``math.pi``, ``(1, 2)`` is
  fine, ``nn.ReLU()`` is not) gives ``"default": null, "expr": "<source>"``; a
  parameter without default gives ``"default": null, "required": true``.
* inputs = ``execute`` parameters after ``self``: ``{name, type}`` with the
  annotation text or ``"any"``.
* outputs = what every ``return`` of ``execute`` names (nested functions, lambdas
  and classes are skipped): ``return a, b`` (names), ``return a`` (one name),
  ``return {"a": ..., "b": ...}`` (string keys), ``return`` / ``return None`` /
  no return (no outputs).  All returns must name the same outputs in the same
  order; anything else is an error pointing at the return.  Output types come
  from the return annotation: with one output the whole annotation, with n > 1
  a ``tuple[T1, ..., Tn]`` annotation of the same arity; otherwise ``"any"``.
* annotations written as strings (``x: "torch.Tensor"``) count by their content;
  ``Any``/``typing.Any`` read as ``"any"``.

Errors are ``InterfaceError`` with ``message``, ``line`` and ``column`` (both
1-based, column counted in characters; ``None`` when there is no position).

Thread-safety: pure functions over immutable inputs; safe from any thread.
"""
from __future__ import annotations

import ast
import io
import json
import keyword
import math
import re
import sys
import tokenize
from dataclasses import dataclass
from typing import Any, Optional

__all__ = ["InterfaceError", "parse_interface", "update_code", "find_operation_class",
           "normalize_interface", "handle_request", "main"]


class InterfaceError(Exception):
    """A structured error: message plus 1-based line and column (or None)."""

    def __init__(self, message: str, line: Optional[int] = None, column: Optional[int] = None):
        super().__init__(message if line is None else f"{line}:{column}: {message}")
        self.message = message
        self.line = line
        self.column = column

    def to_dict(self) -> dict:
        return {"message": self.message, "line": self.line, "column": self.column}


# ---------------------------------------------------------------------------
# Source text helpers: ast positions are (1-based line, UTF-8 *byte* column);
# we splice on str, so every position is turned into a character offset.


# Python's tokenizer accepts \n, \r\n and \r as line ends; split after each.
_LINE_SPLIT = re.compile(r"(?<=\r\n)|(?<=\n)|(?<=\r)(?!\n)")


class _Source:
    def __init__(self, code: str):
        self.code = code
        self.lines = _LINE_SPLIT.split(code)
        self.starts = []
        pos = 0
        for line in self.lines:
            self.starts.append(pos)
            pos += len(line)

    def offset(self, lineno: int, col_bytes: int) -> int:
        line = self.lines[lineno - 1]
        prefix = line.encode("utf-8")[:col_bytes].decode("utf-8", "replace")
        return self.starts[lineno - 1] + len(prefix)

    def start(self, node: ast.AST) -> int:
        return self.offset(node.lineno, node.col_offset)

    def end(self, node: ast.AST) -> int:
        return self.offset(node.end_lineno, node.end_col_offset)

    def text(self, node: ast.AST) -> str:
        return self.code[self.start(node):self.end(node)]

    def char_col(self, lineno: int, col_bytes: int) -> int:
        """1-based character column of a byte column."""
        return self.offset(lineno, col_bytes) - self.starts[lineno - 1] + 1

    def error(self, message: str, node: Optional[ast.AST]) -> InterfaceError:
        if node is None or getattr(node, "lineno", None) is None:
            return InterfaceError(message)
        return InterfaceError(message, node.lineno, self.char_col(node.lineno, node.col_offset))

    def indent_of_line(self, lineno: int) -> str:
        line = self.lines[lineno - 1]
        return line[:len(line) - len(line.lstrip(" \t"))]

    def line_end(self) -> str:
        for line in self.lines:
            if line.endswith("\r\n"):
                return "\r\n"
            if line.endswith("\n"):
                return "\n"
            if line.endswith("\r"):
                return "\r"
        return "\n"

    def tokens_from(self, lineno: int, col_bytes: int):
        """Tokens from the start of line ``lineno``; positions (line, char col) absolute.

        Tokenizing from a line in the middle of the file is fine for our needs: we
        only look at the header of a ``def``/``class`` and stop early.
        """
        first = lineno
        text = "".join(self.lines[first - 1:])
        start_char = self.offset(lineno, col_bytes) - self.starts[lineno - 1]
        try:
            for tok in tokenize.generate_tokens(io.StringIO(text).readline):
                srow, scol = tok.start
                erow, ecol = tok.end
                tok = tok._replace(start=(srow + first - 1, scol), end=(erow + first - 1, ecol))
                if tok.start < (lineno, start_char):
                    continue
                yield tok
        except (tokenize.TokenError, IndentationError, SyntaxError):
            return

    def tok_offset(self, pos) -> int:
        row, col = pos
        return self.starts[row - 1] + col


# ---------------------------------------------------------------------------
# Finding the operation class


def _base_name(expr: ast.expr) -> Optional[str]:
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        return expr.attr
    if isinstance(expr, ast.Subscript):  # Generic-style bases: Operation[...]
        return _base_name(expr.value)
    if isinstance(expr, ast.Call):  # e.g. a class factory; no name to follow
        return None
    return None


def _methods(cls: ast.ClassDef) -> dict:
    out = {}
    for stmt in cls.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out[stmt.name] = stmt  # the last definition wins, as at run time
    return out


def _most_derived(cands: list) -> list:
    names = {c.name for c in cands}
    used_as_base = set()
    for c in cands:
        for b in c.bases:
            n = _base_name(b)
            if n in names and isinstance(b, ast.Name):
                used_as_base.add(n)
    return [c for c in cands if c.name not in used_as_base]


def find_operation_class(tree: ast.Module, src: Optional[_Source] = None) -> ast.ClassDef:
    """Return the ClassDef node of the operation in a parsed module (rule in module doc)."""
    classes = {}
    order = []
    for stmt in tree.body:
        if isinstance(stmt, ast.ClassDef):
            classes[stmt.name] = stmt
            order.append(stmt)

    derived = {}

    def derives(cls: ast.ClassDef, seen: frozenset) -> bool:
        if cls.name in derived:
            return derived[cls.name]
        result = False
        for b in cls.bases:
            n = _base_name(b)
            if n == "Operation":
                result = True
            elif isinstance(b, ast.Name) and n in classes and n not in seen and n != cls.name:
                result = derives(classes[n], seen | {cls.name})
            if result:
                break
        derived[cls.name] = result
        return result

    cands = [c for c in order if derives(c, frozenset())]
    rule = "deriving from Operation"
    if not cands:
        cands = [c for c in order if "execute" in _methods(c)]
        rule = "defining an execute method"
    if not cands:
        raise InterfaceError("no operation class: define a top-level class deriving from "
                             "kiln.Operation or defining an execute(self, ...) method")
    leaves = _most_derived(cands)
    if len(leaves) != 1:
        second = leaves[1]
        msg = (f"several top-level classes {rule} ({', '.join(c.name for c in leaves)}); "
               "keep exactly one operation class per file")
        if src is not None:
            raise src.error(msg, second)
        raise InterfaceError(msg, second.lineno, second.col_offset + 1)
    return leaves[0]


# ---------------------------------------------------------------------------
# code -> interface

# Resource types of the libraries (docs/libraries.md): annotation → reference type.
REFERENCE_TYPES = ("Architecture",)


def _reference_type(text: Optional[str]) -> Optional[str]:
    """The reference type an annotation names (``kiln.Architecture``), or None."""
    if text is None:
        return None
    for t in REFERENCE_TYPES:
        if text in (t, "kiln." + t):
            return t
    return None


_LITERAL_TYPES = ((bool, "bool"), (int, "int"), (float, "float"), (str, "str"), (list, "list"),
                  (dict, "dict"))


def _json_value(value: Any):
    """Literal value -> JSON value, or raise ValueError when it has no JSON form."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("non-finite float")
        return value
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise ValueError("non-string dict key")
        return {k: _json_value(v) for k, v in value.items()}
    raise ValueError(f"{type(value).__name__} is not a JSON value")


def _literal_type(value: Any) -> str:
    for t, name in _LITERAL_TYPES:
        if isinstance(value, t):
            return name
    return "any"


def _annotation_text(src: _Source, ann: Optional[ast.expr]) -> Optional[str]:
    if ann is None:
        return None
    if isinstance(ann, ast.Constant) and isinstance(ann.value, str):
        text = ann.value.strip()  # a string annotation counts by its content
    else:
        text = src.text(ann)
    if text in ("Any", "typing.Any", "t.Any"):
        return "any"
    return text


def _tuple_annotation_elements(src: _Source, ann: Optional[ast.expr]) -> Optional[list]:
    """Element texts of tuple[A, B] / Tuple[A, B] / typing.Tuple[A, B] (also string form)."""
    if ann is None:
        return None
    if isinstance(ann, ast.Constant) and isinstance(ann.value, str):
        try:
            inner = ast.parse(ann.value.strip(), mode="eval").body
        except SyntaxError:
            return None
        return _tuple_annotation_elements(_Source(ann.value.strip()), inner)
    if not isinstance(ann, ast.Subscript):
        return None
    if _base_name(ann.value) not in ("tuple", "Tuple"):
        return None
    sl = ann.slice
    elts = sl.elts if isinstance(sl, ast.Tuple) else [sl]
    if any(isinstance(e, ast.Constant) and e.value is Ellipsis for e in elts):
        return None  # tuple[int, ...] has no fixed arity
    return [_annotation_text(src, e) for e in elts]


@dataclass
class _Param:
    node: ast.arg
    default: Optional[ast.expr]
    kind: str  # "pos", "kwonly", "vararg", "kwarg"


def _params(fn) -> list:
    a = fn.args
    positional = list(a.posonlyargs) + list(a.args)
    defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    out = [_Param(p, d, "pos") for p, d in zip(positional, defaults)]
    if a.vararg is not None:
        out.append(_Param(a.vararg, None, "vararg"))
    out += [_Param(p, d, "kwonly") for p, d in zip(a.kwonlyargs, a.kw_defaults)]
    if a.kwarg is not None:
        out.append(_Param(a.kwarg, None, "kwarg"))
    return out


def _is_static(fn) -> bool:
    return any(_base_name(d) == "staticmethod" for d in fn.decorator_list)


def _named_params(fn) -> tuple:
    """(receiver param or None, named params) of a method: self is not an attribute/input."""
    params = [p for p in _params(fn) if p.kind in ("pos", "kwonly")]
    if not _is_static(fn) and params and params[0].kind == "pos":
        return params[0], params[1:]
    return None, params


def _attribute(src: _Source, p: _Param) -> dict:
    name = p.node.arg
    ann = _annotation_text(src, p.node.annotation)
    attr = {"name": name, "type": ann or "any", "default": None}
    if p.default is None:
        attr["required"] = True
        return attr
    try:
        value = _json_value(ast.literal_eval(p.default))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        attr["expr"] = src.text(p.default)
        return attr
    attr["default"] = value
    if ann is None:
        attr["type"] = _literal_type(value)
    return attr


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def _returns(fn) -> list:
    """Return statements of fn's own body (nested scopes skipped), in source order."""
    found = []

    def visit(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, _SCOPES):
                continue  # their returns are not execute's
            if isinstance(child, ast.Return):
                found.append(child)
            visit(child)

    visit(fn)
    found.sort(key=lambda r: (r.lineno, r.col_offset))
    return found


def _return_names(src: _Source, ret: ast.Return) -> tuple:
    """(style, names) of one return: style in none|names|dict."""
    v = ret.value
    if v is None or (isinstance(v, ast.Constant) and v.value is None):
        return "none", []
    if isinstance(v, ast.Name):
        return "names", [v.id]
    if isinstance(v, ast.Tuple) and all(isinstance(e, ast.Name) for e in v.elts):
        names = [e.id for e in v.elts]
        if len(set(names)) != len(names):
            raise src.error("an output name appears twice in this return", ret)
        return "names", names
    if isinstance(v, ast.Dict) and all(
            isinstance(k, ast.Constant) and isinstance(k.value, str) for k in v.keys):
        names = [k.value for k in v.keys]
        if len(set(names)) != len(names):
            raise src.error("an output name appears twice in this return", ret)
        for k, n in zip(v.keys, names):
            if not n.isidentifier() or keyword.iskeyword(n):
                raise src.error(f"output name {n!r} is not a Python identifier", k)
        return "dict", names
    raise src.error("cannot name the outputs of this return: return a variable, a tuple of "
                    "variables (return a, b) or a dict with string keys (return {\"a\": ...})",
                    ret)


def _outputs(src: _Source, fn) -> tuple:
    """(outputs list, style, returns) of execute."""
    rets = _returns(fn)
    names = None
    style = "none"
    for r in rets:
        s, n = _return_names(src, r)
        if names is None:
            names, style = n, s
        elif n != names:
            raise src.error(
                f"this return names outputs {n or 'none'} but an earlier return names "
                f"{names or 'none'}; every return of execute must name the same outputs", r)
        elif s != "none":
            style = s if style == "none" else style
    names = names or []
    types = ["any"] * len(names)
    ann = fn.returns
    if names and ann is not None and style != "dict":
        if len(names) == 1:
            types = [_annotation_text(src, ann)]
        else:
            elts = _tuple_annotation_elements(src, ann)
            if elts is not None and len(elts) == len(names):
                types = elts
    return [{"name": n, "type": t} for n, t in zip(names, types)], style, rets


@dataclass
class _Parsed:
    src: _Source
    tree: ast.Module
    cls: ast.ClassDef
    init: Any
    execute: Any
    interface: dict
    out_style: str
    returns: list


def _parse(code: str) -> _Parsed:
    if not isinstance(code, str):
        raise InterfaceError("code must be a string")
    try:
        tree = ast.parse(code, type_comments=False)
    except SyntaxError as e:
        line = e.lineno
        col = e.offset
        msg = e.msg
        raise InterfaceError(f"syntax error: {msg}", line, col) from None
    except (ValueError, MemoryError, RecursionError) as e:  # e.g. NUL bytes in the source
        raise InterfaceError(f"cannot parse: {e}") from None
    src = _Source(code)
    cls = find_operation_class(tree, src)
    methods = _methods(cls)
    init = methods.get("__init__")
    execute = methods.get("execute")
    attributes, references = [], []
    if init is not None:
        _, params = _named_params(init)
        for p in params:
            ref = _reference_type(_annotation_text(src, p.node.annotation))
            if ref:
                references.append({"name": p.node.arg, "type": ref})
            else:
                attributes.append(_attribute(src, p))
    inputs = []
    outputs, style, rets = [], "none", []
    if execute is not None:
        _, params = _named_params(execute)
        inputs = [{"name": p.node.arg, "type": _annotation_text(src, p.node.annotation) or "any"}
                  for p in params]
        outputs, style, rets = _outputs(src, execute)
    interface = {"name": cls.name, "attributes": attributes, "inputs": inputs, "outputs": outputs}
    if references:
        interface["references"] = references
    return _Parsed(src, tree, cls, init, execute, interface, style, rets)


def parse_interface(code: str) -> dict:
    """Derive the interface of the operation in ``code``; raises InterfaceError."""
    return _parse(code).interface


# ---------------------------------------------------------------------------
# interface validation


def _check_name(name, what: str) -> str:
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise InterfaceError(f"{what} name {name!r} is not a Python identifier")
    return name


def _check_type(t, what: str) -> str:
    if t is None:
        return "any"
    if not isinstance(t, str) or not t.strip():
        raise InterfaceError(f"{what}: type must be a non-empty string")
    if t != "any":
        try:
            ast.parse(t.strip(), mode="eval")
        except SyntaxError:
            raise InterfaceError(f"{what}: type {t!r} is not a Python expression") from None
        if "\n" in t or "\r" in t:
            raise InterfaceError(f"{what}: type {t!r} must be on one line")
        if t.strip() in ("Any", "typing.Any"):
            return "any"
    return t.strip()


def normalize_interface(interface: dict) -> dict:
    """Validate an interface and return it in the canonical form parse_interface produces."""
    if not isinstance(interface, dict):
        raise InterfaceError("interface must be a JSON object")
    name = _check_name(interface.get("name"), "operation")
    out = {"name": name, "attributes": [], "inputs": [], "outputs": []}
    for section in ("attributes", "inputs", "outputs"):
        items = interface.get(section, [])
        if not isinstance(items, list):
            raise InterfaceError(f"{section} must be a list")
        seen = set()
        for item in items:
            if not isinstance(item, dict):
                raise InterfaceError(f"each of {section} must be an object")
            n = _check_name(item.get("name"), section[:-1])
            if n in seen:
                raise InterfaceError(f"{section[:-1]} {n!r} appears twice")
            seen.add(n)
            t = _check_type(item.get("type", "any"), f"{section[:-1]} {n!r}")
            entry = {"name": n, "type": t}
            if section == "attributes":
                entry["default"] = None
                if item.get("required"):
                    entry["required"] = True
                elif item.get("expr") is not None:
                    expr = item["expr"]
                    try:
                        node = ast.parse(expr.strip(), mode="eval").body
                    except (SyntaxError, TypeError, ValueError, AttributeError):
                        raise InterfaceError(f"attribute {n!r}: expr {expr!r} is not a Python "
                                             "expression") from None
                    try:  # an expr that is a JSON literal reads back as a default
                        entry["default"] = _json_value(ast.literal_eval(node))
                    except (ValueError, TypeError, SyntaxError):
                        entry["expr"] = expr.strip()
                else:
                    try:
                        entry["default"] = _json_value(item.get("default"))
                    except ValueError as e:
                        raise InterfaceError(f"attribute {n!r}: default: {e}") from None
            out[section].append(entry)
    references = interface.get("references", [])
    if not isinstance(references, list):
        raise InterfaceError("references must be a list")
    taken = {a["name"] for a in out["attributes"]}
    for item in references:
        if not isinstance(item, dict):
            raise InterfaceError("each of references must be an object")
        n = _check_name(item.get("name"), "reference")
        if n in taken:
            raise InterfaceError(f"{n!r} is both an attribute and a reference, or a reference "
                                 "twice")
        taken.add(n)
        t = item.get("type")
        if t not in REFERENCE_TYPES:
            raise InterfaceError(f"reference {n!r}: type {t!r} is not a resource type "
                                 f"(one of {', '.join(REFERENCE_TYPES)})")
        out.setdefault("references", []).append({"name": n, "type": t})
    return out


# ---------------------------------------------------------------------------
# interface -> code


def _py_literal(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_py_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        items = (f"{_py_literal(k)}: {_py_literal(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    return repr(value)


def _annotation_code(t: str) -> str:
    # "any" is written as a string annotation: it must parse back as "any" and must
    # not need an import of typing.Any to evaluate.
    return "'Any'" if t == "any" else t


def _param_header(fn, src: _Source) -> tuple:
    """Character offsets (open, close) of the parentheses of a def's parameter list."""
    depth = 0
    open_at = None
    seen_name = False
    for tok in src.tokens_from(fn.lineno, fn.col_offset):
        if not seen_name:
            if tok.type == tokenize.NAME and tok.string == fn.name:
                seen_name = True
            continue
        if tok.type == tokenize.OP and tok.string in "([{":
            if depth == 0 and open_at is None:
                open_at = src.tok_offset(tok.start)
            depth += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            depth -= 1
            if depth == 0:
                return open_at, src.tok_offset(tok.start)
    raise InterfaceError(f"cannot locate the parameter list of {fn.name}", fn.lineno)


def _param_text(src: _Source, p: _Param) -> str:
    end = src.end(p.default) if p.default is not None else src.end(p.node)
    return src.code[src.start(p.node):end]


@dataclass
class _NewParam:
    text: str
    has_default: bool
    kwonly: bool


def _render_params(src: _Source, fn, receiver: Optional[_Param], items: list,
                   open_at: int, close_at: int) -> str:
    """Build the text between the parentheses of a def from parameter pieces."""
    old = _params(fn)
    vararg = next((p for p in old if p.kind == "vararg"), None)
    kwarg = next((p for p in old if p.kind == "kwarg"), None)
    positional, kwonly = _order_params(items)
    pieces = []
    if receiver is not None:
        pieces.append(_param_text(src, receiver))
    pieces += [it.text for it in positional]
    if vararg is not None:
        pieces.append("*" + _param_text(src, vararg))
    elif kwonly:
        pieces.append("*")
    pieces += [it.text for it in kwonly]
    if kwarg is not None:
        pieces.append("**" + _param_text(src, kwarg))

    inner = src.code[open_at + 1:close_at]
    first_line = src.code[open_at + 1:].split("\n", 1)[0]
    if "\n" in inner and not first_line.strip(" \t\r\\"):
        # One parameter per line: keep that layout, indented like the old first line.
        body = inner.split("\n", 1)[1]
        indent = body[:len(body) - len(body.lstrip(" \t"))]
        close_line_start = src.code.rfind("\n", 0, close_at) + 1
        before_close = src.code[close_line_start:close_at]
        close_indent = before_close if not before_close.strip() else src.indent_of_line(fn.lineno)
        nl = src.line_end()
        return "".join(nl + indent + p + "," for p in pieces) + nl + close_indent
    flat = ", ".join(pieces)
    line_start = src.code.rfind("\n", 0, open_at) + 1
    col = open_at - line_start + 1
    if col + len(flat) + 2 <= _MAX_LINE or len(pieces) < 2:
        return flat
    # Too long for one line: wrap, continuation lines aligned after the "(".
    nl = src.line_end()
    lines, cur = [], ""
    for i, piece in enumerate(pieces):
        piece = piece + ("," if i < len(pieces) - 1 else "")
        if cur and col + len(cur) + 1 + len(piece) > _MAX_LINE:
            lines.append(cur)
            cur = piece
        else:
            cur = f"{cur} {piece}" if cur else piece
    lines.append(cur)
    return (nl + " " * col).join(lines)


_MAX_LINE = 99  # wrap rewritten signatures longer than this (PEP 8's limit for code)


def _attr_param(attr: dict, old: Optional[_Param], src: _Source) -> _NewParam:
    name, t = attr["name"], attr["type"]
    kwonly = old is not None and old.kind == "kwonly"
    if old is not None and _attribute(src, old) == attr:
        return _NewParam(_param_text(src, old), old.default is not None, kwonly)
    if attr.get("required"):
        text = name if t == "any" else f"{name}: {_annotation_code(t)}"
        return _NewParam(text, False, kwonly)
    if "expr" in attr:
        default = attr["expr"]
        inferred = "any"
    else:
        default = _py_literal(attr["default"])
        inferred = _literal_type(attr["default"]) if attr["default"] is not None else "any"
    had_annotation = old is not None and old.node.annotation is not None
    if t == inferred and not had_annotation:
        text = f"{name}={default}"
    else:
        text = f"{name}: {_annotation_code(t)} = {default}"
    return _NewParam(text, True, kwonly)


def _input_param(inp: dict, old: Optional[_Param], src: _Source) -> _NewParam:
    name, t = inp["name"], inp["type"]
    if old is not None and (_annotation_text(src, old.node.annotation) or "any") == t:
        return _NewParam(_param_text(src, old), old.default is not None, old.kind == "kwonly")
    if old is not None and old.default is not None:
        default = src.text(old.default)
        text = f"{name}={default}" if t == "any" else f"{name}: {t} = {default}"
        return _NewParam(text, True, old.kind == "kwonly")
    return _NewParam(name if t == "any" else f"{name}: {t}", False,
                     old is not None and old.kind == "kwonly")


class _Edits:
    """Non-overlapping text replacements, applied back to front."""

    def __init__(self, code: str):
        self.code = code
        self.edits = []

    def replace(self, start: int, end: int, text: str):
        self.edits.append((start, end, text))

    def apply(self) -> str:
        out = self.code
        for start, end, text in sorted(self.edits, key=lambda e: (e[0], e[1]), reverse=True):
            out = out[:start] + text + out[end:]
        return out


def _body_indent(src: _Source, node) -> str:
    first = node.body[0]
    if first.lineno == node.lineno:
        return ""  # body on the header line
    return src.indent_of_line(first.lineno)


def _docstring_end(node) -> Optional[ast.stmt]:
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
            and isinstance(first.value.value, str):
        return first
    return None


def _is_store_of(stmt, name: str) -> bool:
    """``self.<name> = <name>`` (any receiver name)."""
    return (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Attribute)
            and isinstance(stmt.targets[0].value, ast.Name)
            and stmt.targets[0].attr == name
            and isinstance(stmt.value, ast.Name) and stmt.value.id == name)


def _ref_param(ref: dict, old: Optional[_Param], src: _Source) -> _NewParam:
    if old is not None and _reference_type(_annotation_text(src, old.node.annotation)) == \
            ref["type"]:
        return _NewParam(_param_text(src, old), old.default is not None, old.kind == "kwonly")
    return _NewParam(f"{ref['name']}: kiln.{ref['type']}", False, False)


def _update_init(p: _Parsed, new_attrs: list, new_refs: list, edits: _Edits):
    """Rewrites __init__'s parameters: references first, then the attributes in order."""
    src, cls, init = p.src, p.cls, p.init
    nl = src.line_end()
    if init is None:
        if not new_attrs and not new_refs:
            return
        indent = _body_indent(src, cls)
        if not indent:
            raise InterfaceError("cannot add __init__ to a class whose body is on the class line",
                                 cls.lineno)
        inner = indent * 2
        positional, kwonly = _order_params([_ref_param(r, None, src) for r in new_refs] +
                                           [_attr_param(a, None, src) for a in new_attrs])
        items_text = _render_flat(["self"] + [q.text for q in positional], kwonly)
        body = "".join(f"{inner}self.{a['name']} = {a['name']}{nl}"
                       for a in new_refs + new_attrs)
        method = f"{indent}def __init__({items_text}):{nl}{body}"
        anchor = _docstring_end(cls)
        if anchor is not None:
            at = src.end(anchor)
            line_end = src.code.find("\n", at)
            at = len(src.code) if line_end < 0 else line_end + 1
            edits.replace(at, at, nl + method)
        else:
            at = src.starts[cls.body[0].lineno - 1]
            edits.replace(at, at, method + nl)
        return
    receiver, old_params = _named_params(init)
    by_name = {q.node.arg: q for q in old_params}
    old_attrs = p.interface["attributes"]
    old_refs = p.interface.get("references", [])
    if old_attrs != new_attrs or old_refs != new_refs:
        items = [_ref_param(r, by_name.get(r["name"]), src) for r in new_refs] + \
                [_attr_param(a, by_name.get(a["name"]), src) for a in new_attrs]
        open_at, close_at = _param_header(init, src)
        edits.replace(open_at + 1, close_at, _render_params(src, init, receiver, items,
                                                             open_at, close_at))
    # Keep the conventional ``self.x = x`` stores in step with the parameters, so
    # that a removed attribute leaves no NameError and an added one is stored.
    old_names = {a["name"] for a in old_refs + old_attrs}
    new_names = [a["name"] for a in new_refs + new_attrs]
    removed = old_names - set(new_names)
    added = [n for n in new_names if n not in old_names]
    if receiver is None or (not removed and not added):
        return
    self_name = receiver.node.arg
    stores = [s for s in init.body if isinstance(s, ast.Assign) and any(
        _is_store_of(s, n) for n in old_names)]
    body = list(init.body)
    kept = [s for s in body if not any(_is_store_of(s, n) for n in removed)]
    for s in body:
        if s not in kept and s.lineno != init.lineno and _alone_on_lines(src, s):
            start = src.starts[s.lineno - 1]
            end = src.starts[s.end_lineno] if s.end_lineno < len(src.lines) else len(src.code)
            edits.replace(start, end, "")
    if not kept and not added:
        # The body would become empty: keep it valid.
        indent = _body_indent(src, init) or "        "
        at = src.starts[body[-1].end_lineno] if body[-1].end_lineno < len(src.lines) \
            else len(src.code)
        edits.replace(at, at, f"{indent}pass{nl}")
    if added:
        anchor = stores[-1] if stores and stores[-1] in kept else (kept[-1] if kept else body[-1])
        indent = _body_indent(src, init)
        if not indent:
            raise InterfaceError("cannot add to an __init__ whose body is on the def line",
                                 init.lineno)
        text = "".join(f"{indent}{self_name}.{n} = {n}{nl}" for n in added)
        if anchor.end_lineno < len(src.lines):
            at = src.starts[anchor.end_lineno]
            edits.replace(at, at, text)
        else:
            at = len(src.code)
            edits.replace(at, at, nl + text.rstrip("\r\n"))


def _alone_on_lines(src: _Source, stmt) -> bool:
    before = src.code[src.starts[stmt.lineno - 1]:src.start(stmt)]
    after_end = src.end(stmt)
    line_end = src.code.find("\n", after_end)
    after = src.code[after_end:len(src.code) if line_end < 0 else line_end]
    return not before.strip() and not after.strip(" \t\r;")


def _order_params(items: list) -> tuple:
    """Split parameters into (positional, keyword-only).

    Positional parameters cannot go from defaulted to required; once that would
    happen (or an item was keyword-only before) the rest become keyword-only, so
    the written order always equals the interface order.
    """
    positional, kwonly = [], []
    forced = False
    for it in items:
        if not forced and (it.kwonly or (positional and positional[-1].has_default
                                         and not it.has_default)):
            forced = True
        (kwonly if forced else positional).append(it)
    return positional, kwonly


def _render_flat(head: list, kwonly: list) -> str:
    pieces = list(head)
    if kwonly:
        pieces.append("*")
        pieces += [k.text for k in kwonly]
    return ", ".join(pieces)


def _returns_annotation_plan(outputs: list, style: str) -> tuple:
    """(style to write, annotation text or None) for the new outputs."""
    types = [o["type"] for o in outputs]
    if all(t == "any" for t in types):
        return style, None
    # Types live in the return annotation, which only the names style can carry.
    if len(types) == 1:
        return "names", types[0]
    if any(t == "any" for t in types):
        inner = ", ".join("Any" if t == "any" else t for t in types)
        return "names", repr(f"tuple[{inner}]")
    return "names", f"tuple[{', '.join(types)}]"


def _update_execute(p: _Parsed, new: dict, edits: _Edits):
    src, cls, fn = p.src, p.cls, p.execute
    nl = src.line_end()
    inputs, outputs = new["inputs"], new["outputs"]
    names = [o["name"] for o in outputs]
    if fn is None:
        if not inputs and not outputs:
            return
        indent = _body_indent(src, cls)
        if not indent:
            raise InterfaceError("cannot add execute to a class whose body is on the class line",
                                 cls.lineno)
        inner = indent + "    "
        params = [_input_param(i, None, src) for i in inputs]
        style, ann = _returns_annotation_plan(outputs, "names")
        header = f"def execute({', '.join(['self'] + [q.text for q in params])})"
        if ann is not None:
            header += f" -> {ann}"
        body = f"{inner}return {', '.join(names)}{nl}" if names else f"{inner}pass{nl}"
        method = f"{nl}{indent}{header}:{nl}{body}"
        last = cls.body[-1]
        at = src.starts[last.end_lineno] if last.end_lineno < len(src.lines) else len(src.code)
        if at == len(src.code) and not src.code.endswith(("\n", "\r")):
            method = nl + method
        edits.replace(at, at, method)
        return

    receiver, old_params = _named_params(fn)
    by_name = {q.node.arg: q for q in old_params}
    open_at, close_at = _param_header(fn, src)
    if p.interface["inputs"] != inputs:
        items = [_input_param(i, by_name.get(i["name"]), src) for i in inputs]
        edits.replace(open_at + 1, close_at,
                      _render_params(src, fn, receiver, items, open_at, close_at))

    if p.interface["outputs"] == outputs:
        return
    style = p.out_style if p.out_style != "none" else "names"
    style, ann = _returns_annotation_plan(outputs, style)
    # Return annotation: write it when types need it; drop an old one that would
    # otherwise be read as output types.
    if fn.returns is not None:
        if ann is not None:
            edits.replace(src.start(fn.returns), src.end(fn.returns), ann)
        else:
            old_ann_is_types = style != "dict" and names and (
                len(names) == 1 or len(_tuple_annotation_elements(src, fn.returns) or []) ==
                len(names))
            if old_ann_is_types:
                edits.replace(close_at + 1, src.end(fn.returns), "")
    elif ann is not None:
        edits.replace(close_at + 1, close_at + 1, f" -> {ann}")

    old_style = p.out_style
    if p.returns:
        for r in p.returns:
            old_values = {}
            if old_style == "dict" and isinstance(r.value, ast.Dict):
                old_values = {k.value: src.text(v) for k, v in zip(r.value.keys, r.value.values)}
            if not names:
                text = "return"
            elif style == "dict":
                text = "return {" + ", ".join(
                    f"{json.dumps(n)}: {old_values.get(n, n)}" for n in names) + "}"
            else:
                text = "return " + ", ".join(names)
            edits.replace(src.start(r), src.end(r), text)
    elif names:
        last = fn.body[-1]
        if last.lineno == fn.lineno:
            at = src.end(last)
            edits.replace(at, at, "; return " + ", ".join(names))
        else:
            indent = _body_indent(src, fn)
            at = src.end(last)
            text = nl + indent + ("return {" + ", ".join(f"{json.dumps(n)}: {n}" for n in names)
                                  + "}" if style == "dict" else "return " + ", ".join(names))
            edits.replace(at, at, text)


def update_code(code: str, new_interface: dict) -> str:
    """Rewrite ``code`` so that ``parse_interface(result) == normalize_interface(new_interface)``.

    Only the class name, the ``__init__`` and ``execute`` parameter lists, the
    return annotation, the return statements and ``self.x = x`` stores of added or
    removed attributes are touched; unchanged parts are left byte for byte.
    References are written first in ``__init__``, annotated ``kiln.<type>``; an
    interface without the key ``"references"`` keeps the code's references.
    Raises InterfaceError if the code does not parse or the interface is invalid.
    """
    new = normalize_interface(new_interface)
    p = _parse(code)
    if "references" not in new_interface and p.interface.get("references"):
        # An interface that does not mention references (an editor that does not know
        # them) leaves the code's references as they are.
        new["references"] = p.interface["references"]
    if p.interface == new:
        return code
    edits = _Edits(code)
    if new["name"] != p.cls.name:
        for tok in p.src.tokens_from(p.cls.lineno, p.cls.col_offset):
            if tok.type == tokenize.NAME and tok.string == p.cls.name:
                start = p.src.tok_offset(tok.start)
                edits.replace(start, start + len(tok.string), new["name"])
                break
    _update_init(p, new["attributes"], new.get("references", []), edits)
    _update_execute(p, new, edits)
    result = edits.apply()
    try:
        got = parse_interface(result)
    except InterfaceError as e:
        raise InterfaceError(f"cannot rewrite this code to the new interface ({e.message})",
                             e.line, e.column) from None
    if got != new:
        raise InterfaceError("cannot rewrite this code to the new interface: the rewritten code "
                             f"derives {json.dumps(got)}")
    return result


# ---------------------------------------------------------------------------
# JSON request handling (CLI and warm worker)


def handle_request(op: str, payload: dict) -> dict:
    """``op`` is "parse" ({"code"}) or "update" ({"code", "interface"}); returns a JSON reply."""
    try:
        if op == "parse":
            return {"ok": True, "interface": parse_interface(payload.get("code"))}
        if op == "update":
            return {"ok": True, "code": update_code(payload.get("code"), payload.get("interface"))}
        raise InterfaceError(f"unknown interface operation {op!r}")
    except InterfaceError as e:
        return {"ok": False, "error": e.to_dict()}
    except RecursionError:
        return {"ok": False, "error": {"message": "code nests too deeply", "line": None,
                                       "column": None}}


def main(argv=None) -> int:
    """``python3 -m kiln.interface parse`` (code on stdin) or ``update`` (JSON on stdin)."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0] not in ("parse", "update"):
        sys.stderr.write("usage: python3 -m kiln.interface parse|update  (input on stdin)\n"
                         "  parse:  stdin = operation code\n"
                         "  update: stdin = {\"code\": ..., \"interface\": {...}}\n")
        return 2
    data = sys.stdin.buffer.read().decode("utf-8", "surrogateescape")
    if argv[0] == "parse":
        reply = handle_request("parse", {"code": data})
    else:
        try:
            payload = json.loads(data)
            if not isinstance(payload, dict):
                raise ValueError("expected a JSON object")
        except ValueError as e:
            reply = {"ok": False, "error": {"message": f"bad JSON input: {e}", "line": None,
                                            "column": None}}
        else:
            reply = handle_request("update", payload)
    sys.stdout.write(json.dumps(reply) + "\n")
    return 0 if reply["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
