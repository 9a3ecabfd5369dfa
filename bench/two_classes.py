#!/usr/bin/env python3
"""Two classes: what the two-row softmax model costs against the one-row
(sigmoid) model scikit-learn fits, to decide how C means scikit-learn's C
for two classes (README, "C for two classes"). See BENCHMARKS.md.

    PYTHONPATH=python CLSOFTMAX_LIBRARY=src/.libs/libclsoftmax.so \
    CLSOFTMAX_KERNEL_DIR=kernels /usr/bin/python3 bench/two_classes.py \
        [--fashion DIR] [--repeat N]

Per data set:
  pass ms    the time of one loss-and-gradient evaluation of L-BFGS (the
             data pass: forward, softmax, gradient, plus the fixed cost of an
             iteration), from the library's per-iteration times and
             evaluation counts over fits of 60 iterations (tol 0), for models
             of 2, 3, 4 and 6 rows on the same rows (labels drawn at random
             for more than 2); the least of --repeat fits, the one the
             machine's other load disturbed least. A least-squares line
             a + b R through them gives the cost of one row, b, and of a
             one-row model, a + b.
  fit        a whole fit at C = 1, tol 1e-4 (the defaults): seconds (least
             of --repeat), iterations and evaluations.
The first fit of every shape is not timed (it builds the kernels).
Iterations need no comparison: from zero weights every gradient of the
two-row problem lies in the subspace W1 = -W0, where it is the one-vector
problem in other coordinates, so L-BFGS takes the same steps there.
"""
import argparse
import gzip
import os
import struct
import time

import numpy as np
from sklearn.datasets import load_breast_cancer, load_svmlight_file
from sklearn.preprocessing import StandardScaler

from clsoftmax import SoftmaxRegression


def idx(path):
    with gzip.open(path, "rb") as f:
        magic, = struct.unpack(">I", f.read(4))
        dims = struct.unpack(">" + "I" * (magic & 0xFF), f.read(4 * (magic & 0xFF)))
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(dims)


def per_eval_ms(X, y, dtype, repeat):
    est = SoftmaxRegression(tol=0, max_iter=60, dtype=dtype)
    est.fit(X, y)  # kernels
    out = []
    for _ in range(repeat):
        est.fit(X, y)
        h = est.history_
        out.append(1000 * h["seconds"].sum() / h["evaluations"].sum())
    return min(out)


def bench(name, X, y, dtype, repeat):
    rng = np.random.RandomState(0)
    rows = (2, 3, 4, 6)
    ms = []
    for R in rows:
        yR = y if R == 2 else rng.randint(0, R, size=len(y))
        ms.append(per_eval_ms(X, yR, dtype, repeat))
    b, a = np.polyfit(rows, ms, 1)
    one = a + b
    ours = SoftmaxRegression(dtype=dtype)
    ours.fit(X, y)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        ours.fit(X, y)
        times.append(time.perf_counter() - t)
    print("| %s | %d x %d | %s | %s | %.3f + %.3f R | %.3f (%.0f%% less) | %.3f | %d (%d evals) |"
          % (name, X.shape[0], X.shape[1], dtype, " / ".join("%.3f" % v for v in ms),
             a, b, one, 100 * (a + 2 * b - one) / (a + 2 * b), min(times),
             ours.n_iter_[0], ours.history_["evaluations"].sum()), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fashion", help="directory of the Fashion-MNIST IDX .gz files")
    ap.add_argument("--heart", default="/usr/share/doc/liblinear-tools/examples/heart_scale")
    ap.add_argument("--repeat", type=int, default=7)
    a = ap.parse_args()
    print("| data | n x k | dtype | pass ms at 2 / 3 / 4 / 6 rows | line a + b R (ms) | "
          "one row (ms) | fit s (2 rows) | iterations |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    if os.path.exists(a.heart):
        X, y = load_svmlight_file(a.heart, n_features=13)
        bench("heart_scale", X.toarray(), y.astype(int), "float64", a.repeat)
    X, y = load_breast_cancer(return_X_y=True)
    bench("breast cancer (standardised)", StandardScaler().fit_transform(X), y, "float64",
          a.repeat)
    if a.fashion:
        X = idx(os.path.join(a.fashion, "train-images-idx3-ubyte.gz")).reshape(60000, -1)
        y = idx(os.path.join(a.fashion, "train-labels-idx1-ubyte.gz")).astype(int)
        keep = (y == 0) | (y == 6)  # T-shirt/top against shirt: the hardest pair
        Xb, yb = X[keep] / 255.0, (y[keep] == 6).astype(int)
        bench("Fashion-MNIST T-shirt/shirt", Xb, yb, "float32", a.repeat)
        bench("Fashion-MNIST T-shirt/shirt", Xb, yb, "float64", a.repeat)


if __name__ == "__main__":
    main()
