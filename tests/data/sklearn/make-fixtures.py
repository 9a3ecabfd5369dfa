#!/usr/bin/env python3
"""Writes the optimum fixtures of the solver tests: four small standardised
data sets from scikit-learn and optima.txt, the exact optimum J* of the
objective clsoftmax minimises on each of them.

    python3 tests/data/sklearn/make-fixtures.py      # rewrites the files here

Needs numpy, scipy and scikit-learn (Debian 12: apt-get install
python3-sklearn python3-scipy; written against scikit-learn 1.2.1 and scipy
1.10.1). Deterministic: a rerun gives the same CSV bytes; the last digit or
two of J* may differ with another BLAS or library version (the agreement
check below bounds how much).

Data sets (sklearn.datasets.load_*: iris, wine, breast_cancer, digits):
every feature standardised with StandardScaler fitted on the whole set
(constant columns of digits stay 0), each value written with "%.6g". CSV
layout: a header line "label,f1,...,fk", then one row per sample, the
integer class label FIRST. That is what `clsoftmax train DATA MODEL` reads
with no options (label column 0 is the default, a non-numeric first line is
detected as a header; `--label-column 0 --header` says the same explicitly).

Objective (C_reg = 1 here; w_i = 1, or class_weight="balanced" weights
w_i = n / (C * count_{y_i})):

    J = sum_i w_i l_i / sum_i w_i + (lambda/2) ||W||^2,
    l_i = logsumexp(S_i) - S_{i,y_i},  S = X W^T + b,  lambda = 1/(C_reg sum_i w_i)

the bias is not penalised. Both balanced and unit weights sum to n, so
lambda = 1/(C_reg n) in every case here. J is evaluated in float64 on the
values parsed back from the CSV text (Python's float() rounds correctly, as
clsoftmax's reader does), never on the unrounded features.

Every J* is found by two independent routes, which must agree within 1e-12
relative (the script stops with an error otherwise):

  A. scikit-learn: LogisticRegression(C=C_reg, tol=1e-10, max_iter=100000,
     multi_class="multinomial", solver="lbfgs"), J evaluated at its
     coef_/intercept_. For the binary set scikit-learn fits one weight vector
     d: the C=2 softmax problem with both rows penalised equals binary
     logistic regression with C' = 2 C_reg on d = w1 - w0 (for a fixed d,
     ||w0||^2 + ||w1||^2 is least at w1 = d/2, w0 = -d/2, which halves the
     penalty), so it is fitted with C' = 2 C_reg and mapped to
     W = [-d/2, d/2], b = [-b/2, b/2].
     scikit-learn 1.2 calls scipy's L-BFGS-B with gtol = tol but scipy's
     default ftol (factr 1e7, 2.2e-9 relative reduction of the sum-scaled
     objective) and maxls 20, so one fit stops about 1e-9..1e-8 (relative)
     above the optimum. The fit is therefore repeated with warm_start=True
     (each refit restarts scikit-learn's own L-BFGS from the last solution)
     until J stops decreasing. The single-fit J is printed too.
  B. scipy directly: scipy.optimize.minimize(method="L-BFGS-B", jac=True) on
     the full softmax parameterisation (all C rows of W and b) of J with its
     analytic gradient, from zeros, gtol 1e-12, ftol 0.

J* written to optima.txt is the smaller of the two (both are values of J at
a feasible point, so the smaller is the nearer to the optimum); the
max-abs gradient column is that of J (mean-scaled, over W and b) at the
route-A (scikit-learn) solution.
"""
import os

# one BLAS thread: a fixed summation order, so reruns give the same digits
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import sys  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import scipy.optimize  # noqa: E402
import sklearn  # noqa: E402
from sklearn import datasets  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
AGREE_RTOL = 1e-12
C_REG = 1.0

# (case name, data set, weighting)
CASES = [
    ("iris", "iris", "none"),
    ("wine", "wine", "none"),
    ("breast_cancer", "breast_cancer", "none"),
    ("digits", "digits", "none"),
    ("wine-balanced", "wine", "balanced"),
]


# ---------------------------------------------------------------- data

def write_csv(name):
    """Standardises data set `name`, writes NAME.csv and returns the file
    name and (X, y) parsed back from the text."""
    bunch = getattr(datasets, "load_" + name)()
    X = StandardScaler().fit_transform(np.asarray(bunch.data, dtype=np.float64))
    y = np.asarray(bunch.target, dtype=np.int64)
    k = X.shape[1]
    lines = ["label," + ",".join("f%d" % (j + 1) for j in range(k))]
    for label, row in zip(y, X):
        # + 0.0 turns -0.0 into 0.0: "-0" would parse the same, but reads oddly
        lines.append("%d," % label + ",".join("%.6g" % (v + 0.0) for v in row))
    text = "\n".join(lines) + "\n"
    fname = name + ".csv"
    with open(os.path.join(HERE, fname), "w", newline="\n") as f:
        f.write(text)
    return fname, parse_csv(text)


def parse_csv(text):
    rows = text.splitlines()[1:]
    y = np.array([int(r.split(",", 1)[0]) for r in rows], dtype=np.int64)
    X = np.array([[float(v) for v in r.split(",")[1:]] for r in rows], dtype=np.float64)
    return X, y


def balanced_weights(y):
    """scikit-learn's class_weight="balanced": w_c = n / (C * count_c)."""
    classes, inv, counts = np.unique(y, return_inverse=True, return_counts=True)
    return (len(y) / (len(classes) * counts.astype(np.float64)))[inv]


# ---------------------------------------------------------------- objective

def objective(W, b, X, yi, w, lam):
    """J and its gradient (dW, db) in float64; yi are class indices 0..C-1."""
    n = X.shape[0]
    S = X @ W.T + b                                   # (n, C)
    m = S.max(axis=1, keepdims=True)
    E = np.exp(S - m)
    Z = E.sum(axis=1, keepdims=True)
    l = (m[:, 0] + np.log(Z[:, 0])) - S[np.arange(n), yi]
    sw = w.sum()
    J = float(np.dot(w, l) / sw + 0.5 * lam * np.sum(W * W))
    D = E / Z
    D[np.arange(n), yi] -= 1.0
    D *= (w / sw)[:, None]                            # (O - T) weighted, / sum w
    return J, D.T @ X + lam * W, D.sum(axis=0)


def unpack(theta, C, k):
    return theta[:C * k].reshape(C, k), theta[C * k:]


def route_scipy(X, yi, w, lam, C):
    k = X.shape[1]

    def fg(theta):
        W, b = unpack(theta, C, k)
        J, dW, db = objective(W, b, X, yi, w, lam)
        return J, np.concatenate([dW.ravel(), db])

    res = scipy.optimize.minimize(
        fg, np.zeros(C * (k + 1)), method="L-BFGS-B", jac=True,
        options={"gtol": 1e-12, "ftol": 0.0, "maxiter": 100000, "maxfun": 1000000})
    W, b = unpack(res.x, C, k)
    return W, b, res


def sklearn_to_softmax(model, C):
    """(W, b) of the C-class softmax equivalent of a fitted model."""
    if C == 2:
        d, c = model.coef_[0], model.intercept_[0]
        return np.vstack([-d / 2, d / 2]), np.array([-c / 2, c / 2])
    return model.coef_.copy(), model.intercept_.copy()


def route_sklearn(X, y, yi, w, lam, C, weighting):
    # binary: one weight vector with C' = 2 C_reg (see the docstring)
    creg = 2 * C_REG if C == 2 else C_REG
    model = LogisticRegression(
        C=creg, tol=1e-10, max_iter=100000, solver="lbfgs",
        multi_class="multinomial" if C > 2 else "ovr",
        class_weight="balanced" if weighting == "balanced" else None, warm_start=True)
    best = None
    first = None  # (J, max-abs gradient) after the first fit
    fits = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        for fits in range(1, 1001):
            model.fit(X, y)
            W, b = sklearn_to_softmax(model, C)
            J, dW, db = objective(W, b, X, yi, w, lam)
            if first is None:
                first = (J, max(np.abs(dW).max(), np.abs(db).max()))
            if best is not None and J >= best[0]:
                break
            best = (J, W, b, model.score(X, y))
    return best, first, fits


# ---------------------------------------------------------------- main

def main():
    print("scikit-learn %s, scipy %s, numpy %s" % (
        sklearn.__version__, scipy.__version__, np.__version__))
    files = {}
    rows = []
    report = []
    for case, data, weighting in CASES:
        if data not in files:
            files[data] = write_csv(data)
        fname, (X, y) = files[data]
        n, k = X.shape
        classes, yi = np.unique(y, return_inverse=True)
        C = len(classes)
        w = balanced_weights(y) if weighting == "balanced" else np.ones(n)
        lam = 1.0 / (C_REG * w.sum())

        (Ja, Wa, ba, acc), (J1, g1), fits = route_sklearn(X, y, yi, w, lam, C, weighting)
        ga = objective(Wa, ba, X, yi, w, lam)
        gmax_a = max(np.abs(ga[1]).max(), np.abs(ga[2]).max())
        Wb, bb, res = route_scipy(X, yi, w, lam, C)
        Jb, dWb, dbb = objective(Wb, bb, X, yi, w, lam)
        gmax_b = max(np.abs(dWb).max(), np.abs(dbb).max())
        rel = abs(Ja - Jb) / abs(Jb)
        Jstar = min(Ja, Jb)
        report.append((case, J1, g1, fits, Ja, gmax_a, Jb, gmax_b, res.nit, rel))
        print("%-14s A: sklearn %.17g (%d fits; single fit %.17g, grad %.2e) grad %.2e" % (
            case, Ja, fits, J1, g1, gmax_a))
        print("%-14s B: scipy   %.17g (%d iterations, %s) grad %.2e; |A-B|/B %.2e" % (
            "", Jb, res.nit, res.message, gmax_b, rel))
        if not rel <= AGREE_RTOL:
            sys.exit("%s: the two routes disagree: relative difference %.3e > %g" % (
                case, rel, AGREE_RTOL))
        rows.append("%s %s %d %d %d %s %g %.17g %.17g %.3e %.10g" % (
            case, fname, n, k, C, weighting, C_REG, lam, Jstar, gmax_a, acc))

    header = [
        "# Optima of J = sum_i w_i l_i / sum_i w_i + (lambda/2) ||W||^2 (bias not penalised),",
        "# l_i = logsumexp(S_i) - S_i,y_i, S = X W^T + b, lambda = 1/(C_reg sum_i w_i), float64,",
        "# on the CSV values as written (label first, header line). Written by make-fixtures.py;",
        "# J* verified by scikit-learn (LogisticRegression lbfgs) and by scipy L-BFGS-B on J",
        "# directly, agreeing within %g relative (see README)." % AGREE_RTOL,
        "# weighting: none (w_i = 1) or balanced (w_i = n / (classes * count of class y_i)).",
        "# grad_max: max-abs of dJ/dW, dJ/db at scikit-learn's solution; train_acc: its accuracy.",
        "# columns: name csv n k classes weighting C_reg lambda J* grad_max train_acc",
    ]
    with open(os.path.join(HERE, "optima.txt"), "w", newline="\n") as f:
        f.write("\n".join(header + rows) + "\n")
    print()
    print("| case | sklearn single fit (max-abs grad) | A: sklearn, warm refits | max-abs grad A "
          "| B: scipy L-BFGS-B | max-abs grad B | abs(A-B)/B |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for case, J1, g1, fits, Ja, gA, Jb, gB, nit, rel in report:
        print("| %s | %.17g (%.1e) | %.17g (%d fits) | %.1e | %.17g (%d it.) | %.1e | %.1e |" % (
            case, J1, g1, Ja, fits, gA, Jb, nit, gB, rel))


if __name__ == "__main__":
    main()
