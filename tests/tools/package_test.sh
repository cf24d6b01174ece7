#!/usr/bin/env bash
# The Debian package CPack makes of a build tree installs a `twinline` a
# user can run, with its man page, bash completion and docs; the control
# file names the package, its version and the libraries it needs. The .deb
# is unpacked with `dpkg-deb -x` into a temporary directory: no root, the
# system's dpkg database untouched. Usage: package_test.sh BUILD_DIR.
# Exit 77 (skipped) where cpack or dpkg-deb is missing.
set -euo pipefail
build="$(cd "$1" && pwd)"
if ! command -v cpack >/dev/null || ! command -v dpkg-deb >/dev/null; then
  echo "skipped: cpack or dpkg-deb is not installed"
  exit 77
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log"; exit 1; }
debs=("$work"/out/twinline_*.deb)
deb="${debs[0]}"
[ -f "$deb" ] || { echo "cpack wrote no twinline_*.deb"; ls -R "$work/out"; exit 1; }
echo "package: $(basename "$deb") ($(du -h "$deb" | cut -f1))"
dpkg-deb -x "$deb" "$work/root"

fail=0
check() { if [ -e "$work/root/$1" ]; then echo "ok: /$1"; else echo "missing: /$1"; fail=1; fi; }
check usr/bin/twinline
check usr/share/bash-completion/completions/twinline
check usr/share/doc/twinline/README.md
check usr/share/doc/twinline/EVENTS.md
if [ -e "$build/tools/twinline.1" ]; then  # built where help2man is installed
  check usr/share/man/man1/twinline.1
  grep -q "replay" "$work/root/usr/share/man/man1/twinline.1" || { echo "the man page lacks the verbs"; fail=1; }
fi

[ "$(dpkg-deb -f "$deb" Package)" = twinline ] || { echo "Package is not twinline"; fail=1; }
version="$(dpkg-deb -f "$deb" Version)"
depends="$(dpkg-deb -f "$deb" Depends)"
echo "Version: $version"
echo "Depends: $depends"
for lib in liblmdb libcapnp; do
  grep -q "$lib" <<<"$depends" || { echo "Depends does not name $lib"; fail=1; }
done

# The packaged binary runs and says what it is.
out="$("$work/root/usr/bin/twinline" --version)" || { echo "the packaged twinline does not run"; fail=1; }
echo "$out"
grep -q "on-disk format" <<<"$out" || { echo "--version lacks the on-disk format"; fail=1; }
grep -q "$version" <<<"$out" || { echo "--version does not match the package version $version"; fail=1; }
bash -n "$work/root/usr/share/bash-completion/completions/twinline" || fail=1
exit $fail
