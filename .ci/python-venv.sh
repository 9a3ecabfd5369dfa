#!/usr/bin/env bash
# CI step: the Python package on today's stack. A virtual environment (in
# a temporary directory, removed at the end) gets the newest scikit-learn,
# NumPy, SciPy, pandas and pytest from PyPI, and runs the Python tests
# (tests/python.sh, FutureWarning and DeprecationWarning as errors) against
# this build tree; `make check` has run them on Debian's python3-sklearn.
# Then the pip route a user takes: `make install` into a temporary prefix,
# `pip install python/` into the same venv (its setup.py finds the library
# through PKG_CONFIG_PATH=PREFIX/lib/pkgconfig), and a fit from outside the
# tree with no PYTHONPATH and no CLSOFTMAX_LIBRARY.
#
# PyPI may be out of reach: when pip cannot fetch even pytest, the step says
# so and is skipped (exit 0). Once that probe succeeds, any failure fails.
#
# Needs: python3 with venv and pip (apt-get install python3-venv
# python3-pip) and a configured tree (the step configures it when it is
# not). Run locally: bash .ci/python-venv.sh (CSM_PY_VENV=DIR keeps and
# reuses a venv there).
set -euxo pipefail
source "$(dirname "$0")/lib.sh"
ci_step "Python: the newest scikit-learn, NumPy, SciPy and pandas from PyPI; pip install"
cd "$ROOT"

PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
TMP=$(mktemp -d "${TMPDIR:-/tmp}/csm-py-venv.XXXXXX")
if [ -n "${CSM_PY_VENV:-}" ]; then
    VENV=$CSM_PY_VENV
else
    VENV=$TMP/venv
fi
trap 'rc=$?; rm -rf "$TMP"; ci_step_end $rc' EXIT
PIP=(--disable-pip-version-check --no-cache-dir --progress-bar off --timeout 60)
[ -x "$VENV/bin/pip" ] || "$PY" -m venv "$VENV"

# Is PyPI reachable? pytest's wheel is a few hundred kilobytes.
if ! "$VENV/bin/pip" download "${PIP[@]}" --retries 2 --no-deps --dest "$TMP/probe" pytest \
        >"$TMP/probe.log" 2>&1; then
    sed 's/^/    /' "$TMP/probe.log" | tail -n 15
    echo "SKIPPED: pip cannot reach PyPI (see above), so the newest scikit-learn, NumPy,"
    echo "SKIPPED: SciPy and pandas cannot be installed: the step is skipped, not failed."
    CI_STEP_STATUS=skipped
    exit 0
fi
"$VENV/bin/pip" install "${PIP[@]}" --upgrade scikit-learn numpy scipy pandas pytest
"$VENV/bin/pip" list 2>/dev/null | grep -Ei '^(scikit-learn|numpy|scipy|pandas|pytest) '

export CLSOFTMAX_DEVICE=${CLSOFTMAX_DEVICE:-0:cpu}
if [ ! -f Makefile ]; then
    autoreconf -fi
    ./configure --enable-werror
fi
make -j"$(nproc)"

# 1. The Python tests against the build tree, on the venv's interpreter.
make check TESTS=tests/python.sh PYTHON="$VENV/bin/python" TEST_SUITE_LOG=test-suite-python-venv.log \
    || { cat tests/python.log; exit 1; }
# a whole-file SKIP (the venv could not import something) is a failure here
if grep -q '^1\.\.0' tests/python.log; then
    cat tests/python.log
    exit 1
fi
grep -E '^# (pytest|unittest): exit' tests/python.log

# 2. pip install after make install, used from outside the tree.
make install prefix="$TMP/prefix"
cp -R python "$TMP/python"   # pip builds in the tree it is given: not ours
PKG_CONFIG_PATH="$TMP/prefix/lib/pkgconfig" "$VENV/bin/pip" install "${PIP[@]}" "$TMP/python"
cd "$TMP"
# The library's compiled-in kernel directory is configure's prefix, not the
# one given to make install here: name the installed kernels.
env -u PYTHONPATH -u CLSOFTMAX_LIBRARY CLSOFTMAX_KERNEL_DIR="$TMP/prefix/share/clsoftmax/kernels" \
    CSM_PREFIX="$TMP/prefix" CSM_VENV="$VENV" "$VENV/bin/python" - <<'PYEOF'
import os, importlib.metadata
import numpy as np
from sklearn.datasets import load_iris
import clsoftmax
print("clsoftmax", clsoftmax.__version__, "from", clsoftmax.__file__, "loads", clsoftmax.library_path())
assert os.path.realpath(clsoftmax.__file__).startswith(os.path.realpath(os.environ["CSM_VENV"]))
assert clsoftmax.library_path() == os.path.join(os.environ["CSM_PREFIX"], "lib", "libclsoftmax.so.0"), clsoftmax.library_path()
assert clsoftmax.__version__ == importlib.metadata.version("clsoftmax")
X, y = load_iris(return_X_y=True)
clf = clsoftmax.SoftmaxRegression().fit(X, y)
print("iris: training accuracy %.3f after %d iterations" % (clf.score(X, y), clf.n_iter_[0]))
assert clf.score(X, y) > 0.95
PYEOF
