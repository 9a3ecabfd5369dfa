#!/usr/bin/env python3
"""Cross-validated choice of C on digits: clsoftmax.SoftmaxRegressionCV next
to sklearn.linear_model.LogisticRegressionCV, and `clsoftmax cv` next to
`liblinear-train -s 0 -v 5` (each C of the grid, and -C, its own warm-started
search). See BENCHMARKS.md.

    PYTHONPATH=python CLSOFTMAX_LIBRARY=src/.libs/libclsoftmax.so \
    CLSOFTMAX_KERNEL_DIR=kernels /usr/bin/python3 bench/cv_digits.py \
        [--scale 16] [--repeat N] [--cli src/cli/clsoftmax]

Data: scikit-learn's digits (1797 x 64, 10 classes), pixels divided by
--scale (default 16; 1 keeps the raw 0..16). Grid: C in {0.01, 0.1, 1, 10,
100}, 5 folds: both Python estimators get cv=5, scikit-learn's
StratifiedKFold(5), the same folds. LogisticRegressionCV at its defaults
(lbfgs, max_iter 100, tol 1e-4 on its summed objective, n_jobs None);
SoftmaxRegressionCV at its defaults (max_iter 1000, tol 1e-4 on the mean
objective's gradient), at max_iter 100, and with each solver named. A first fit of
SoftmaxRegressionCV with max_iter 1 by each solver is not timed: it builds
the kernels.
Times are the median of --repeat runs, the estimators taking turns; the
best mean accuracy is each one's own scores_ at its C_.

--cli: the same data as a libsvm file; `clsoftmax cv --folds 5 --C
0.01,0.1,1,10,100` (its own stratified folds, seed 1), in float32 and
with --double (each with cv's default solver), and liblinear's
`-s 0 -v 5 -c C` for each C (one-vs-rest logistic regression, random folds,
cold fits) and `-s 0 -v 5 -C` (its own C grid, warm-started), as whole
processes, the median of --repeat.
"""
import argparse
import os
import re
import statistics
import subprocess
import tempfile
import time
import warnings

import numpy as np
from sklearn.datasets import dump_svmlight_file, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegressionCV

from clsoftmax import SoftmaxRegressionCV

CS = [0.01, 0.1, 1, 10, 100]


def best_of(est):
    """(C_, mean accuracy at C_) from the estimator's own scores_."""
    scores = next(iter(est.scores_.values()))
    i = list(np.asarray(est.Cs_)).index(est.C_[0])
    return est.C_[0], scores.mean(axis=0)[i]


def python_part(X, y, repeat):
    runs = {"LogisticRegressionCV": lambda: LogisticRegressionCV(Cs=CS, cv=5),
            "SoftmaxRegressionCV": lambda: SoftmaxRegressionCV(Cs=CS, cv=5),
            "SoftmaxRegressionCV max_iter=100": lambda: SoftmaxRegressionCV(Cs=CS, cv=5,
                                                                           max_iter=100),
            "SoftmaxRegressionCV solver=lbfgs": lambda: SoftmaxRegressionCV(Cs=CS, cv=5,
                                                                           solver="lbfgs"),
            "SoftmaxRegressionCV solver=newton": lambda: SoftmaxRegressionCV(Cs=CS, cv=5,
                                                                            solver="newton")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for solver in ("lbfgs", "newton"):  # builds the kernels
            SoftmaxRegressionCV(Cs=CS[:1], cv=2, max_iter=1, solver=solver).fit(X, y)
        times = {name: [] for name in runs}
        result = {}
        for _ in range(repeat):
            for name, make in runs.items():
                t = time.perf_counter()
                est = make().fit(X, y)
                times[name].append(time.perf_counter() - t)
                result[name] = best_of(est) + (int(np.sum(est.n_iter_)),)
    base = statistics.median(times["LogisticRegressionCV"])
    print("%-34s %9s %6s %10s %8s %11s" % ("estimator", "seconds", "C_", "accuracy",
                                          "ratio", "iterations"))
    for name in runs:
        t = statistics.median(times[name])
        C, acc, it = result[name]
        print("%-34s %9.3f %6g %10.4f %8.2f %11d" % (name, t, C, acc, t / base, it))


def timed(cmd, repeat):
    out, times = "", []
    for _ in range(repeat):
        t = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - t)
        out = p.stdout + p.stderr
    return statistics.median(times), out


def cli_part(X, y, cli, repeat):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "digits.svm")
        dump_svmlight_file(X, y, path, zero_based=False)
        for extra in ([], ["--double"]):
            t, out = timed([cli, "cv", "-q", "--folds", "5", "--C", ",".join(map(str, CS))]
                           + extra + [path], repeat)
            lines = out.splitlines()
            short = [line for line in lines if "stopped short" in line]
            print("clsoftmax cv --folds 5 --C %s%s: %.3f s, %s%s"
                  % (",".join(map(str, CS)), "".join(" " + e for e in extra), t,
                     [line for line in lines if line.startswith("best:")][-1],
                     " (%s)" % short[0].split(": ", 1)[1].split(":")[0] if short else ""))
        total, accs = 0.0, []
        for C in CS:
            t, out = timed(["liblinear-train", "-q", "-s", "0", "-v", "5", "-c", str(C), path],
                           repeat)
            total += t
            accs.append((C, float(re.search(r"Accuracy = ([0-9.]+)%", out).group(1)) / 100))
        C, acc = max(accs, key=lambda a: (a[1], -a[0]))
        print("liblinear-train -s 0 -v 5 -c C, each C: %.3f s in all, best C=%g "
              "accuracy=%.4f" % (total, C, acc))
        t, out = timed(["liblinear-train", "-s", "0", "-v", "5", "-C", path], repeat)
        last = [line for line in out.splitlines() if line.startswith("Best")]
        print("liblinear-train -s 0 -v 5 -C: %.3f s, %s" % (t, last[-1] if last else out[-200:]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=16.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cli", default=None)
    a = ap.parse_args()
    X, y = load_digits(return_X_y=True)
    X = X / a.scale
    print("digits %d x %d, pixels / %g, C in %s, 5 folds, median of %d"
          % (X.shape[0], X.shape[1], a.scale, CS, a.repeat))
    python_part(X, y, a.repeat)
    if a.cli:
        cli_part(X, y, a.cli, a.repeat)


if __name__ == "__main__":
    main()
