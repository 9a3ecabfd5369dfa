#!/bin/sh
# clsoftmax cv: stratified folds, deterministic by --seed; the table's
# scores equal those of train and eval (or predict) run on each fold's
# parts by hand; the best line; --output is train's model at the best C;
# sparse data, IDX data and sample weights; the l1_ratio list passed
# through; bad input; under mpirun the table of one process.
. "$(dirname "$0")/lib.sh"
need_device

linear_csv 7 , >"$T/lin.csv" # 700 x 24, classes -1 (4 samples), 0..3
LIN=$T/lin.csv
CV="cv --label-column last"

# row C R: the table's row of C and l1_ratio R ("C R acc std loss std")
row() { awk -v c="$1" -v r="$2" '$1 == c && $2 == r' "$T/out"; }
# mean_of FILE: the mean of its lines
mean_of() { awk '{ s += $1 } END { printf "%.8f\n", s / NR }' "$1"; }
# split_fold DATA FOLDS F: the rows of DATA in fold F to $T/test.csv, the
# others to $T/train.csv (and the same of $T/w into $T/wtest, $T/wtrain)
split_fold() {
    paste -d'|' "$2" "$1" | awk -F'|' -v f="$3" -v tr="$T/train.csv" -v te="$T/test.csv" \
        '{ if ($1 == f) print $2 > te; else print $2 > tr }'
    if [ -f "$T/w" ]; then
        paste -d'|' "$2" "$T/w" | awk -F'|' -v f="$3" -v tr="$T/wtrain" -v te="$T/wtest" \
            '{ if ($1 == f) print $2 > te; else print $2 > tr }'
    fi
}

if has_fp64; then D=--double; else D=; fi

# ---- the table, the folds, determinism
runs "cv runs" $CV --folds 5 --C 0.1,1,10 --seed 3 --tol 1e-7 $D --save-folds "$T/f1" "$LIN"
cp "$T/out" "$T/table1"
check "a header and a row per C" test "$(wc -l <"$T/out")" -eq 5
check "rows in ascending C" test "$(awk 'NR > 1 && NR < 5 { printf "%s ", $1 }' "$T/out")" = "0.1 1 10 "
check "the last line names the best" grep -Eq '^best: C=(0\.1|1|10) l1_ratio=0 accuracy=0\.[0-9]{4}$' "$T/out"
check "a class of 4 samples for 5 folds warns" \
    grep -q 'WARNING: .*least populated class has 4 samples, fewer than --folds 5' "$T/err"
check "a line per fold on stderr" test "$(grep -c '^fold [1-5]/5: trained on' "$T/err")" -eq 5
check "a fold per sample" test "$(wc -l <"$T/f1")" -eq 700
check "folds 0..4" test "$(sort -u "$T/f1" | tr '\n' ' ')" = "0 1 2 3 4 "
sizes=$(sort "$T/f1" | uniq -c | awk '{ print $1 }' | sort -n | sed -n '1p;$p' | tr '\n' ' ')
check "fold sizes differ by one at most ($sizes)" test "$sizes" = "140 140 "
awk -F, '{ print $NF }' "$LIN" >"$T/labels"
spread=$(paste -d' ' "$T/labels" "$T/f1" | awk '{ n[$1 " " $2]++; cls[$1] = 1 }
    END { worst = 0; for (c in cls) { lo = -1; hi = 0
            for (f = 0; f < 5; f++) { v = n[c " " f] + 0; if (lo < 0 || v < lo) lo = v; if (v > hi) hi = v }
            if (hi - lo > worst) worst = hi - lo }
          print worst }')
check "stratified: each class's count per fold differs by one at most" test "$spread" -le 1
runs "cv again, the same seed" $CV --folds 5 --C 0.1,1,10 --seed 3 --tol 1e-7 $D --save-folds "$T/f2" "$LIN"
check "the same folds" cmp -s "$T/f1" "$T/f2"
check "the same table" cmp -s "$T/out" "$T/table1"
runs "cv, another seed" $CV --folds 5 --C 1 --seed 4 $D --save-folds "$T/f3" "$LIN"
check "other folds" sh -c "! cmp -s '$T/f1' '$T/f3'"

# ---- the independent check: train on each fold's training part at C=1
# (the second fit of the warm-started path), eval on its held-out part
: >"$T/accs"
: >"$T/losses"
for f in 0 1 2 3 4; do
    split_fold "$LIN" "$T/f1" $f
    "$BIN" train -q --label-column last --C 1 --tol 1e-7 $D "$T/train.csv" "$T/m.st" 2>"$T/err" ||
        fail "train on fold $f"
    "$BIN" eval "$T/test.csv" "$T/m.st" >"$T/eval" 2>"$T/err" || fail "eval on fold $f"
    sed -n 's/^accuracy //p' "$T/eval" >>"$T/accs"
    sed -n 's/^loss //p' "$T/eval" >>"$T/losses"
done
cp "$T/table1" "$T/out"
acc=$(row 1 0 | awk '{ print $3 }')
loss=$(row 1 0 | awk '{ print $5 }')
by_hand=$(mean_of "$T/accs")
loss_by_hand=$(mean_of "$T/losses")
check "C=1 mean accuracy $acc = train/eval per fold $by_hand" close_to "$acc" "$by_hand" 0.00006
check "C=1 mean log-loss $loss = train/eval per fold $loss_by_hand" close_to "$loss" "$loss_by_hand" 0.0002
sd_by_hand=$(awk -v m="$by_hand" '{ d = $1 - m; s += d * d } END { printf "%.6f\n", sqrt(s / NR) }' "$T/accs")
check "C=1 accuracy std = the folds' ($sd_by_hand)" close_to "$(row 1 0 | awk '{ print $4 }')" "$sd_by_hand" 0.00006

# ---- the best line: the highest mean accuracy, ties to the smaller C
best=$(awk 'NR > 1 && $1 != "best:" { if (!n || $3 > b) { b = $3; c = $1 }; n = 1 }
    END { printf "best: C=%s l1_ratio=0 accuracy=%s\n", c, b }' "$T/out")
check "best line = the table's first highest ($best)" test "$(tail -n 1 "$T/out")" = "$best"
# three samples of two classes, C so small that every C predicts alike
printf '0,0\n0.1,0\n0.2,0\n1,1\n1.1,1\n1.2,1\n' >"$T/tie.csv"
runs "cv on a tie" $CV --folds 3 --C 100,0.001,1 "$T/tie.csv"
check "a tie goes to the smallest C" grep -q '^best: C=0.001 l1_ratio=0 accuracy=1.0000$' "$T/out"

# ---- --output: train's model at the best setting, with the cv metadata
runs "cv --output" $CV --folds 4 --C 0.01,1 --seed 2 --output "$T/best.st" "$LIN"
bestC=$(sed -n 's/^best: C=\([^ ]*\) .*/\1/p' "$T/out")
check "wrote the model" grep -q "wrote $T/best.st" "$T/err"
check "its C is the best ($bestC)" test "$(meta C "$T/best.st")" = "$bestC"
check "cv_folds 4" test "$(meta cv_folds "$T/best.st")" = 4
check "cv_seed 2" test "$(meta cv_seed "$T/best.st")" = 2
check "no l1_ratio for 0 (an L2 model, as train writes it)" test -z "$(meta l1_ratio "$T/best.st")"
runs "train at that C" train --label-column last --C "$bestC" --seed 2 --solver newton "$LIN" "$T/train.st"
params "$T/train.st" >"$T/p-train"
params "$T/best.st" >"$T/p-best"
check "the refit's weights are train's, bit for bit" cmp -s "$T/p-train" "$T/p-best"

# ---- the default solver: newton for the L2 fits (the refit too), lbfgs
# (OWL-QN) for an L1 term; --solver or --lbfgs-memory as given
runs "cv without --solver" $CV --folds 3 --C 0.1,1 $D --output "$T/n.st" "$LIN"
check "stderr says newton" grep -q '^solver: newton for the L2 fits, the cv default' "$T/err"
check "the refit ran newton" test "$(meta solver "$T/n.st")" = newton
runs "--l1-ratio 0,0.5" $CV --folds 3 --C 1 $D --l1-ratio 0,0.5 "$LIN"
check "newton for 0, OWL-QN for 0.5" grep -q '^solver: newton .*, lbfgs (OWL-QN) where --l1-ratio is above 0' "$T/err"
runs "--l1-ratio 0.5" $CV --folds 3 --C 1 $D --l1-ratio 0.5 "$LIN"
check "OWL-QN alone" grep -q '^solver: lbfgs (OWL-QN: every --l1-ratio is above 0)' "$T/err"
runs "--lbfgs-memory 5" $CV --folds 3 --C 1 $D --lbfgs-memory 5 --output "$T/l.st" "$LIN"
check "--lbfgs-memory: lbfgs, no note" sh -c "! grep -q '^solver:' '$T/err'"
check "the refit ran lbfgs" test "$(meta solver "$T/l.st")" = lbfgs
runs "cv on sparse storage" cv --folds 2 --C 1 --sparse --output "$T/s.st" "$DATA/sparse.svm"
check "sparse: the refit ran newton" test "$(meta solver "$T/s.st")" = newton

# ---- l1_ratio: a list, each row, the value carried into the refit
runs "--l1-ratio list" $CV --folds 3 --C 1 --l1-ratio 0,0.5 --output "$T/r.st" "$LIN"
check "a row per l1_ratio" test "$(awk '$1 == 1 { print $2 }' "$T/out" | tr '\n' ' ')" = "0 0.5 "
runs "--l1-ratio 0.5 alone" $CV --folds 3 --C 1 --l1-ratio 0.5 --output "$T/r.st" "$LIN"
check "the best line names it" grep -q '^best: C=1 l1_ratio=0.5 ' "$T/out"
check "the refit model's l1_ratio is 0.5" test "$(meta l1_ratio "$T/r.st")" = 0.5

# ---- sparse data: the same table as dense storage
runs "cv --sparse" cv --folds 3 --C 0.1,1 $D --solver newton --sparse "$DATA/sparse.svm"
cp "$T/out" "$T/sparse-table"
runs "cv --dense" cv --folds 3 --C 0.1,1 $D --solver newton --dense "$DATA/sparse.svm"
check "sparse and dense give the same accuracies" test \
    "$(awk '{ print $1, $3 }' "$T/out")" = "$(awk '{ print $1, $3 }' "$T/sparse-table")"
runs "cv --sparse --solver lbfgs --output" cv --folds 3 --C 1 --solver lbfgs --sparse \
    --output "$T/sp.st" "$DATA/sparse.svm"
check "--solver lbfgs: no solver note" sh -c "! grep -q '^solver:' '$T/err'"
check "the refit ran the solver given" test "$(meta solver "$T/sp.st")" = lbfgs
runs "cv on gzipped libsvm" cv --folds 2 --C 1 "$DATA/three.svm.gz"
check "the best line" grep -q '^best: C=1 l1_ratio=0 ' "$T/out"
runs "cv on IDX" cv --folds 2 --C 1 "$DATA/tiny-images-idx3-ubyte.gz"
check "IDX: the best line" grep -q '^best: C=1 l1_ratio=0 ' "$T/out"

# ---- sample weights: weighted training and weighted scores
awk 'BEGIN { s = 11 } { s = (s * 1103515245 + 12345) % 2147483648; print int(s / 2147483648 * 3) * 1.5 }' \
    "$LIN" >"$T/w"
runs "cv --weights" $CV --folds 3 --C 1 --seed 5 $D --tol 1e-7 --weights "$T/w" --save-folds "$T/fw" "$LIN"
acc=$(row 1 0 | awk '{ print $3 }')
: >"$T/accs"
for f in 0 1 2; do
    split_fold "$LIN" "$T/fw" $f
    "$BIN" train -q --label-column last --C 1 --tol 1e-7 $D --weights "$T/wtrain" \
        "$T/train.csv" "$T/m.st" 2>"$T/err" || fail "weighted train on fold $f"
    "$BIN" predict "$T/test.csv" "$T/m.st" >"$T/pred" 2>"$T/err" ||
        fail "predict on fold $f"
    awk -F, '{ print $NF }' "$T/test.csv" | paste -d' ' - "$T/pred" "$T/wtest" |
        awk '{ a += ($1 == $2) * $3; s += $3 } END { printf "%.8f\n", a / s }' >>"$T/accs"
done
by_hand=$(mean_of "$T/accs")
check "weighted mean accuracy $acc = weighted train/predict per fold $by_hand" \
    close_to "$acc" "$by_hand" 0.00006
# weights of 2 everywhere halve lambda: C and 2 C unweighted
yes 2 | head -n 700 >"$T/w2"
runs "cv --weights (all 2) at C 0.05,0.5" $CV --folds 3 --C 0.05,0.5 $D --weights "$T/w2" "$LIN"
awk 'NR > 1 && $1 != "best:" { print $3, $5 }' "$T/out" >"$T/w2-scores"
runs "cv unweighted at C 0.1,1" $CV --folds 3 --C 0.1,1 $D "$LIN"
awk 'NR > 1 && $1 != "best:" { print $3, $5 }' "$T/out" >"$T/w1-scores"
check "weights of 2 = twice C" cmp -s "$T/w2-scores" "$T/w1-scores"
runs "cv --class-weight balanced" $CV --folds 3 --C 1 --class-weight balanced "$LIN"
check "class weights: a table" grep -q '^best: C=1 ' "$T/out"

# ---- bad input
fails "--folds 1" 2 '--folds: .1. is out of range' $CV --folds 1 "$LIN"
fails "--folds x" 2 '--folds: .x. is not' $CV --folds x "$LIN"
fails "--folds more than the samples" 1 '--folds 701 is more than its 700 samples' \
    $CV --folds 701 "$LIN"
fails "every class smaller than --folds" 1 'every class has fewer than --folds 4 samples' \
    $CV --folds 4 "$T/tie.csv"
fails "--C empty" 2 "--C: '' has an empty item" $CV --C '' "$LIN"
fails "--C 1,,2" 2 "--C: '1,,2' has an empty item" $CV --C 1,,2 "$LIN"
fails "--C negative" 2 "--C: '-1' is out of range" $CV --C 1,-1 "$LIN"
fails "--C 0" 2 "--C: '0' is out of range" $CV --C 0 "$LIN"
fails "--C twice" 2 "--C: 1 is given twice" $CV --C 1,0.1,1.0 "$LIN"
fails "--C text" 2 "--C: 'ten' is not a number" $CV --C 1,ten "$LIN"
fails "--C inf" 2 "--C: 'inf' is not a finite number" $CV --C inf "$LIN"
fails "--l1-ratio above 1" 2 "--l1-ratio: '1.5' is out of range" $CV --l1-ratio 1.5 "$LIN"
fails "--l1-ratio negative" 2 "--l1-ratio: '-0.1' is out of range" $CV --l1-ratio -0.1 "$LIN"
fails "no DATA" 2 'missing DATA' cv --folds 3
fails "two DATA" 2 "unexpected argument" cv "$LIN" "$LIN"
fails "--lr with lbfgs" 2 '--lr applies to --solver sgd' $CV --lr 0.1 "$LIN"
fails "an l1_ratio list with newton" 2 '--l1-ratio needs --solver lbfgs' \
    $CV --solver newton --l1-ratio 0,0.5 "$LIN"
fails "--lbfgs-memory with sgd" 2 '--lbfgs-memory applies to --solver lbfgs only' \
    $CV --solver sgd --lbfgs-memory 3 "$LIN"
fails "unknown option" 2 "unknown option" $CV --epochs 3 "$LIN"
fails "--output is DATA" 1 '' $CV --output "$LIN" "$LIN"
fails "a missing file" 1 'cannot open|No such file' cv "$T/none.csv"
fails "--weights of the wrong length" 1 '--weights' $CV --weights "$T/w2" --folds 2 "$T/tie.csv"

# ---- MPI: the table of one process, the refit's model within 1e-9 (the
# setup of mpi.sh: more ranks than cores, one POCL thread per rank)
if [ -n "${CSM_MPIRUN:-}" ] && command -v "$CSM_MPIRUN" >/dev/null 2>&1 && [ -n "$D" ]; then
    MPIRUN="$CSM_MPIRUN --oversubscribe"
    [ "$(id -u)" = 0 ] && MPIRUN="$MPIRUN --allow-run-as-root"
    # under the sanitizer build (.ci/asan.sh sets ASAN_OPTIONS), the ranks run
    # with detect_leaks=0: Open MPI 4.1 leaks at MPI_Finalize (as in mpi.sh)
    RANK_ASAN=${ASAN_OPTIONS:-}
    [ -n "$RANK_ASAN" ] && RANK_ASAN="$RANK_ASAN:detect_leaks=0"
    # scores to compare: accuracy exactly, log-loss as printed within 1e-4
    same_scores() {
        paste -d' ' "$1" "$2" | awk 'NR > 1 && $1 != "best:" { if ($3 != $9 || $1 != $7) bad = 1
            d = $5 - $11; if (d < 0) d = -d; if (d > 0.00011) bad = 1 } END { exit bad }' &&
            test "$(tail -n 1 "$1")" = "$(tail -n 1 "$2")"
    }
    # --tol 1e-10: Newton (the default in float64) follows the order of the
    # sums in its CG steps; at the default tol two stopping points differ by
    # 1e-8 in J, at 1e-10 by rounding only (as mpi.sh runs it)
    # weights without zeros: with $T/w's a fold may hold no weighted sample of
    # the 4-sample class, whose bias then has no finite optimum, and runs
    # stopped short of tol by their iteration count need not agree
    awk '{ print 0.5 + $1 }' "$T/w" >"$T/wpos"
    for opts in "--C 0.1,1,10 --weights $T/wpos --standardize --tol 1e-10" \
        "--C 1,10 --class-weight balanced --tol 1e-10"; do
        run $CV --folds 4 --seed 9 $D -q $opts --output "$T/one.st" "$LIN"
        cp "$T/out" "$T/one-table"
        for np in 2 3; do
            OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_rmaps_base_oversubscribe=1 \
                POCL_MAX_PTHREAD_COUNT=1 CLSOFTMAX_CALIBRATE=off \
                env ${RANK_ASAN:+ASAN_OPTIONS=$RANK_ASAN} timeout 300 \
                $MPIRUN -np $np "$BIN" $CV --folds 4 --seed 9 $D $opts --output "$T/mpi.st" "$LIN" \
                >"$T/out" 2>"$T/err"
            rc=$?
            check "mpirun -np $np cv $opts: exit 0 ($rc)" test "$rc" -eq 0
            check "mpirun -np $np: one table, the one process's" same_scores "$T/out" "$T/one-table"
            check "mpirun -np $np: says so" grep -q "^MPI: $np ranks, each fold's rows shared out" "$T/err"
            a=$(meta objective "$T/mpi.st") b=$(meta objective "$T/one.st")
            check "mpirun -np $np: the refit's objective $a = $b within 1e-9" \
                awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-9 * b) }'
        done
    done
    OMPI_MCA_btl_vader_single_copy_mechanism=none POCL_MAX_PTHREAD_COUNT=1 \
        env ${RANK_ASAN:+ASAN_OPTIONS=$RANK_ASAN} timeout 300 $MPIRUN -np 2 "$BIN" $CV - <"$LIN" >"$T/out" 2>"$T/err"
    check "mpirun: DATA '-' refused" grep -q "DATA '-' under mpirun" "$T/err"
else
    skip "cv under mpirun" "no MPI build, no mpirun or no float64"
fi

# ---- help
runs "--help" cv --help
check "help: ties go to the smaller C" grep -q 'ties go to the smaller C' "$T/out"
check "help: --folds default 5" grep -q 'default 5)' "$T/out"

done_testing
