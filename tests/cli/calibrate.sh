#!/bin/sh
# clsoftmax calibrate: measures a shape and saves the choice, --show lists
# it, --clear removes the file, bad options are usage errors; train -v
# names the path each step runs on and where the choice came from.
. "$(dirname "$0")/lib.sh"
need_device

export CLSOFTMAX_CACHE_DIR="$T/cache"
unset CLSOFTMAX_PATH CLSOFTMAX_CALIBRATE

runs "--help" calibrate --help
check "--help names the candidates" grep -q 'fused (one pass over the rows' "$T/out"
runs "--show before any calibration" calibrate --show
check "--show says nothing is saved" grep -q 'no calibration saved yet' "$T/out"

runs "calibrate a small shape" calibrate --classes 12 --features 40 --rows 300 --batch-size 32
check "the device is named" grep -q '^device: ' "$T/out"
check "the shape is echoed" grep -q '^shape: 300 rows, 40 features (real), 12 classes, float32; steps of 32 rows$' "$T/out"
check "every candidate timed" grep -Eq '^  clblast [0-9.]+ ms per step of 32 rows$' "$T/out"
check "a choice among the candidates" grep -Eq '^choice: (fused|clblast|tiled [0-9]+,[0-9]+,[0-9]+,[0-9]+,[0-9]+)$' "$T/out"
check "saved in the cache directory" grep -q "^saved in: $T/cache/calibration.json\$" "$T/out"
check "the file exists" test -s "$T/cache/calibration.json"
runs "--show after calibrating" calibrate --show
check "--show lists the shape class" grep -q '|float32|real|C<=2^4|k<=2^6|rows<=256$' "$T/out"
check "--show lists the times" grep -Eq '^     clblast +[0-9.]+ ms per step$' "$T/out"

runs "train -v with the saved choice" train -v --solver sgd --batch-size 32 --epochs 1 \
    --label-column last "$DATA/three.csv" "$T/m.st"
check "train -v names the path" grep -Eq '^clsoftmax: (fused|tiled|clblast) path for C=3 k=' "$T/err"

runs "--clear" calibrate --clear
check "--clear removed the file" test ! -e "$T/cache/calibration.json"

fails "unknown option" 2 "unknown option" calibrate --fastest
fails "bad --classes" 2 "--classes" calibrate --classes 1
fails "non-numeric --features" 2 "--features" calibrate --features many
fails "stray argument" 2 "unexpected argument" calibrate data.csv
CLSOFTMAX_PATH=quick run calibrate --classes 3 --features 4 --rows 10
check "a bad CLSOFTMAX_PATH is an error (exit $rc)" test "$rc" -eq 1
check "... naming the variable" grep -q 'CLSOFTMAX_PATH' "$T/err"

done_testing
