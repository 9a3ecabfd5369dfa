#!/usr/bin/env python3
"""Writes l1-optima.txt, the fixtures of the L1 / elastic-net tests
(tests/check_l1.c): scikit-learn's saga optimum of the elastic-net
objective on the standardised data sets make-fixtures.py wrote here.

    python3 tests/data/sklearn/make-l1-fixtures.py    # rewrites l1-optima.txt

Needs numpy and scikit-learn (Debian 12: apt-get install python3-sklearn;
written against scikit-learn 1.2.1). Slow: saga at tol 1e-10 needs about
80000 epochs on digits at l1_ratio 1 (10 minutes on two cores).

Objective (scikit-learn's, divided by n; bias not penalised):

    J = mean_i l_i + (1/(C n)) (r ||W||_1 + (1 - r)/2 ||W||^2),
    l_i = logsumexp(S_i) - S_{i,y_i},  S = X W^T + b,  r = l1_ratio

fitted by LogisticRegression(penalty="elasticnet", l1_ratio=r, C=C,
solver="saga", multi_class="multinomial" ("ovr" for two classes: the
binary model), tol=1e-10, max_iter=1000000,
random_state=0: saga visits the samples in a random order, so the seed
makes a rerun give the same bytes) and evaluated in float64 on the CSV values as parsed. For two classes
scikit-learn fits one vector w; clsoftmax's two rows at their optimum are
W = [-w/2, w/2] (csm_train_options.C: the L2 weight doubled, the L1 weight
not, since ||W0||_1 + ||W1||_1 = ||w||_1 there), and J is the same.

Each line of l1-optima.txt:

    name csv n k classes C l1_ratio J_saga epochs zeros mask

mask: the C k weights of W by row, 1 where saga's weight is exactly 0,
else 0 (for two classes: w's, which both rows share).
"""
import os
import sys
import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = [("wine", 1.0), ("wine", 0.5), ("digits", 1.0), ("digits", 0.5),
         ("breast_cancer", 0.5)]


def objective(X, y, W, b, C, r, classes):
    S = X @ W.T + b
    S = S - S.max(axis=1, keepdims=True)
    loss = np.log(np.exp(S).sum(axis=1)) - S[np.arange(len(y)), y]
    n = len(y)
    l2 = (2.0 if classes == 2 else 1.0) * (1 - r) / (C * n)
    return loss.mean() + r / (C * n) * np.abs(W).sum() + 0.5 * l2 * (W ** 2).sum()


def main():
    lines = ["# Elastic-net optima of scikit-learn's saga (tol 1e-10), written by",
             "# make-l1-fixtures.py: J = mean_i l_i + (1/(C n)) (r ||W||_1 + (1-r)/2 ||W||^2),",
             "# bias not penalised, float64 on the CSV values. mask: 1 where saga's weight is 0.",
             "# columns: name csv n k classes C l1_ratio J_saga epochs zeros mask"]
    for name, r in CASES:
        data = np.loadtxt(os.path.join(HERE, name + ".csv"), delimiter=",", skiprows=1)
        y = data[:, 0].astype(int)
        X = data[:, 1:]
        n, k = X.shape
        classes = len(np.unique(y))
        C = 1.0
        # two classes: scikit-learn's binary model, one vector (its
        # "multinomial" would be two rows each penalised at C, and report W1)
        m = LogisticRegression(penalty="elasticnet", l1_ratio=r, C=C, solver="saga",
                               multi_class="ovr" if classes == 2 else "multinomial",
                               tol=1e-10, max_iter=1000000,
                               random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            m.fit(X, y)
        W, b = m.coef_, m.intercept_
        if classes == 2:
            W = np.vstack([-W[0] / 2, W[0] / 2])
            b = np.array([-b[0] / 2, b[0] / 2])
            mask = (m.coef_[0] == 0)
            mask = np.concatenate([mask, mask])
        else:
            mask = (W == 0).ravel()
        J = objective(X, y, W, b, C, r, classes)
        lines.append("%s-l1_%g %s.csv %d %d %d %g %g %.17g %d %d %s" % (
            name, r, name, n, k, classes, C, r, J, int(np.max(m.n_iter_)), int(mask.sum()),
            "".join("1" if z else "0" for z in mask)))
        print(lines[-1][:100], file=sys.stderr)
    with open(os.path.join(HERE, "l1-optima.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
