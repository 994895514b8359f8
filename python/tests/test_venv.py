"""A project's Python packages (kiln.venv, docs/python-packages.md).

PyPI is not reachable here: each test writes a tiny pure-Python wheel into a
folder and installs it with ``--no-index --find-links DIR``, as a user with a
local wheel folder would.
"""
import base64
import hashlib
import json
import os
import subprocess
import zipfile

from kiln import venv

from conftest import PYTHON, make_bundle, read_events, read_result, run_env



# An operation that imports the package the project's requirements add.
USES_IT = '''
        import kiln
        import kiln_demo_pkg

        class UsesIt(kiln.Operation):
            def execute(self):
                answer = kiln_demo_pkg.answer()
                return answer
        '''

def make_wheel(folder, name="kiln_demo_pkg", version="1.0", body="def answer():\n    return 42\n"):
    """A pure-Python wheel of one module ``name`` (what `pip wheel` would make)."""
    os.makedirs(folder, exist_ok=True)
    dist = f"{name}-{version}.dist-info"
    files = {f"{name}/__init__.py": body,
             f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
             f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: kiln-test\nRoot-Is-Purelib: true\n"
                              "Tag: py3-none-any\n"}
    record = []
    path = os.path.join(str(folder), f"{name}-{version}-py3-none-any.whl")
    with zipfile.ZipFile(path, "w") as z:
        for n, text in files.items():
            z.writestr(n, text)
            h = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
            record.append(f"{n},sha256={h.decode()},{len(text)}")
        record.append(f"{dist}/RECORD,,")
        z.writestr(f"{dist}/RECORD", "\n".join(record) + "\n")
    return path


def requirements(wheels, *pkgs):
    return "\n".join(["# the project's packages", "--no-index", f"--find-links {wheels}",
                      *pkgs]) + "\n"


def test_normalize_and_digest_ignore_comments_and_blanks():
    a = "numpy\n\n# a comment\nkiln-demo==1.0  # pinned\n"
    assert venv.normalize(a) == ["numpy", "kiln-demo==1.0"]
    assert venv.digest(a) == venv.digest("numpy\nkiln-demo==1.0")
    assert venv.digest(a) != venv.digest("numpy\nkiln-demo==1.1")
    assert venv.digest(a, python="3.11.2") != venv.digest(a, python="3.12.0")
    assert venv.ensure("# nothing\n\n") is None


def test_a_job_imports_a_package_from_the_projects_environment_built_once(tmp_path):
    wheels = tmp_path / "wheels"
    make_wheel(wheels)
    reqs = requirements(wheels, "kiln_demo_pkg==1.0")
    root = tmp_path / "venvs"
    code = USES_IT
    env = run_env(PIP_FIND_LINKS="", PIP_NO_INDEX="1")
    first = make_bundle(tmp_path, code, name="first", requirements=reqs, venvs_dir=str(root))
    r = subprocess.run([PYTHON, "-m", "kiln.job", first], env=env, capture_output=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr.decode()
    res = read_result(first)
    assert res["status"] == "succeeded"
    with open(res["outputs"]["answer"]["path"]) as f:
        assert json.load(f) == 42
    # The build streamed as the job's log lines, pip's own included.
    logs = [e["line"] for e in read_events(os.path.join(first, "events.jsonl"))
            if e["type"] == "log"]
    assert any("building the project's Python environment" in line for line in logs), logs
    assert any("Successfully installed kiln_demo_pkg" in line.replace("-", "_") for line in logs)
    env_dir = root / venv.digest(reqs)
    assert (env_dir / venv.READY).exists()
    ready_mtime = (env_dir / venv.READY).stat().st_mtime_ns

    # A second job with the same list (comments aside) reuses the environment.
    second = make_bundle(tmp_path, code, name="second", requirements=reqs + "# same list\n",
                         venvs_dir=str(root))
    r = subprocess.run([PYTHON, "-m", "kiln.job", second], env=env, capture_output=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    logs = [e["line"] for e in read_events(os.path.join(second, "events.jsonl"))
            if e["type"] == "log"]
    assert not any("building" in line for line in logs), logs
    assert (env_dir / venv.READY).stat().st_mtime_ns == ready_mtime
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == [env_dir.name]


def test_a_failed_install_fails_the_job_and_leaves_nothing(tmp_path):
    wheels = tmp_path / "wheels"
    os.makedirs(wheels)
    root = tmp_path / "venvs"
    reqs = requirements(wheels, "no_such_package_kiln==9.9")
    bundle = make_bundle(tmp_path, '''
        import kiln
        class Op(kiln.Operation):
            def execute(self):
                return
        ''', requirements=reqs, venvs_dir=str(root))
    r = subprocess.run([PYTHON, "-m", "kiln.job", bundle],
                       env=run_env(PIP_FIND_LINKS="", PIP_NO_INDEX="1"), capture_output=True,
                       timeout=120)
    assert r.returncode == 1
    res = read_result(bundle)
    assert res["error"]["type"] == "VenvError"
    assert "pip install failed" in res["error"]["message"]
    assert "no_such_package_kiln==9.9" in res["error"]["message"]
    assert not (root / venv.digest(reqs)).exists()


def test_a_missing_module_says_how_to_add_the_package(tmp_path):
    bundle = make_bundle(tmp_path, '''
        import kiln
        import kiln_surely_missing_module

        class Op(kiln.Operation):
            def execute(self):
                return
        ''')
    r = subprocess.run([PYTHON, "-m", "kiln.job", bundle], env=run_env(), capture_output=True,
                       timeout=60)
    assert r.returncode == 1
    err = read_result(bundle)["error"]
    assert err["type"] == "ModuleNotFoundError"
    assert "No module named 'kiln_surely_missing_module'" in err["message"]
    assert "Python packages\" page" in err["message"] and "kiln requirements" in err["message"]
    # The final state event carries the same message (what the UI shows as the reason).
    final = [e for e in read_events(os.path.join(bundle, "events.jsonl"))
             if e["type"] == "state"][-1]
    assert "kiln requirements" in final["error"]["message"]
    logs = [e["line"] for e in read_events(os.path.join(bundle, "events.jsonl"))
            if e["type"] == "log"]
    assert any(line.startswith("kiln: add the package") for line in logs), logs


def test_build_from_the_command_line_then_activate(tmp_path):
    wheels = tmp_path / "wheels"
    make_wheel(wheels, name="kiln_cli_pkg")
    req = tmp_path / "requirements.txt"
    req.write_text(requirements(wheels, "kiln_cli_pkg"))
    root = tmp_path / "venvs"
    r = subprocess.run([PYTHON, "-m", "kiln.venv", "build", "--root", str(root), str(req)],
                       env=run_env(PIP_FIND_LINKS="", PIP_NO_INDEX="1"), capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    env_dir = r.stdout.strip().splitlines()[-1]
    assert os.path.basename(env_dir) == venv.digest(req.read_text())
    probe = ("import sys; from kiln import venv; venv.activate(sys.argv[1]); "
             "import kiln_cli_pkg, numpy; print(kiln_cli_pkg.answer())")
    r = subprocess.run([PYTHON, "-c", probe, env_dir], env=run_env(), capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "42"


def test_two_jobs_at_once_build_the_environment_once(tmp_path):
    wheels = tmp_path / "wheels"
    make_wheel(wheels)
    reqs = requirements(wheels, "kiln_demo_pkg")
    root = tmp_path / "venvs"
    code = USES_IT
    env = run_env(PIP_FIND_LINKS="", PIP_NO_INDEX="1")
    bundles = [make_bundle(tmp_path, code, name=f"job{i}", requirements=reqs, venvs_dir=str(root))
               for i in range(2)]
    procs = [subprocess.Popen([PYTHON, "-m", "kiln.job", b], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE) for b in bundles]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    logs = [[e["line"] for e in read_events(os.path.join(b, "events.jsonl")) if e["type"] == "log"]
            for b in bundles]
    built = [any("building the project's Python environment" in line for line in ls) for ls in logs]
    assert sorted(built) == [False, True], logs  # one built it, the other found it (or waited)
    assert [read_result(b)["status"] for b in bundles] == ["succeeded", "succeeded"]
