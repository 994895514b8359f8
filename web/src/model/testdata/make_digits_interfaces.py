#!/usr/bin/env python3
"""Writes digits-interfaces.json: parse_interface of every examples/digits
operation, keyed by the SHA-256 of its code, for interfaceSync.test.ts (which
checks that the example's model is already in sync with its code). Run it
after changing an operation of the example (and examples/build.py):

    /usr/bin/python3 web/src/model/testdata/make_digits_interfaces.py
"""
import hashlib
import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[3]
sys.path.insert(0, str(REPO / "python"))
from kiln.interface import parse_interface  # noqa: E402

out = {"_about": "written by make_digits_interfaces.py", "interfaces": {}}
for path in sorted((REPO / "examples" / "digits" / "operations").glob("*.py")):
    code = path.read_text()
    out["interfaces"][hashlib.sha256(code.encode()).hexdigest()] = parse_interface(code)
(HERE / "digits-interfaces.json").write_text(json.dumps(out, indent=1) + "\n")
