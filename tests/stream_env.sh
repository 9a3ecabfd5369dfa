#!/bin/sh
# The device suites again with a small CLSOFTMAX_MAX_ALLOC, so that their
# datasets stream (src/stream.c) and must still pass (not check_offsets:
# it asserts that a resident buffer is rebased past an offset limit, and
# compares shuffled minibatches with the resident sampling); check_stream's
# "env" case proves that datasets of their sizes do stream under this cap.
cap=2K
b="$CSM_BUILDDIR/tests"
set -- check_stream:env check_ops: check_train: check_sparse: check_solver: check_tiled: \
    check_limits:
echo "1..$#"
i=0
for t in "$@"; do
    i=$((i + 1))
    prog=${t%%:*} case_=${t#*:}
    out=$(env CLSOFTMAX_MAX_ALLOC=$cap ${case_:+CK_RUN_CASE=$case_} "$b/$prog" 2>&1)
    rc=$?
    name="tests/$prog${case_:+ (case $case_)} under CLSOFTMAX_MAX_ALLOC=$cap"
    if printf '%s\n' "$out" | grep -q '^1\.\.0 # SKIP'; then
        echo "ok $i - $name # SKIP $(printf '%s\n' "$out" | sed -n 's/^1\.\.0 # SKIP //p')"
    elif [ $rc -eq 0 ] && ! printf '%s\n' "$out" | grep -q '^not ok'; then
        skips=$(printf '%s\n' "$out" | grep -c '^ok .* # SKIP')
        echo "ok $i - $name ($(printf '%s\n' "$out" | grep -c '^ok') tests, $skips of them skipped)"
        printf '%s\n' "$out" | grep '^ok .* # SKIP' | sed 's/^/# /'
    else
        echo "not ok $i - $name (exit $rc)"
        printf '%s\n' "$out" | grep -v '^ok' | sed 's/^/# /'
    fi
done
