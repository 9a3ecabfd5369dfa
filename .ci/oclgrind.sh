#!/usr/bin/env bash
# CI step (c): short training runs of every path under Oclgrind, the OpenCL
# simulator, with its bounds checks (always on), its data-race detector
# (--data-races) and its API checks (--check-api). Any Oclgrind diagnostic
# fails the step.
#
# Each run writes Oclgrind's messages to its own log (--log), apart from the
# tool's own progress lines; a non-empty log is a failure, and the log is
# printed. Oclgrind is slow (it interprets every work-item), so the data are
# small but of odd sizes that cross the kernels' block and tile edges:
# 300 x 13 with 5 classes and 700 x 70 with 11 (generated here), the 30
# 8-bit images of tests/data/cli (the 8-bit input kernels), and its
# 150 x 300 sparse libsvm file (the CSR kernels). --uninitialized is not
# used: Oclgrind 21.10 crashes with it on the fused kernel.
#
# Needs: oclgrind (apt-get install oclgrind) and a built tree (the step
# builds it when it is not). Run locally: bash .ci/oclgrind.sh (CSM_KEEP=1
# keeps the logs in /tmp/csm-oclgrind.*).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ci_step "Oclgrind: every path under the simulator's race, bounds and API checks"
cd "$ROOT"

command -v oclgrind >/dev/null || { echo "oclgrind not found: apt-get install oclgrind" >&2; exit 1; }
oclgrind --version | sed -n 1,2p
if [ ! -x src/cli/clsoftmax ]; then
    [ -f config.status ] || { autoreconf -fi && ./configure --enable-werror; }
    make -j"$(nproc)"
fi
BIN=$ROOT/src/cli/clsoftmax
DATA=$ROOT/tests/data/cli

W=$(mktemp -d "${TMPDIR:-/tmp}/csm-oclgrind.XXXXXX")
trap 'rc=$?; [ -n "${CSM_KEEP:-}" ] || rm -rf "$W"; ci_step_end $rc' EXIT
export CLSOFTMAX_KERNEL_DIR=$ROOT/kernels
export CLSOFTMAX_CACHE_DIR=$W/calibration
# The oclgrind command preloads its OpenCL library, so the simulator is the
# only platform the tool sees; the selector makes sure of it.
export CLSOFTMAX_DEVICE=oclgrind

# gen ROWS FEATURES CLASSES: a CSV, label first, classes in turn; each
# feature leans towards one class so that training makes progress.
gen() {
    awk -v n="$1" -v k="$2" -v C="$3" 'BEGIN { srand(7); for (i = 0; i < n; i++) {
        c = i % C; line = c
        for (j = 0; j < k; j++) line = line "," sprintf("%.4f", rand() * 2 - 1 + (j % C == c))
        print line } }'
}
# Odd sizes, multiples of no tile or block: 300 x 13 with 5 classes, and
# 700 x 70 with 11 classes (past the 64-row blocks and 64-feature chunks).
gen 300 13 5 > "$W/odd.csv"
gen 700 70 11 > "$W/wide.csv"

# The checker must see a known error, or a silent Oclgrind (one that no
# longer intercepts the OpenCL calls) would pass everything: an
# out-of-bounds write and a local-memory race in a two-line kernel.
cc -o "$W/canary" "$ROOT/.ci/oclgrind-canary.c" -lOpenCL
oclgrind --data-races --check-api --log "$W/canary.log" "$W/canary" >/dev/null
grep -q 'Invalid write' "$W/canary.log" || { cat "$W/canary.log"; echo "Oclgrind missed the canary's out-of-bounds write" >&2; exit 1; }
grep -q 'data race' "$W/canary.log" || { cat "$W/canary.log"; echo "Oclgrind missed the canary's data race" >&2; exit 1; }
echo "canary: Oclgrind reports the known out-of-bounds write and data race"

runs=0
failed=0
# ogrun NAME PATH ARGS...: clsoftmax ARGS under Oclgrind, CLSOFTMAX_PATH=PATH
# (empty: the path is the data's own, e.g. sparse).
ogrun() {
    local name=$1 path=$2 want=$2
    shift 2
    [ -n "$want" ] || want=sparse
    local log="$W/$name.oclgrind" out="$W/$name.out" t0=$SECONDS rc=0
    runs=$((runs + 1))
    CLSOFTMAX_PATH=$path oclgrind --data-races --check-api --log "$log" \
        "$BIN" "$@" >"$out" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "FAIL $name: clsoftmax exited $rc: clsoftmax $*"
        sed 's/^/    /' "$out"
        failed=$((failed + 1))
    elif [ -s "$log" ]; then
        echo "FAIL $name: Oclgrind diagnostics (clsoftmax $*):"
        sed -n '1,60s/^/    /p' "$log"
        failed=$((failed + 1))
    elif [ "$1" = train ] && ! grep -Eq "$want path( \([^)]*\))? for .* on Oclgrind" "$out"; then
        echo "FAIL $name: the run did not report the $want path on the Oclgrind device"
        sed 's/^/    /' "$out"
        failed=$((failed + 1))
    else
        echo "ok   $name ($((SECONDS - t0)) s): clsoftmax $*"
    fi
}

for p in clblast fused tiled; do
    # float32 minibatch SGD on shuffled rows (gather, update), a validation
    # split (evaluate), then predict and eval with the model
    ogrun "$p-sgd" "$p" train -v -v --solver sgd --batch-size 32 --epochs 2 --tol 0 \
        --validation-split 0.2 --label-column 0 "$W/odd.csv" "$W/$p.st"
    ogrun "$p-predict" "$p" predict --proba --label-column 0 "$W/odd.csv" "$W/$p.st"
    ogrun "$p-eval" "$p" eval --label-column 0 "$W/odd.csv" "$W/$p.st"
    # float64 L-BFGS (full-batch loss and gradient, the vector kernels)
    ogrun "$p-lbfgs-f64" "$p" train -v -v --double --max-iter 2 --tol 0 \
        --label-column 0 "$W/odd.csv" "$W/$p-64.st"
    # 8-bit input, Adam, sample weights from balanced class weights
    # several row blocks and split-K chunks on the wider data
    CLSOFTMAX_BLOCK_ROWS=256 CLSOFTMAX_SPLIT_K=3 ogrun "$p-wide" "$p" train -v -v \
        --solver sgd --batch-size 100 --epochs 1 --tol 0 --label-column 0 "$W/wide.csv" "$W/$p-w.st"
    ogrun "$p-adam-u8" "$p" train -v -v --solver adam --batch-size 8 --epochs 1 --tol 0 \
        --class-weight balanced "$DATA/tiny-images-idx3-ubyte.gz" "$W/$p-u8.st"
    # Newton's Hessian-vector products and CG updates; OWL-QN's pseudo-gradient
    # and orthant projections (an elastic-net penalty)
    ogrun "$p-newton-f64" "$p" train -v -v --double --solver newton --max-iter 2 --tol 0 \
        --label-column 0 "$W/odd.csv" "$W/$p-nt.st"
    ogrun "$p-owlqn" "$p" train -v -v --l1-ratio 0.5 --max-iter 3 --tol 0 \
        --label-column 0 "$W/odd.csv" "$W/$p-l1.st"
done
# The tiled gradient's rows in chunks (the 700 rows in one block: two
# chunks of whole 64-row panels) taken as tasks from an atomic counter,
# their partials summed afterwards, in float64 and float32
ogrun tiled-chunks-f64 tiled train -v -v --double --max-iter 2 --tol 0 \
    --label-column 0 "$W/wide.csv" "$W/tiled-ch64.st"
ogrun tiled-chunks tiled train -v -v --solver sgd --batch-size 0 --epochs 2 --tol 0 \
    --label-column 0 "$W/wide.csv" "$W/tiled-ch.st"
# A minibatch step applies the update in the tiled gradient's launch and
# writes W^T for the next step: momentum in float64, no intercept (SGD and
# Adam ran above)
ogrun tiled-momentum-f64 tiled train -v -v --double --solver momentum --no-intercept \
    --batch-size 32 --epochs 2 --tol 0 --label-column 0 "$W/wide.csv" "$W/tiled-mo.st"
# Newton on 8-bit rows: the Hessian diagonal's dense_sq_grad reading bytes
ogrun tiled-newton-u8 tiled train -v -v --solver newton --max-iter 2 --tol 0 \
    "$DATA/tiny-images-idx3-ubyte.gz" "$W/nt-u8.st"
# The sparse (CSR) path, float32 and float64, and its evaluation.
ogrun sparse-sgd "" train -v -v --sparse --solver sgd --batch-size 16 --epochs 2 --tol 0 \
    "$DATA/sparse.svm" "$W/sparse.st"
ogrun sparse-lbfgs-f64 "" train -v -v --sparse --double --max-iter 2 --tol 0 \
    "$DATA/sparse.svm" "$W/sparse-64.st"
ogrun sparse-newton-f64 "" train -v -v --sparse --double --solver newton --max-iter 2 --tol 0 \
    "$DATA/sparse.svm" "$W/sparse-nt.st"
ogrun sparse-eval "" eval --sparse "$DATA/sparse.svm" "$W/sparse.st"

echo "Oclgrind: $((runs - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
