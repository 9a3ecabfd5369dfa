"""SoftmaxRegression: a scikit-learn classifier trained by libclsoftmax.

The fitted state is NumPy arrays only (coef_, intercept_, classes_, ...):
library objects are made for each call and freed at its end, so the
estimator pickles, clones and crosses process boundaries (GridSearchCV's
workers) like any scikit-learn estimator. Input checking uses
scikit-learn's own validation when it is installed (the messages and
conversions its users know); without it, a NumPy-only subset.

No call order can leave the estimator half-updated or size a buffer from
one model and fill it from another: fit validates everything and trains on
local variables, then publishes the whole fitted state in one step (under
_state_lock); every other method works on a consistent snapshot of that
state, checked before the library sees it. So fit and predict from two
threads give results or exceptions, a failed or interrupted (Ctrl-C) fit
leaves the previous state, and hand-edited attributes that disagree raise
ValueError.
"""
import ctypes
import json
import numbers
import os
import sys
import threading
import warnings

import numpy as np

from ._lib import (lib, check, context, Error, SOLVERS, TrainOptions, TrainResult, EPOCH_FN,
                   CSM_STOP_TOL, CSM_STOP_MAX_ITER, CSM_FLOAT64, interrupt_guard)
from ._handles import Dataset, Model, as_matrix, precision, ptr

try:
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.utils.metaestimators import available_if
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, _check_sample_weight
    try:  # scikit-learn >= 1.6: a function; before, a method of BaseEstimator
        from sklearn.utils.validation import validate_data as _sk_validate_data
    except ImportError:
        _sk_validate_data = None
    HAVE_SKLEARN = True
except ImportError:  # NumPy-only fallbacks
    HAVE_SKLEARN = False
    from ._nosklearn import (BaseEstimator, ClassifierMixin, ConvergenceWarning, available_if,
                             check_classification_targets, check_is_fitted,
                             _check_sample_weight)

__all__ = ["SoftmaxRegression", "load"]

# Attributes fit() sets: published together, and together replaced.
_FITTED = ("classes_", "coef_", "intercept_", "n_features_in_", "feature_names_in_", "n_iter_",
           "history_", "converged_", "stop_", "objective_", "metadata_", "_precision",
           "_solver_state")

_state_lock = threading.Lock()  # guards publishing and snapshotting the fitted state


def _reset_after_fork():
    global _state_lock
    _state_lock = threading.Lock()  # another thread may have held it at fork()


os.register_at_fork(after_in_child=_reset_after_fork)

# dtype="auto" (README, "The default dtype", has the measurements): float32
# where it is faster and reaches the tolerance, float64 elsewhere. Faster:
# from about 2^18 feature values (n k) on, where the data pass outweighs the
# fixed cost of an iteration (digits, 115,000 values: float64 as fast;
# 500 x 784: float32 1.5x faster). Reaches: tol >= 1e-5 (float32 stalls near
# a max |gradient| of 1e-6 on unscaled data).
AUTO_FLOAT32_MIN_TOL = 1e-5
AUTO_FLOAT32_MIN_VALUES = 2**18


def _validate(est, *args, **kwargs):
    """scikit-learn's input validation, by whichever name this version has."""
    if _sk_validate_data is not None:
        return _sk_validate_data(est, *args, **kwargs)
    return est._validate_data(*args, **kwargs)


def _int64_classes(c):
    """The classes as int64 labels when they are integers that int64 holds
    exactly, else None."""
    if c.dtype.kind == "i":
        return c.astype(np.int64)
    if c.dtype.kind == "u":
        return c.astype(np.int64) if c.max() <= np.iinfo(np.int64).max else None
    if c.dtype.kind == "f":
        if np.all(np.isfinite(c)) and np.all(c == np.round(c)) and np.all(np.abs(c) < 2**63):
            return c.astype(np.int64)
        return None
    if c.dtype.kind == "O" and all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                                   for v in c):
        if all(-2**63 <= int(v) < 2**63 for v in c):
            return np.array([int(v) for v in c], dtype=np.int64)
    return None


def _class_names(classes):
    """How the model file records the classes (see README, "The model file
    from Python"): integer classes that int64 holds as the library's int64
    labels; any other kind as labels 0..C-1 plus the metadata label_names (a
    JSON array of strings) and label_type ("float": written with repr, read
    back exactly; "int": integers beyond int64, such as uint64 above 2^63,
    in decimal; "str": everything else)."""
    c = np.asarray(classes)
    ints = _int64_classes(c)
    if ints is not None:
        return ints, None, None
    if c.dtype.kind == "f":
        return None, [repr(float(v)) for v in c], "float"
    if c.dtype.kind in "uO" and all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                                    for v in c.tolist()):
        return None, [str(int(v)) for v in c.tolist()], "int"
    return None, [str(v) for v in c], "str"


def _classes_from_file(labels, meta):
    names = meta.get("label_names")
    if names is None:
        return np.asarray(labels, dtype=np.int64)
    names = json.loads(names)
    if not isinstance(names, list) or len(names) != len(labels):
        raise ValueError("label_names in the model file does not hold %d names" % len(labels))
    kind = meta.get("label_type")
    if kind == "float":
        return np.array([float(v) for v in names])
    if kind == "int":
        values = [int(v) for v in names]
        if all(0 <= v < 2**64 for v in values):
            return np.array(values, dtype=np.uint64)
        return np.array(values, dtype=object)
    return np.array([str(v) for v in names])


def _snapshot(est):
    """A shallow copy of the estimator taken under the state lock: its
    fitted attributes belong to one fit, whatever other threads do."""
    snap = object.__new__(type(est))
    with _state_lock:
        snap.__dict__ = dict(est.__dict__)
    return snap


def _publish(est, state):
    """Replaces the estimator's fitted state by `state` in one step."""
    with _state_lock:
        for key in _FITTED:
            if key not in state:
                est.__dict__.pop(key, None)
        est.__dict__.update(state)


def _fitted_model(snap):
    """(coef (C, k), intercept (C,), classes (C,)) of a snapshot, checked
    to belong together: a buffer sized from one of them is then right for
    the others."""
    check_is_fitted(snap)
    W = np.asarray(snap.coef_)
    if W.ndim != 2 or W.shape[0] < 2 or W.shape[1] < 1:
        raise ValueError("coef_ must have shape (n_classes >= 2, n_features), got %s"
                         % (W.shape,))
    C, k = W.shape
    b = np.asarray(getattr(snap, "intercept_", None))
    if b.shape != (C,):
        raise ValueError("intercept_ has shape %s but coef_ has %d rows" % (b.shape, C))
    classes = np.asarray(getattr(snap, "classes_", None))
    if classes.ndim != 1 or classes.shape[0] != C:
        raise ValueError("classes_ has %s entries but coef_ has %d rows"
                         % (classes.shape[0] if classes.ndim == 1 else classes.shape, C))
    nf = getattr(snap, "n_features_in_", k)
    if nf != k:
        raise ValueError("n_features_in_ is %r but coef_ has %d columns" % (nf, k))
    return W, b, classes


def _first_order(est):
    """partial_fit exists for the minibatch solvers (as MLPClassifier's)."""
    if est.solver in ("lbfgs", "newton"):
        raise AttributeError("partial_fit is available for solver='sgd', 'momentum' and "
                             "'adam' (one epoch per call), not for %r" % est.solver)
    return True


class SoftmaxRegression(ClassifierMixin, BaseEstimator):
    """Softmax (multinomial logistic) regression trained on an OpenCL device.

    Minimises scikit-learn's LogisticRegression objective,
    sum_i w_i l_i + ||W||^2 / (2 C) (the bias is not penalised), with the
    library's L-BFGS by default; `solver="sgd"|"momentum"|"adam"` trains by
    minibatches instead. For two classes the penalty is on the difference of
    the two rows, as scikit-learn's one weight vector: the same C gives
    LogisticRegression's probabilities. Parameters carry the names of the
    `clsoftmax train` options, and the same defaults, except `dtype`.

    Parameters
    ----------
    solver : "lbfgs" (default), "newton" (trust-region Newton-CG, full batch,
        the same tol; measured faster than lbfgs on sparse data), "sgd",
        "momentum" or "adam"
    C : float, inverse regularisation strength (np.inf: none); default 1
    tol : float, default 1e-4. L-BFGS: stop when max |dJ/dtheta| <= tol, J
        the mean objective (scikit-learn 1.2 applies its tol to the summed
        objective: tol / n here reproduces it); first-order solvers: the
        epoch loss improved by no more than tol for 5 epochs.
    max_iter : int, L-BFGS iterations or epochs; default 1000
    batch_size : int, first-order solvers' minibatch (0: full batch); 256
    learning_rate : float or None (the solver's default: 0.1 / 0.01 / 0.001)
    class_weight : None, "balanced" or {class: weight}, as in scikit-learn
    warm_start : bool, start from the previous fit's coef_ and intercept_
    random_state : None, int or RandomState: the minibatch shuffling seed
        (None: the command's seed 1, so fits repeat exactly)
    device : str or None, a CLSOFTMAX_DEVICE selector ("0:cpu", "nvidia",
        ...); None: $CLSOFTMAX_DEVICE, else the first device
    dtype : "auto" (default), "float32" or "float64", the device's
        arithmetic. "auto" is float32 when tol >= 1e-5 (which float32
        reaches) and X holds at least 2^18 values (n k; where float32 is
        faster), else float64 (README, "The default dtype", measured why);
        predictions use the precision of the fit
    fit_intercept : bool, default True; False: no bias (intercept_ is 0)
    l1_ratio : float in [0, 1], default 0: the elastic-net mixing of
        scikit-learn's LogisticRegression(penalty="elasticnet"): the penalty
        is (r ||W||_1 + (1 - r)/2 ||W||^2) / C; r > 0 trains with OWL-QN
        (solver "lbfgs" only) and gives exact zeros in coef_
    verbose : int, default 0; 1: a line per iteration (epoch) and a summary
        on stderr, as `clsoftmax train` prints; 2: also the library's own
        messages (paths, kernel builds)

    Attributes
    ----------
    classes_ : (C,) the sorted distinct labels, of any type
    coef_ : (C, k); intercept_ : (C,). Also for two classes (scikit-learn's
        LogisticRegression keeps one row there, which is coef_[1] - coef_[0]
        here): decision_function then returns S[:, 1] - S[:, 0], the
        log-odds of classes_[1], shape (n,).
    n_iter_ : (1,) int array, iterations (epochs) run
    n_features_in_ : int; feature_names_in_ when X had column names
    history_ : dict of arrays, one entry per iteration (epoch): "loss" (J incl.
        the L2 term), "accuracy" (training), "seconds", "grad_max_abs" (L-BFGS),
        "evaluations" -- what `clsoftmax train --plot` draws
    converged_ : bool; stop_ : the library's reason for stopping; objective_ : J
    """

    def __init__(self, solver="lbfgs", C=1.0, tol=1e-4, max_iter=1000, batch_size=256,
                 learning_rate=None, class_weight=None, warm_start=False, random_state=None,
                 device=None, dtype="auto", fit_intercept=True, verbose=0, l1_ratio=0.0):
        self.solver = solver
        self.C = C
        self.tol = tol
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.random_state = random_state
        self.device = device
        self.dtype = dtype
        self.fit_intercept = fit_intercept
        self.verbose = verbose
        self.l1_ratio = l1_ratio

    # ------------------------------------------------------------------ tags
    def _more_tags(self):  # scikit-learn < 1.6
        return {"X_types": ["2darray", "sparse"]}

    def __sklearn_tags__(self):  # scikit-learn >= 1.6
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # ------------------------------------------------------------ validation
    def _check_X(self, snap, X, reset):
        """X checked (and snap's n_features_in_ / feature_names_in_ set when
        reset), as the library takes it."""
        if HAVE_SKLEARN:
            X = _validate(snap, X, accept_sparse="csr", dtype=[np.float64, np.float32],
                          reset=reset)
        else:
            from ._nosklearn import check_array
            X = check_array(X)
            if reset:
                snap.n_features_in_ = X.shape[1]
            elif X.shape[1] != snap.n_features_in_:
                raise ValueError("X has %d features, but %s is expecting %d features as input"
                                 % (X.shape[1], type(self).__name__, snap.n_features_in_))
        return X

    def _check_Xy(self, snap, X, y, reset=True):
        """X and y checked; reset=False (partial_fit going on): X must have
        the features the model was fitted on."""
        if HAVE_SKLEARN:
            X, y = _validate(snap, X, y, accept_sparse="csr", dtype=[np.float64, np.float32],
                             reset=reset)
        else:
            from ._nosklearn import column_or_1d
            X = self._check_X(snap, X, reset=reset)
            y = column_or_1d(y, X.shape[0])
        check_classification_targets(y)
        return X, y

    def _precision_for_fit(self, tol, n_values=0):
        """The library precision of a fit with this tol on n_values = n k
        feature values."""
        if isinstance(self.dtype, str) and self.dtype == "auto":
            f32 = tol >= AUTO_FLOAT32_MIN_TOL and n_values >= AUTO_FLOAT32_MIN_VALUES
            return precision("float32" if f32 else "float64")
        try:
            return precision(self.dtype)
        except ValueError:
            raise ValueError("dtype must be 'auto', 'float32' or 'float64', not %r"
                             % (self.dtype,)) from None

    # the solver names fit takes (SoftmaxRegressionCV adds "auto")
    _solver_names = tuple(SOLVERS)

    def _check_params(self):
        if self.solver not in self._solver_names:
            raise ValueError("solver must be one of %s, got %r"
                             % (sorted(self._solver_names), self.solver))
        C = float(self.C)
        if not C > 0:  # also NaN
            raise ValueError("C must be > 0 (np.inf: no penalty), got %r" % (self.C,))
        tol = float(self.tol)
        if not (tol >= 0 and np.isfinite(tol)):
            raise ValueError("tol must be a finite number >= 0, got %r" % (self.tol,))
        if not isinstance(self.max_iter, numbers.Integral) or not 1 <= self.max_iter < 2**31:
            raise ValueError("max_iter must be an integer >= 1, got %r" % (self.max_iter,))
        if not isinstance(self.batch_size, numbers.Integral) or self.batch_size < 0:
            raise ValueError("batch_size must be an integer >= 0, got %r" % (self.batch_size,))
        lr = 0.0 if self.learning_rate is None else float(self.learning_rate)
        if not (lr >= 0 and np.isfinite(lr)):
            raise ValueError("learning_rate must be > 0 or None, got %r" % (self.learning_rate,))
        if not isinstance(self.fit_intercept, (bool, np.bool_)):
            raise ValueError("fit_intercept must be True or False, got %r" % (self.fit_intercept,))
        if not isinstance(self.l1_ratio, numbers.Real) or not 0 <= self.l1_ratio <= 1:
            raise ValueError("l1_ratio must be a number in [0, 1], got %r" % (self.l1_ratio,))
        if self.l1_ratio > 0 and self.solver not in ("lbfgs", "auto"):
            raise ValueError("l1_ratio > 0 needs solver 'lbfgs' (OWL-QN), not %r"
                             % (self.solver,))
        if not isinstance(self.verbose, numbers.Integral) or self.verbose < 0:
            raise ValueError("verbose must be an integer >= 0, got %r" % (self.verbose,))
        self._precision_for_fit(tol)  # a bad dtype fails here, before the data are read
        return C, tol, lr

    def _seed(self):
        rs = self.random_state
        if rs is None:
            return 1
        if isinstance(rs, numbers.Integral):
            return int(rs) % 2**64
        if isinstance(rs, np.random.RandomState):
            return int(rs.randint(0, 2**31 - 1))
        raise ValueError("random_state must be None, an int or a RandomState, got %r" % (rs,))

    def _weights(self, y_idx, classes, sample_weight, X):
        n_classes = len(classes)
        w = None
        if sample_weight is not None:
            w = _check_sample_weight(sample_weight, X, dtype=np.float64)
            if np.any(w < 0):
                raise ValueError("sample_weight must be >= 0")
        cw = self.class_weight
        if cw is not None:
            if isinstance(cw, str):
                if cw != "balanced":
                    raise ValueError("class_weight must be None, 'balanced' or a dict, got %r"
                                     % (cw,))
                # scikit-learn's rule: n / (C * count of the class), counted
                # unweighted
                per_class = len(y_idx) / (n_classes * np.bincount(y_idx, minlength=n_classes))
            elif isinstance(cw, dict):
                per_class = np.ones(n_classes)
                index = {c: i for i, c in enumerate(classes.tolist())}
                for c, v in cw.items():
                    if c not in index:
                        raise ValueError("class_weight names the class %r, which is not in "
                                         "the data (classes: %s)" % (c, classes.tolist()))
                    per_class[index[c]] = float(v)
                if not np.all(np.isfinite(per_class)) or np.any(per_class < 0):
                    raise ValueError("class_weight values must be finite and >= 0")
            else:
                raise ValueError("class_weight must be None, 'balanced' or a dict, got %r"
                                 % (cw,))
            cwv = per_class[y_idx]
            w = cwv if w is None else w * cwv
        return w

    # ------------------------------------------------------------------- fit
    def fit(self, X, y, sample_weight=None):
        """Trains on X (n, k) (array or SciPy sparse) and labels y (n,)."""
        return self._fit(X, y, sample_weight, partial=False, classes=None)

    @available_if(_first_order)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch of the minibatch solver over X, y, continuing the
        weights and the solver state (momentum, Adam's moments, the epoch
        count, which draws the shuffle) of the previous call, as
        SGDClassifier.partial_fit. The first call needs `classes`, every
        class that will ever be seen; later calls may omit it (or repeat
        it unchanged). Only for solver="sgd", "momentum" or "adam"."""
        return self._fit(X, y, sample_weight, partial=True, classes=classes)

    def _fit(self, X, y, sample_weight, partial, classes):
        C_inv, tol, lr = self._check_params()
        snap = _snapshot(self)
        # partial_fit after fit() (or load()) continues that model, with a
        # new solver state
        first = not (partial and hasattr(snap, "coef_"))
        if not first:  # the model partial_fit goes on from, checked whole
            old_k = _fitted_model(snap)[0].shape[1]
        X, y = self._check_Xy(snap, X, y, reset=first)
        Xm = as_matrix(X)
        if partial:
            y_classes = np.unique(y)
            if first:
                if classes is None:
                    raise ValueError("classes must be passed on the first call to partial_fit")
                classes = np.unique(np.asarray(classes))
            else:
                known = np.asarray(snap.classes_)
                if classes is not None and not np.array_equal(np.unique(np.asarray(classes)),
                                                              known):
                    raise ValueError("classes=%r is not the same as on the first call to "
                                     "partial_fit (%r)" % (np.asarray(classes).tolist(),
                                                           known.tolist()))
                if old_k != Xm.shape[1]:  # coef_ edited by hand
                    raise ValueError("X has %d features, but coef_ has %d columns"
                                     % (Xm.shape[1], old_k))
                classes = known
            unseen = np.setdiff1d(y_classes, classes)
            if len(unseen):
                raise ValueError("y holds classes %r that are not in classes=%r"
                                 % (unseen.tolist(), classes.tolist()))
            y_idx = np.searchsorted(classes, y)
        else:
            classes, y_idx = np.unique(y, return_inverse=True)
            y_idx = y_idx.reshape(-1)
        if partial and isinstance(self.class_weight, str):
            # as SGDClassifier: one batch's counts are not the data's
            raise ValueError("class_weight=%r is not supported by partial_fit: give a dict of "
                             "weights computed from the whole data" % (self.class_weight,))
        if len(classes) < 2:
            raise ValueError("SoftmaxRegression needs samples of at least 2 classes in the "
                             "data, but the data contains only one class: %r" % (classes[0],))
        C, k = len(classes), Xm.shape[1]
        if partial and not first and getattr(snap, "_precision", None) is not None:
            prec = snap._precision  # the run's precision, whatever this batch's size
        else:
            prec = self._precision_for_fit(tol, Xm.shape[0] * k)
        w = self._weights(y_idx, classes, sample_weight, X)
        if w is not None:
            if not np.any(w > 0):
                raise ValueError("sample_weight (times class_weight) is zero for every sample")
            if np.all(w == 1):
                w = None  # the same objective, computed as without weights
            elif np.any(w == 0):
                # A zero weight removes its sample from J exactly; removing it
                # also keeps it out of the training accuracy.
                keep = w > 0
                Xm = as_matrix(X[np.flatnonzero(keep)])
                y_idx, w = y_idx[keep], w[keep]
                if np.all(w == 1):
                    w = None
        init = None
        if partial and not first:
            init = (snap.coef_, snap.intercept_)
        elif (not partial and self.warm_start and hasattr(snap, "coef_")
              and np.shape(snap.coef_) == (C, k) and np.shape(snap.intercept_) == (C,)
              and np.array_equal(np.asarray(snap.classes_), classes)):
            init = (snap.coef_, snap.intercept_)
        opts = TrainOptions()
        check(lib.csm_train_options_init(ctypes.byref(opts), ctypes.sizeof(opts)),
              "csm_train_options_init")
        opts.solver = SOLVERS[self.solver]
        opts.max_iter = 1 if partial else int(self.max_iter)
        opts.tol = 0.0 if partial else tol
        opts.C = C_inv
        opts.batch_size = int(self.batch_size)
        opts.learning_rate = lr
        opts.seed = self._seed()
        opts.fit_intercept = int(bool(self.fit_intercept))
        opts.l1_ratio = float(self.l1_ratio)
        state = None if first else getattr(snap, "_solver_state", None)
        opts.resume = int(state is not None)
        history = {"loss": [], "accuracy": [], "seconds": [], "grad_max_abs": [],
                   "evaluations": []}
        failure = []
        unit = "iteration" if self.solver in ("lbfgs", "newton") else "epoch"
        verbose = int(self.verbose)
        guard = []  # the interrupt guard, once entered

        def on_epoch(model, info_p, user):
            try:
                if guard and guard[0].pending:  # Ctrl-C: stop here
                    return 1
                info = info_p.contents
                if info.struct_size != ctypes.sizeof(info):
                    raise Error(3, "csm_epoch_info has %d bytes, this package expects %d"
                                % (info.struct_size, ctypes.sizeof(info)))
                history["loss"].append(info.loss)
                history["accuracy"].append(info.accuracy)
                history["seconds"].append(info.seconds)
                history["grad_max_abs"].append(info.grad_max_abs)
                history["evaluations"].append(info.evaluations)
                if verbose:
                    print("%s %d/%d  loss %.9f  accuracy %.4f%s  %.2fs"
                          % (unit, info.epoch, info.epochs, info.loss, info.accuracy,
                             "  max|grad| %.2e  evals %d" % (info.grad_max_abs, info.evaluations)
                             if self.solver in ("lbfgs", "newton") else "", info.seconds),
                          file=sys.stderr, flush=True)
                return 0
            except BaseException as e:  # never let an exception unwind through C
                failure.append(e)
                return 1

        opts.callback = EPOCH_FN(on_epoch)
        result = TrainResult()
        result.struct_size = ctypes.sizeof(result)
        ctx = context(self.device)
        # Ctrl-C stops training at the next iteration and raises
        # KeyboardInterrupt as the guard's block ends, before anything is
        # published
        with ctx.lock, interrupt_guard(echo=verbose >= 2) as g:
            guard.append(g)
            if state is not None:
                model = Model.with_solver_state(ctx, state, prec, init[0], init[1])
            elif init is not None:
                model = Model(ctx, prec, init[0], init[1])
            else:
                model = Model(ctx, prec, np.zeros((C, k)), np.zeros(C))
            with model, Dataset(ctx, prec, Xm, y_idx, C, w) as data:
                st = lib.csm_train(model.handle, data.handle, ctypes.byref(opts),
                                   ctypes.byref(result))
                if failure:
                    raise failure[0]
                if g.pending:
                    raise KeyboardInterrupt
                check(st, "csm_train", ctx.handle)
                W, b = model.params()
                new_state = model.solver_state_bytes() if partial else None
        fitted = {"classes_": classes, "coef_": W, "intercept_": b,
                  "n_features_in_": snap.n_features_in_,
                  "n_iter_": np.array([result.n_iter], dtype=np.int32),
                  "history_": {key: np.array(v) for key, v in history.items()},
                  "converged_": bool(result.converged),
                  "stop_": lib.csm_stop_string(result.stop).decode(),
                  "objective_": result.objective, "_precision": prec,
                  "_solver_state": new_state}
        if hasattr(snap, "feature_names_in_"):
            fitted["feature_names_in_"] = snap.feature_names_in_
        _publish(self, fitted)
        if verbose:
            print("%s %s after %d %ss: objective %.12g (J incl. L2, lambda %.3g), max|grad| "
                  "%.2g, accuracy %.4f" % (self.solver, "converged" if result.converged else
                                           "stopped (%s)" % fitted["stop_"], result.n_iter,
                                           unit, result.objective, result.l2,
                                           result.grad_max_abs,
                                           history["accuracy"][-1] if history["accuracy"]
                                           else float("nan")),
                  file=sys.stderr, flush=True)
        # tol = 0 asks for max_iter iterations: reaching them is no surprise;
        # a partial_fit epoch is one by design.
        if not partial and result.stop != CSM_STOP_TOL and not (
                result.stop == CSM_STOP_MAX_ITER and tol == 0):
            hint = (" Increase max_iter, or scale the data (StandardScaler)."
                    if result.stop == CSM_STOP_MAX_ITER else
                    " Use dtype='float64' or a larger tol." if prec != CSM_FLOAT64 else "")
            warnings.warn("%s stopped short of tol=%g: %s (max|grad| %.3g).%s"
                          % (self.solver, tol, fitted["stop_"], result.grad_max_abs, hint),
                          ConvergenceWarning)
        return self

    # ------------------------------------------------------------ prediction
    def _forward(self, X):
        snap = _snapshot(self)
        W, b, _ = _fitted_model(snap)
        X = self._check_X(snap, X, reset=False)
        Xm = as_matrix(X)
        if Xm.shape[1] != W.shape[1]:
            raise ValueError("X has %d features, but coef_ has %d columns"
                             % (Xm.shape[1], W.shape[1]))
        prec = getattr(snap, "_precision", None)
        if prec is None:  # attributes set by hand
            prec = self._precision_for_fit(float(self.tol))
        ctx = context(self.device)
        n, C = Xm.shape[0], W.shape[0]  # from the model used below
        S = np.empty((n, C))
        O = np.empty((n, C))
        with ctx.lock, interrupt_guard(), Model(ctx, prec, W, b) as m, \
                Dataset(ctx, prec, Xm) as d:
            check(lib.csm_forward(m.handle, d.handle, ptr(S), ptr(O)), "csm_forward", ctx.handle)
        return snap, S, O

    def decision_function(self, X):
        """Logits S = X coef_^T + intercept_, (n, C); for two classes the
        log-odds S[:, 1] - S[:, 0] of classes_[1], (n,), as scikit-learn's
        binary classifiers return."""
        _, S, _ = self._forward(X)
        return S[:, 1] - S[:, 0] if S.shape[1] == 2 else S

    def predict_proba(self, X):
        """Class probabilities (n, C), columns in the order of classes_."""
        return self._forward(X)[2]

    def predict_log_proba(self, X):
        """log predict_proba, from the logits (finite where a probability underflows)."""
        _, S, _ = self._forward(X)
        m = S.max(axis=1, keepdims=True)
        return S - m - np.log(np.exp(S - m).sum(axis=1, keepdims=True))

    def predict(self, X):
        """The most probable class of each sample (ties: the first in classes_)."""
        snap, S, _ = self._forward(X)
        return np.asarray(snap.classes_)[np.argmax(S, axis=1)]

    # ------------------------------------------------------------ model files
    def save(self, path):
        """Writes the model as the safetensors file `clsoftmax predict` and
        `eval` read (weight, bias, labels; see _class_names for non-integer
        classes), at the precision it was trained in."""
        snap = _snapshot(self)
        W, b, classes = _fitted_model(snap)
        prec = getattr(snap, "_precision", None)
        if prec is None:  # attributes set by hand
            prec = self._precision_for_fit(float(self.tol))
        ints, names, kind = _class_names(classes)
        if ints is not None and np.any(ints[1:] <= ints[:-1]):  # (np.diff overflows)
            raise ValueError("integer classes must be distinct and sorted, got %s"
                             % (ints.tolist(),))
        if names is not None and len(set(names)) != len(names):
            raise ValueError("class names must be distinct, got %s" % (names,))
        meta = {"solver": getattr(snap, "solver_", self.solver), "C": repr(float(self.C)), "tol": repr(float(self.tol)),
                "max_iter": str(self.max_iter),
                "precision": "float64" if prec == CSM_FLOAT64 else "float32",
                "fit_intercept": "true" if self.fit_intercept else "false",
                "trained_by": "clsoftmax python"}
        if self.l1_ratio > 0:
            meta["l1_ratio"] = repr(float(self.l1_ratio))
        if hasattr(snap, "n_iter_"):
            meta["n_iter"] = str(int(np.asarray(snap.n_iter_).ravel()[0]))
        for attr, key, conv in (("converged_", "converged", lambda v: "true" if v else "false"),
                                ("stop_", "stop", str),
                                ("objective_", "objective", lambda v: repr(float(v)))):
            if hasattr(snap, attr):
                meta[key] = conv(getattr(snap, attr))
        if names is not None:
            meta["label_names"] = json.dumps(names)
            meta["label_type"] = kind
        ctx = context(self.device)
        with ctx.lock, Model(ctx, prec, W, b) as m:
            if ints is not None:
                check(lib.csm_model_set_labels(m.handle, ptr(np.ascontiguousarray(ints))),
                      "csm_model_set_labels", ctx.handle)
            for key, value in meta.items():
                check(lib.csm_model_set_metadata(m.handle, key.encode(), value.encode()),
                      "csm_model_set_metadata", ctx.handle)
            check(lib.csm_model_save(m.handle, os.fsencode(path)), "csm_model_save",
                  ctx.handle)
        return self

    @classmethod
    def load(cls, path, device=None):
        """A fitted estimator from a model file written by save() or by
        `clsoftmax train`: coef_, intercept_, classes_, and the training
        options the file records (solver, C, tol, max_iter, precision,
        fit_intercept, l1_ratio); metadata_ holds the file's whole metadata (str -> str)."""
        ctx = context(device)
        handle = ctypes.c_void_p()
        with ctx.lock:
            check(lib.csm_model_load(ctx.handle, ctypes.byref(handle), os.fsencode(path)),
                  "csm_model_load", ctx.handle)
            with Model(ctx, handle=handle) as m:
                C, k = m.shape
                W, b = m.params()
                labels = np.ctypeslib.as_array(lib.csm_model_labels(m.handle), (C,)).copy()
                meta = {}
                for i in range(lib.csm_model_metadata_count(m.handle)):
                    key = lib.csm_model_metadata_key(m.handle, i)
                    meta[key.decode()] = lib.csm_model_get_metadata(m.handle, key).decode()
                prec = lib.csm_model_precision(m.handle)
        est = cls(device=device, dtype="float64" if prec == CSM_FLOAT64 else "float32")
        if meta.get("solver") in SOLVERS:
            est.solver = meta["solver"]
        for name, conv in (("C", float), ("tol", float), ("max_iter", int), ("l1_ratio", float)):
            if name in meta:
                try:
                    setattr(est, name, conv(meta[name]))
                except ValueError:
                    pass
        if meta.get("fit_intercept") in ("true", "false"):
            est.fit_intercept = meta["fit_intercept"] == "true"
        fitted = {"classes_": _classes_from_file(labels, meta), "coef_": W, "intercept_": b,
                  "n_features_in_": k, "metadata_": meta, "_precision": prec}
        if "n_iter" in meta:
            try:
                fitted["n_iter_"] = np.array([int(meta["n_iter"])], dtype=np.int32)
            except ValueError:
                pass
        _publish(est, fitted)
        return est


def load(path, device=None):
    """SoftmaxRegression.load(path, device)."""
    return SoftmaxRegression.load(path, device)
