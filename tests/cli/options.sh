#!/bin/sh
# train options: --standardize (folded into the saved model), validation
# (file and split), --early-stopping keeps the best weights, --resume,
# --double, optimizers, init, determinism, write errors.
. "$(dirname "$0")/lib.sh"
need_device

# --tol 0: these runs test other options, each for exactly --epochs epochs
SGD="--optimizer sgd --lr 0.5 --batch-size 8 --tol 0"

# ---- --standardize: the saved model works on raw features. The last
# validation loss (computed on standardized features with the unfolded
# weights) equals eval's loss on the raw file with the folded model.
runs "train --standardize with --validation" train -q $SGD --epochs 5 --standardize --label-column last \
    --validation "$DATA/three.csv" --history "$T/std.csv" "$DATA/three.csv" "$T/std.st"
runs "eval the standardized model on raw data" eval --label-column last "$DATA/three.csv" "$T/std.st"
vl=$(tail -n 1 "$T/std.csv" | cut -d, -f4)
check "folded model reproduces the validation loss ($vl vs $(eval_field loss))" close_to "$vl" "$(eval_field loss)" 2e-5
check "history has validation fields" awk -F, 'NR > 1 && ($4 == "" || $5 == "") { bad = 1 } END { exit bad }' "$T/std.csv"
head -c 8192 "$T/std.st" > "$T/header"
check "metadata standardize true" grep -q '"standardize":"true"' "$T/header"
check "metadata standardize_mean is a list" grep -Eq '"standardize_mean":"\[[-0-9.e,]+\]"' "$T/header"
check "metadata standardize_scale is a list" grep -Eq '"standardize_scale":"\[[-0-9.e,]+\]"' "$T/header"

# resume with --standardize continues from the stored scaling
runs "--resume --standardize" train -q $SGD --epochs 3 --standardize --label-column last \
    --resume "$T/std.st" "$DATA/three.csv" "$T/std2.st"
run eval --label-column last "$DATA/three.csv" "$T/std.st"
l1=$(eval_field loss)
run eval --label-column last "$DATA/three.csv" "$T/std2.st"
l2=$(eval_field loss)
check "resumed standardized training lowers the loss ($l1 -> $l2)" ge "$l1" "$l2"
check "resumed model keeps the same scaling" test \
    "$(head -c 8192 "$T/std2.st" | grep -ao '"standardize_mean":"[^"]*"')" = \
    "$(grep -ao '"standardize_mean":"[^"]*"' "$T/header")"

# ---- --validation-split
runs "train --validation-split" train $SGD --epochs 4 --validation-split 0.25 --history "$T/split.csv" \
    "$DATA/pm1.csv" "$T/split.st"
check "split: 30 train / 10 validation" grep -q 'training on 30 samples, validating on 10' "$T/err"
check "split: progress shows val_loss" grep -q 'val_loss' "$T/err"
check "split: history has validation fields" awk -F, 'NR > 1 && ($4 == "" || $5 == "") { bad = 1 } END { exit bad }' "$T/split.csv"
check "split metadata" grep -q '"validation_split":"0.25"' "$T/split.st"
fails "split too small for the data" 1 "validation-split" train --validation-split 0.01 "$DATA/pm1.csv" "$T/x.st"

# ---- --early-stopping: validate on the training data with flipped labels,
# so that the validation loss grows after the first epoch.
awk -F, 'NR == 1 { print; next } { $1 = -$1; print }' OFS=, "$DATA/pm1.csv" > "$T/flipped.csv"
runs "train --early-stopping" train $SGD --epochs 30 --validation "$T/flipped.csv" --early-stopping 2 \
    --history "$T/es.csv" "$DATA/pm1.csv" "$T/es.st"
rows=$(($(wc -l < "$T/es.csv") - 1))
check "early stopping stopped before 30 epochs ($rows)" test "$rows" -lt 30
check "early stopping is reported" grep -q 'early stopping after epoch' "$T/err"
best=$(awk -F, 'NR > 1 && (min == "" || $4 < min) { min = $4 } END { print min }' "$T/es.csv")
run eval "$T/flipped.csv" "$T/es.st"
check "the saved model is the best epoch's ($best vs $(eval_field loss))" close_to "$best" "$(eval_field loss)" 2e-5
check "best epoch in metadata" grep -Eq '"best_epoch":"[0-9]+"' "$T/es.st"
fails "validation labels unknown to the training data" 1 "unknown-label.csv: sample 2 has label 2" \
    train --validation "$DATA/unknown-label.csv" "$DATA/pm1.csv" "$T/x.st"
fails "validation feature mismatch" 1 "three-features.csv: the validation data has 3 features" \
    train --validation "$DATA/three-features.csv" "$DATA/pm1.csv" "$T/x.st"

# ---- --resume
runs "train 2 epochs" train -q $SGD --epochs 2 "$DATA/three.svm" "$T/r1.st"
runs "resume 10 more" train -q $SGD --epochs 10 --resume "$T/r1.st" "$DATA/three.svm" "$T/r2.st"
run eval "$DATA/three.svm" "$T/r1.st"
l1=$(eval_field loss)
run eval "$DATA/three.svm" "$T/r2.st"
l2=$(eval_field loss)
check "resumed training lowers the loss ($l1 -> $l2)" ge "$l1" "$l2"
check "resume metadata" grep -q '"resumed_from":' "$T/r2.st"
runs "resume on a subset of the classes" train -q $SGD --epochs 2 --resume "$T/r1.st" "$DATA/three-subset.svm" "$T/r3.st"
run eval "$DATA/three.svm" "$T/r3.st"
check "subset resume keeps all 3 classes" grep -Eq '^ +1 +2 +3$' "$T/out"
fails "resume with an unknown label" 1 "pm1.svm: sample 1 has label -?1, which the model .*r1.st does not know \(classes: 1, 2, 3\)" \
    train -q --resume "$T/r1.st" "$DATA/pm1.svm" "$T/x.st"
fails "resume with a feature-count mismatch" 1 "three.csv: the data has 3 features but the model .*r1.st has 2" \
    train -q --label-column last --resume "$T/r1.st" "$DATA/three.csv" "$T/x.st"
fails "resume from a missing model" 1 "ERROR: .*no-such.st" train -q --resume "$T/no-such.st" "$DATA/three.svm" "$T/x.st"
# what the resumed model's metadata holds is checked as it is read
rewrite_header "$T/r1.st" "$T/badseed.st" 's/"seed":"[0-9]*"/"seed":"x1"/'
fails "resume: a metadata seed that is no seed" 1 "badseed.st: metadata seed 'x1' is not a seed: give --seed" \
    train -q --resume "$T/badseed.st" "$DATA/three.svm" "$T/x.st"
runs "... with --seed given, it is not read" train -q $SGD --epochs 1 --seed 4 --resume "$T/badseed.st" \
    "$DATA/three.svm" "$T/seed4.st"
rewrite_header "$T/std.st" "$T/badstd.st" 's/"standardize_scale":"[^"]*"/"standardize_scale":"[1]"/'
fails "resume --standardize: a scale of another length" 1 \
    "badstd.st: metadata standardize_mean/standardize_scale is not a list of 3 numbers" \
    train -q $SGD --epochs 1 --standardize --label-column last --resume "$T/badstd.st" "$DATA/three.csv" "$T/x.st"
rewrite_header "$T/std.st" "$T/zerostd.st" 's/"standardize_scale":"[^"]*"/"standardize_scale":"[1,0,1]"/'
fails "resume --standardize: a scale of 0" 1 "zerostd.st: metadata standardize_scale has a non-positive value" \
    train -q $SGD --epochs 1 --standardize --label-column last --resume "$T/zerostd.st" "$DATA/three.csv" "$T/x.st"
printf '1\n2\n' >"$T/w2.txt"
fails "--weights: fewer weights than samples" 1 \
    "w2.txt: 2 weights for the data.s 40 samples \\(--weights: one weight per sample of .*pm1.csv\\)" \
    train -q --weights "$T/w2.txt" "$DATA/pm1.csv" "$T/x.st"
check "failed runs write no model" test ! -e "$T/x.st"
# libsvm resume: the model's feature count is used when the data has fewer
runs "resume libsvm with fewer features than the model" train -q $SGD --epochs 1 --resume "$T/r1.st" \
    "$DATA/three-subset.svm" "$T/r4.st"

# ---- --double
if has_fp64; then
    runs "train --double" train -q $SGD --epochs 5 --double "$DATA/pm1.csv" "$T/d.st"
    check "float64 model has F64 tensors" grep -q '"dtype":"F64"' "$T/d.st"
    check "precision metadata float64" grep -q '"precision":"float64"' "$T/d.st"
    runs "eval a float64 model" eval "$DATA/pm1.csv" "$T/d.st"
    check "float64 model accurate" ge "$(eval_field accuracy)" 0.95
    runs "resume a float32 model in float64" train -q $SGD --epochs 1 --double --resume "$T/r1.st" "$DATA/three.svm" "$T/r64.st"
    check "converted to F64" grep -q '"dtype":"F64"' "$T/r64.st"
    runs "resume a float64 model in float32" train -q $SGD --epochs 1 --resume "$T/d.st" "$DATA/pm1.csv" "$T/d32.st"
    check "converted back to F32" grep -q '"dtype":"F32"' "$T/d32.st"
else
    fails "train --double without fp64" 1 "fp64|float64" train -q --double "$DATA/pm1.csv" "$T/d.st"
fi

# ---- solvers, init, batch sizes
for opt in sgd momentum adam; do
    runs "solver $opt" train -q --solver $opt --epochs 30 --batch-size 8 "$DATA/pm1.csv" "$T/o-$opt.st"
    run eval "$DATA/pm1.csv" "$T/o-$opt.st"
    check "solver $opt learns ($(eval_field accuracy))" ge "$(eval_field accuracy)" 0.9
done
runs "solver lbfgs (the default)" train -q "$DATA/pm1.csv" "$T/o-lbfgs.st"
run eval "$DATA/pm1.csv" "$T/o-lbfgs.st"
check "solver lbfgs learns ($(eval_field accuracy))" ge "$(eval_field accuracy)" 0.95
runs "full batch (--batch-size 0)" train -q --optimizer sgd --lr 1 --epochs 50 --batch-size 0 "$DATA/pm1.csv" "$T/fb.st"
run eval "$DATA/pm1.csv" "$T/fb.st"
check "full batch learns" ge "$(eval_field accuracy)" 0.9
runs "batch larger than the data" train -q --solver sgd --batch-size 1000 --epochs 2 "$DATA/pm1.csv" "$T/big.st"
runs "--init normal --seed 7 --l2 0.01 --momentum 0.5" train -q --optimizer momentum --init normal --seed 7 \
    --l2 0.01 --momentum 0.5 --epochs 3 "$DATA/pm1.csv" "$T/n.st"
check "metadata init normal" grep -q '"init":"normal"' "$T/n.st"
check "metadata seed 7" grep -q '"seed":"7"' "$T/n.st"
check "metadata l2" grep -q '"l2":"0.01"' "$T/n.st"

# ---- determinism: the same seed gives the same file
runs "seeded run 1" train -q $SGD --epochs 3 --seed 11 "$DATA/pm1.csv" "$T/s1.st"
runs "seeded run 2" train -q $SGD --epochs 3 --seed 11 "$DATA/pm1.csv" "$T/s2.st"
check "same seed, same model" cmp -s "$T/s1.st" "$T/s2.st"
runs "--no-shuffle" train -q $SGD --epochs 3 --no-shuffle "$DATA/pm1.csv" "$T/ns.st"
check "metadata shuffle false" grep -q '"shuffle":"false"' "$T/ns.st"

# ---- write errors: nothing half-written, exit 1
fails "model in a missing directory" 1 "ERROR: " train -q --max-iter 1 "$DATA/pm1.csv" "$T/no/such/dir/m.st"
fails "history in a missing directory" 1 "no/such/dir/h.csv" train -q --max-iter 1 --history "$T/no/such/dir/h.csv" "$DATA/pm1.csv" "$T/h.st"
check "no model after a history error" test ! -e "$T/h.st"
fails "predict OUTPUT in a missing directory" 1 "no/such/dir/p.txt" predict "$DATA/pm1.csv" "$T/s1.st" "$T/no/such/dir/p.txt"

done_testing
