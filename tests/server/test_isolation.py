"""Isolation between projects (docs/access.md): a commit digest or an
artifact digest of project `pa` never reaches `pb`'s reader through `pb`.

One regression test per defect of the security review, table-driven over
every route that takes a ref or a digest. A server with sign-in; alice owns
`pa`, bob owns `pb` and has no role on `pa`.
"""
import uuid

import pytest

from kiln_server import Kiln, commit, meta_guids, q


@pytest.fixture(scope="module")
def kiln():
    k = Kiln("--auth", users=("alice", "bob"))
    yield k
    k.stop()


@pytest.fixture(scope="module")
def world(kiln):
    assert kiln.api("POST", "/projects", {"name": "pa"}, user="alice").status == 201
    assert kiln.api("POST", "/projects", {"name": "pb"}, user="bob").status == 201
    m = meta_guids(kiln, "pa", user="alice")
    commit(kiln, "pa", [{"op": "create", "guid": str(uuid.uuid4()), "parent": m["ROOT"],
                         "base": m["Folder"], "attrs": {"name": "alice's secret plan"}}],
           user="alice")
    head = kiln.api("GET", "/projects/pa/branches", user="alice").json()
    secret = [b for b in head["branches"] if b["name"] == "main"][0]["commit"]
    up = kiln.api("POST", "/projects/pa/artifacts?name=secret.csv", b"a,b\n1,2\n", user="alice")
    assert up.status == 201, up
    return {"commit": secret, "artifact": up.json()["digest"], "meta": meta_guids(kiln, "pb", "bob")}


def test_owner_reads_its_own_history(kiln, world):
    c = world["commit"]
    for ref in (c, c[:10]):
        assert kiln.api("GET", f"/projects/pa/tree?ref={ref}", user="alice").status == 200


REF_ROUTES = [
    ("GET", "/projects/pb/tree?ref={c}", None),
    ("GET", "/projects/pb/tree?ref={short}", None),
    ("GET", "/projects/pb/nodes/{root}?ref={c}", None),
    ("GET", "/projects/pb/commits?ref={c}", None),
    ("GET", "/projects/pb/commits/{c}", None),
    ("GET", "/projects/pb/commits/{short}", None),
    ("GET", "/projects/pb/diff?from=main&to={c}", None),
    ("GET", "/projects/pb/diff?from={c}&to=main", None),
    ("GET", "/projects/pb/artifacts?ref={c}", None),
    ("POST", "/projects/pb/merge", {"from": "{c}", "into": "main"}),
    ("POST", "/projects/pb/branches", {"name": "stolen", "from": "{c}"}),
    ("POST", "/projects/pb/tags", {"name": "stolen", "ref": "{c}"}),
    ("POST", "/projects", {"name": "stolen", "from": {"project": "pb", "ref": "{c}"}}),
    ("POST", "/projects/pb/executions", {"pipeline": "{root}", "ref": "{c}"}),
]


def fill(x, world):
    subs = {"{c}": world["commit"], "{short}": world["commit"][:10], "{root}": world["meta"]["ROOT"]}
    if isinstance(x, str):
        for k, v in subs.items():
            x = x.replace(k, v)
        return x
    if isinstance(x, dict):
        return {k: fill(v, world) for k, v in x.items()}
    return x


@pytest.mark.parametrize("method,path,body", REF_ROUTES, ids=[f"{m} {p}" for m, p, _ in REF_ROUTES])
def test_a_commit_of_another_project_is_not_a_ref(kiln, world, method, path, body):
    r = kiln.api(method, fill(path, world), fill(body, world), user="bob")
    # Exactly what a digest that does not exist gets.
    missing = kiln.api(method, fill(path, world).replace(world["commit"][:10], "abcdef0123"),
                       fill(body, world), user="bob") if "{short}" in path else None
    assert r.status == 404, r
    assert b"alice" not in r.body
    if missing is not None:
        assert missing.status == 404
    assert kiln.alive()


def test_nothing_was_kept_from_the_attempts(kiln, world):
    assert [b["name"] for b in kiln.api("GET", "/projects/pb/branches", user="bob").json()["branches"]] == ["main"]
    assert kiln.api("GET", "/projects/pb/tags", user="bob").json()["tags"] == []
    assert kiln.api("GET", "/projects/stolen", user="bob").status in (403, 404)


def test_a_fork_of_a_project_you_may_not_read_is_refused(kiln, world):
    r = kiln.api("POST", "/projects", {"name": "stolen2", "from": {"project": "pa", "ref": world["commit"]}},
                 user="bob")
    assert r.status == 403, r


def test_an_artifact_of_another_project_is_not_readable(kiln, world):
    d = world["artifact"]
    assert kiln.api("GET", f"/artifacts/{d}?project=pa", user="alice").body == b"a,b\n1,2\n"
    for path in (f"/artifacts/{d}?project=pb", f"/artifacts/{d}"):
        r = kiln.api("GET", path, user="bob")
        assert r.status == 404, r
        # The same answer as for bytes nobody has.
        other = kiln.api("GET", path.replace(d, "0" * 64), user="bob")
        assert other.status == 404
        assert r.json()["error"]["message"] == other.json()["error"]["message"].replace("0" * 64, d)


def test_an_input_naming_another_projects_artifact_fails_at_planning(kiln, world):
    m = world["meta"]
    pipeline, definition, port, instance = (str(uuid.uuid4()) for _ in range(4))
    commit(kiln, "pb", [
        {"op": "create", "guid": pipeline, "parent": m["ROOT"], "base": m["Pipeline"],
         "attrs": {"name": "steal"}},
        {"op": "create", "guid": definition, "parent": m["ROOT"], "base": m["Operation"],
         "attrs": {"name": "Input", "kind": "input"}},
        {"op": "create", "guid": port, "parent": definition, "base": m["Port"],
         "attrs": {"name": "data", "direction": "output"}},
        {"op": "create", "guid": instance, "parent": pipeline, "base": definition,
         "attrs": {"name": "the csv", "artifact": world["artifact"], "serializer": "raw"}},
    ], user="bob")
    r = kiln.api("POST", "/projects/pb/executions", {"pipeline": pipeline}, user="bob")
    assert r.status == 422, r
    msg = r.json()["error"]["message"]
    assert f"artifact {world['artifact'][:12]}… is not in project pb" in msg
    # Uploading the same bytes makes them pb's own: then it runs.
    up = kiln.api("POST", "/projects/pb/artifacts?name=mine.csv", b"a,b\n1,2\n", user="bob")
    assert up.json()["digest"] == world["artifact"]
    r = kiln.api("POST", "/projects/pb/executions", {"pipeline": pipeline}, user="bob")
    assert r.status == 201, r


def test_a_fork_has_what_its_source_had(kiln, world):
    r = kiln.api("POST", "/projects", {"name": "pa-fork", "from": {"project": "pa"}}, user="alice")
    assert r.status == 201, r
    d = world["artifact"]
    assert kiln.api("GET", f"/artifacts/{d}?project=pa-fork", user="alice").status == 200


def test_json_integers_past_64_bits_are_refused(kiln, world):
    r = kiln.request("POST", "/api/v1/projects/pb/tags",
                     b'{"name": "big", "ref": "main", "n": 18446744073709551616}',
                     user="bob", headers={"Content-Type": "application/json"})
    assert r.status == 400, r
    assert "does not fit in 64 bits" in r.json()["error"]["message"]


def test_commits_limit_past_the_cap_is_an_error_not_a_silent_cap(kiln, world):
    r = kiln.api("GET", "/projects/pb/commits?limit=10001", user="bob")
    assert r.status == 400, r
    assert "between 1 and 10000" in r.json()["error"]["message"]
    assert kiln.api("GET", "/projects/pb/commits?limit=10000", user="bob").status == 200
