"""SoftmaxRegressionCV: cross-validated choice of C (and l1_ratio), in the
shape of scikit-learn's LogisticRegressionCV, on the warm-started path that
`clsoftmax cv` runs: in each fold one model on the device, trained at every
C from the smallest to the largest, each fit starting from the weights of
the one before (liblinear's -C), and scored on the held-out part; then the
best setting refitted on all the data along the same path.
"""
import ctypes
import numbers
import warnings

import numpy as np

from ._lib import lib, check, context, SOLVERS, TrainOptions, TrainResult, interrupt_guard
from ._handles import Dataset, Model, as_matrix, ptr
from .estimator import (SoftmaxRegression, HAVE_SKLEARN, ConvergenceWarning, available_if,
                        _publish, _snapshot)

__all__ = ["SoftmaxRegressionCV"]


def _never(est):
    raise AttributeError("SoftmaxRegressionCV has no partial_fit: fit chooses C on all the data")


class SoftmaxRegressionCV(SoftmaxRegression):
    """Softmax regression with C (and l1_ratio) chosen by cross-validation.

    The parameters and attributes are those of scikit-learn's
    LogisticRegressionCV where they apply (multinomial; the objective is
    SoftmaxRegression's), plus SoftmaxRegression's device options.

    Parameters
    ----------
    Cs : int or list of floats, default 10. An int: that many values on a
        log scale from 1e-4 to 1e4 (LogisticRegressionCV's grid). Trained in
        ascending order, each fit warm-started from the previous C's weights.
    cv : None (5 folds), an int (that many StratifiedKFold folds, without
        shuffling, as scikit-learn), a splitter or an iterable of
        (train, test) index arrays
    l1_ratios : None or list of floats in [0, 1], elastic-net mixing r: the
        penalty is (1 / C) (r ||W||_1 + (1 - r)/2 ||W||^2) on the summed
        loss; None: L2 only (r = 0)
    scoring : None (accuracy, weighted by sample_weight when given) or a
        scikit-learn scorer name or callable scorer(estimator, X, y)
        (given sample_weight=... when sample weights are given)
    refit : bool, default True. True: the best setting refitted on all the
        data (along the same warm-started path up to its C). False: coef_
        and intercept_ are the mean over the folds of the fold models at the
        best setting, as LogisticRegressionCV.
    solver : "auto" (default), or one of SoftmaxRegression's, for every
        fit. "auto" chooses along each l1_ratio's path: "newton" for the
        L2 fits (l1_ratio 0), "lbfgs" (OWL-QN) where l1_ratio > 0. Along a
        warm-started path every fit starts near its optimum, where Newton
        converges in a few steps and L-BFGS rebuilds its curvature from
        nothing (measured on digits, BENCHMARKS.md "Cross-validation")
    tol, max_iter, batch_size, learning_rate, class_weight, random_state,
    device, dtype, fit_intercept, verbose : as SoftmaxRegression's, for
        every fit (class_weight "balanced" counts each fold's training
        part, as GridSearchCV over SoftmaxRegression would)

    Attributes
    ----------
    Cs_ : (n_Cs,) the C values, ascending
    l1_ratios_ : (n_l1,) the l1_ratio values ([0.] when l1_ratios is None)
    scores_ : dict, each class -> the same array of held-out scores,
        (n_folds, n_Cs), or (n_folds, n_Cs, n_l1) when l1_ratios is given
    C_, l1_ratio_ : (n_classes,) the best C and l1_ratio (the same for every
        class: one multinomial model). Ties: the smaller C (the stronger
        penalty), then the first l1_ratio
    n_iter_ : (1, n_folds, n_Cs) or (1, n_folds, n_Cs, n_l1) iterations
        (Newton's outer iterations where it ran)
    solver_ : the solver of the best setting's fits (and of the refit)
    coef_, intercept_, classes_, n_features_in_ : as SoftmaxRegression's
    """

    def __init__(self, Cs=10, cv=None, l1_ratios=None, scoring=None, refit=True,
                 solver="auto", tol=1e-4, max_iter=1000, batch_size=256, learning_rate=None,
                 class_weight=None, random_state=None, device=None, dtype="auto",
                 fit_intercept=True, verbose=0):
        self.Cs = Cs
        self.cv = cv
        self.l1_ratios = l1_ratios
        self.scoring = scoring
        self.refit = refit
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.class_weight = class_weight
        self.random_state = random_state
        self.device = device
        self.dtype = dtype
        self.fit_intercept = fit_intercept
        self.verbose = verbose

    # SoftmaxRegression's methods read these: the best C once fitted
    warm_start = False
    _solver_names = tuple(SOLVERS) + ("auto",)

    @property
    def C(self):
        C_ = getattr(self, "C_", None)
        return float(np.asarray(C_).ravel()[0]) if C_ is not None else 1.0

    @property
    def l1_ratio(self):
        r = getattr(self, "l1_ratio_", None)
        return float(np.asarray(r).ravel()[0]) if r is not None else 0.0

    @available_if(_never)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        raise AttributeError("no partial_fit")  # pragma: no cover (available_if hides it)

    @classmethod
    def load(cls, path, device=None):
        """A model file loads as the SoftmaxRegression it holds."""
        return SoftmaxRegression.load(path, device)

    # ---------------------------------------------------------------- checks
    def _grid(self):
        Cs = self.Cs
        if isinstance(Cs, numbers.Integral) and not isinstance(Cs, bool):
            if Cs < 1:
                raise ValueError("Cs must be an int >= 1 or a list of C values, got %r" % (Cs,))
            Cs = np.logspace(-4, 4, int(Cs))
        Cs = np.asarray(Cs, dtype=np.float64).ravel()
        if Cs.size == 0 or not np.all(np.isfinite(Cs)) or np.any(Cs <= 0):
            raise ValueError("Cs must hold finite values > 0, got %r" % (self.Cs,))
        if np.unique(Cs).size != Cs.size:
            raise ValueError("Cs holds a value twice: %r" % (self.Cs,))
        if self.l1_ratios is None:
            ratios = np.zeros(1)
        else:
            ratios = np.asarray(self.l1_ratios, dtype=np.float64).ravel()
            if ratios.size == 0 or not np.all((ratios >= 0) & (ratios <= 1)):
                raise ValueError("l1_ratios must be values in [0, 1], got %r" % (self.l1_ratios,))
            if np.unique(ratios).size != ratios.size:
                raise ValueError("l1_ratios holds a value twice: %r" % (self.l1_ratios,))
            if np.any(ratios > 0) and self.solver not in ("lbfgs", "auto"):
                raise ValueError("l1_ratios above 0 need solver 'lbfgs' (OWL-QN), not %r"
                                 % (self.solver,))
        if not isinstance(self.refit, (bool, np.bool_)):
            raise ValueError("refit must be True or False, got %r" % (self.refit,))
        return np.sort(Cs), ratios

    def _splits(self, X, y):
        if HAVE_SKLEARN:
            from sklearn.model_selection import check_cv
            return list(check_cv(self.cv, y, classifier=True).split(X, y))
        k = 5 if self.cv is None else self.cv
        if not isinstance(k, numbers.Integral):
            return list(k.split(X, y) if hasattr(k, "split") else k)
        raise ValueError("cv=int needs scikit-learn (StratifiedKFold); give (train, test) pairs")

    def _scorer(self):
        if self.scoring is None:
            return None
        if not HAVE_SKLEARN:
            raise ValueError("scoring needs scikit-learn")
        from sklearn.metrics import get_scorer
        return get_scorer(self.scoring)

    # ------------------------------------------------------------------- fit
    def fit(self, X, y, sample_weight=None):
        """Cross-validates on X (n, k) (array or SciPy sparse) and labels y
        (n,), then (refit) trains the best setting on all of them."""
        _, tol, lr = self._check_params()
        Cs, ratios = self._grid()
        snap = _snapshot(self)
        X, y = self._check_Xy(snap, X, y, reset=True)
        classes, y_idx = np.unique(y, return_inverse=True)
        y_idx = y_idx.reshape(-1)
        if len(classes) < 2:
            raise ValueError("SoftmaxRegressionCV needs samples of at least 2 classes in the "
                             "data, but the data contains only one class: %r" % (classes[0],))
        sw = None
        if sample_weight is not None:
            sw = SoftmaxRegression(class_weight=None)._weights(y_idx, classes, sample_weight, X)
        splits = self._splits(X, y)
        scorer = self._scorer()
        prec = self._precision_for_fit(tol, X.shape[0] * X.shape[1])
        run = _Path(self, classes, prec, tol, lr)
        n_f, n_c, n_r = len(splits), len(Cs), len(ratios)
        scores = np.zeros((n_f, n_c, n_r))
        n_iter = np.zeros((n_f, n_c, n_r), dtype=np.int32)
        keep = None if self.refit else np.zeros((n_f, n_c, n_r, len(classes), X.shape[1] + 1))
        for f, (tr, te) in enumerate(splits):
            fold = run.fold(X, y, y_idx, sw, tr, te, scorer)
            for r, ratio in enumerate(ratios):
                for i, (W, b, it, score) in enumerate(fold.path(Cs, ratio)):
                    scores[f, i, r], n_iter[f, i, r] = score, it
                    if keep is not None:
                        keep[f, i, r, :, :-1], keep[f, i, r, :, -1] = W, b
        mean = scores.mean(axis=0)  # (n_c, n_r): C ascending, so argmax takes the smaller
        best_c, best_r = np.unravel_index(np.argmax(mean), mean.shape)
        if self.refit:
            whole = run.fold(X, y, y_idx, sw, np.arange(X.shape[0]), None, None)
            W, b = None, None
            for W, b, _, _ in whole.path(Cs[:best_c + 1], ratios[best_r]):
                pass
        else:
            avg = keep[:, best_c, best_r].mean(axis=0)
            W, b = avg[:, :-1], avg[:, -1]
        run.warn_short()
        C = len(classes)
        shaped = (lambda a: a[:, :, 0]) if self.l1_ratios is None else (lambda a: a)
        fitted = {"classes_": classes, "coef_": W, "intercept_": b,
                  "n_features_in_": snap.n_features_in_, "Cs_": Cs,
                  "l1_ratios_": ratios, "scores_": {c: shaped(scores) for c in classes},
                  "C_": np.full(C, Cs[best_c]), "l1_ratio_": np.full(C, ratios[best_r]),
                  "n_iter_": shaped(n_iter)[None], "_precision": prec,
                  "converged_": run.short == 0, "_solver_state": None,
                  "solver_": run.solver_for(ratios[best_r])}
        if hasattr(snap, "feature_names_in_"):
            fitted["feature_names_in_"] = snap.feature_names_in_
        _publish(self, fitted)
        return self


class _Path:
    """The options shared by every fit of one SoftmaxRegressionCV.fit."""

    def __init__(self, est, classes, prec, tol, lr):
        self.est, self.classes, self.prec = est, classes, prec
        self.ctx = context(est.device)
        self.opts = TrainOptions()
        check(lib.csm_train_options_init(ctypes.byref(self.opts), ctypes.sizeof(self.opts)),
              "csm_train_options_init")
        self.opts.max_iter = int(est.max_iter)
        self.opts.tol = tol
        self.opts.batch_size = int(est.batch_size)
        self.opts.learning_rate = lr
        self.opts.seed = est._seed()
        self.opts.fit_intercept = int(bool(est.fit_intercept))
        self.short = 0
        self.fits = 0

    def solver_for(self, ratio):
        """The solver of the fits along l1_ratio `ratio`'s path (see the
        class's solver)."""
        if self.est.solver != "auto":
            return self.est.solver
        return "lbfgs" if ratio > 0 else "newton"

    def fold(self, X, y, y_idx, sw, tr, te, scorer):
        return _Fold(self, X, y, y_idx, sw, tr, te, scorer)

    def warn_short(self):
        if self.short and self.opts.tol > 0:
            warnings.warn("%d of %d fits stopped short of tol=%g. Increase max_iter, or scale "
                          "the data (StandardScaler)." % (self.short, self.fits, self.opts.tol),
                          ConvergenceWarning)


class _Fold:
    """One fold: its training part (class and sample weights), its held-out
    part, and the scorer."""

    def __init__(self, path, X, y, y_idx, sw, tr, te, scorer):
        self.p, self.scorer = path, scorer
        est = path.est
        tr = np.asarray(tr)
        self.Xt = as_matrix(X[tr])
        self.yt = y_idx[tr]
        w = est._weights(self.yt, path.classes, None if sw is None else sw[tr], X[tr])
        self.wt = None if w is None or np.all(w == 1) else w
        self.te = None
        if te is not None:
            te = np.asarray(te)
            self.te, self.Xh, self.yh_raw = te, X[te], y[te]
            self.yh = y_idx[te]
            self.wh = None if sw is None else sw[te]

    def _accuracy(self, m, dh):
        """Held-out accuracy (weighted by sample_weight) of the device's predictions."""
        pred = np.empty(self.yh.shape[0], dtype=np.int32)
        check(lib.csm_predict(m.handle, dh.handle, ptr(pred)), "csm_predict", self.p.ctx.handle)
        return float(np.average((pred == self.yh).astype(np.float64), weights=self.wh))

    def _score(self, W, b):
        """A scikit-learn scorer on a SoftmaxRegression holding W, b."""
        view = SoftmaxRegression(device=self.p.est.device, fit_intercept=self.p.est.fit_intercept)
        _publish(view, {"classes_": self.p.classes, "coef_": W, "intercept_": b,
                        "n_features_in_": W.shape[1], "_precision": self.p.prec})
        if self.wh is None:
            return float(self.scorer(view, self.Xh, self.yh_raw))
        return float(self.scorer(view, self.Xh, self.yh_raw, sample_weight=self.wh))

    def path(self, Cs, ratio):
        """(W, b, iterations, held-out score) at each C in turn, each fit
        starting from the previous weights."""
        p = self.p
        C, k = len(p.classes), self.Xt.shape[1]
        out = []
        with p.ctx.lock, interrupt_guard() as g:
            with Model(p.ctx, p.prec, np.zeros((C, k)), np.zeros(C)) as m, \
                    Dataset(p.ctx, p.prec, self.Xt, self.yt, C, self.wt) as dt:
                dh = Dataset(p.ctx, p.prec, as_matrix(self.Xh)) if self.te is not None else None
                try:
                    for c in Cs:
                        opts = p.opts
                        opts.C = float(c)
                        opts.l1_ratio = float(ratio)
                        opts.solver = SOLVERS[p.solver_for(ratio)]
                        res = TrainResult()
                        res.struct_size = ctypes.sizeof(res)
                        st = lib.csm_train(m.handle, dt.handle, ctypes.byref(opts),
                                           ctypes.byref(res))
                        if g.pending:
                            raise KeyboardInterrupt
                        check(st, "csm_train", p.ctx.handle)
                        p.fits += 1
                        p.short += not res.converged
                        W, b = m.params()
                        score = (self._accuracy(m, dh) if dh is not None and self.scorer is None
                                 else np.nan)
                        out.append((W, b, int(res.n_iter), score))
                finally:
                    if dh is not None:
                        dh.free()
        if self.te is not None and self.scorer is not None:  # outside the device's lock
            out = [(W, b, it, self._score(W, b)) for W, b, it, _ in out]
        return out
