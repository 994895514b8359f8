"""Operation interface <-> code (kiln.interface): parsing rules, errors, rewriting."""
import copy
import json
import subprocess
import textwrap

import pytest

from kiln.interface import InterfaceError, normalize_interface, parse_interface, update_code

from conftest import PYTHON, run_env


def code(s: str) -> str:
    return textwrap.dedent(s).lstrip("\n")


MODERN = code('''
    """A file using many modern syntax forms."""
    from __future__ import annotations
    import kiln
    import math
    from typing import Optional

    type_alias = dict[str, list[int]]


    def helper(x, /, y=2, *args, **kw):  # comment with (parens
        return f"{x!r:>{y}} {y=}"


    @dataclasses.dataclass
    class NotTheOp:
        x: int = 1


    @register(name="train", tags=["a", "b"])
    class Train(kiln.Operation):
        """Docstring (with parens."""

        def __init__(self, epochs: int = 10, lr=1e-3, name="net", *, flags=(1, 2),
                     scale=math.pi, opt: Optional[str] = None, layers=[64, 32],
                     cfg={"a": 1}, verbose=False, neg=-1, nothing=None):
            self.epochs = epochs  # keep this comment
            self.lr = lr

        @torch.no_grad()
        async def execute(self, data: "torch.Tensor", labels, *, w: dict[str, float] = None
                          ) -> tuple[float, "Model"]:
            async with lock:
                pass
            if (n := len(data)) > 3:
                match n:
                    case [a, *rest] if a > 0:
                        return loss, model
                    case {"k": v}:
                        pass
            def inner():
                return 5  # nested: ignored
            g = lambda: (yield)
            print(f"{n=} {'nested' + f'{n:>{3}}'}")
            return loss, model
    ''')


def test_modern_syntax_parse():
    i = parse_interface(MODERN)
    assert i["name"] == "Train"
    attrs = {a["name"]: a for a in i["attributes"]}
    assert list(attrs) == ["epochs", "lr", "name", "flags", "scale", "opt", "layers", "cfg",
                           "verbose", "neg", "nothing"]
    assert attrs["epochs"] == {"name": "epochs", "type": "int", "default": 10}
    assert attrs["lr"] == {"name": "lr", "type": "float", "default": 0.001}
    assert attrs["name"] == {"name": "name", "type": "str", "default": "net"}
    assert attrs["flags"] == {"name": "flags", "type": "list", "default": [1, 2]}
    assert attrs["scale"] == {"name": "scale", "type": "any", "default": None, "expr": "math.pi"}
    assert attrs["opt"] == {"name": "opt", "type": "Optional[str]", "default": None}
    assert attrs["cfg"]["type"] == "dict" and attrs["cfg"]["default"] == {"a": 1}
    assert attrs["verbose"] == {"name": "verbose", "type": "bool", "default": False}
    assert attrs["neg"] == {"name": "neg", "type": "int", "default": -1}
    assert attrs["nothing"] == {"name": "nothing", "type": "any", "default": None}
    assert i["inputs"] == [{"name": "data", "type": "torch.Tensor"},
                           {"name": "labels", "type": "any"},
                           {"name": "w", "type": "dict[str, float]"}]
    assert i["outputs"] == [{"name": "loss", "type": "float"}, {"name": "model", "type": "Model"}]
    json.dumps(i)  # JSON-able


@pytest.mark.parametrize("src,outputs", [
    ("return a", [{"name": "a", "type": "any"}]),
    ("return a, b", [{"name": "a", "type": "any"}, {"name": "b", "type": "any"}]),
    ("return (a, b)", [{"name": "a", "type": "any"}, {"name": "b", "type": "any"}]),
    ("return {'x': 1, \"y\": f(a)}", [{"name": "x", "type": "any"}, {"name": "y", "type": "any"}]),
    ("return", []),
    ("return None", []),
    ("pass", []),
])
def test_return_forms(src, outputs):
    c = f"class Op:\n    def execute(self, a, b):\n        {src}\n"
    assert parse_interface(c)["outputs"] == outputs


def test_output_types_from_annotation():
    c = "class Op:\n    def execute(self) -> 'torch.Tensor':\n        return t\n"
    assert parse_interface(c)["outputs"] == [{"name": "t", "type": "torch.Tensor"}]
    c = "class Op:\n    def execute(self) -> Tuple[int, Any]:\n        return a, b\n"
    assert parse_interface(c)["outputs"] == [{"name": "a", "type": "int"},
                                             {"name": "b", "type": "any"}]
    # Arity mismatch: the annotation does not describe the outputs.
    c = "class Op:\n    def execute(self) -> tuple[int, ...]:\n        return a, b\n"
    assert [o["type"] for o in parse_interface(c)["outputs"]] == ["any", "any"]


def test_operation_class_rule():
    # Derived from Operation wins over a class that merely has execute.
    c = code('''
        class Helper:
            def execute(self): pass
        class Base(kiln.Operation):
            pass
        class Real(Base):
            def execute(self, x): return x
        ''')
    assert parse_interface(c)["name"] == "Real"
    # No Operation base: the single class with execute.
    c = "class A:\n    pass\nclass B:\n    def execute(self):\n        pass\n"
    assert parse_interface(c)["name"] == "B"
    # Two candidates: error pointing at the second.
    c = "class A:\n    def execute(self): pass\n\nclass B:\n    def execute(self): pass\n"
    with pytest.raises(InterfaceError) as e:
        parse_interface(c)
    assert (e.value.line, e.value.column) == (4, 1)
    with pytest.raises(InterfaceError, match="no operation class"):
        parse_interface("x = 1\n")


def test_static_execute_and_decorated_class():
    c = code('''
        @decorate
        class Op(Operation):
            @staticmethod
            def execute(x, y: int):
                return x
        ''')
    assert [i["name"] for i in parse_interface(c)["inputs"]] == ["x", "y"]


@pytest.mark.parametrize("src,line,col", [
    ("class Op:\n    def execute(self:\n        pass\n", 2, 16),
    ("x = 1\nclass Op:\n  def execute(self):\n    return f'{a b}'\n", 4, None),
    ("class Op:\n    def execute(self):\n   return 1\n", 3, None),
])
def test_syntax_errors_have_positions(src, line, col):
    with pytest.raises(InterfaceError) as e:
        parse_interface(src)
    err = e.value.to_dict()
    assert err["line"] == line
    assert isinstance(err["column"], int) and err["column"] >= 1
    if col is not None:
        assert err["column"] == col
    assert err["message"]


def test_semantic_errors_have_positions():
    c = ("class Op:\n    def execute(self, a):\n        if a:\n            return a\n"
         "        return a, b\n")
    with pytest.raises(InterfaceError) as e:
        parse_interface(c)
    assert (e.value.line, e.value.column) == (5, 9)
    c = "class Op:\n    def execute(self, a):\n        return a + 1\n"
    with pytest.raises(InterfaceError) as e:
        parse_interface(c)
    assert (e.value.line, e.value.column) == (3, 9)
    # Columns count characters, not UTF-8 bytes.
    c = "class Op:\n    def execute(self, a):\n        é = 1; return é.x\n"
    with pytest.raises(InterfaceError) as e:
        parse_interface(c)
    assert (e.value.line, e.value.column) == (3, 16)


def _roundtrip(src: str, mutate) -> str:
    new = copy.deepcopy(parse_interface(src))
    mutate(new)
    out = update_code(src, new)
    assert parse_interface(out) == normalize_interface(new)
    return out


def test_update_is_identity_when_unchanged():
    assert update_code(MODERN, parse_interface(MODERN)) == MODERN


def test_update_preserves_everything_else():
    def mutate(i):
        i["name"] = "Fit"
        i["attributes"][0]["default"] = 20
        del i["attributes"][1]  # lr
        i["attributes"].append({"name": "momentum", "type": "float", "default": 0.9})
        i["inputs"][1]["type"] = "list[int]"
        i["inputs"].append({"name": "extra", "type": "any"})
        i["outputs"] = [{"name": "loss", "type": "any"}, {"name": "acc", "type": "float"},
                        {"name": "model", "type": "any"}]

    out = _roundtrip(MODERN, mutate)
    assert "class Fit(kiln.Operation):" in out
    assert "epochs: int = 20" in out  # annotation style kept
    assert "self.lr = lr" not in out  # store of the removed attribute dropped
    assert "self.momentum = momentum" in out
    assert "# keep this comment" in out and "# nested: ignored" in out
    assert out.count("return loss, acc, model") == 2
    assert "return 5  # nested: ignored" in out
    # Lines outside the rewritten spans are identical.
    untouched = [ln for ln in MODERN.splitlines() if not any(
        k in ln for k in ("class Train", "def __init__", "scale=", "cfg=", "self.lr",
                          "async def execute", ") -> tuple", "return loss"))]
    for ln in untouched:
        assert ln in out.splitlines(), ln


def test_update_multiline_params_keep_layout():
    src = code('''
        class Op(kiln.Operation):
            def __init__(
                self,
                a: int = 1,  # comment a
                b=2,
            ):
                self.a = a
                self.b = b

            def execute(self, x):
                return x
        ''')
    out = _roundtrip(src, lambda i: i["attributes"].append(
        {"name": "c", "type": "str", "default": "hi"}))
    assert "    def __init__(\n        self,\n        a: int = 1,\n        b=2,\n" \
           "        c='hi',\n    ):\n" in out
    assert "self.c = c\n" in out


def test_update_adds_missing_methods():
    src = 'class Op(kiln.Operation):\n    """Doc."""\n'
    out = _roundtrip(src, lambda i: i.update(
        attributes=[{"name": "k", "type": "int", "default": 3},
                    {"name": "seed", "type": "int", "default": None, "required": True}],
        inputs=[{"name": "x", "type": "any"}],
        outputs=[{"name": "y", "type": "any"}]))
    ns = {}
    exec(out.replace("kiln.Operation", "object"), ns)
    op = ns["Op"](seed=5)
    assert (op.k, op.seed) == (3, 5)


def test_update_dict_returns_keep_values():
    src = code('''
        class Op:
            def execute(self, x):
                if x:
                    return {"mean": x.mean(), "std": x.std()}
                return {"mean": 0, "std": 1}
        ''')
    out = _roundtrip(src, lambda i: i.update(outputs=[{"name": "std", "type": "any"},
                                                      {"name": "n", "type": "any"}]))
    assert 'return {"std": x.std(), "n": n}' in out
    assert 'return {"std": 1, "n": n}' in out


def test_update_outputs_none_to_some_and_back():
    src = "class Op:\n    def execute(self, a):\n        print(a)\n"
    out = _roundtrip(src, lambda i: i.update(outputs=[{"name": "a", "type": "int"}]))
    assert out == "class Op:\n    def execute(self, a) -> int:\n        print(a)\n" \
                  "        return a\n"
    back = _roundtrip(out, lambda i: i.update(outputs=[]))
    assert back == "class Op:\n    def execute(self, a) -> int:\n        print(a)\n" \
                   "        return\n"


def test_update_types_and_any():
    src = "class Op:\n    def __init__(self, a=1):\n        self.a = a\n" \
          "    def execute(self):\n        return a, b\n"
    out = _roundtrip(src, lambda i: i["attributes"][0].update(type="any"))
    assert "a: 'Any' = 1" in out
    out = _roundtrip(src, lambda i: i["attributes"][0].update(
        type="float", default=None, expr="math.inf"))
    assert "a: float = math.inf" in out
    out = _roundtrip(src, lambda i: i["attributes"][0].update(default={"k": [1, 2.5, None]}))


def test_update_required_after_default_becomes_keyword_only():
    src = "class Op:\n    def __init__(self, a=1):\n        self.a = a\n" \
          "    def execute(self):\n        pass\n"
    out = _roundtrip(src, lambda i: i["attributes"].append(
        {"name": "b", "type": "int", "required": True}))
    assert "def __init__(self, a=1, *, b: int):" in out


def test_update_crlf_and_unicode():
    src = "# é\r\nclass Öp:\r\n    def execute(self, α):\r\n        return α\r\n"
    out = _roundtrip(src, lambda i: i.update(
        inputs=[{"name": "α", "type": "any"}, {"name": "β", "type": "str"}],
        outputs=[{"name": "α", "type": "any"}, {"name": "β", "type": "any"}]))
    assert out == "# é\r\nclass Öp:\r\n    def execute(self, α, β: str):\r\n" \
                  "        return α, β\r\n"


def test_update_rejects_bad_interfaces():
    src = "class Op:\n    def execute(self):\n        pass\n"
    base = parse_interface(src)
    for bad in [dict(base, name="not valid"),
                dict(base, inputs=[{"name": "x", "type": "list["}]),
                dict(base, inputs=[{"name": "x"}, {"name": "x"}]),
                dict(base, attributes=[{"name": "a", "default": float("nan")}])]:
        with pytest.raises(InterfaceError):
            update_code(src, bad)
    with pytest.raises(InterfaceError) as e:
        update_code("class Op(:\n", base)
    assert e.value.line == 1


def test_cli_parse_and_update():
    src = "class Op:\n    def execute(self, x):\n        return x\n"
    env = run_env()
    r = subprocess.run([PYTHON, "-m", "kiln.interface", "parse"], input=src.encode(),
                       capture_output=True, env=env, timeout=30)
    reply = json.loads(r.stdout)
    assert r.returncode == 0 and reply["ok"] and reply["interface"]["inputs"][0]["name"] == "x"
    new = dict(reply["interface"], inputs=[{"name": "y", "type": "int"}],
               outputs=[{"name": "y", "type": "any"}])
    r = subprocess.run([PYTHON, "-m", "kiln.interface", "update"],
                       input=json.dumps({"code": src, "interface": new}).encode(),
                       capture_output=True, env=env, timeout=30)
    reply = json.loads(r.stdout)
    assert reply == {"ok": True,
                     "code": "class Op:\n    def execute(self, y: int):\n        return y\n"}
    r = subprocess.run([PYTHON, "-m", "kiln.interface", "parse"], input=b"class (:\n",
                       capture_output=True, env=env, timeout=30)
    reply = json.loads(r.stdout)
    assert r.returncode == 1 and reply["ok"] is False
    assert set(reply["error"]) == {"message", "line", "column"} and reply["error"]["line"] == 1


# --- references (docs/libraries.md): constructor arguments typed with a resource type ---

TRAIN = code('''
    import kiln


    class Train(kiln.Operation):
        def __init__(self, net: kiln.Architecture, epochs=15, head: "Architecture" = None):
            self.net = net
            self.epochs = epochs
            self.head = head

        def execute(self, images):
            scores = self.net()(images)
            return scores
''')


def test_architecture_annotation_is_a_reference_not_an_attribute():
    i = parse_interface(TRAIN)
    assert i["attributes"] == [{"name": "epochs", "type": "int", "default": 15}]
    assert i["references"] == [{"name": "net", "type": "Architecture"},
                               {"name": "head", "type": "Architecture"}]
    # No references: no key (interfaces of existing operations are unchanged).
    assert "references" not in parse_interface("class Op:\n    def execute(self):\n        pass\n")
    assert normalize_interface(i) == i


def test_update_keeps_references_an_interface_does_not_mention():
    new = {k: v for k, v in parse_interface(TRAIN).items() if k != "references"}
    new["attributes"] = [{"name": "epochs", "type": "int", "default": 3},
                         {"name": "seed", "type": "int", "default": 0}]
    out = update_code(TRAIN, new)
    assert "def __init__(self, net: kiln.Architecture, head: \"Architecture\" = None, " \
           "epochs=3, seed=0):" in out
    assert "        self.seed = seed\n" in out
    assert parse_interface(out)["references"] == parse_interface(TRAIN)["references"]


def test_update_adds_and_removes_references():
    def mutate(i):
        i["references"] = [{"name": "encoder", "type": "Architecture"}]
    out = _roundtrip(TRAIN, mutate)
    assert "def __init__(self, encoder: kiln.Architecture, epochs=15):" in out
    assert "self.encoder = encoder" in out and "self.net = net" not in out
    # To an operation without __init__.
    src = "import kiln\n\n\nclass Op:\n    def execute(self):\n        pass\n"
    out = update_code(src, dict(parse_interface(src),
                                references=[{"name": "net", "type": "Architecture"}]))
    assert "    def __init__(self, net: kiln.Architecture):\n        self.net = net\n" in out


def test_bad_references_are_rejected():
    base = parse_interface(TRAIN)
    for bad in [dict(base, references=[{"name": "net", "type": "Dataset"}]),
                dict(base, references=[{"name": "epochs", "type": "Architecture"}]),
                dict(base, references="net")]:
        with pytest.raises(InterfaceError):
            normalize_interface(bad)


def test_the_marker_is_not_instantiable():
    import kiln
    with pytest.raises(TypeError, match="only annotates a reference"):
        kiln.Architecture()
