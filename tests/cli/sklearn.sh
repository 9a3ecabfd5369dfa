#!/bin/sh
# The command's C is scikit-learn's, also for two classes: trained with
# --C C in float64 to a tight --tol, `predict --proba` gives the
# probabilities of LogisticRegression(C=C) at its optimum within 1e-6, on
# breast cancer and liblinear's heart_scale (fixtures written by
# tests/data/sklearn/make-fixtures.py), at two C; also with --no-intercept
# (LogisticRegression(fit_intercept=False)); --l1-ratio against saga.
. "$(dirname "$0")/lib.sh"
need_device

SK="${CSM_TEST_DATA:-tests/data}/sklearn"
if ! has_fp64; then
    echo "1..0 # SKIP the device has no float64 (the comparison needs --double)"
    exit 0
fi

# max |a - b| over two CSV files of numbers with one header line each
max_diff() {
    awk -F, 'NR == FNR { if (FNR > 1) for (j = 1; j <= NF; j++) a[FNR, j] = $j; rows = FNR; next }
             FNR > 1 { for (j = 1; j <= NF; j++) { d = $j - a[FNR, j]; if (d < 0) d = -d; if (d > m) m = d } }
             END { if (FNR != rows) { print "rows differ"; exit 1 } printf "%.3g\n", m + 0 }' "$1" "$2"
}

# case  data  C  options
while read -r case_ csv C opts; do
    runs "$case_: train --double --C $C $opts" train --double --tol 1e-10 --C "$C" $opts "$SK/$csv" "$T/$case_.st"
    n=$(awk 'END { print NR - 1 }' "$SK/$csv")
    want=$(awk -v C="$C" -v n="$n" 'BEGIN { printf "%.6g", 2 / (C * n) }')
    check "$case_: lambda is 2 / (C n) = $want for two classes ($(meta lambda "$T/$case_.st"))" \
        close_to "$(meta lambda "$T/$case_.st")" "$want" "$(awk -v w="$want" 'BEGIN { print w * 1e-5 }')"
    runs "$case_: predict --proba" predict --proba "$SK/$csv" "$T/$case_.st"
    check "$case_: the classes' header is scikit-learn's" test "$(head -n 1 "$T/out")" = "$(head -n 1 "$SK/$case_.proba.csv")"
    d=$(max_diff "$T/out" "$SK/$case_.proba.csv")
    check "$case_: probabilities equal LogisticRegression(C=$C)'s within 1e-6 (max diff $d)" \
        eval 'printf "%s\n" "$d" | grep -Eq "^[0-9.e+-]+\$" && ge 1e-6 "$d"'
done <<CASES
breast_cancer breast_cancer.csv 1
breast_cancer-C0.05 breast_cancer.csv 0.05
heart_scale heart_scale.csv 1
heart_scale-C0.05 heart_scale.csv 0.05
heart_scale-nobias heart_scale.csv 1 --no-intercept
CASES

# No bias, whatever the solver: a sample of zeros gets 1/C for every class.
# With --standardize the features are then scaled only (centring would put
# the means into the saved bias).
zeros="label,$(seq -s, 1 13 | sed 's/[0-9][0-9]*/0/g')"
printf '%s\n1,%s\n' "$(head -n 1 "$SK/heart_scale.csv")" "${zeros#label,}" >"$T/zero.csv"
for solver in lbfgs adam; do
    it=$([ $solver = lbfgs ] && echo "--max-iter 20" || echo "--max-iter 3")
    runs "$solver --no-intercept --standardize" train --solver $solver $it --no-intercept --standardize "$SK/heart_scale.csv" "$T/nb-$solver.st"
    runs "$solver --no-intercept: predict a sample of zeros" predict --proba "$T/zero.csv" "$T/nb-$solver.st"
    check "$solver --no-intercept: zeros give 0.5, 0.5 ($(tail -n 1 "$T/out"))" test "$(tail -n 1 "$T/out")" = "0.5,0.5"
    check "$solver --no-intercept --standardize: not centred" test "$(meta standardize_center "$T/nb-$solver.st")" = false
done
runs "with an intercept" train --solver adam --max-iter 3 --standardize "$SK/heart_scale.csv" "$T/b.st"
runs "with an intercept: predict a sample of zeros" predict --proba "$T/zero.csv" "$T/b.st"
check "with an intercept: zeros do not give 0.5, 0.5 ($(tail -n 1 "$T/out"))" test "$(tail -n 1 "$T/out")" != "0.5,0.5"

check "--no-intercept is recorded" test "$(meta fit_intercept "$T/heart_scale-nobias.st")" = false
check "fit_intercept defaults to true" test "$(meta fit_intercept "$T/heart_scale.st")" = true

# --l2 is lambda itself, for two classes too
runs "--l2 is not scaled for two classes" train --double --l2 0.01 "$SK/heart_scale.csv" "$T/l2.st"
check "metadata lambda = --l2 ($(meta lambda "$T/l2.st"))" close_to "$(meta lambda "$T/l2.st")" 0.01 1e-12
# three classes: lambda = 1 / (C n), unchanged
runs "three classes: train --C 1" train --double "$SK/iris.csv" "$T/iris.st"
check "three classes: lambda = 1 / (C n) ($(meta lambda "$T/iris.st"))" \
    close_to "$(meta lambda "$T/iris.st")" 0.00666667 1e-8

# --l1-ratio: scikit-learn's elastic net, trained by OWL-QN (stderr says
# so), at saga's optimum (l1-optima.txt, make-l1-fixtures.py) with its
# exact zeros, counted by train's summary, the metadata and show
line=$(grep '^wine-l1_0.5 ' "$SK/l1-optima.txt")
J_saga=$(echo "$line" | awk '{ print $8 }')
zeros=$(echo "$line" | awk '{ print $10 }')
runs "--l1-ratio 0.5" train --double --tol 1e-9 --l1-ratio 0.5 "$SK/wine.csv" "$T/en.st"
check "--l1-ratio: stderr names OWL-QN" grep -q "OWL-QN" "$T/err"
check "--l1-ratio: the summary counts $zeros zero weights, saga's" grep -q "; $zeros of 39 weights zero" "$T/err"
J=$(meta objective "$T/en.st")
check "--l1-ratio: J $J at most saga's $J_saga (1 + 1e-6)" \
    awk -v a="$J" -v b="$J_saga" 'BEGIN { exit !(a <= b * (1 + 1e-6)) }'
check "--l1-ratio is recorded" test "$(meta l1_ratio "$T/en.st")" = 0.5
check "the zero weights are recorded" test "$(meta zero_weights "$T/en.st")" = "$zeros"
runs "show an elastic-net model" show "$T/en.st"
check "show counts the zero weights" grep -q ", $zeros of 39 zero" "$T/out"
check "show lists l1_ratio" grep -q "l1_ratio" "$T/out"
# stopped and resumed through the model file: one run's weights, bit for bit
runs "--l1-ratio: 30 iterations" train -q --double --l1-ratio 0.5 --tol 0 --max-iter 30 "$SK/wine.csv" "$T/en30.st"
runs "--l1-ratio: 12 iterations" train -q --double --l1-ratio 0.5 --tol 0 --max-iter 12 "$SK/wine.csv" "$T/en12.st"
runs "--l1-ratio: 18 more with --resume" train -q --double --l1-ratio 0.5 --tol 0 --max-iter 18 --resume "$T/en12.st" "$SK/wine.csv" "$T/en12.st"
params "$T/en30.st" >"$T/p30"
params "$T/en12.st" >"$T/p12"
check "--l1-ratio: 12 + 18 resumed iterations equal 30, bit for bit" cmp -s "$T/p30" "$T/p12"
for bad in -0.1 1.5 nan inf 0.5x ""; do
    fails "--l1-ratio '$bad' is refused" 2 "--l1-ratio" train --l1-ratio "$bad" "$SK/wine.csv" "$T/bad.st"
done
fails "--l1-ratio with adam is refused" 2 "lbfgs" train --solver adam --l1-ratio 0.5 "$SK/wine.csv" "$T/bad.st"
fails "--l1-ratio with --l2 is refused" 2 "--l2" train --l2 0.01 --l1-ratio 0.5 "$SK/wine.csv" "$T/bad.st"

echo "1..$tap_n"
exit $tap_failed
