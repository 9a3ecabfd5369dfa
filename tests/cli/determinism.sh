#!/bin/sh
# Same seed, same model, whatever the device's compute units. POCL runs
# POCL_MAX_PTHREAD_COUNT threads and reports that many compute units: a
# model trained with 1 and with 2 must be the same file, byte for byte, on
# the fused path (whose row groups once followed the compute units) and on
# the tiled path (whose work split does), in float32 and float64, full
# batch (L-BFGS) and in minibatches (SGD).
. "$(dirname "$0")/lib.sh"
need_device

# compute units of the device in use (the one `devices` marks with *)
cu() {
    POCL_MAX_PTHREAD_COUNT=$1 "$BIN" devices 2>/dev/null |
        awk '/^\*/ { mark = 1; next } mark && /compute units/ {
                 sub(/.*type [a-z]*, /, ""); sub(/ compute units.*/, ""); print; exit }'
}
one=$(cu 1)
two=$(cu 2)
if [ -z "$one" ] || [ "$one" = "$two" ]; then
    echo "1..0 # SKIP POCL_MAX_PTHREAD_COUNT does not change the compute units of this device"
    exit 0
fi
pass "POCL_MAX_PTHREAD_COUNT=1 and 2: $one and $two compute units"

# 700 rows, 24 features, 4 classes (a linear rule and noise), semicolons
linear_csv 12345 ';' >"$T/data.csv"

precs=float32
has_fp64 && precs="float32 float64"
for path in fused tiled; do
    for prec in $precs; do
        flag=
        [ "$prec" = float64 ] && flag=--double
        for solver in "--solver lbfgs --max-iter 25" "--solver sgd --batch-size 256 --epochs 3"; do
            name="$path $prec $(echo "$solver" | cut -d' ' -f2)"
            for t in 1 2; do
                # shellcheck disable=SC2086
                CLSOFTMAX_PATH=$path POCL_MAX_PTHREAD_COUNT=$t run train --quiet $flag $solver \
                    --label-column last "$T/data.csv" "$T/m$t.st"
                [ "$rc" -eq 0 ] || fail "$name: train with $t thread(s)" "exit $rc"
            done
            if cmp -s "$T/m1.st" "$T/m2.st"; then
                pass "$name: the same model with $one and $two compute units"
            else
                fail "$name: the models differ between $one and $two compute units"
            fi
        done
    done
done

done_testing
