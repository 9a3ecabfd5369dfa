#!/bin/sh
# Builds-and-runs check of the README's API example (examples/minimal.c).
bin="$CSM_BUILDDIR/examples/minimal"
if ! out=$("$bin" 2>&1); then
    case "$out" in
    *"no OpenCL"*) echo "1..0 # SKIP no OpenCL device"; exit 0 ;;
    esac
    echo "1..1"
    echo "not ok 1 - examples/minimal runs and classifies its 6 samples"
    echo "$out" | sed 's/^/# /'
    exit 0
fi
echo "1..1"
echo "ok 1 - examples/minimal runs and classifies its 6 samples"
echo "$out" | sed 's/^/# /'
