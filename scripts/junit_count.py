#!/usr/bin/env python3
"""Sums JUnit XML reports (ctest, pytest, vitest all write them) into
"passed failed skipped" on one line, and lists failed tests, with the start
of each one's failure message, on stderr."""
import sys
import xml.etree.ElementTree as ET

MAX_REASON_LINES = 60

passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        print(f"unreadable report {path}: {e}", file=sys.stderr)
        failed += 1
        continue
    for case in root.iter("testcase"):
        status = case.get("status", "")
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            failed += 1
            print(f"FAILED {case.get('classname', '')}::{case.get('name')}", file=sys.stderr)
            # Why, briefly: CI shows only the end of the output.
            why = (problem.get("message") or problem.text or "").strip().splitlines()
            for line in why[:MAX_REASON_LINES]:
                print(f"    {line[:300]}", file=sys.stderr)
            if len(why) > MAX_REASON_LINES:
                print(f"    ... ({len(why) - MAX_REASON_LINES} more lines in {path})", file=sys.stderr)
        elif case.find("skipped") is not None or status in ("notrun", "disabled"):
            skipped += 1
        else:
            passed += 1
print(passed, failed, skipped)
