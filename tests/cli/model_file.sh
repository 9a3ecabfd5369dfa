#!/bin/sh
# The model file is a safetensors file any reader can use: an independent
# reader (tests/st_check.c, which parses the bytes itself rather than
# through the library's loader) checks tensors and metadata and recomputes
# softmax(x W^T + b) on raw features: the argmax and probabilities must
# match `clsoftmax predict`.
. "$(dirname "$0")/lib.sh"
need_device

# tests/st_check.c: the independent reader (built by make check)
CHECKER="${CSM_BUILDDIR:-.}/tests/st_check"

# check NAME MODEL DATA FORMAT LABELCOL [predict options...]
verify() {
    name=$1 model=$2 data=$3 fmt=$4 lc=$5
    shift 5
    "$BIN" predict "$@" "$data" "$model" "$T/pred.txt" 2>"$T/err" &&
        "$BIN" predict --proba "$@" "$data" "$model" "$T/proba.csv" 2>>"$T/err"
    rc=$?
    if [ "$rc" -ne 0 ]; then
        fail "$name" "predict exit $rc"
    elif "$CHECKER" "$model" "$data" "$fmt" "$lc" "$T/pred.txt" "$T/proba.csv" >"$T/chk.out" 2>&1; then
        pass "$name ($(cat "$T/chk.out"))"
    else
        fail "$name" "$(tail -n 3 "$T/chk.out")"
    fi
}

SGD="--optimizer sgd --lr 0.5 --batch-size 8"
runs "train -1/+1" train -q $SGD --epochs 10 "$DATA/pm1.csv" "$T/pm1.st"
verify "independent reader reproduces predict (-1/+1, F32)" "$T/pm1.st" "$DATA/pm1.csv" csv 0
runs "train 1..3 libsvm" train -q $SGD --epochs 10 "$DATA/three.svm" "$T/three.st"
verify "independent reader reproduces predict (1..3, libsvm)" "$T/three.st" "$DATA/three.svm" svm 0
runs "train --standardize" train -q $SGD --epochs 10 --standardize --label-column last "$DATA/three.csv" "$T/std.st"
verify "standardized model works on raw features" "$T/std.st" "$DATA/three.csv" csv last --label-column last
runs "train lbfgs (the default)" train -q "$DATA/three.svm" "$T/lbfgs.st"
verify "independent reader reproduces predict (lbfgs)" "$T/lbfgs.st" "$DATA/three.svm" svm 0
# Adam's moments travel in the file as extra tensors: readers that want
# weight and bias only must still work, and the state must be well formed
runs "train adam" train -q --solver adam --epochs 3 --batch-size 8 "$DATA/pm1.csv" "$T/adam.st"
verify "independent reader reproduces predict (adam state in the file)" "$T/adam.st" "$DATA/pm1.csv" csv 0
runs "train momentum" train -q --solver momentum --epochs 3 --batch-size 8 "$DATA/pm1.csv" "$T/mom.st"
verify "independent reader reproduces predict (momentum state in the file)" "$T/mom.st" "$DATA/pm1.csv" csv 0
if has_fp64; then
    runs "train --double" train -q $SGD --epochs 10 --double "$DATA/pm1.csv" "$T/d.st"
    verify "independent reader reproduces predict (F64)" "$T/d.st" "$DATA/pm1.csv" csv 0
fi

# the model round-trips through resume unchanged when no epoch changes it:
# (re-saving a loaded model keeps tensors and labels)
runs "resume with a zero learning-rate effect" train -q --optimizer sgd --lr 1e-300 --epochs 1 \
    --resume "$T/pm1.st" "$DATA/pm1.csv" "$T/again.st"
run predict --proba "$DATA/pm1.csv" "$T/pm1.st"
cp "$T/out" "$T/p1"
run predict --proba "$DATA/pm1.csv" "$T/again.st"
check "a resumed and re-saved model predicts the same" cmp -s "$T/p1" "$T/out"

done_testing
