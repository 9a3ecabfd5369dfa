#!/usr/bin/env bash
# CI step (b): the device tests on a second OpenCL implementation, Intel's
# CPU runtime for OpenCL from PyPI (intel-opencl-rt, with the compiler
# runtime intel-cmplr-lib-rt), about 0.8 GB in a virtual environment in a
# temporary directory, removed at the end.
#
# The runtime is registered with the ICD loader through OCL_ICD_VENDORS: a
# private directory holding one .icd file with the full path of
# libintelocl.so. Nothing is written to /etc/OpenCL/vendors, and since the
# variable replaces that directory, Intel's is the only platform the tests
# see. Then `make check` runs the whole suite (every Check program and
# tests/cli/*.sh) with CLSOFTMAX_DEVICE selecting Intel's device; any test
# failure fails the step.
#
# PyPI may be out of reach: when pip cannot fetch even a small package of
# the runtime, the step says so and is skipped (exit 0). Once that probe
# succeeds, a failed install is a failure.
#
# Needs: python3 with venv (apt-get install python3-venv) and a configured
# tree (the step configures it when it is not). Run locally:
# bash .ci/intel.sh (CSM_INTEL_VENV=DIR keeps and reuses a venv there).
set -euxo pipefail
source "$(dirname "$0")/lib.sh"
ci_step "Intel CPU runtime: the test suite on a second OpenCL implementation"
cd "$ROOT"

PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
if [ -n "${CSM_INTEL_VENV:-}" ]; then
    VENV=$CSM_INTEL_VENV
    trap 'ci_step_end $?' EXIT
else
    VENV=$(mktemp -d "${TMPDIR:-/tmp}/csm-intel-venv.XXXXXX")
    trap 'rc=$?; rm -rf "$VENV"; ci_step_end $rc' EXIT
fi
PIP=(--disable-pip-version-check --no-cache-dir --progress-bar off --timeout 60)
if [ ! -x "$VENV/bin/pip" ]; then
    "$PY" -m venv "$VENV"
fi

# Is PyPI reachable? The license package of the runtime is a few kilobytes.
if ! "$VENV/bin/pip" download "${PIP[@]}" --retries 2 --no-deps \
        --dest "$VENV/probe" intel-cmplr-lic-rt >"$VENV/probe.log" 2>&1; then
    sed 's/^/    /' "$VENV/probe.log" | tail -n 15
    echo "SKIPPED: pip cannot reach PyPI (see above), so Intel's OpenCL runtime"
    echo "SKIPPED: cannot be installed: the Intel step is skipped, not failed."
    CI_STEP_STATUS=skipped
    exit 0
fi
if [ ! -e "$VENV/lib/libintelocl.so" ]; then
    "$VENV/bin/pip" install "${PIP[@]}" intel-opencl-rt intel-cmplr-lib-rt
fi
"$VENV/bin/pip" list 2>/dev/null | grep -Ei '^(intel|tbb)' || true

LIB=$VENV/lib/libintelocl.so
[ -e "$LIB" ] || { echo "intel-opencl-rt installed no $LIB" >&2; exit 1; }
mkdir -p "$VENV/icd"
echo "$LIB" > "$VENV/icd/intel-cpu.icd"
export OCL_ICD_VENDORS=$VENV/icd
export CLSOFTMAX_DEVICE=intel:cpu

if [ ! -f Makefile ]; then
    autoreconf -fi
    ./configure --enable-werror
fi
make -j"$(nproc)"
command -v clinfo >/dev/null && clinfo -l
# The device the tests will use: Intel's, or the step stops here.
devices=$(src/cli/clsoftmax devices)
printf '%s\n' "$devices"
if ! printf '%s\n' "$devices" | sed -n '/^\*/{n;p;}' | grep 'Intel(R) OpenCL' >/dev/null; then
    echo "the selected device is not Intel's runtime" >&2
    exit 1
fi

# The whole suite on Intel's device. Its own calibration cache, so that no
# choice measured on POCL is reused (the cache is keyed by device anyway).
make -j"$(nproc)" check TEST_SUITE_LOG=test-suite-intel.log \
    TESTS_ENVIRONMENT="CLSOFTMAX_CACHE_DIR='$VENV/calibration'; export CLSOFTMAX_CACHE_DIR;" \
    || { cat test-suite-intel.log; exit 1; }
