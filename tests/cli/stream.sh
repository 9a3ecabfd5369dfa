#!/bin/sh
# Training a dataset that streams (CLSOFTMAX_MAX_ALLOC below its size) gives
# the model of the resident dataset: L-BFGS and full-batch SGD, dense and
# --sparse, weights compared within the summation-order tolerance. The
# capped run must say (-v) that it streamed; minibatches under the cap are
# reproducible; a malformed cap is an error naming the variable.
. "$(dirname "$0")/lib.sh"
need_device
unset CLSOFTMAX_MAX_ALLOC

# 701 rows, 24 features (a third of them zero), 4 classes
awk 'BEGIN {
    s = 4242
    for (i = 0; i < 701; i++) {
        line = ""; score = 0
        for (j = 0; j < 24; j++) {
            s = (s * 1103515245 + 12345) % 2147483648
            v = s / 2147483648 * 2 - 1
            if (j % 3 == 1) v = 0
            score += (j % 4 + 1) * v
            line = line sprintf("%.5f,", v)
        }
        s = (s * 1103515245 + 12345) % 2147483648
        print line int((score + 12 + s / 2147483648 * 6) / 7.5) % 4
    }
}' >"$T/data.csv"

# same_tensors A B RTOL: every tensor value of model A within RTOL
# (relative, 1e-12 absolute) of B's
same_tensors() {
    tensors "$1" | od -An -v -t "$4" | tr -s ' ' '\n' | sed '/^$/d' >"$T/a.txt"
    tensors "$2" | od -An -v -t "$4" | tr -s ' ' '\n' | sed '/^$/d' >"$T/b.txt"
    [ -s "$T/a.txt" ] && paste "$T/a.txt" "$T/b.txt" | awk -v r="$3" '
        NF != 2 { bad = 1; exit }
        { d = $1 - $2; if (d < 0) d = -d; m = $2 < 0 ? -$2 : $2
          if (d > 1e-12 + r * m) { bad = 1; printf "# %s vs %s\n", $1, $2; exit } }
        END { exit bad }'
}

precs=float32
has_fp64 && precs="float32 float64"
for prec in $precs; do
    flag= od=f4 rtol=2e-3
    [ "$prec" = float64 ] && flag=--double od=f8 rtol=1e-9
    for storage in --dense --sparse; do
        for solver in "--solver lbfgs --max-iter 30" "--solver sgd --batch-size 0 --epochs 8"; do
            name="$prec $storage $(echo "$solver" | cut -d' ' -f2)"
            # shellcheck disable=SC2086
            run train --quiet $flag $storage $solver --label-column last "$T/data.csv" "$T/res.st"
            [ "$rc" -eq 0 ] || fail "$name: resident training" "exit $rc"
            # shellcheck disable=SC2086
            CLSOFTMAX_MAX_ALLOC=16K run train -v $flag $storage $solver --label-column last \
                "$T/data.csv" "$T/str.st"
            [ "$rc" -eq 0 ] || fail "$name: streamed training" "exit $rc"
            if grep -q 'streams through the device in [0-9]* chunks' "$T/err"; then
                pass "$name: CLSOFTMAX_MAX_ALLOC=16K streams the data"
            else
                fail "$name: CLSOFTMAX_MAX_ALLOC=16K streams the data"
            fi
            if same_tensors "$T/str.st" "$T/res.st" "$rtol" "$od"; then
                pass "$name: the streamed model is the resident one (rtol $rtol)"
            else
                fail "$name: the streamed model is the resident one (rtol $rtol)"
            fi
        done
    done
done

# shuffled minibatches over the chunks: the same seed, the same file
for t in 1 2; do
    CLSOFTMAX_MAX_ALLOC=16K run train --quiet --solver sgd --batch-size 32 --epochs 3 \
        --seed 7 --label-column last "$T/data.csv" "$T/mb$t.st"
    [ "$rc" -eq 0 ] || fail "streamed minibatch SGD, run $t" "exit $rc"
done
check "streamed minibatch SGD: the same seed gives the same model" cmp -s "$T/mb1.st" "$T/mb2.st"

CLSOFTMAX_MAX_ALLOC=16KB run train --quiet --label-column last "$T/data.csv" "$T/bad.st"
check "a malformed CLSOFTMAX_MAX_ALLOC is an error (exit $rc)" test "$rc" -eq 1
check "... naming the variable" grep -q 'CLSOFTMAX_MAX_ALLOC' "$T/err"

done_testing
