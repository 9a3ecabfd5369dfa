#!/bin/sh
# The kept programs ($CLSOFTMAX_CACHE_DIR/programs, src/program_cache.c):
# the first run that builds a program leaves a mark, the second keeps its
# binary, the third loads it, and the model is the same bytes every time;
# a damaged file, or a directory others may write to, means a build from
# source, never a failure.
. "$(dirname "$0")/lib.sh"
need_device

export CLSOFTMAX_CACHE_DIR="$T/cache"
unset CLSOFTMAX_PATH CLSOFTMAX_CALIBRATE
P="$T/cache/programs"
set -- train -v -v --solver sgd --epochs 2 --label-column last "$DATA/three.csv"

runs "first run" "$@" "$T/m1.st"
check "... builds from source" grep -q '^clsoftmax: built fused\.cl .*[0-9]$' "$T/err"
check "... leaves marks" test -n "$(ls "$P"/*.bin 2>/dev/null)"
runs "second run" "$@" "$T/m2.st"
check "... builds from source again" sh -c "! grep -q 'kept binary' '$T/err'"
runs "third run" "$@" "$T/m3.st"
check "... loads every program kept" \
    sh -c "grep -q '^clsoftmax: built fused\.cl .* (kept binary)$' '$T/err' &&
           ! grep '^clsoftmax: built ' '$T/err' | grep -vq 'kept binary'"
check "... the same model, byte for byte" cmp "$T/m1.st" "$T/m3.st"

for f in "$P"/*.bin; do
    size=$(wc -c <"$f")
    head -c $((size - 1)) "$f" >"$f.cut" && mv "$f.cut" "$f"
done
runs "every kept file cut short by a byte" "$@" "$T/m4.st"
check "... builds from source" sh -c "! grep -q 'kept binary' '$T/err'"
check "... the same model" cmp "$T/m1.st" "$T/m4.st"

run "$@" "$T/m5.st" && run "$@" "$T/m5.st"
check "kept again after two runs" grep -q 'kept binary' "$T/err"
chmod go+w "$P"
runs "the programs directory writable by others" "$@" "$T/m6.st"
check "... is not read" sh -c "! grep -q 'kept binary' '$T/err'"
check "... the same model" cmp "$T/m1.st" "$T/m6.st"

done_testing
