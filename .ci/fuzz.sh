#!/usr/bin/env bash
# CI step: a short run of the fuzz harnesses of the data readers and the
# model-file parser (fuzz/, libFuzzer with AddressSanitizer and UBSan; no
# OpenCL device), from their seed corpora, FUZZ_SECONDS each (default 20).
# A crash, sanitizer report, leak or broken table promise fails the step;
# the crashing input is kept in fuzz/artifacts-NAME/ of the build.
#
# Needs the main build configured with clang-14 and libFuzzer present
# (`.ci/run` installs clang-14 and libfuzzer-14-dev before configuring).
#
# Run locally: bash .ci/fuzz.sh (from a configured tree).
set -euxo pipefail
source "$(dirname "$0")/lib.sh"
ci_step "fuzz: each parser harness for ${FUZZ_SECONDS:-20} s"
cd "$ROOT"
make fuzz-run FUZZ_SECONDS="${FUZZ_SECONDS:-20}"
