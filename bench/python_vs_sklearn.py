#!/usr/bin/env python3
"""clsoftmax.SoftmaxRegression next to sklearn.linear_model.LogisticRegression
on the same data: fit time, test accuracy and the training objective
(scikit-learn's, divided by n: J incl. L2). See BENCHMARKS.md.

    PYTHONPATH=python CLSOFTMAX_LIBRARY=src/.libs/libclsoftmax.so \
    CLSOFTMAX_KERNEL_DIR=kernels /usr/bin/python3 bench/python_vs_sklearn.py \
        [--fashion DIR] [--repeat N]

digits: scikit-learn's, pixels / 16, stratified 70/30 split (random_state 0).
Fashion-MNIST (--fashion DIR with the four IDX .gz files): the 60000 / 10000
split, pixels / 255. Both estimators: C = 1, max_iter = 1000, their default
tol (they apply it differently: README, Training to the optimum). A first
one-iteration fit of each clsoftmax configuration is run and not timed: it
builds the kernels (POCL caches them on disk for later processes). Times are
the median of --repeat fits.
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


def run(name, est, Xtr, ytr, Xte, yte, repeat, warm_up):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if warm_up:  # builds the kernels; one iteration is enough
            est.set_params(max_iter=1).fit(Xtr, ytr)
            est.set_params(max_iter=1000)
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            est.fit(Xtr, ytr)
            times.append(time.perf_counter() - t)
    acc = np.mean(est.predict(Xte) == yte)
    J = objective(est.coef_, est.intercept_, Xtr, ytr, est.C)
    print("| %-44s | %8.3f | %6d | %.4f | %.9f |"
          % (name, statistics.median(times), int(np.max(est.n_iter_)), acc, J), flush=True)


def bench(title, Xtr, ytr, Xte, yte, repeat):
    print("\n%s: %d x %d train, %d test" % (title, Xtr.shape[0], Xtr.shape[1], Xte.shape[0]))
    print("| estimator | fit s | iter | test acc. | J (train) |")
    print("| --- | --- | --- | --- | --- |")
    run("SoftmaxRegression() (float64)", SoftmaxRegression(), Xtr, ytr, Xte, yte, repeat, True)
    run("SoftmaxRegression(dtype='float32')", SoftmaxRegression(dtype="float32"),
        Xtr.astype(np.float32), ytr, Xte.astype(np.float32), yte, repeat, True)
    run("LogisticRegression(max_iter=1000)", LogisticRegression(max_iter=1000),
        Xtr, ytr, Xte, yte, repeat, False)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fashion", help="directory of the Fashion-MNIST IDX .gz files")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X / 16.0, y, test_size=0.3, stratify=y, random_state=0)
    bench("digits", Xtr, ytr, Xte, yte, a.repeat)
    if a.fashion:
        d = a.fashion
        Xtr = idx(os.path.join(d, "train-images-idx3-ubyte.gz")).reshape(60000, -1) / 255.0
        ytr = idx(os.path.join(d, "train-labels-idx1-ubyte.gz")).astype(np.int64)
        Xte = idx(os.path.join(d, "t10k-images-idx3-ubyte.gz")).reshape(10000, -1) / 255.0
        yte = idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
        bench("Fashion-MNIST", Xtr, ytr, Xte, yte, a.repeat)


if __name__ == "__main__":
    main()
