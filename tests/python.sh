#!/bin/sh
# The Python package's tests (tests/python/) against the library of this
# build tree, as TAP: one line per test, with pytest (or unittest when pytest
# is absent). The whole file is a SKIP, saying why, when configure found no
# Python 3, or NumPy or scikit-learn is missing, or there is no OpenCL device.
#
# Environment (exported by `make check`): PYTHON (configure's interpreter,
# ":" when none), CSM_BUILDDIR (the build tree); CSM_PYTHON_RUNNER=unittest
# uses unittest even where pytest is installed.

srcdir=$(cd "$(dirname "$0")/.." && pwd) || exit 99
builddir=$(cd "${CSM_BUILDDIR:-.}" && pwd) || exit 99

if [ -z "$PYTHON" ] || [ "$PYTHON" = ":" ]; then
    echo "1..0 # SKIP configure left the Python package out (no Python 3 that imports NumPy: see the summary configure printed)"
    exit 0
fi
for mod in numpy sklearn; do
    if ! "$PYTHON" -c "import $mod" >/dev/null 2>&1; then
        echo "1..0 # SKIP $PYTHON cannot import $mod (Debian: apt-get install python3-numpy python3-sklearn)"
        exit 0
    fi
done

PYTHONPATH="$srcdir/python${PYTHONPATH:+:$PYTHONPATH}"
CLSOFTMAX_LIBRARY="$builddir/src/.libs/libclsoftmax.so"
CSM_CLI="$builddir/src/cli/clsoftmax"
# Keep the source tree free of __pycache__ (read-only under distcheck anyway).
PYTHONDONTWRITEBYTECODE=1
export PYTHONPATH CLSOFTMAX_LIBRARY CSM_CLI PYTHONDONTWRITEBYTECODE

# A library built with AddressSanitizer (.ci/asan.sh) loads only into a
# process whose first library is ASan's runtime, which Python's is not.
if command -v ldd >/dev/null 2>&1 && ldd "$CLSOFTMAX_LIBRARY" 2>/dev/null | grep -q 'libasan'; then
    echo "1..0 # SKIP the library is built with AddressSanitizer, which Python cannot load (the C and CLI tests cover this build)"
    exit 0
fi
if ! "$PYTHON" -c 'import sys, clsoftmax; sys.exit(0 if clsoftmax.devices() else 1)' >/dev/null 2>&1; then
    echo "1..0 # SKIP no OpenCL device (or the library cannot be loaded from $CLSOFTMAX_LIBRARY)"
    exit 0
fi

out=$(mktemp "${TMPDIR:-/tmp}/csm-python.XXXXXX") || exit 99
trap 'rm -f "$out" "$out.warn"' EXIT
start=$(date +%s)
cd "$srcdir/tests/python" || exit 99
# Announced removals (FutureWarning, DeprecationWarning: what hid the move of
# scikit-learn's validation in 1.6) fail the test that meets them; every
# other warning is shown.
WERROR="-W error::FutureWarning -W error::DeprecationWarning"
if [ "${CSM_PYTHON_RUNNER:-}" != unittest ] && "$PYTHON" -c 'import pytest' >/dev/null 2>&1; then
    runner=pytest
    "$PYTHON" $WERROR -m pytest $WERROR -v -rs -p no:cacheprovider . >"$out" 2>&1
else
    runner=unittest
    # Results on stdout, warnings on stderr: a warning cannot split a
    # "name ... ok" line, and is still printed (below).
    "$PYTHON" $WERROR -c 'import sys, unittest
r = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(
    unittest.defaultTestLoader.discover(".", pattern="test_*.py"))
sys.exit(not r.wasSuccessful())' >"$out" 2>"$out.warn"
fi
rc=$?

# pytest -v:   test_ops.py::TestForward::test_reference PASSED  [ 10%]
# unittest -v: test_reference (test_ops.TestForward) ... ok
awk -v runner="$runner" '
function emit(ok, name, extra) { n++; printf "%s %d - %s%s\n", ok ? "ok" : "not ok", n, name, extra }
runner == "pytest" && / (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)( |$)/ && /::/ {
    name = $1
    for (i = 2; i <= NF; i++) if ($i ~ /^(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)$/) { st = $i; break }
    if (st == "PASSED" || st == "XFAIL") emit(1, name, "")
    else if (st == "SKIPPED") emit(1, name, " # SKIP see the reasons below")
    else { emit(0, name, ""); bad = 1 }
    next
}
runner == "unittest" && / \.\.\. / {
    name = $1 " " $2
    if ($0 ~ /\.\.\. ok$/ || $0 ~ /expected failure$/) emit(1, name, "")
    else if ($0 ~ /\.\.\. skipped/) { sub(/.*\.\.\. skipped /, ""); emit(1, name, " # SKIP " $0) }
    else { emit(0, name, ""); bad = 1 }
    next
}
END { printf "%d\n", n > "/dev/stderr" }
' "$out" 2>"$out.count"
count=$(cat "$out.count")
rm -f "$out.count"
# Everything the runner printed, as TAP comments (failures, skip reasons,
# warnings).
sed 's/^/# /' "$out"
if [ -s "$out.warn" ]; then
    echo "# stderr (warnings):"
    sed 's/^/# /' "$out.warn"
fi
rm -f "$out.warn"
echo "# $runner: exit $rc, $(( $(date +%s) - start )) s"
if [ "$rc" -ne 0 ] && [ "$rc" -ne 5 ]; then
    count=$((count + 1))
    echo "not ok $count - $runner exited with status $rc"
elif [ "$count" -eq 0 ]; then
    count=1
    echo "not ok 1 - $runner ran no test (exit $rc)"
fi
echo "1..$count"
