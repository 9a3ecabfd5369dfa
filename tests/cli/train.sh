#!/bin/sh
# train / predict / eval end to end on every format, with label mapping
# (-1/+1, 1..3, 0..2), gzip, progress output and the history file.
. "$(dirname "$0")/lib.sh"
need_device

# --optimizer is the old name of --solver, kept working; --tol 0 runs all
# 40 epochs rather than stopping once the loss stops improving.
FAST="--optimizer sgd --lr 0.5 --epochs 40 --tol 0 --batch-size 8"

# ---- CSV, -1/+1 labels, header
runs "train CSV -1/+1" train $FAST "$DATA/pm1.csv" "$T/pm1.st"
check "model file written" test -s "$T/pm1.st"
check "no temporary file left" test "$(ls "$T" | grep -c 'pm1\.st.')" -eq 0
# in a pipe: a line every 10% of --max-iter (4 epochs here), -v: every epoch
check "progress: a line every 4 epochs of 40 on a non-terminal" \
    test "$(grep -c '^epoch [0-9]*/40 ' "$T/err")" -eq 10
check "progress: the lines are epochs 4, 8, ..., 40" \
    test "$(grep '^epoch ' "$T/err" | cut -d' ' -f2 | tr '\n' ' ')" = "4/40 8/40 12/40 16/40 20/40 24/40 28/40 32/40 36/40 40/40 "
check "progress: data summary" grep -q 'pm1.csv: 40 samples, 2 features, 2 classes (-1, 1)' "$T/err"
check "train prints nothing on stdout" test ! -s "$T/out"
cp "$T/pm1.st" "$T/pm1-first.st"
runs "train -v" train -v $FAST "$DATA/pm1.csv" "$T/pm1.st"
check "progress -v: one line per epoch" test "$(grep -c '^epoch [0-9]*/40 ' "$T/err")" -eq 40
check "-v trains the same model" cmp -s "$T/pm1.st" "$T/pm1-first.st"

runs "eval CSV" eval "$DATA/pm1.csv" "$T/pm1.st"
acc=$(eval_field accuracy)
check "eval: accuracy >= 0.95 ($acc)" ge "$acc" 0.95
check "eval: loss line" grep -Eq '^loss [0-9.]+$' "$T/out"
check "eval: confusion header in label values" grep -Eq '^ +-1 +1$' "$T/out"
check "eval: confusion rows in label values" test "$(grep -Ec '^ *(-1|1)( +[0-9]+){2}$' "$T/out")" -eq 2
# the matrix: the rows after its title and its header
total=$(awk '/^confusion matrix/ { m = 1; next } m == 1 { m = 2; next } m == 2 { for (i = 2; i <= NF; i++) s += $i } END { print s }' "$T/out")
check "eval: confusion matrix sums to 40 ($total)" test "$total" -eq 40
cp "$T/out" "$T/eval-pm1"

runs "predict CSV" predict "$DATA/pm1.csv" "$T/pm1.st"
check "predict: one line per sample" test "$(wc -l < "$T/out")" -eq 40
check "predict: labels are -1/1" test "$(grep -Evc '^(-1|1)$' "$T/out")" -eq 0
cp "$T/out" "$T/pred-stdout"
# accuracy from predict agrees with eval
tail -n +2 "$DATA/pm1.csv" | cut -d, -f1 > "$T/truth"
right=$(paste -d' ' "$T/truth" "$T/pred-stdout" | awk '$1 == $2' | wc -l)
check "predict agrees with eval accuracy" close_to "$(awk -v r="$right" 'BEGIN { print r / 40 }')" "$acc" 1e-6

runs "predict to OUTPUT" predict "$DATA/pm1.csv" "$T/pm1.st" "$T/pred.txt"
check "predict OUTPUT == stdout" cmp -s "$T/pred.txt" "$T/pred-stdout"
check "predict OUTPUT: nothing on stdout" test ! -s "$T/out"
runs "predict OUTPUT '-' is stdout" predict "$DATA/pm1.csv" "$T/pm1.st" -
check "predict '-' == stdout" cmp -s "$T/out" "$T/pred-stdout"

runs "predict --proba" predict --proba "$DATA/pm1.csv" "$T/pm1.st"
check "proba: header is the label values" test "$(head -n 1 "$T/out")" = "-1,1"
check "proba: one row per sample" test "$(wc -l < "$T/out")" -eq 41
check "proba: rows sum to 1" awk -F, 'NR > 1 { s = $1 + $2; if (s < 0.99999 || s > 1.00001) bad = 1 } END { exit bad }' "$T/out"
# argmax of the probabilities is the predicted label
tail -n +2 "$T/out" | awk -F, '{ print ($2 > $1) ? 1 : -1 }' > "$T/argmax"
check "proba: argmax == predict" cmp -s "$T/argmax" "$T/pred-stdout"

# ---- gzip: the same bytes give the same model
runs "train CSV.gz" train $FAST "$DATA/pm1.csv.gz" "$T/pm1gz.st"
check "gzipped CSV trains the identical model" cmp -s "$T/pm1.st" "$T/pm1gz.st"

# ---- libsvm with +1/-1 labels
runs "train libsvm +1/-1" train $FAST "$DATA/pm1.svm" "$T/pm1svm.st"
runs "predict libsvm" predict "$DATA/pm1.svm" "$T/pm1svm.st"
check "libsvm predictions are -1/1" test "$(grep -Evc '^(-1|1)$' "$T/out")" -eq 0
runs "libsvm model evaluates CSV data" eval "$DATA/pm1.csv" "$T/pm1svm.st"
check "libsvm model is accurate" ge "$(eval_field accuracy)" 0.95

# ---- CSV, labels 1..3 in the last column, ';', no header
runs "train CSV label last, 1..3" train $FAST --label-column last "$DATA/three.csv" "$T/three-csv.st"
check "three classes found" grep -q '60 samples, 3 features, 3 classes (1, 2, 3)' "$T/err"
runs "eval CSV label last" eval --label-column last "$DATA/three.csv" "$T/three-csv.st"
check "eval 1..3: accuracy >= 0.9" ge "$(eval_field accuracy)" 0.9
check "eval 1..3: header 1 2 3" grep -Eq '^ +1 +2 +3$' "$T/out"
check "eval 1..3: 3 matrix rows" test "$(grep -Ec '^ *[123]( +[0-9]+){3}$' "$T/out")" -eq 3
runs "predict CSV label last" predict --label-column last "$DATA/three.csv" "$T/three-csv.st"
check "predictions in 1..3" test "$(grep -Evc '^[123]$' "$T/out")" -eq 0
runs "predict --proba 1..3" predict --proba --label-column=last "$DATA/three.csv" "$T/three-csv.st"
check "proba header 1,2,3" test "$(head -n 1 "$T/out")" = "1,2,3"

# ---- libsvm.gz 1..3, and a subset of the labels
runs "train libsvm.gz 1..3" train $FAST "$DATA/three.svm.gz" "$T/three.st"
runs "eval libsvm 1..3" eval "$DATA/three.svm" "$T/three.st"
check "eval libsvm 1..3 accurate" ge "$(eval_field accuracy)" 0.9
runs "eval data with a subset of the classes" eval "$DATA/three-subset.svm" "$T/three.st"
check "subset: still a 3x3 matrix" test "$(grep -Ec '^ *[123]( +[0-9]+){3}$' "$T/out")" -eq 3
check "subset: class 2 row is empty" grep -Eq '^ *2 +0 +0 +0$' "$T/out"
runs "explicit --format libsvm" eval --format libsvm "$DATA/three.svm" "$T/three.st"

# ---- IDX (gzipped, labels file found by name) with labels 0..2
runs "train IDX.gz" train $FAST "$DATA/tiny-images-idx3-ubyte.gz" "$T/idx.st"
check "IDX: 30 samples of 16 features" grep -q '30 samples, 16 features, 3 classes (0, 1, 2)' "$T/err"
runs "eval IDX" eval "$DATA/tiny-images-idx3-ubyte.gz" "$T/idx.st"
check "IDX accuracy 1" ge "$(eval_field accuracy)" 0.999
runs "predict IDX with --labels and --format" predict --format idx --labels "$DATA/plain-labels-idx1-ubyte" "$DATA/plain-images-idx3-ubyte" "$T/idx.st"
check "IDX predictions in 0..2" test "$(grep -Evc '^[012]$' "$T/out")" -eq 0
check "IDX predictions count" test "$(wc -l < "$T/out")" -eq 30

# ---- quiet and history
runs "train --quiet" train $FAST --quiet "$DATA/pm1.csv" "$T/q.st"
check "--quiet prints nothing" test ! -s "$T/err"
runs "train -q --history" train -q --solver adam --epochs 7 --tol 0 "$DATA/pm1.csv" "$T/h.st" --history "$T/hist.csv"
check "history header" test "$(head -n 1 "$T/hist.csv")" = "epoch,loss,accuracy,val_loss,val_accuracy,seconds,grad_max_abs"
check "history: one row per epoch" test "$(wc -l < "$T/hist.csv")" -eq 8
check "history: empty validation and gradient fields" awk -F, 'NR > 1 && ($4 != "" || $5 != "" || $7 != "" || NF != 7) { bad = 1 } END { exit bad }' "$T/hist.csv"
check "history: epochs numbered 1..7" test "$(tail -n 1 "$T/hist.csv" | cut -d, -f1)" = 7

# ---- metadata in the file: labels, feature count, training options
head -c 4096 "$T/pm1.st" > "$T/header"
for kv in '"labels":"\[-1,1\]"' '"solver":"sgd"' '"lr":"0.5"' '"max_iter":"40"' '"n_iter":"40"' '"tol":"0"' '"batch_size":"8"' \
    '"standardize":"false"' '"precision":"float32"' '"seed":"1"' '"shuffle":"true"' '"init":"zeros"'; do
    check "metadata $kv" grep -q "$kv" "$T/header"
done
check "metadata n_features" grep -Eq '"n_features":"?2' "$T/header"
check "weight tensor is F32 [2,2]" grep -Eq '"weight":\{[^}]*"dtype":"F32"' "$T/header"

done_testing
