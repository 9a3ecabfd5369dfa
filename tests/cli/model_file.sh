#!/bin/sh
# The model file is a safetensors file any reader can use: an independent
# reader (Python's standard library, no torch needed) parses it, checks
# tensors and metadata, and recomputes softmax(x W^T + b) on raw features:
# the argmax and probabilities must match `clsoftmax predict`.
. "$(dirname "$0")/lib.sh"
need_device

PY=
for p in python3 python; do
    if command -v $p >/dev/null 2>&1 && $p -c 'import json, struct, math' 2>/dev/null; then
        PY=$p
        break
    fi
done

cat > "$T/check.py" <<'PYEOF'
import json, math, struct, sys

model, data, fmt, labelcol, pred, proba = sys.argv[1:7]
raw = open(model, "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
assert 8 + n <= len(raw), "header length past the end"
header = json.loads(raw[8:8 + n].decode("utf-8"))
meta = header.pop("__metadata__")
assert set(header) == {"weight", "bias"}, header.keys()
w, b = header["weight"], header["bias"]
C, k = w["shape"]
assert b["shape"] == [C], b
assert w["dtype"] == b["dtype"] and w["dtype"] in ("F32", "F64"), w
size = 4 if w["dtype"] == "F32" else 8
ends = sorted([tuple(w["data_offsets"]), tuple(b["data_offsets"])])
assert ends[0][0] == 0 and ends[0][1] == ends[1][0] and 8 + n + ends[1][1] == len(raw), ends
base = 8 + n
def tensor(t, count):
    s, e = t["data_offsets"]
    assert e - s == count * size
    return struct.unpack("<%d%s" % (count, "f" if size == 4 else "d"), raw[base + s:base + e])
W = tensor(w, C * k)
B = tensor(b, C)
labels = json.loads(meta["labels"])
assert len(labels) == C and labels == sorted(labels), labels
assert int(meta["n_features"]) == k, meta
for key in ("epochs", "lr", "batch_size", "l2", "optimizer", "momentum", "seed", "shuffle",
            "standardize", "precision"):
    assert key in meta, key

rows = []
for line in open(data):
    line = line.split("#")[0].strip()
    if not line:
        continue
    if fmt == "csv":
        f = line.replace(";", ",").split(",")
        try:
            vals = [float(v) for v in f]
        except ValueError:
            continue  # header
        lc = len(vals) - 1 if labelcol == "last" else int(labelcol)
        rows.append(vals[:lc] + vals[lc + 1:])
    else:
        x = [0.0] * k
        for tok in line.split()[1:]:
            i, v = tok.split(":")
            x[int(i) - 1] = float(v)
        rows.append(x)

preds = [l.strip() for l in open(pred)]
plines = [l.strip() for l in open(proba)]
assert plines[0] == ",".join(str(l) for l in labels), plines[0]
assert len(preds) == len(rows) and len(plines) == len(rows) + 1
worst = 0.0
for i, x in enumerate(rows):
    assert len(x) == k
    s = [sum(W[c * k + j] * x[j] for j in range(k)) + B[c] for c in range(C)]
    m = max(s)
    e = [math.exp(v - m) for v in s]
    z = sum(e)
    p = [v / z for v in e]
    best = max(range(C), key=lambda c: (p[c], -c))
    got = [float(v) for v in plines[i + 1].split(",")]
    worst = max(worst, max(abs(a - g) for a, g in zip(p, got)))
    # the argmax must agree unless two classes are within rounding
    top = sorted(p)[-2:]
    if top[1] - top[0] > 1e-5:
        assert str(labels[best]) == preds[i], (i, labels[best], preds[i], p)
assert worst < 1e-5, worst
print("ok: C=%d k=%d %s, %d samples, max |dp| %.2e" % (C, k, w["dtype"], len(rows), worst))
PYEOF

# check NAME MODEL DATA FORMAT LABELCOL [predict options...]
verify() {
    name=$1 model=$2 data=$3 fmt=$4 lc=$5
    shift 5
    "$BIN" predict "$@" "$data" "$model" "$T/pred.txt" 2>"$T/err" &&
        "$BIN" predict --proba "$@" "$data" "$model" "$T/proba.csv" 2>>"$T/err"
    rc=$?
    if [ "$rc" -ne 0 ]; then
        fail "$name" "predict exit $rc"
    elif [ -z "$PY" ]; then
        pass "$name # SKIP no python3"
    elif $PY "$T/check.py" "$model" "$data" "$fmt" "$lc" "$T/pred.txt" "$T/proba.csv" >"$T/py.out" 2>&1; then
        pass "$name ($(cat "$T/py.out"))"
    else
        fail "$name" "$(tail -n 3 "$T/py.out")"
    fi
}

SGD="--optimizer sgd --lr 0.5 --batch-size 8"
runs "train -1/+1" train -q $SGD --epochs 10 "$DATA/pm1.csv" "$T/pm1.st"
verify "independent reader reproduces predict (-1/+1, F32)" "$T/pm1.st" "$DATA/pm1.csv" csv 0
runs "train 1..3 libsvm" train -q $SGD --epochs 10 "$DATA/three.svm" "$T/three.st"
verify "independent reader reproduces predict (1..3, libsvm)" "$T/three.st" "$DATA/three.svm" svm 0
runs "train --standardize" train -q $SGD --epochs 10 --standardize --label-column last "$DATA/three.csv" "$T/std.st"
verify "standardized model works on raw features" "$T/std.st" "$DATA/three.csv" csv last --label-column last
run devices
if grep -A2 '^\*' "$T/out" | grep -q 'fp64 yes'; then
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
