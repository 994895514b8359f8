#!/usr/bin/env bash
# The global options (--data, --log-level) work before or after the
# subcommand, as the README writes them (`kiln serve --data DIR`).
#   global_options_test.sh KILN_BINARY
set -euo pipefail
kiln=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Before the subcommand, after it, and after a nested subcommand's arguments.
"$kiln" --data "$tmp/a" projects create first >/dev/null || fail "--data before the subcommand"
"$kiln" projects create second --data "$tmp/a" >/dev/null || fail "--data after the subcommand"
"$kiln" projects list --data "$tmp/a" --log-level warn >"$tmp/list" || fail "--data after 'projects list'"
grep -q '^first' "$tmp/list" || fail "'projects list --data' did not see the project made with --data first"
grep -q '^second' "$tmp/list" || fail "'projects list --data' did not see the project made with --data last"
"$kiln" --log-level warn log first --data "$tmp/a" -n 1 >/dev/null || fail "log PROJECT --data"
# --data after the subcommand really changes the folder.
"$kiln" projects list --data "$tmp/b" | grep -q 'no projects yet' || fail "--data after the subcommand was ignored"
[[ -f "$tmp/b/kiln.db" ]] || fail "no kiln.db in the folder given after the subcommand"
# serve accepts it after the subcommand (--help stops before serving).
"$kiln" serve --data "$tmp/c" --help >/dev/null || fail "serve --data DIR refused"
# An unknown option is still refused.
if "$kiln" projects list --no-such-option >/dev/null 2>&1; then fail "an unknown option was accepted"; fi
echo "global options: ok"
