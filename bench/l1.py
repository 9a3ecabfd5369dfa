#!/usr/bin/env python3
"""L1 and elastic net: clsoftmax's OWL-QN against scikit-learn's saga (the
only scikit-learn solver of the multinomial elastic net), the same
objective, in the same run. See BENCHMARKS.md, "L1 and elastic net".

    PYTHONPATH=python CLSOFTMAX_LIBRARY=src/.libs/libclsoftmax.so \
    CLSOFTMAX_KERNEL_DIR=kernels /usr/bin/python3 bench/l1.py [--repeat N] \
        [--saga-tols T ...] [--tols T ...]

Data: tests/data/sklearn's standardised wine (178 x 13, 3 classes) and
digits (1797 x 64, 10), C = 1, l1_ratio 1 and 0.5. Per fit: seconds (the
least of --repeat in-process fits: SoftmaxRegression(dtype="float64") and
LogisticRegression(penalty="elasticnet", solver="saga",
multi_class="multinomial", random_state=0)), J = mean l_i + (r ||W||_1 +
(1 - r)/2 ||W||^2) / (C n) at the weights, J's excess over the fixture's
saga optimum at tol 1e-10 (l1-optima.txt), and the weights exactly 0.
clsoftmax's first fit of a shape builds its kernels and is not timed.
"""
import argparse
import os
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from clsoftmax import SoftmaxRegression

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data",
                    "sklearn")


def objective(W, b, X, y, r, C=1.0):
    S = X @ W.T + b
    S = S - S.max(axis=1, keepdims=True)
    loss = np.log(np.exp(S).sum(axis=1)) - S[np.arange(len(y)), y]
    return loss.mean() + (r * np.abs(W).sum() + (1 - r) / 2 * (W ** 2).sum()) / (C * len(y))


def optima():
    out = {}
    with open(os.path.join(HERE, "l1-optima.txt")) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                v = line.split()
                out[v[0]] = float(v[7])
    return out


def timed(make, X, y, repeat):
    best, est = None, None
    for _ in range(repeat):
        est = make()
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)
        s = time.perf_counter() - t
        best = s if best is None else min(best, s)
    return best, est


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--saga-tols", type=float, nargs="+", default=[1e-4, 1e-6])
    ap.add_argument("--tols", type=float, nargs="+", default=[1e-4, 1e-6, 1e-8],
                    help="clsoftmax's")
    a = ap.parse_args()
    J_opt = optima()
    print("| data | r | solver | tol | seconds | J | J / J_saga(1e-10) - 1 | zeros |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in ("wine", "digits"):
        data = np.loadtxt(os.path.join(HERE, name + ".csv"), delimiter=",", skiprows=1)
        X, y = data[:, 1:], data[:, 0].astype(np.int64)
        SoftmaxRegression(l1_ratio=0.5, dtype="float64", max_iter=2).fit(X, y)  # kernels
        for r in (1.0, 0.5):
            ref = J_opt.get("%s-l1_%g" % (name, r))
            if ref is None:  # no fixture (digits at 0.5: make-l1-fixtures.py)
                continue
            runs = []
            for tol in a.saga_tols:
                runs.append(("saga", tol, lambda tol=tol, r=r: LogisticRegression(
                    penalty="elasticnet", l1_ratio=r, solver="saga", multi_class="multinomial",
                    tol=tol, max_iter=100000, random_state=0)))
            for tol in a.tols:
                runs.append(("clsoftmax", tol, lambda tol=tol, r=r: SoftmaxRegression(
                    l1_ratio=r, tol=tol, dtype="float64", max_iter=100000)))
            for solver, tol, make in runs:
                s, est = timed(make, X, y, a.repeat)
                J = objective(est.coef_, est.intercept_, X, y, r)
                print("| %s | %g | %s | %g | %.3f | %.12f | %.1e | %d |"
                      % (name, r, solver, tol, s, J, J / ref - 1, int((est.coef_ == 0).sum())),
                      flush=True)


if __name__ == "__main__":
    main()
