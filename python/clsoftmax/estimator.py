"""SoftmaxRegression: a scikit-learn classifier trained by libclsoftmax.

The fitted state is NumPy arrays only (coef_, intercept_, classes_, ...):
library objects are made for each call and freed at its end, so the
estimator pickles, clones and crosses process boundaries (GridSearchCV's
workers) like any scikit-learn estimator. Input checking uses
scikit-learn's own validation when it is installed (the messages and
conversions its users know); without it, a NumPy-only subset.
"""
import ctypes
import json
import numbers
import warnings

import numpy as np

from ._lib import (lib, check, context, Error, SOLVERS, TrainOptions, TrainResult, EPOCH_FN,
                   CSM_STOP_TOL, CSM_STOP_MAX_ITER, CSM_FLOAT64)
from ._handles import Dataset, Model, as_matrix, precision, ptr

try:
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, _check_sample_weight
    HAVE_SKLEARN = True
except ImportError:  # NumPy-only fallbacks
    HAVE_SKLEARN = False
    from ._nosklearn import (BaseEstimator, ClassifierMixin, ConvergenceWarning,
                             check_classification_targets, check_is_fitted,
                             _check_sample_weight)

__all__ = ["SoftmaxRegression", "load"]


def _class_names(classes):
    """How the model file records the classes (see README, "The model file
    from Python"): integer classes as the library's int64 labels; any other
    kind as labels 0..C-1 plus the metadata label_names (a JSON array of
    strings) and label_type ("float": written with repr, read back exactly;
    "str": everything else)."""
    c = np.asarray(classes)
    if c.dtype.kind in "iu":
        return c.astype(np.int64), None, None
    if c.dtype.kind == "f" and np.all(np.isfinite(c)) and np.all(c == np.round(c)) \
            and np.all(np.abs(c) < 2**63):
        return c.astype(np.int64), None, None
    if c.dtype.kind == "O" and all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                                   for v in c):
        return c.astype(np.int64), None, None
    if c.dtype.kind == "f":
        return None, [repr(float(v)) for v in c], "float"
    return None, [str(v) for v in c], "str"


def _classes_from_file(labels, meta):
    names = meta.get("label_names")
    if names is None:
        return np.asarray(labels, dtype=np.int64)
    names = json.loads(names)
    if not isinstance(names, list) or len(names) != len(labels):
        raise ValueError("label_names in the model file does not hold %d names" % len(labels))
    if meta.get("label_type") == "float":
        return np.array([float(v) for v in names])
    return np.array([str(v) for v in names])


class SoftmaxRegression(ClassifierMixin, BaseEstimator):
    """Softmax (multinomial logistic) regression trained on an OpenCL device.

    Minimises scikit-learn's LogisticRegression objective,
    sum_i w_i l_i + ||W||^2 / (2 C) (the bias is not penalised), with the
    library's L-BFGS by default; `solver="sgd"|"momentum"|"adam"` trains by
    minibatches instead. Parameters carry the names of the `clsoftmax train`
    options, and the same defaults, except `dtype`, which is "float64"
    here, as scikit-learn computes (the command's default is float32).

    Parameters
    ----------
    solver : "lbfgs" (default), "sgd", "momentum" or "adam"
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
    dtype : "float64" (default) or "float32", the device's arithmetic

    Attributes
    ----------
    classes_ : (C,) the sorted distinct labels, of any type
    coef_ : (C, k); intercept_ : (C,). Also for two classes (scikit-learn's
        LogisticRegression keeps one row there): decision_function then
        returns S[:, 1] - S[:, 0], the log-odds of classes_[1], shape (n,).
    n_iter_ : (1,) int array, iterations (epochs) run
    n_features_in_ : int
    history_ : dict of arrays, one entry per iteration (epoch): "loss" (J incl.
        the L2 term), "accuracy" (training), "seconds", "grad_max_abs" (L-BFGS)
        -- what `clsoftmax train --plot` draws
    converged_ : bool; stop_ : the library's reason for stopping; objective_ : J
    """

    def __init__(self, solver="lbfgs", C=1.0, tol=1e-4, max_iter=1000, batch_size=256,
                 learning_rate=None, class_weight=None, warm_start=False, random_state=None,
                 device=None, dtype="float64"):
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

    # ------------------------------------------------------------ validation
    def _check_X(self, X, reset):
        if HAVE_SKLEARN:
            X = self._validate_data(X, accept_sparse="csr", dtype=[np.float64, np.float32],
                                    reset=reset)
        else:
            from ._nosklearn import check_array
            X = check_array(X)
            if reset:
                self.n_features_in_ = X.shape[1]
            elif X.shape[1] != self.n_features_in_:
                raise ValueError("X has %d features, but %s is expecting %d features as input"
                                 % (X.shape[1], type(self).__name__, self.n_features_in_))
        return as_matrix(X)

    def _check_params(self):
        if self.solver not in SOLVERS:
            raise ValueError("solver must be one of %s, got %r" % (sorted(SOLVERS), self.solver))
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
        return C, tol, lr, precision(self.dtype)

    def _seed(self):
        rs = self.random_state
        if rs is None:
            return 1
        if isinstance(rs, numbers.Integral):
            return int(rs) % 2**64
        if isinstance(rs, np.random.RandomState):
            return int(rs.randint(0, 2**31 - 1))
        raise ValueError("random_state must be None, an int or a RandomState, got %r" % (rs,))

    def _weights(self, y_idx, n_classes, sample_weight, X):
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
                # scikit-learn's rule: n / (C * count of the class), counted unweighted
                per_class = len(y_idx) / (n_classes * np.bincount(y_idx, minlength=n_classes))
            elif isinstance(cw, dict):
                per_class = np.ones(n_classes)
                index = {c: i for i, c in enumerate(self.classes_.tolist())}
                for c, v in cw.items():
                    if c not in index:
                        raise ValueError("class_weight names the class %r, which is not in "
                                         "the data (classes: %s)" % (c, self.classes_.tolist()))
                    per_class[index[c]] = float(v)
            else:
                raise ValueError("class_weight must be None, 'balanced' or a dict, got %r"
                                 % (cw,))
            cwv = per_class[y_idx]
            w = cwv if w is None else w * cwv
        return w

    # ------------------------------------------------------------------- fit
    def fit(self, X, y, sample_weight=None):
        """Trains on X (n, k) (array or SciPy sparse) and labels y (n,)."""
        C_inv, tol, lr, prec = self._check_params()
        if HAVE_SKLEARN:
            X, y = self._validate_data(X, y, accept_sparse="csr",
                                       dtype=[np.float64, np.float32], reset=True)
            Xm = as_matrix(X)
        else:
            from ._nosklearn import check_array, column_or_1d
            X = check_array(X)
            Xm = self._check_X(X, reset=True)
            y = column_or_1d(y, Xm.shape[0])
        check_classification_targets(y)
        classes, y_idx = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError("SoftmaxRegression needs samples of at least 2 classes in the "
                             "data, but the data contains only one class: %r" % (classes[0],))
        warm = (self.warm_start and hasattr(self, "coef_")
                and self.coef_.shape == (len(classes), Xm.shape[1])
                and np.array_equal(self.classes_, classes))
        self.classes_ = classes
        w = self._weights(y_idx, len(classes), sample_weight, X)
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

        opts = TrainOptions()
        check(lib.csm_train_options_init(ctypes.byref(opts), ctypes.sizeof(opts)),
              "csm_train_options_init")
        opts.solver = SOLVERS[self.solver]
        opts.max_iter = int(self.max_iter)
        opts.tol = tol
        opts.C = C_inv
        opts.batch_size = int(self.batch_size)
        opts.learning_rate = lr
        opts.seed = self._seed()
        history = {"loss": [], "accuracy": [], "seconds": [], "grad_max_abs": []}
        failure = []

        def on_epoch(model, info_p, user):
            try:
                info = info_p.contents
                if info.struct_size != ctypes.sizeof(info):
                    raise Error(3, "csm_epoch_info has %d bytes, this package expects %d"
                                % (info.struct_size, ctypes.sizeof(info)))
                history["loss"].append(info.loss)
                history["accuracy"].append(info.accuracy)
                history["seconds"].append(info.seconds)
                history["grad_max_abs"].append(info.grad_max_abs)
                return 0
            except BaseException as e:  # never let an exception unwind through C
                failure.append(e)
                return 1

        opts.callback = EPOCH_FN(on_epoch)
        result = TrainResult()
        result.struct_size = ctypes.sizeof(result)
        ctx = context(self.device)
        C, k = len(classes), Xm.shape[1]
        with ctx.lock:
            if warm:
                model = Model(ctx, prec, self.coef_, self.intercept_)
            else:
                model = Model(ctx, prec, np.zeros((C, k)), np.zeros(C))
            with model, Dataset(ctx, prec, Xm, y_idx, C, w) as data:
                check(lib.csm_train(model.handle, data.handle, ctypes.byref(opts),
                                    ctypes.byref(result)), "csm_train", ctx.handle)
                if failure:
                    raise failure[0]
                self.coef_, self.intercept_ = model.params()
        self.n_iter_ = np.array([result.n_iter], dtype=np.int32)
        self.history_ = {key: np.array(v) for key, v in history.items()}
        self.converged_ = bool(result.converged)
        self.stop_ = lib.csm_stop_string(result.stop).decode()
        self.objective_ = result.objective
        # tol = 0 asks for max_iter iterations: reaching them is no surprise.
        if result.stop != CSM_STOP_TOL and not (result.stop == CSM_STOP_MAX_ITER and tol == 0):
            hint = (" Increase max_iter, or scale the data (StandardScaler)."
                    if result.stop == CSM_STOP_MAX_ITER else
                    " Use dtype='float64' or a larger tol." if prec != CSM_FLOAT64 else "")
            warnings.warn("%s stopped short of tol=%g: %s (max|grad| %.3g).%s"
                          % (self.solver, tol, self.stop_, result.grad_max_abs, hint),
                          ConvergenceWarning)
        return self

    # ------------------------------------------------------------ prediction
    def _forward(self, X):
        check_is_fitted(self)
        Xm = self._check_X(X, reset=False)
        prec = precision(self.dtype)
        ctx = context(self.device)
        n, C = Xm.shape[0], len(self.classes_)
        S = np.empty((n, C))
        O = np.empty((n, C))
        with ctx.lock, Model(ctx, prec, self.coef_, self.intercept_) as m, \
                Dataset(ctx, prec, Xm) as d:
            check(lib.csm_forward(m.handle, d.handle, ptr(S), ptr(O)), "csm_forward", ctx.handle)
        return S, O

    def decision_function(self, X):
        """Logits S = X coef_^T + intercept_, (n, C); for two classes the
        log-odds S[:, 1] - S[:, 0] of classes_[1], (n,), as scikit-learn's
        binary classifiers return."""
        S, _ = self._forward(X)
        return S[:, 1] - S[:, 0] if S.shape[1] == 2 else S

    def predict_proba(self, X):
        """Class probabilities (n, C), columns in the order of classes_."""
        return self._forward(X)[1]

    def predict_log_proba(self, X):
        """log predict_proba, from the logits (finite where a probability underflows)."""
        S, _ = self._forward(X)
        m = S.max(axis=1, keepdims=True)
        return S - m - np.log(np.exp(S - m).sum(axis=1, keepdims=True))

    def predict(self, X):
        """The most probable class of each sample (ties: the first in classes_)."""
        S, _ = self._forward(X)
        return self.classes_[np.argmax(S, axis=1)]

    # ------------------------------------------------------------ model files
    def save(self, path):
        """Writes the model as the safetensors file `clsoftmax predict` and
        `eval` read (weight, bias, labels; see _class_names for non-integer
        classes), at the estimator's dtype."""
        check_is_fitted(self)
        if len(self.classes_) != self.coef_.shape[0]:
            raise ValueError("classes_ has %d entries but coef_ %d rows"
                             % (len(self.classes_), self.coef_.shape[0]))
        prec = precision(self.dtype)
        ints, names, kind = _class_names(self.classes_)
        ctx = context(self.device)
        with ctx.lock, Model(ctx, prec, self.coef_, self.intercept_) as m:
            if ints is not None:
                if np.any(np.diff(ints) <= 0):
                    raise ValueError("integer classes must be distinct")
                check(lib.csm_model_set_labels(m.handle, ptr(np.ascontiguousarray(ints))),
                      "csm_model_set_labels", ctx.handle)
            meta = {"solver": self.solver, "C": repr(float(self.C)), "tol": repr(float(self.tol)),
                    "max_iter": str(self.max_iter),
                    "precision": np.dtype(self.dtype).name, "trained_by": "clsoftmax python"}
            if hasattr(self, "n_iter_"):
                meta["n_iter"] = str(int(self.n_iter_[0]))
                meta["converged"] = "true" if self.converged_ else "false"
                meta["stop"] = self.stop_
                meta["objective"] = repr(float(self.objective_))
            if names is not None:
                meta["label_names"] = json.dumps(names)
                meta["label_type"] = kind
            for key, value in meta.items():
                check(lib.csm_model_set_metadata(m.handle, key.encode(), value.encode()),
                      "csm_model_set_metadata", ctx.handle)
            check(lib.csm_model_save(m.handle, str(path).encode()), "csm_model_save",
                  ctx.handle)
        return self

    @classmethod
    def load(cls, path, device=None):
        """A fitted estimator from a model file written by save() or by
        `clsoftmax train`: coef_, intercept_, classes_, and the training
        options the file records (solver, C, tol, max_iter, precision);
        metadata_ holds the file's whole metadata (str -> str)."""
        ctx = context(device)
        handle = ctypes.c_void_p()
        with ctx.lock:
            check(lib.csm_model_load(ctx.handle, ctypes.byref(handle), str(path).encode()),
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
        for name, conv in (("C", float), ("tol", float), ("max_iter", int)):
            if name in meta:
                try:
                    setattr(est, name, conv(meta[name]))
                except ValueError:
                    pass
        est.classes_ = _classes_from_file(labels, meta)
        est.coef_, est.intercept_ = W, b
        est.n_features_in_ = k
        if "n_iter" in meta:
            est.n_iter_ = np.array([int(meta["n_iter"])], dtype=np.int32)
        est.metadata_ = meta
        return est


def load(path, device=None):
    """SoftmaxRegression.load(path, device)."""
    return SoftmaxRegression.load(path, device)
