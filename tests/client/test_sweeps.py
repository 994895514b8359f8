"""kiln.Client's sweeps (docs/sweeps.md): the parameters it resolves and sends, then a real sweep.

The first tests need no server: a hand-made tree (a pipeline with Train and
Score instances of definitions) checks how "Train.epochs" and bare names
resolve, and a recording transport checks the request. The last runs a grid
sweep on a real `kiln serve` (client_server.py) and skips, saying so, while
that server has no sweep routes.
"""
import pytest

from client_server import ROOT  # noqa: F401  (first: puts this tree's python/ on sys.path)
import kiln
from kiln.client import KilnError, MethodNotAllowed, NotFound
from kiln.patch_builder import meta_guid
from kiln.sweep_parameters import pipeline_attributes, resolve_parameters

pytest_plugins = ["client_server"]

OPERATION = meta_guid("Operation")
PIPELINE = meta_guid("Pipeline")


def hand_tree():
    nodes = {
        "root": {"attrs": {}, "children": ["P", "TrainDef", "ScoreDef", "InputDef"]},
        OPERATION: {"attrs": {}, "children": []},
        PIPELINE: {"attrs": {}, "children": []},
        "TrainDef": {"base": OPERATION, "attrs": {"name": "Train", "code": "...", "epochs": 10, "lr": 0.01}},
        "ScoreDef": {"base": OPERATION, "attrs": {"name": "Score", "code": "...", "lr": 0.5, "top_k": 1}},
        "InputDef": {"base": OPERATION, "attrs": {"name": "Input", "kind": "input", "artifact": "", "serializer": "raw"}},
        "P": {"base": PIPELINE, "attrs": {"name": "Digits"}, "children": ["t", "s", "i", "conn"]},
        "t": {"base": "TrainDef", "attrs": {"name": "Train", "epochs": 3}},
        "s": {"base": "ScoreDef", "attrs": {"name": "Score"}},
        "i": {"base": "InputDef", "attrs": {"name": "digits.npz", "artifact": "abc"}},
        "conn": {"base": meta_guid("Connection"), "attrs": {}},
    }
    return {"root": "root", "nodes": nodes}


def test_pipeline_attributes_are_the_instances_effective_ones():
    attrs = pipeline_attributes(hand_tree(), "P")
    assert ("t", "Train", "epochs", 3) in attrs and ("t", "Train", "lr", 0.01) in attrs
    assert ("s", "Score", "top_k", 1) in attrs
    # Inputs keep what they read to themselves; names and code are not parameters.
    assert not [a for a in attrs if a[0] == "i"]
    assert not [a for a in attrs if a[2] in ("name", "code")]


def test_parameters_resolve_by_operation_and_attribute_or_a_unique_bare_name():
    got = resolve_parameters(hand_tree(), "P", {
        "Train.lr": [0.001, 0.003], "epochs": {"min": 2, "max": 10, "steps": 3, "integer": True}})
    assert got == [
        {"node": "t", "attribute": "lr", "values": [0.001, 0.003]},
        {"node": "t", "attribute": "epochs", "range": {"min": 2, "max": 10, "steps": 3, "integer": True}},
    ]


@pytest.mark.parametrize("parameters, message", [
    ({"lr": [1]}, "lr: 2 operations have it; say which: Score.lr, Train.lr"),
    ({"Train.nope": [1]}, "Train.nope: no operation of the pipeline has this attribute"),
    ({"epochs": []}, "epochs: the list of values is empty"),
    ({"epochs": 3}, "epochs: give a list of values or a range dict, not 3"),
    ({"epochs": {"min": 1}}, "epochs: a range needs min and max"),
    ({"epochs": {"min": 1, "max": 2, "step": 2}}, "not step"),
    ({}, "a sweep needs at least one parameter"),
])
def test_bad_parameters_say_what_is_wrong(parameters, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.").replace("(", r"\(")):
        resolve_parameters(hand_tree(), "P", parameters)


class Recording:
    """Stands for the client's transport: answers GETs of the tree and the sweep, records the POSTs."""

    def __init__(self):
        self.posts = []

    def json(self, method, path, body=None, **kw):
        if method == "POST":
            self.posts.append((path, body))
            return {"id": "s-1", "trials": 3} if path.endswith("/sweeps") else {}
        if path.startswith("/projects/demo/tree"):
            return {"commit": "c", "tree": hand_tree()}
        if path == "/sweeps/s-1":
            return {"id": "s-1", "state": "succeeded", "trials": []}
        if path == "/projects/demo/sweeps":
            return {"sweeps": [{"id": "s-1"}]}
        raise AssertionError(f"unexpected {method} {path}")


def test_sweep_sends_the_request_of_the_spec():
    client = kiln.Client("http://127.0.0.1:9")
    client._t = Recording()
    sweep = client.sweep("demo", "Digits", {"Train.epochs": [1, 2, 3]}, mode="random", samples=3, seed=7,
                         ref="exp")
    assert sweep["id"] == "s-1"
    path, body = client._t.posts[0]
    assert path == "/projects/demo/sweeps"
    assert body == {"pipeline": "P", "ref": "exp", "mode": "random", "samples": 3, "seed": 7,
                    "parameters": [{"node": "t", "attribute": "epochs", "values": [1, 2, 3]}]}
    assert client.sweeps("demo") == [{"id": "s-1"}]
    assert client.cancel_sweep("s-1")["state"] == "succeeded"
    assert client._t.posts[1] == ("/sweeps/s-1/cancel", None)
    with pytest.raises(ValueError, match="needs samples"):
        client.sweep("demo", "Digits", {"epochs": [1]}, mode="random")
    with pytest.raises(ValueError, match="mode is 'grid' or 'random'"):
        client.sweep("demo", "Digits", {"epochs": [1]}, mode="bayes")


PARSE = '''\
import kiln


class Parse(kiln.Operation):
    def execute(self, file: bytes) -> list:
        numbers = [int(x) for x in file.split()]
        return numbers
'''

SCALE = '''\
import kiln


class Scale(kiln.Operation):
    def __init__(self, factor: int = 1):
        self.factor = factor

    def execute(self, numbers: list) -> int:
        total = sum(numbers) * self.factor
        kiln.log_metric("total", total)
        return total
'''


def test_a_grid_sweep_runs_every_trial_sharing_the_common_job(client):
    project = "sweeps"
    client.create_project(project)
    upload = client.upload_bytes(project, b"1 2 3\n", "numbers.txt")
    b = client.builder(project)
    parse = b.add_operation(None, PARSE)
    scale = b.add_operation(None, SCALE)
    pipeline = b.add_pipeline("Scaled")
    source = b.add_input(pipeline, upload["digest"], name="numbers.txt")
    p = b.add_instance(pipeline, parse)
    s = b.add_instance(pipeline, scale)
    b.connect(source, "data", p, "file")
    b.connect(p, "numbers", s, "numbers")
    b.commit("Scaled: parse and scale")
    try:
        sweep = client.sweep(project, "Scaled", {"factor": [1, 2, 3]}, wait=True, timeout=120)
    except KilnError as e:
        if isinstance(e, MethodNotAllowed) or (isinstance(e, NotFound) and e.message.startswith("no endpoint")):
            pytest.skip(f"this server has no POST /projects/{{p}}/sweeps yet (answered {e.status} {e.message!r})")
        raise
    assert sweep["state"] == "succeeded", sweep
    trials = sorted(sweep["trials"], key=lambda t: t["index"])
    assert [t["values"] for t in trials] == [{"Scale.factor": f} for f in (1, 2, 3)]
    assert [t["metrics"]["Scale.total"] for t in trials] == [6, 12, 18]
    # Parse has the same cache key in every trial: it ran once, the others took it from the cache.
    parse_states = [client.execution(t["execution"]).job("Parse")["state"] for t in trials]
    assert sorted(parse_states) == ["cached", "cached", "succeeded"]
    first = client.execution(trials[0]["execution"]).data
    assert first["sweep"] == sweep["id"]
    assert list(first["overrides"].values()) == [{"factor": 1}]
    assert [x["id"] for x in client.sweeps(project)] == [sweep["id"]]
    assert client.get_sweep(sweep["id"])["pipeline_name"] == "Scaled"
