#!/bin/sh
# Every malformed input is "ERROR: FILE:LINE: reason" (or a byte offset for
# binary formats) and exit 1: never a crash, a hang or a silent result.
. "$(dirname "$0")/lib.sh"
need_device

D=$DATA
runs "a good model to test against" train -q --optimizer sgd --lr 0.5 --epochs 5 "$D/pm1.csv" "$T/m.st"

# ---- data files, for each of train, eval and predict
for cmd in train eval predict; do
    case $cmd in
    train) tail=$T/out.st ;;
    *) tail=$T/m.st ;;
    esac
    fails "$cmd: empty file" 1 "empty.csv:1: " $cmd "$D/empty.csv" "$tail"
    fails "$cmd: ragged row" 1 "ragged.csv:3: .*columns" $cmd "$D/ragged.csv" "$tail"
    fails "$cmd: non-numeric field" 1 "nonnumeric.csv:3: .*abc" $cmd "$D/nonnumeric.csv" "$tail"
    fails "$cmd: NaN" 1 "nan.csv:3: .*missing value 'nan'" $cmd "$D/nan.csv" "$tail"
    fails "$cmd: Inf" 1 "inf.csv:3: .*(Inf|finite)" $cmd "$D/inf.csv" "$tail"
    fails "$cmd: svmlight index 0" 1 "index0.svm:2: .*index 0" $cmd "$D/index0.svm" "$tail"
    fails "$cmd: decreasing indices" 1 "decreasing.svm:2: .*increasing" $cmd "$D/decreasing.svm" "$tail"
    fails "$cmd: IDX bad magic" 1 "badmagic-images-idx3-ubyte: byte 0: .*magic" $cmd "$D/badmagic-images-idx3-ubyte" "$tail"
    fails "$cmd: IDX truncated" 1 "truncated-images-idx3-ubyte: byte [0-9]+: .*truncated" $cmd "$D/truncated-images-idx3-ubyte" "$tail"
    fails "$cmd: IDX sizes overflow" 1 "overflow-images-idx3-ubyte: byte [0-9]+: .*overflow" $cmd "$D/overflow-images-idx3-ubyte" "$tail"
    fails "$cmd: corrupt gzip" 1 "corrupt.csv.gz(:[0-9]+)?: .*gzip" $cmd "$D/corrupt.csv.gz" "$tail"
    fails "$cmd: missing file" 1 "no-such-file.csv" $cmd "$T/no-such-file.csv" "$tail"
    check "$cmd: nothing on stdout after an error" test ! -s "$T/out"
done
check "train: no model after bad data" test ! -e "$T/out.st"
fails "train: a single class" 1 "single-class.csv: .*at least 2 classes" train "$D/single-class.csv" "$T/out.st"
cp "$D/plain-images-idx3-ubyte" "$T/alone-images-idx3-ubyte"
fails "train: IDX without a labels file" 1 "alone-images-idx3-ubyte: .*labels" train "$T/alone-images-idx3-ubyte" "$T/out.st"
fails "train: IDX on standard input asks for --labels" 1 \
    "<stdin>: standard input has no file name to find the labels file from .*--labels FILE" \
    train - "$T/out.st" < "$D/plain-images-idx3-ubyte"
runs "train: IDX on standard input with --labels" \
    train -q --labels "$D/plain-labels-idx1-ubyte" - "$T/stdin-idx.st" < "$D/plain-images-idx3-ubyte"
fails "train: IDX --labels file missing" 1 "no-such-labels" train --labels "$T/no-such-labels" "$D/plain-images-idx3-ubyte" "$T/out.st"
{ printf '\000\000\010\001\000\000\000\035'; head -c 29 /dev/zero; } > "$T/short-labels-idx1-ubyte"
fails "train: IDX labels count mismatch" 1 "short-labels-idx1-ubyte: .*(29|30)" \
    train --labels "$T/short-labels-idx1-ubyte" "$D/plain-images-idx3-ubyte" "$T/out.st"

# ---- data that does not fit the model
# a class the model never saw: its samples are errors, as in liblinear
runs "eval: label outside the model's classes" eval "$D/unknown-label.csv" "$T/m.st"
check "eval: ... counted as an error, with a warning" \
    grep -q "WARNING: .*unknown-label.csv: 1 of 3 samples have a label the model never saw (2): counted as errors" "$T/err"
check "eval: ... a row of the matrix" grep -Eq '^ *2 +[0-9]+ +[0-9]+$' "$T/out"
runs "predict ignores labels outside the classes" predict "$D/unknown-label.csv" "$T/m.st"
fails "eval: feature-count mismatch" 1 "three-features.csv: the data has 3 features but the model .*m.st has 2" \
    eval "$D/three-features.csv" "$T/m.st"
fails "predict: feature-count mismatch" 1 "three-features.csv: the data has 3 features" \
    predict "$D/three-features.csv" "$T/m.st"
# liblinear's rule: features the model never saw are ignored, with a warning
runs "predict: libsvm index above the model's features" predict "$D/big-index.svm" "$T/m.st"
check "predict: one warning for the unseen feature" grep -Eq \
    "^WARNING: .*big-index.svm: 1 non-zero in 1 feature beyond the model's 2 was ignored$" "$T/err"
check "predict: both samples predicted" test "$(wc -l < "$T/out")" -eq 2
fails "gradcheck: model/data mismatch" 1 "three-features.csv: the data has 3 features" \
    gradcheck "$D/three-features.csv" "$T/m.st"

# ---- broken model files, made from the good one
size=$(wc -c < "$T/m.st")
head -c 100 "$T/m.st" > "$T/trunc.st"
head -c $((size - 3)) "$T/m.st" > "$T/short.st"
{ cat "$T/m.st"; printf 'junk'; } > "$T/long.st"
: > "$T/empty.st"
printf 'abc' > "$T/tiny.st"
{ printf '\377\377\377\377\377\377\377\177'; tail -c +9 "$T/m.st"; } > "$T/hugelen.st"
cp "$T/m.st" "$T/notjson.st"
printf 'XXXX' | dd of="$T/notjson.st" bs=1 seek=8 conv=notrunc 2>/dev/null
# a valid JSON header with the wrong shape: weight [2,2] -> [2,3]
sed 's/"shape":\[2,2\]/"shape":\[2,3\]/' "$T/m.st" > "$T/shape.st"
# a wrong dtype of the same width
sed 's/"dtype":"F32"/"dtype":"I32"/' "$T/m.st" > "$T/dtype.st"
for bad in trunc short long empty tiny hugelen notjson shape dtype; do
    fails "model file: $bad" 1 "ERROR: .*$bad.st" eval "$D/pm1.csv" "$T/$bad.st"
done
fails "model file is a data file" 1 "ERROR: .*pm1.csv" eval "$D/pm1.csv" "$D/pm1.csv"
fails "model file is a directory" 1 "ERROR: " predict "$D/pm1.csv" "$T"
fails "--resume a broken model" 1 "ERROR: .*trunc.st" train --resume "$T/trunc.st" "$D/pm1.csv" "$T/out.st"
check "no model after a broken --resume" test ! -e "$T/out.st"

done_testing
