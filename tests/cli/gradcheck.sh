#!/bin/sh
# clsoftmax gradcheck: random data, given data, given data and model, L2,
# float32; prints the max relative error and exits 0 only within tolerance.
. "$(dirname "$0")/lib.sh"
need_device

runs "gradcheck on random data" gradcheck
check "prints the max relative error" grep -Eq '^max relative error [0-9.e+-]+ at (weight|bias)' "$T/out"
check "passes within tolerance" grep -q ': PASS$' "$T/out"
check "checks every parameter of the random problem" grep -q '^checked 56 of 56 parameters' "$T/out"
err=$(sed -n 's/^max relative error \([^ ]*\) .*/\1/p' "$T/out")
tol=$(sed -n 's/^tolerance \([^:]*\):.*/\1/p' "$T/out")
check "the error ($err) is within the tolerance ($tol)" ge "$tol" "$err"

runs "gradcheck --l2 0.3 --seed 5" gradcheck --l2 0.3 --seed 5
check "with L2: PASS" grep -q ': PASS$' "$T/out"
runs "gradcheck --float32" gradcheck --float32
check "float32 is used" grep -q 'float32' "$T/out"
check "float32: PASS" grep -q ': PASS$' "$T/out"

runs "gradcheck on a data file" gradcheck "$DATA/three.svm"
check "data file: 60 samples, 3 classes" grep -q '60 samples, 2 features, 3 classes' "$T/out"
runs "gradcheck on IDX data, sampled parameters" gradcheck --max-params 20 "$DATA/tiny-images-idx3-ubyte.gz"
check "sampled: checked 20 of 51" grep -q '^checked 20 of 51 parameters' "$T/out"
runs "train a model" train -q --optimizer sgd --lr 0.5 --epochs 5 --batch-size 8 "$DATA/pm1.csv" "$T/m.st"
runs "gradcheck on data and a trained model" gradcheck --l2 0.01 "$DATA/pm1.csv" "$T/m.st"
check "data and model: PASS" grep -q ': PASS$' "$T/out"
fails "gradcheck with a label the model lacks" 1 "sample 2 has label 2" gradcheck "$DATA/unknown-label.csv" "$T/m.st"
fails "gradcheck on bad data" 1 "nan.csv:3: " gradcheck "$DATA/nan.csv"
fails "gradcheck on data of one class" 1 "single-class.csv: .*at least 2 classes" \
    gradcheck "$DATA/single-class.csv"
fails "gradcheck: data with other features than the model's" 1 \
    "three-features.csv: the data has 3 features but the model .*m.st has 2" \
    gradcheck "$DATA/three-features.csv" "$T/m.st"
fails "gradcheck: a model that cannot be read" 1 "nope.st" gradcheck "$DATA/pm1.csv" "$T/nope.st"
# predict, eval and gradcheck start alike: the model is read before the data
for cmd in predict eval gradcheck; do
    fails "$cmd: a missing MODEL is reported before a missing DATA" 1 "nope.st: cannot open" \
        "$cmd" "$T/nope.csv" "$T/nope.st"
done
fails "gradcheck: --C and --l2 together" 2 "--C and --l2 both set the penalty" \
    gradcheck --C 1 --l2 0.1
runs "train a float64 model" train -q --double "$DATA/pm1.csv" "$T/m64.st"
runs "gradcheck --float32 on a float64 model (converted)" gradcheck --float32 "$DATA/pm1.csv" "$T/m64.st"
check "converted: checked in float32" grep -q '^gradcheck: 40 samples, 2 features, 2 classes, float32' "$T/out"
check "converted: PASS" grep -q ': PASS$' "$T/out"

done_testing
