#!/bin/sh
# Training to the optimum: the default L-BFGS run converges and says so,
# stopping short of --tol warns (also with --quiet) but still exits 0, the
# metadata records options and outcome, --C / --l2 / --class-weight set the
# objective, and --resume continues a first-order solver exactly.
. "$(dirname "$0")/lib.sh"
need_device

THREE="--label-column last $DATA/three.csv"
NUM='[0-9][0-9.e+-]*'

# ---- the default run: lbfgs, C 1, tol 1e-4
runs "default train (lbfgs)" train $THREE "$T/d.st"
cp "$T/err" "$T/d.err"
# in a pipe, converged before the first 10% of --max-iter: the last line only
check "progress: the last iteration's line" grep -Eq '^iteration [0-9]+/1000  loss [0-9.]+  accuracy [0-9.]+  max\|grad\| [0-9.e+-]+  evals [0-9]+  ' "$T/d.err"
check "progress: one line in a pipe" test "$(grep -c '^iteration ' "$T/d.err")" -eq 1
runs "train -v: every iteration" train -v $THREE "$T/dv.st"
check "progress -v: one line per iteration" grep -Eq '^iteration 1/1000  loss [0-9.]+  accuracy [0-9.]+  max\|grad\| [0-9.e+-]+  evals [0-9]+  ' "$T/err"
check "progress -v: as many lines as iterations" \
    test "$(grep -c '^iteration ' "$T/err")" -eq "$(meta n_iter "$T/dv.st")"
check "the convergence line" grep -Eq "^lbfgs converged after [0-9]+ iterations? \\([0-9]+ evaluations?\\) in [0-9.]+s: objective $NUM \\(J incl\\. L2, lambda 0\\.0167\\), max\\|grad\\| $NUM <= tol 0\\.0001, accuracy [01]\\.[0-9]{4}\$" "$T/d.err"
check "no warning when converged" test "$(grep -c WARNING "$T/d.err")" -eq 0
check "converged on easy data well within --max-iter ($(sed -n 's/^lbfgs converged after \([0-9]*\) .*/\1/p' "$T/d.err"))" \
    test "$(sed -n 's/^lbfgs converged after \([0-9]*\) .*/\1/p' "$T/d.err")" -lt 100
runs "eval the default model" eval $THREE "$T/d.st"
check "the default model is accurate" ge "$(eval_field accuracy)" 0.95

# the summary's objective is the metadata's, to the 12 digits it prints
obj=$(sed -n 's/.* objective \([^ ]*\) (J incl.*/\1/p' "$T/d.err")
check "summary objective ($obj) == metadata objective to 12 digits" \
    test "$obj" = "$(awk -v v="$(meta objective "$T/d.st")" 'BEGIN { printf "%.12g", v }')"
check "max|grad| in the metadata is within tol" ge 0.0001 "$(meta grad_max_abs "$T/d.st")"

# metadata: options and outcome; the old keys are gone
for kv in solver=lbfgs max_iter=1000 tol=0.0001 C=1 lbfgs_memory=10 n_iter_no_change= converged=true \
    "stop=tolerance reached" init=zeros seed=1 standardize=false precision=float32; do
    key=${kv%%=*} want=${kv#*=}
    if [ -z "$want" ]; then
        check "metadata: no $key for lbfgs" eval '! has_meta $key "$T/d.st"'
    else
        check "metadata $key = $want ($(meta "$key" "$T/d.st"))" test "$(meta "$key" "$T/d.st")" = "$want"
    fi
done
for key in objective grad_max_abs lambda n_iter total_iter; do
    check "metadata $key is a number ($(meta "$key" "$T/d.st"))" eval 'meta $key "$T/d.st" | grep -Eq "^$NUM\$"'
done
check "metadata lambda = 1 / (C n) = 1/60" close_to "$(meta lambda "$T/d.st")" 0.0166666667 1e-9
check "metadata n_iter == total_iter on a fresh run" test "$(meta n_iter "$T/d.st")" = "$(meta total_iter "$T/d.st")"
for key in epochs optimizer epochs_run l2 lr batch_size momentum class_weight resumed_from; do
    check "metadata: no $key" eval '! has_meta $key "$T/d.st"'
done

# the history of an lbfgs run has max|grad| per iteration
runs "lbfgs --history" train -q --history "$T/h.csv" $THREE "$T/h.st"
check "history header ends with grad_max_abs" test "$(head -n 1 "$T/h.csv")" = "epoch,loss,accuracy,val_loss,val_accuracy,seconds,grad_max_abs"
check "history: one row per iteration" test "$(($(wc -l < "$T/h.csv") - 1))" -eq "$(meta n_iter "$T/h.st")"
check "history: the last grad_max_abs is within tol" ge 0.0001 "$(tail -n 1 "$T/h.csv" | cut -d, -f7)"
check "history: every grad_max_abs is a number" awk -F, 'NR > 1 && ($7 !~ /^[0-9][0-9.e+-]*$/ || NF != 7) { bad = 1 } END { exit bad }' "$T/h.csv"
check "the same data and options give the same model" cmp -s "$T/d.st" "$T/h.st"

# ---- a tolerance met before any step (the mean gradient of a large data
# set can be that small): converged, but the WARNING says nothing was learnt
runs "--tol 10: converged at the start" train --tol 10 $THREE "$T/t10.st"
check "--tol 10: converged after 0 iterations" grep -Eq '^lbfgs converged after 0 iterations' "$T/err"
check "--tol 10: the no-step WARNING" grep -Eq '^WARNING: lbfgs made no step: the starting weights already meet --tol 10 .*lower --tol \(e\.g\. 1\.7e-01, --tol divided by the 60 samples\)$' "$T/err"
runs "--resume a converged model: no WARNING" train --resume "$T/d.st" $THREE "$T/r0.st"
check "--resume at the optimum: no no-step WARNING" test "$(grep -c 'made no step' "$T/err")" -eq 0

# ---- stopping short of --tol: a warning, exit 0, a saved model
WARN_MAXITER='^WARNING: lbfgs stopped at --max-iter 2 before reaching --tol 0\.0001 \(max\|grad\| [0-9.e+-]+\); increase --max-iter or standardize the features \(--standardize\)$'
runs "--max-iter 2 exits 0" train --max-iter 2 $THREE "$T/m2.st"
check "--max-iter 2: the WARNING" grep -Eq "$WARN_MAXITER" "$T/err"
check "--max-iter 2: the summary says it stopped" grep -Eq "^lbfgs stopped at --max-iter after 2 iterations .*max\\|grad\\| $NUM > tol 0\\.0001" "$T/err"
check "--max-iter 2: the model is written" test -s "$T/m2.st"
check "--max-iter 2: converged false" test "$(meta converged "$T/m2.st")" = false
check "--max-iter 2: stop reason" test "$(meta stop "$T/m2.st")" = "iteration limit reached"
check "--max-iter 2: n_iter 2" test "$(meta n_iter "$T/m2.st")" = 2
runs "--max-iter 2 -q exits 0" train -q --max-iter 2 $THREE "$T/m2q.st"
check "-q: the WARNING is still printed" grep -Eq "$WARN_MAXITER" "$T/err"
check "-q: nothing but the WARNING" test "$(wc -l < "$T/err")" -eq 1
check "-q: nothing on stdout" test ! -s "$T/out"
runs "--max-iter 2 --standardize" train -q --max-iter 2 --standardize $THREE "$T/m2s.st"
check "--standardize already given: the advice is --max-iter only" grep -Eq '; increase --max-iter$' "$T/err"
runs "first-order solver at --max-iter" train -q --solver adam --epochs 2 $THREE "$T/a2.st"
check "adam --epochs 2: a WARNING about its tol test" \
    grep -Eq '^WARNING: adam stopped at --max-iter 2 before reaching --tol 0\.0001 \(the epoch loss still improved by more than tol within the last 5 epochs\)' "$T/err"
runs "--tol 0 runs --max-iter without a warning" train -q --solver adam --epochs 2 --tol 0 $THREE "$T/a2t.st"
check "--tol 0: no warning" test ! -s "$T/err"
runs "--tol 0 summary" train --solver sgd --epochs 3 --tol 0 $THREE "$T/s3.st"
check "--tol 0 summary: ran 3 epochs" grep -Eq "^sgd ran 3 epochs \\([0-9]+ steps?\\) in [0-9.]+s: objective $NUM \\(J incl\\. L2, lambda 0\\.0167\\), max\\|grad\\| $NUM, accuracy" "$T/err"
runs "float32 cannot reach --tol 1e-12" train -q --solver lbfgs --tol 1e-12 $THREE "$T/p.st"
if grep -q 'device precision' "$T/err"; then
    check "precision stop: the WARNING and its advice" grep -Eq '^WARNING: lbfgs stopped after [0-9]+ iterations? before reaching --tol 1e-12: objective no longer decreases at the device precision \(max\|grad\| [0-9.e+-]+\); use --double or a larger --tol$' "$T/err"
    check "precision stop: metadata" test "$(meta converged "$T/p.st")/$(meta stop "$T/p.st")" = "false/objective no longer decreases at the device precision"
else
    pass "float32 reached --tol 1e-12: no precision stop to check # SKIP"
fi

# ---- first-order solvers: their own metadata and defaults
runs "adam with defaults" train -q --solver adam --epochs 3 --tol 0 $THREE "$T/ad.st"
for kv in solver=adam max_iter=3 lr=0.001 batch_size=256 n_iter_no_change=5 n_iter=3 total_iter=3 \
    converged=false "stop=iteration limit reached"; do
    key=${kv%%=*} want=${kv#*=}
    check "adam metadata $key = $want ($(meta "$key" "$T/ad.st"))" test "$(meta "$key" "$T/ad.st")" = "$want"
done
for key in lbfgs_memory momentum; do
    check "adam metadata: no $key" eval '! has_meta $key "$T/ad.st"'
done
runs "momentum with defaults" train -q --optimizer momentum --max-iter 2 --tol 0 $THREE "$T/mo.st"
check "momentum metadata: lr 0.01, momentum 0.9, solver momentum" \
    test "$(meta lr "$T/mo.st")/$(meta momentum "$T/mo.st")/$(meta solver "$T/mo.st")" = "0.01/0.9/momentum"
runs "sgd converges by its tol test" train --solver sgd --lr 0.5 --batch-size 8 --epochs 500 $THREE "$T/sc.st"
check "sgd: converged line" grep -Eq "^sgd converged after [0-9]+ epochs .*epoch loss improved by <= tol 0\\.0001 for 5 epochs, max\\|grad\\| $NUM, accuracy" "$T/err"
check "sgd: stopped before 500 epochs ($(meta n_iter "$T/sc.st"))" test "$(meta n_iter "$T/sc.st")" -lt 500

# ---- the penalty: --C, --l2
runs "--C 10" train -q --C 10 $THREE "$T/c10.st"
check "--C 10: metadata C 10" test "$(meta C "$T/c10.st")" = 10
check "--C 10: lambda = 1/600" close_to "$(meta lambda "$T/c10.st")" 0.00166666667 1e-10
runs "--l2 0.01" train --l2 0.01 $THREE "$T/l2.st"
check "--l2: summary lambda 0.01" grep -q '(J incl. L2, lambda 0.01)' "$T/err"
check "--l2: metadata l2 and lambda, no C" test "$(meta l2 "$T/l2.st")/$(meta lambda "$T/l2.st")/$(has_meta C "$T/l2.st" && echo C)" = "0.01/0.01/"
runs "--l2 0: no penalty" train -q --l2 0 --max-iter 30 $THREE "$T/l0.st"
check "--l2 0: lambda 0" test "$(meta lambda "$T/l0.st")" = 0
# the same lambda by either option gives the same model
runs "--C 2 on 60 samples" train -q --C 2 $THREE "$T/c2.st"
runs "--l2 1/120" train -q --l2 0.008333333333333333 $THREE "$T/l120.st"
tensors "$T/l120.st" > "$T/l120.t"
check "--C 2 == --l2 1/(2*60): the same weights" eval 'tensors "$T/c2.st" | cmp -s - "$T/l120.t"'

# ---- --class-weight on imbalanced 0..2 data (36/16/8)
IMB=$DATA/imbalanced.csv
runs "no class weights" train -q "$IMB" "$T/cw0.st"
runs "--class-weight balanced" train --class-weight balanced "$IMB" "$T/cwb.st"
check "balanced: sum of weights is n, so lambda stays 1/60" grep -q '(J incl. L2, lambda 0.0167)' "$T/err"
check "balanced: metadata class_weight" test "$(meta class_weight "$T/cwb.st")" = balanced
run predict --proba "$IMB" "$T/cw0.st"
cp "$T/out" "$T/cw0.p"
run predict --proba "$IMB" "$T/cwb.st"
check "balanced changes the model" eval '! cmp -s "$T/out" "$T/cw0.p"'
# balancing moves predictions toward the small classes
run predict "$IMB" "$T/cw0.st"
small0=$(grep -c '^[12]$' "$T/out")
run predict "$IMB" "$T/cwb.st"
smallb=$(grep -c '^[12]$' "$T/out")
check "balanced predicts the small classes more often ($small0 -> $smallb)" test "$smallb" -gt "$small0"
runs "--class-weight 0:1,1:1,2:1" train -q --class-weight 0:1,1:1,2:1 "$IMB" "$T/cw1.st"
tensors "$T/cw0.st" > "$T/cw0.t"
check "unit class weights == no weights, bit for bit" eval 'tensors "$T/cw1.st" | cmp -s - "$T/cw0.t"'
check "metadata class_weight is the option text" test "$(meta class_weight "$T/cw1.st")" = 0:1,1:1,2:1
runs "--class-weight 2:1 (unlisted classes weigh 1)" train -q --class-weight 2:1 "$IMB" "$T/cw2.st"
check "an explicit weight of 1 == no weights" eval 'tensors "$T/cw2.st" | cmp -s - "$T/cw0.t"'
runs "--class-weight 1:3,2:6" train -q --class-weight 1:3,2:6 "$IMB" "$T/cw36.st"
check "explicit weights change the model" eval '! tensors "$T/cw36.st" | cmp -s - "$T/cw0.t"'
# weights enter lambda through C: every weight 2 doubles sum w, like --C 2
runs "--class-weight 0:2,1:2,2:2" train -q --class-weight 0:2,1:2,2:2 "$IMB" "$T/cwx2.st"
check "weights of 2: lambda = 1/120" close_to "$(meta lambda "$T/cwx2.st")" 0.00833333333 1e-10
runs "--C 0.5 with weights of 2 == --C 1 without" train -q --C 0.5 --class-weight 0:2,1:2,2:2 "$IMB" "$T/cwh.st"
check "... the same objective" close_to "$(meta objective "$T/cwh.st")" "$(meta objective "$T/cw0.st")" 1e-6
fails "--class-weight with a label the data lacks" 2 "--class-weight: label 7 is not a class of the training data \\(classes: 0, 1, 2\\)" \
    train --class-weight 0:1,7:2 "$IMB" "$T/x.st"
fails "--class-weight leaving every sample at 0" 2 "--class-weight: every training sample has weight 0" \
    train --class-weight 0:0,1:0,2:0 "$IMB" "$T/x.st"
fails "--class-weight with labels of another data set" 2 "label 3 is not a class of the training data \\(classes: 1, 2, 3\\)|label 0 is not a class" \
    train --class-weight 0:2 $THREE "$T/x.st"
check "no model after a --class-weight error" test ! -e "$T/x.st"
runs "--class-weight with --validation-split (weights the training rows)" \
    train -q --class-weight balanced --validation-split 0.25 "$IMB" "$T/cwv.st"

# ---- --resume continues the solver state: 3 + 3 epochs == 6 epochs
ADAM="--solver adam --batch-size 8 --tol 0"
runs "adam, 6 epochs, --seed 5" train -q $ADAM --epochs 6 --seed 5 "$DATA/pm1.csv" "$T/r6.st"
runs "adam, 3 epochs, --seed 5" train -q $ADAM --epochs 3 --seed 5 "$DATA/pm1.csv" "$T/r3.st"
runs "resume 3 more, the seed from the model" train $ADAM --epochs 3 --resume "$T/r3.st" "$DATA/pm1.csv" "$T/r33.st"
cp "$T/err" "$T/r33.err"
check "resume: the state is continued" grep -q 'continuing its adam state after 3 epochs' "$T/r33.err"
check "resume: the summary counts the total" grep -Eq '^adam ran 3 epochs, 6 in total ' "$T/r33.err"
check "resume: metadata n_iter 3, total_iter 6, seed 5" \
    test "$(meta n_iter "$T/r33.st")/$(meta total_iter "$T/r33.st")/$(meta seed "$T/r33.st")" = "3/6/5"
run predict --proba "$DATA/pm1.csv" "$T/r6.st"
cp "$T/out" "$T/r6.p"
run predict --proba "$DATA/pm1.csv" "$T/r33.st"
check "3 + resumed 3 epochs == 6 epochs (probabilities)" cmp -s "$T/out" "$T/r6.p"
tensors "$T/r6.st" > "$T/r6.t"
check "3 + resumed 3 epochs == 6 epochs (weights and Adam moments, bit for bit)" eval 'tensors "$T/r33.st" | cmp -s - "$T/r6.t"'
runs "resume with another seed" train -q $ADAM --epochs 3 --seed 1 --resume "$T/r3.st" "$DATA/pm1.csv" "$T/r33s.st"
check "... differs (the comparison above can fail)" eval '! tensors "$T/r33s.st" | cmp -s - "$T/r6.t"'
runs "resume with another solver" train $ADAM --solver sgd --epochs 1 --resume "$T/r3.st" "$DATA/pm1.csv" "$T/rs.st"
check "another solver starts afresh, and says so" grep -q 'carries adam state, not sgd: sgd starts afresh' "$T/err"
check "another solver: total_iter restarts" test "$(meta total_iter "$T/rs.st")" = 1
check "another solver: metadata solver sgd, no stale Adam keys" test "$(meta solver "$T/rs.st")/$(meta lr "$T/rs.st")" = "sgd/0.1"
# a converged lbfgs model is still converged
runs "resume a converged lbfgs model" train --resume "$T/d.st" $THREE "$T/dr.st"
check "resumed lbfgs converges after 0 iterations" grep -Eq '^lbfgs converged after 0 iterations, [0-9]+ in total' "$T/err"
check "resumed lbfgs: metadata resumed_from, no lbfgs_memory lost" test "$(meta resumed_from "$T/dr.st")/$(meta lbfgs_memory "$T/dr.st")" = "$T/d.st/10"

# ---- early stopping with lbfgs: validation loss on flipped labels rises
awk -F, 'NR == 1 { print; next } { $1 = -$1; print }' OFS=, "$DATA/pm1.csv" > "$T/flipped.csv"
runs "lbfgs --early-stopping" train --validation "$T/flipped.csv" --early-stopping 2 "$DATA/pm1.csv" "$T/es.st"
check "early stopping after an iteration" grep -q 'early stopping after iteration [0-9]*: no val_loss improvement for 2 iterations' "$T/err"
check "summary: stopped early" grep -Eq '^lbfgs stopped early after [0-9]+ iterations? .*, val_loss [0-9.]+, val_accuracy [0-9.]+$' "$T/err"
check "early stopping: metadata stop is the callback's" test "$(meta stop "$T/es.st")/$(meta converged "$T/es.st")" = "stopped by the callback/false"
cp "$T/err" "$T/es.err"
run eval "$T/flipped.csv" "$T/es.st"
check "the summary's val_loss is the saved (best) model's ($(eval_field loss))" grep -q "val_loss $(eval_field loss)," "$T/es.err"

# ---- newton: the same optimum as lbfgs, its own summary and metadata
runs "newton --double --tol 1e-8" train --solver newton --double --tol 1e-8 $THREE "$T/nt.st"
check "newton: the convergence line" grep -Eq "^newton converged after [0-9]+ iterations? \\([0-9]+ evaluations?\\) in [0-9.]+s: objective $NUM \\(J incl\\. L2, lambda 0\\.0167\\), max\\|grad\\| $NUM <= tol 1e-08, accuracy" "$T/err"
for kv in solver=newton tol=1e-08 converged=true; do
    key=${kv%%=*} want=${kv#*=}
    check "newton metadata $key = $want ($(meta "$key" "$T/nt.st"))" test "$(meta "$key" "$T/nt.st")" = "$want"
done
for key in lbfgs_memory lr batch_size; do
    check "newton metadata: no $key" eval '! has_meta $key "$T/nt.st"'
done
runs "lbfgs --double --tol 1e-8" train -q --solver lbfgs --double --tol 1e-8 $THREE "$T/lb8.st"
check "newton and lbfgs reach the same J" close_to "$(meta objective "$T/nt.st")" "$(meta objective "$T/lb8.st")" 1e-12
fails "newton --lr" 2 "--lr applies to --solver sgd, momentum and adam, not to newton" train --solver newton --lr 0.1 $THREE "$T/x.st"
fails "newton --epochs" 2 "newton counts iterations: use --max-iter" train --solver newton --epochs 3 $THREE "$T/x.st"
fails "newton --lbfgs-memory" 2 "--lbfgs-memory applies to --solver lbfgs only" train --solver newton --lbfgs-memory 5 $THREE "$T/x.st"

# ---- the default by the data: newton for sparse storage, lbfgs for dense at the default tol
runs "default solver, --sparse" train --sparse $THREE "$T/ds.st"
check "sparse default: the note" grep -q '^solver: newton, the default for sparse data (--solver lbfgs for L-BFGS)$' "$T/err"
check "sparse default: newton ran" grep -Eq '^newton converged after' "$T/err"
check "sparse default: metadata solver newton" test "$(meta solver "$T/ds.st")" = newton
runs "default solver, --dense" train --dense $THREE "$T/dd.st"
check "dense default: lbfgs ran, no note" eval 'grep -Eq "^lbfgs converged after" "$T/err" && ! grep -q "^solver: " "$T/err"'
runs "--lbfgs-memory keeps lbfgs on sparse data" train --sparse --lbfgs-memory 5 $THREE "$T/dm.st"
check "--lbfgs-memory: lbfgs ran" grep -Eq '^lbfgs converged after' "$T/err"
# ... and by the tolerance on dense data: newton below --tol 1e-4 (not 0)
runs "default solver, --dense --double --tol 1e-8" train --dense --double --tol 1e-8 $THREE "$T/dt.st"
check "dense, tight tol: the note" grep -q '^solver: newton, the default for dense data at --tol below 1e-4 (--solver lbfgs for L-BFGS)$' "$T/err"
check "dense, tight tol: newton ran" grep -Eq '^newton converged after' "$T/err"
check "dense, tight tol: metadata solver newton" test "$(meta solver "$T/dt.st")" = newton
check "dense, tight tol: newton's J" close_to "$(meta objective "$T/dt.st")" "$(meta objective "$T/lb8.st")" 1e-12
runs "default solver, --dense --tol 0" train --dense --tol 0 --max-iter 3 $THREE "$T/d0.st"
check "dense, --tol 0: lbfgs, no note" eval '! grep -q "^solver: " "$T/err" && test "$(meta solver "$T/d0.st")" = lbfgs'
runs "default solver, --dense --tol 1e-5 --solver lbfgs" train --dense --tol 1e-5 --solver lbfgs $THREE "$T/dl.st"
check "dense, tight tol, --solver lbfgs: lbfgs, no note" eval '! grep -q "^solver: " "$T/err" && test "$(meta solver "$T/dl.st")" = lbfgs'
runs "default solver, --dense --tol 1e-5 --l1-ratio 0.5" train --dense --tol 1e-5 --l1-ratio 0.5 $THREE "$T/de.st"
check "dense, tight tol, an L1 term: OWL-QN (lbfgs)" test "$(meta solver "$T/de.st")" = lbfgs

# newton resumed: from the saved weights, the iteration count continued
runs "newton, 2 iterations" train -q --solver newton --double --max-iter 2 $THREE "$T/nr.st"
runs "newton resumed" train --solver newton --double --resume "$T/nr.st" $THREE "$T/nr2.st"
check "newton resumed: the note" grep -q 'newton continues after 2 iterations' "$T/err"
check "newton resumed: total_iter counts both runs" test "$(meta total_iter "$T/nr2.st")" -gt "$(meta n_iter "$T/nr2.st")"

done_testing
