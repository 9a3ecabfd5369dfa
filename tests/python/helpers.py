"""NumPy double-precision reference of the library's mathematics, shared by
the Python tests (written from the formulas of include/clsoftmax.h)."""
import os

import numpy as np


def blobs(n=120, k=5, C=3, seed=0):
    """n samples of k features around C random centres, and their classes."""
    rng = np.random.RandomState(seed)
    centres = rng.normal(scale=3, size=(C, k))
    y = rng.randint(0, C, size=n)
    return centres[y] + rng.normal(size=(n, k)), y


def ref_forward(W, b, X):
    S = X @ W.T + b
    m = S.max(axis=1, keepdims=True)
    E = np.exp(S - m)
    return S, E / E.sum(axis=1, keepdims=True)


def ref_targets(y, n, C):
    y = np.asarray(y)
    if y.ndim == 2:
        return y
    T = np.zeros((n, C))
    T[np.arange(n), y] = 1
    return T


def ref_loss(W, b, X, y, l2=0.0, w=None):
    S, _ = ref_forward(W, b, X)
    m = S.max(axis=1, keepdims=True)
    logO = S - m - np.log(np.exp(S - m).sum(axis=1, keepdims=True))
    T = ref_targets(y, X.shape[0], W.shape[0])
    li = -(T * logO).sum(axis=1)
    w = np.ones(X.shape[0]) if w is None else w
    return (w * li).sum() / w.sum() + 0.5 * l2 * (W * W).sum()


def ref_gradient(W, b, X, y, l2=0.0, w=None):
    _, O = ref_forward(W, b, X)
    T = ref_targets(y, X.shape[0], W.shape[0])
    w = np.ones(X.shape[0]) if w is None else w
    D = (O - T) * (w / w.sum())[:, None]
    return D.T @ X + l2 * W, D.sum(axis=0)


def sklearn_objective(W, b, X, y, C, w=None):
    """scikit-learn's objective sum_i w_i l_i + ||W||^2 / (2C), divided by
    sum w (the library's J with lambda = 1 / (C sum w))."""
    w = np.ones(X.shape[0]) if w is None else w
    return ref_loss(W, b, X, y, 1.0 / (C * w.sum()), w)


def cli():
    """The build tree's clsoftmax command (tests/python.sh exports it)."""
    return os.environ.get("CSM_CLI", "")


def sklearn_fixture(case):
    """(X, y, P) of a binary case of tests/data/sklearn (make-fixtures.py):
    the data as clsoftmax's reader parses the CSV, and scikit-learn's
    predict_proba at its optimum."""
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "sklearn")
    with open(os.path.join(here, "optima.txt")) as f:
        rows = [line.split() for line in f if line.strip() and not line.startswith("#")]
    csv = {r[0]: r[1] for r in rows}[case]
    data = np.loadtxt(os.path.join(here, csv), delimiter=",", skiprows=1)
    P = np.loadtxt(os.path.join(here, case + ".proba.csv"), delimiter=",", skiprows=1)
    return data[:, 1:], data[:, 0].astype(np.int64), P
