#!/usr/bin/env python3
"""clsoftmax.SoftmaxRegression next to sklearn.linear_model.LogisticRegression
on the same data: fit time, test accuracy and the training objective
(scikit-learn's, divided by n: J incl. L2), at dtype float32, float64 and
the default "auto"; and a GridSearchCV over feature selection and C. See
BENCHMARKS.md.

    PYTHONPATH=python CLSOFTMAX_LIBRARY=src/.libs/libclsoftmax.so \
    CLSOFTMAX_KERNEL_DIR=kernels /usr/bin/python3 bench/python_vs_sklearn.py \
        [--fashion DIR] [--fashion-rows N] [--repeat N] [--grid-only | --no-grid]

digits: scikit-learn's, pixels / 16, stratified 70/30 split (random_state 0).
Fashion-MNIST (--fashion DIR with the four IDX .gz files): the first
--fashion-rows (default all 60000) training images / 255, tested on the
10000 test images. Both estimators: C = 1, max_iter = 1000, their default
tol (they apply it differently: README, Training to the optimum). A first
one-iteration fit of each clsoftmax configuration is run and not timed: it
builds the kernels (POCL caches them on disk for later processes). Times are
the median of --repeat fits, the estimators taking turns.

GridSearchCV: Pipeline(SelectKBest(f_classif, k), estimator) on digits
(pixels / 16), k in {16, 32, 48} x C in {0.1, 1, 10}, 3 folds (27 fits and
a refit of the best), each estimator's default tol and ours at 1e-6, the
estimators taking turns; the search's wall time
twice in this process (the first run builds the kernels of each feature
count, the second finds them built), its best score and parameters.
"""
import argparse
import gzip
import os
import statistics
import struct
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from clsoftmax import SoftmaxRegression


def idx(path):
    with gzip.open(path, "rb") as f:
        magic, = struct.unpack(">I", f.read(4))
        dims = struct.unpack(">" + "I" * (magic & 0xFF), f.read(4 * (magic & 0xFF)))
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(dims)


def objective(W, b, X, y, C):
    S = X @ W.T + b
    m = S.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(S - m).sum(axis=1))
    return np.mean(lse - S[np.arange(len(y)), y]) + 0.5 / (C * len(y)) * (W * W).sum()


def bench(title, Xtr, ytr, Xte, yte, repeat):
    print("\n%s: %d x %d train, %d test" % (title, Xtr.shape[0], Xtr.shape[1], Xte.shape[0]))
    print("| estimator | fit s | iter | test acc. | J (train) |")
    print("| --- | --- | --- | --- | --- |")
    auto = SoftmaxRegression()
    auto_dtype = "float32" if auto._precision_for_fit(auto.tol, Xtr.size) == 0 else "float64"
    runs = [("SoftmaxRegression(dtype='float32')", SoftmaxRegression(dtype="float32")),
            ("SoftmaxRegression(dtype='float64')", SoftmaxRegression(dtype="float64")),
            ("SoftmaxRegression() (auto: %s)" % auto_dtype, auto),
            ("LogisticRegression(max_iter=1000)", LogisticRegression(max_iter=1000))]
    times = {name: [] for name, _ in runs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: reported in the table
        for name, est in runs:
            if isinstance(est, SoftmaxRegression):  # builds the kernels
                est.set_params(max_iter=1).fit(Xtr, ytr)
                est.set_params(max_iter=1000)
        for _ in range(repeat):  # A/B/C/D in turn, so load changes hit all alike
            for name, est in runs:
                t = time.perf_counter()
                est.fit(Xtr, ytr)
                times[name].append(time.perf_counter() - t)
    for name, est in runs:
        acc = np.mean(est.predict(Xte) == yte)
        J = objective(est.coef_, est.intercept_, Xtr, ytr, est.C)
        print("| %-44s | %8.3f | %6d | %.4f | %.9f |"
              % (name, statistics.median(times[name]), int(np.max(est.n_iter_)), acc, J),
              flush=True)


def grid(repeat):
    from sklearn.feature_selection import SelectKBest, f_classif
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    params = {"select__k": [16, 32, 48], "est__C": [0.1, 1.0, 10.0]}
    print("\nGridSearchCV(Pipeline(SelectKBest(k), estimator)) on digits (%d x %d), "
          "k in %s, C in %s, cv=3" % (X.shape + (params["select__k"], params["est__C"])))
    print("| estimator | first search s | next searches s (median) | best score | best parameters |")
    print("| --- | --- | --- | --- | --- |")
    # tol=1e-6: where our stopping rule (max |gradient of the mean| <= tol)
    # gives scikit-learn's cross-validation scores, to the digit
    runs = [("SoftmaxRegression()", SoftmaxRegression()),
            ("SoftmaxRegression(tol=1e-6)", SoftmaxRegression(tol=1e-6)),
            ("LogisticRegression(max_iter=1000)", LogisticRegression(max_iter=1000))]
    times = {name: [] for name, _ in runs}
    found = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # f_classif: digits' constant pixels
        for _ in range(1 + repeat):  # the two in turn
            for name, est in runs:
                pipe = Pipeline([("select", SelectKBest(f_classif)), ("est", est)])
                t = time.perf_counter()
                found[name] = GridSearchCV(pipe, params, cv=3).fit(X, y)
                times[name].append(time.perf_counter() - t)
    for name, _ in runs:
        t, search = times[name], found[name]
        print("| %s | %.2f | %.2f | %.4f | %s |" % (name, t[0], statistics.median(t[1:]),
                                                    search.best_score_, search.best_params_),
              flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fashion", help="directory of the Fashion-MNIST IDX .gz files")
    ap.add_argument("--fashion-rows", type=int, default=60000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--grid-only", action="store_true", help="only the GridSearchCV timing")
    ap.add_argument("--no-grid", action="store_true", help="no GridSearchCV timing")
    a = ap.parse_args()
    if not a.no_grid:
        grid(a.repeat)
    if a.grid_only:
        return
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X / 16.0, y, test_size=0.3, stratify=y, random_state=0)
    bench("digits", Xtr, ytr, Xte, yte, a.repeat)
    if a.fashion:
        d = a.fashion
        rows = a.fashion_rows
        Xtr = idx(os.path.join(d, "train-images-idx3-ubyte.gz")).reshape(60000, -1)[:rows] / 255.0
        ytr = idx(os.path.join(d, "train-labels-idx1-ubyte.gz")).astype(np.int64)[:rows]
        Xte = idx(os.path.join(d, "t10k-images-idx3-ubyte.gz")).reshape(10000, -1) / 255.0
        yte = idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
        bench("Fashion-MNIST", Xtr, ytr, Xte, yte, a.repeat)


if __name__ == "__main__":
    main()
