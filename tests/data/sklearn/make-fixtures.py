#!/usr/bin/env python3
"""Writes the optimum fixtures of the solver tests: four small standardised
data sets from scikit-learn, liblinear's heart_scale, optima.txt (the exact
optimum J* of the objective clsoftmax minimises on each of them), and for
the binary cases the class probabilities at that optimum (CASE.proba.csv).

    python3 tests/data/sklearn/make-fixtures.py      # rewrites the files here

Needs numpy, scipy and scikit-learn (Debian 12: apt-get install
python3-sklearn python3-scipy; written against scikit-learn 1.2.1 and scipy
1.10.1) and liblinear's example heart_scale (apt-get install
liblinear-tools: /usr/share/doc/liblinear-tools/examples/heart_scale, or
give its path as the first argument). Deterministic: a rerun gives the same
CSV bytes; the last digit or two of J* may differ with another BLAS or
library version (the agreement check below bounds how much).

Data sets (sklearn.datasets.load_*: iris, wine, breast_cancer, digits):
every feature standardised with StandardScaler fitted on the whole set
(constant columns of digits stay 0), each value written with "%.6g". CSV
layout: a header line "label,f1,...,fk", then one row per sample, the
integer class label FIRST. That is what `clsoftmax train DATA MODEL` reads
with no options (label column 0 is the default, a non-numeric first line is
detected as a header; `--label-column 0 --header` says the same explicitly).

heart_scale (270 x 13, labels -1/+1, features already scaled to [-1, 1] by
liblinear's authors) is written in the same CSV layout, its values as read
from the libsvm file (at most 6 significant digits, so "%.6g" is exact).

Objective (C_reg per case; w_i = 1, or class_weight="balanced" weights
w_i = n / (C * count_{y_i})):

    J = sum_i w_i l_i / sum_i w_i + (lambda/2) ||W||^2,
    l_i = logsumexp(S_i) - S_{i,y_i},  S = X W^T + b,
    lambda = s/(C_reg sum_i w_i),  s = 2 for two classes, else 1

the bias is not penalised. The factor 2 for two classes is clsoftmax's C
(csm_train_options.C): scikit-learn's binary model is one vector d with
||d||^2 / (2 C_reg); at the softmax optimum w1 = -w0, so ||w0||^2 + ||w1||^2
= ||d||^2 / 2, and lambda = 2/(C_reg n) makes the two problems one. Both
balanced and unit weights sum to n. J is evaluated in float64 on the values
parsed back from the CSV text (Python's float() rounds correctly, as
clsoftmax's reader does), never on the unrounded features.

Every J* is found by two independent routes, which must agree within 1e-12
relative (the script stops with an error otherwise):

  A. scikit-learn: LogisticRegression(C=C_reg, tol=1e-10, max_iter=100000,
     multi_class="multinomial", solver="lbfgs"), J evaluated at its
     coef_/intercept_. For the binary sets scikit-learn fits one weight
     vector d with the same C_reg (the lambda above is chosen for that:
     for a fixed d, ||w0||^2 + ||w1||^2 is least at w1 = d/2, w0 = -d/2),
     mapped to W = [-d/2, d/2], b = [-b/2, b/2].
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

Binary cases also get CASE.proba.csv: a header naming the classes (as
`clsoftmax predict --proba` writes it), then each sample's probabilities
(%.17g) at the solution with the smaller J, which are scikit-learn's
predict_proba at its optimum. J agreeing to ~1e-14 relative still leaves
the two routes' parameters, and so probabilities, up to ~1e-7 apart along
J's flattest directions, so each binary solution is polished by Newton's
method on scikit-learn's one-vector problem (exact Hessian, to a step of
1e-14); the two polished solutions must give probabilities within 1e-12
of each other, else the script fails, and J* is the least of the four.
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
PROBA_AGREE = 1e-12
HEART_SCALE = "/usr/share/doc/liblinear-tools/examples/heart_scale"

# (case name, data set, weighting, C_reg, fit_intercept)
CASES = [
    ("iris", "iris", "none", 1.0, True),
    ("wine", "wine", "none", 1.0, True),
    ("breast_cancer", "breast_cancer", "none", 1.0, True),
    ("digits", "digits", "none", 1.0, True),
    ("wine-balanced", "wine", "balanced", 1.0, True),
    ("breast_cancer-C0.05", "breast_cancer", "none", 0.05, True),
    ("heart_scale", "heart_scale", "none", 1.0, True),
    ("heart_scale-C0.05", "heart_scale", "none", 0.05, True),
    ("heart_scale-nobias", "heart_scale", "none", 1.0, False),
    ("iris-nobias", "iris", "none", 1.0, False),
]


# ---------------------------------------------------------------- data

def load(name):
    """(X, y): heart_scale as liblinear ships it, or scikit-learn's data set
    `name` standardised."""
    if name == "heart_scale":
        path = sys.argv[1] if len(sys.argv) > 1 else HEART_SCALE
        X, y = datasets.load_svmlight_file(path, n_features=13)
        return X.toarray(), np.asarray(y, dtype=np.int64)
    bunch = getattr(datasets, "load_" + name)()
    X = StandardScaler().fit_transform(np.asarray(bunch.data, dtype=np.float64))
    return X, np.asarray(bunch.target, dtype=np.int64)


def write_csv(name):
    """Writes data set `name` as NAME.csv and returns the file name and
    (X, y) parsed back from the text."""
    X, y = load(name)
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


def route_scipy(X, yi, w, lam, C, intercept):
    k = X.shape[1]

    def fg(theta):
        W, b = unpack(theta, C, k)
        J, dW, db = objective(W, b, X, yi, w, lam)
        return J, np.concatenate([dW.ravel(), db if intercept else 0 * db])

    # without an intercept b stays at its start, 0 (its gradient is masked)
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


def softmax(W, b, X):
    S = X @ W.T + b
    E = np.exp(S - S.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def newton_binary(W, b, X, yi, w, lam, intercept):
    """The two-row solution (W, b) polished by Newton's method on the
    one-vector problem sum_i w_i l_i / sum w + lam/4 ||d||^2 in (d, c) =
    (W1 - W0, b1 - b0) (c = 0 without an intercept), which is J at
    W = [-d/2, d/2]; back in that form."""
    n, k = X.shape
    A = np.hstack([X, np.ones((n, 1))]) if intercept else X
    theta = np.concatenate([W[1] - W[0], [b[1] - b[0]]] if intercept else [W[1] - W[0]])
    reg = np.r_[np.full(k, lam / 2), [0.0] * intercept]  # d/d(d) of lam/4 ||d||^2: lam/2 d
    sw = w / w.sum()
    for _ in range(20):
        p = 1.0 / (1.0 + np.exp(-(A @ theta)))
        g = A.T @ (sw * (p - yi)) + reg * theta
        H = (A * (sw * p * (1 - p))[:, None]).T @ A + np.diag(reg)
        step = np.linalg.solve(H, g)
        theta -= step
        if np.abs(step).max() <= 1e-14 * max(1.0, np.abs(theta).max()):
            break
    d, c = theta[:k], theta[k] if intercept else 0.0
    return np.vstack([-d / 2, d / 2]), np.array([-c / 2, c / 2])


def route_sklearn(X, y, yi, w, lam, C, weighting, creg, intercept):
    # binary: one weight vector with the same C (see the docstring)
    model = LogisticRegression(
        C=creg, tol=1e-10, max_iter=100000, solver="lbfgs", fit_intercept=intercept,
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
                first = (J, max(np.abs(dW).max(), np.abs(db).max() * intercept))
            if best is not None and J >= best[0]:
                break
            best = (J, W, b, model.score(X, y))
            if C == 2:  # the softmax form's probabilities are scikit-learn's
                assert np.abs(model.predict_proba(X) - softmax(W, b, X)).max() < 1e-12
    return best, first, fits


# ---------------------------------------------------------------- main

def main():
    print("scikit-learn %s, scipy %s, numpy %s" % (
        sklearn.__version__, scipy.__version__, np.__version__))
    files = {}
    rows = []
    report = []
    for case, data, weighting, creg, intercept in CASES:
        if data not in files:
            files[data] = write_csv(data)
        fname, (X, y) = files[data]
        n, k = X.shape
        classes, yi = np.unique(y, return_inverse=True)
        C = len(classes)
        w = balanced_weights(y) if weighting == "balanced" else np.ones(n)
        lam = (2.0 if C == 2 else 1.0) / (creg * w.sum())

        (Ja, Wa, ba, acc), (J1, g1), fits = route_sklearn(X, y, yi, w, lam, C, weighting, creg,
                                                          intercept)
        ga = objective(Wa, ba, X, yi, w, lam)
        gmax_a = max(np.abs(ga[1]).max(), np.abs(ga[2]).max() * intercept)
        Wb, bb, res = route_scipy(X, yi, w, lam, C, intercept)
        Jb, dWb, dbb = objective(Wb, bb, X, yi, w, lam)
        gmax_b = max(np.abs(dWb).max(), np.abs(dbb).max() * intercept)
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
        row = "%s %s %d %d %d %s %g %.17g %.17g %.3e %.10g %d"
        rows.append(row % (case, fname, n, k, C, weighting, creg, lam, Jstar, gmax_a, acc,
                           intercept))
        if C == 2:
            (WA, bA), (WB, bB) = (newton_binary(Wa, ba, X, yi, w, lam, intercept),
                                  newton_binary(Wb, bb, X, yi, w, lam, intercept))
            JA, JB = objective(WA, bA, X, yi, w, lam)[0], objective(WB, bB, X, yi, w, lam)[0]
            Pa, Pb = softmax(WA, bA, X), softmax(WB, bB, X)
            raw = np.abs(softmax(Wa, ba, X) - softmax(Wb, bb, X)).max()
            gap = np.abs(Pa - Pb).max()
            print("%-14s Newton-polished: J %.17g, %.17g; probabilities: max |A-B| %.2e "
                  "(before polishing %.2e)" % ("", JA, JB, gap, raw))
            if not gap <= PROBA_AGREE:
                sys.exit("%s: the two polished routes' probabilities differ by %.3e > %g" % (
                    case, gap, PROBA_AGREE))
            P = Pa if JA <= JB else Pb
            Jstar = min(Jstar, JA, JB)
            rows[-1] = row % (case, fname, n, k, C, weighting, creg, lam, Jstar, gmax_a, acc,
                              intercept)
            with open(os.path.join(HERE, case + ".proba.csv"), "w", newline="\n") as f:
                f.write(",".join("%d" % c for c in classes) + "\n")
                f.write("".join("%.17g,%.17g\n" % (p0, p1) for p0, p1 in P))

    header = [
        "# Optima of J = sum_i w_i l_i / sum_i w_i + (lambda/2) ||W||^2 (bias not penalised),",
        "# l_i = logsumexp(S_i) - S_i,y_i, S = X W^T + b, lambda = s/(C_reg sum_i w_i), s = 2 for",
        "# two classes (scikit-learn's binary C), else 1, float64,",
        "# on the CSV values as written (label first, header line). Written by make-fixtures.py;",
        "# J* verified by scikit-learn (LogisticRegression lbfgs) and by scipy L-BFGS-B on J",
        "# directly, agreeing within %g relative (see README)." % AGREE_RTOL,
        "# weighting: none (w_i = 1) or balanced (w_i = n / (classes * count of class y_i)).",
        "# grad_max: max-abs of dJ/dW, dJ/db at scikit-learn's solution; train_acc: its accuracy.",
        "# fit_intercept: 1, or 0 for b = 0 (LogisticRegression(fit_intercept=False)).",
        "# columns: name csv n k classes weighting C_reg lambda J* grad_max train_acc fit_intercept",
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
