#!/usr/bin/env bash
# `cmake --install` of a build tree into a temporary prefix puts twinline
# where a user finds it: the binary (which runs), the man page, bash
# completion and the docs. Usage: install_test.sh BUILD_DIR
set -euo pipefail
build="$1"
prefix="$(mktemp -d)"
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
fail=0
check() { if [ -e "$prefix/$1" ]; then echo "ok: $1"; else echo "missing: $1"; fail=1; fi; }
check bin/twinline
check share/bash-completion/completions/twinline
check share/doc/twinline/README.md
check share/doc/twinline/EVENTS.md
if [ -e "$build/tools/twinline.1" ]; then  # built where help2man is installed
  check share/man/man1/twinline.1
  grep -q "replay" "$prefix/share/man/man1/twinline.1" || { echo "man page lacks the verbs"; fail=1; }
fi
"$prefix/bin/twinline" --version | grep -q "on-disk format" || { echo "installed binary does not run"; fail=1; }
bash -n "$prefix/share/bash-completion/completions/twinline" || fail=1
exit $fail
