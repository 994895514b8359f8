"""A project's choice of storage backend is shared by every server on one
PostgreSQL database (docs/storage.md, "Several backends"): two `kiln serve`
processes with their own data folders, one database, and the same
`[storage.shared]` folder. The choice made through server A is what server
B answers and where B stores the project's next upload.
"""
from kiln_server import Kiln
from test_postgres_serve import postgres  # noqa: F401 (the fixture)


def test_the_choice_made_on_one_server_is_the_other_servers(postgres, tmp_path):  # noqa: F811
    shared = tmp_path / "shared"
    config = tmp_path / "kiln.toml"
    config.write_text(f'''
[database]
kind = "postgres"
conninfo = "{postgres.conninfo(postgres.create_database())}"

[storage.shared]
kind = "local"
path = "{shared}"
''')
    a = Kiln("--config", str(config))
    b = Kiln("--config", str(config))
    try:
        assert a.api("POST", "/projects", {"name": "lab"}).status == 201
        assert b.api("GET", "/projects/lab/storage").json() == {"backend": "default", "chosen": False}
        r = a.api("PUT", "/projects/lab/storage", {"backend": "shared"})
        assert r.status == 200, r
        assert b.api("GET", "/projects/lab/storage").json() == {"backend": "shared", "chosen": True}
        up = b.api("POST", "/projects/lab/artifacts?name=x.bin", b"stored by b in the shared folder")
        assert up.status == 201, up
        digest = up.json()["digest"]
        assert any(shared.rglob(digest))
        assert not any((b.data / "artifacts").rglob(digest))
    finally:
        a.stop()
        b.stop()
