"""What SoftmaxRegression takes from scikit-learn, for when it is not
installed: parameter handling, score, and a NumPy-only subset of its input
checks (same exception types and the gist of the same messages)."""
import inspect

import numpy as np


class ConvergenceWarning(UserWarning):
    pass


class NotFittedError(ValueError, AttributeError):
    pass


class BaseEstimator:
    @classmethod
    def _get_param_names(cls):
        sig = inspect.signature(cls.__init__)
        return sorted(p for p in sig.parameters if p != "self")

    def get_params(self, deep=True):
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params):
        valid = self._get_param_names()
        for key, value in params.items():
            if key not in valid:
                raise ValueError("invalid parameter %r for %s; valid: %s"
                                 % (key, type(self).__name__, valid))
            setattr(self, key, value)
        return self

    def __repr__(self):
        args = ", ".join("%s=%r" % kv for kv in self.get_params().items())
        return "%s(%s)" % (type(self).__name__, args)


def available_if(check):
    """The method exists only where check(estimator) is true (raises
    AttributeError otherwise), as scikit-learn's available_if."""
    class _Available:
        def __init__(self, fn):
            self.fn = fn

        def __get__(self, obj, owner=None):
            if obj is not None:
                check(obj)
                return self.fn.__get__(obj, owner)
            return self.fn
    return _Available


class ClassifierMixin:
    _estimator_type = "classifier"

    def score(self, X, y, sample_weight=None):
        """Mean accuracy (weighted by sample_weight)."""
        correct = self.predict(X) == np.asarray(y)
        return float(np.average(correct, weights=sample_weight))


def check_is_fitted(est):
    if not hasattr(est, "coef_"):
        raise NotFittedError("This %s instance is not fitted yet: call fit first"
                             % type(est).__name__)


def check_array(X):
    from ._handles import is_sparse
    if is_sparse(X):
        return X.tocsr()
    X = np.asarray(X)
    if X.dtype.kind == "c":
        raise ValueError("Complex data not supported")
    if X.dtype.kind in "OUS":
        X = X.astype(np.float64)  # ValueError for non-numbers
    if X.ndim != 2:
        raise ValueError("Expected 2D array, got shape %s instead: reshape your data"
                         % (X.shape,))
    return X


def column_or_1d(y, n):
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError("y must be 1-D (n_samples,), got shape %s" % (y.shape,))
    if y.shape[0] != n:
        raise ValueError("X and y have different numbers of samples: %d and %d"
                         % (n, y.shape[0]))
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError("Input y contains NaN or infinity")
    return y


def check_classification_targets(y):
    if y.dtype.kind == "f" and np.any(y != np.round(y)):
        raise ValueError("Unknown label type: continuous (labels must be classes)")
    if y.dtype.kind == "c":
        raise ValueError("Unknown label type: complex")


def _check_sample_weight(sample_weight, X, dtype=np.float64):
    n = X.shape[0]
    w = np.asarray(sample_weight, dtype=dtype)
    if w.ndim == 0:
        return np.full(n, float(w))
    if w.shape != (n,):
        raise ValueError("sample_weight.shape == %s, expected (%d,)" % (w.shape, n))
    if not np.all(np.isfinite(w)):
        raise ValueError("sample_weight contains NaN or infinity")
    return w
