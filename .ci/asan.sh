#!/usr/bin/env bash
# CI step (a): the whole test suite (`make check`: every Check program and
# tests/cli/*.sh) built with -fsanitize=address,undefined. Any
# AddressSanitizer error (out-of-bounds, use-after-free, double free...), any
# leak LeakSanitizer finds at the exit of a test process (Check forks one
# per test, so each test is checked on its own) and any undefined behaviour
# UBSan sees makes that test fail, and so the step.
#
# The build is separate from the main one: a copy of the source files git
# knows (tracked, and new files not ignored) in build-asan/src, configured
# there with the sanitizer flags (an out-of-tree build cannot be made from a
# source tree that is itself configured, as the main CI build is).
#
# Kernel binaries: POCL's cache of the main build (./.pocl-cache) is reused
# when it exists, so the kernels (POCL and LLVM, not instrumented) are not
# compiled again; the host code, which is instrumented, runs in full.
#
# Run locally: bash .ci/asan.sh (CSM_ASAN_BUILD=DIR builds elsewhere).
set -euxo pipefail
source "$(dirname "$0")/lib.sh"
ci_step "ASan+UBSan: the test suite built with -fsanitize=address,undefined"
cd "$ROOT"

BUILD=${CSM_ASAN_BUILD:-$ROOT/build-asan}
rm -rf "$BUILD"
mkdir -p "$BUILD/src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard \
        | tar --null -T - -cf - | tar -xf - -C "$BUILD/src"
    cd "$BUILD/src"
    autoreconf -fi
    configure=./configure
else
    # An unpacked release: an out-of-tree build, if the tree is unconfigured.
    [ ! -f config.status ] || { echo "run 'make distclean' here first" >&2; exit 1; }
    [ -x configure ] || autoreconf -fi
    cd "$BUILD/src"
    configure=$ROOT/configure
fi
SAN="-fsanitize=address,undefined -fno-omit-frame-pointer"
"$configure" --enable-werror CFLAGS="-O1 -g $SAN" LDFLAGS="$SAN"
make -j"$(nproc)"

# detect_leaks=1: LeakSanitizer at each process exit (the x86-64 default,
#   stated).
# intercept_tls_get_addr=0: the __tls_get_addr interceptor of the sanitizer
#   runtime (GCC 12 here; up to GCC 13 and LLVM 16) takes some dynamic TLS
#   blocks (POCL's libraries have them) for a pre-2.25 glibc layout by a
#   guess on their address, and LeakSanitizer's stop-the-world tracer then
#   crashes at exit ("Tracer caught signal 11", "LeakSanitizer has
#   encountered a fatal error"), intermittently: 2 of the ~1090 test
#   processes of one run failed that way here. Without the interceptor,
#   leaks are still found; pointers held only in dynamic TLS are no longer
#   roots, which could add a false leak, never hide one.
# fast_unwind_on_malloc=0: full allocation stacks through POCL's and LLVM's
#   frames (they have no frame pointers, and a fast unwind stops in them),
#   so that .ci/lsan.supp's entries, which name POCL functions, can match,
#   and a report shows where in POCL an allocation was made.
# No other option is needed: POCL runs under ASan as it is, and the suite
# reports no ODR violation.
export ASAN_OPTIONS=detect_leaks=1:intercept_tls_get_addr=0:fast_unwind_on_malloc=0
# The slow unwind makes every allocation dearer: check_io's numbers test
# (millions of small allocations) ran past Check's 4 s default once it was
# set; the Check programs' timeouts are scaled here instead.
export CK_TIMEOUT_MULTIPLIER=10
# Leaks inside POCL/LLVM/ocl-icd/CLBlast only, by function; see the file.
export LSAN_OPTIONS=suppressions=$ROOT/.ci/lsan.supp
# Undefined behaviour stops the process (UBSan only reports by default).
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export CLSOFTMAX_DEVICE=${CLSOFTMAX_DEVICE:-0:cpu}

env_extra=
if [ -d "$ROOT/.pocl-cache" ]; then
    env_extra="POCL_CACHE_DIR='$ROOT/.pocl-cache'; export POCL_CACHE_DIR;"
fi
make -j"$(nproc)" check TESTS_ENVIRONMENT="$env_extra" || {
    cat test-suite.log
    exit 1
}
