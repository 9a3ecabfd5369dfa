"""SoftmaxRegressionCV: its held-out scores equal cold fits of
SoftmaxRegression on each fold's parts (the warm-started path reaches the
same optima), the best C and its tie rule, Cs / cv / scoring / refit /
l1_ratios / sample_weight as LogisticRegressionCV takes them, sparse input,
scikit-learn's check_estimator, and bad parameters."""
import os
import tempfile
import unittest
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_iris
from sklearn.metrics import log_loss
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.utils.estimator_checks import check_estimator

from clsoftmax import SoftmaxRegression, SoftmaxRegressionCV
from helpers import blobs, sklearn_objective

TIGHT = dict(tol=1e-7, dtype="float64", max_iter=5000)


def by_hand(X, y, splits, Cs, score, sample_weight=None):
    """(n_folds, n_Cs) scores of SoftmaxRegression fitted from zeros on each
    fold's training part, scored by score(model, X_test, y_test, w_test)."""
    out = np.zeros((len(splits), len(Cs)))
    for f, (tr, te) in enumerate(splits):
        for i, C in enumerate(Cs):
            sw = None if sample_weight is None else sample_weight[tr]
            m = SoftmaxRegression(C=C, **TIGHT).fit(X[tr], y[tr], sample_weight=sw)
            out[f, i] = score(m, X[te], y[te],
                              None if sample_weight is None else sample_weight[te])
    return out


def accuracy(m, X, y, w):
    return np.average(m.predict(X) == y, weights=w)


class TestScores(unittest.TestCase):
    def setUp(self):
        X, y = load_iris(return_X_y=True)
        self.X, self.y = X, np.array(["setosa", "versicolor", "virginica"])[y]
        self.Cs = [0.01, 0.3, 1, 30]

    def test_accuracy_equals_cold_fits_per_fold(self):
        cv = SoftmaxRegressionCV(Cs=self.Cs, cv=4, **TIGHT).fit(self.X, self.y)
        splits = list(StratifiedKFold(4).split(self.X, self.y))
        ref = by_hand(self.X, self.y, splits, self.Cs, accuracy)
        np.testing.assert_array_equal(cv.Cs_, self.Cs)
        for c in cv.classes_:
            np.testing.assert_allclose(cv.scores_[c], ref, atol=1e-12)
        best = np.argmax(ref.mean(axis=0))
        np.testing.assert_array_equal(cv.C_, np.full(3, self.Cs[best]))
        np.testing.assert_array_equal(cv.l1_ratio_, np.zeros(3))
        self.assertEqual(cv.n_iter_.shape, (1, 4, len(self.Cs)))
        self.assertTrue(np.all(cv.n_iter_ >= 0))

    def test_auto_solver_reaches_lbfgs_scores(self):
        # newton ("auto" in float64) and lbfgs along the same path, both
        # to tol 1e-7: the same held-out predictions, the same best C
        a = SoftmaxRegressionCV(Cs=self.Cs, cv=4, solver="auto", **TIGHT).fit(self.X, self.y)
        b = SoftmaxRegressionCV(Cs=self.Cs, cv=4, solver="lbfgs", **TIGHT).fit(self.X, self.y)
        self.assertEqual(a.solver_, "newton")
        np.testing.assert_allclose(a.scores_["setosa"], b.scores_["setosa"], atol=1e-12)
        np.testing.assert_array_equal(a.C_, b.C_)

    def test_neg_log_loss_scorer(self):
        cv = SoftmaxRegressionCV(Cs=self.Cs, cv=3, scoring="neg_log_loss",
                                 **TIGHT).fit(self.X, self.y)
        splits = list(StratifiedKFold(3).split(self.X, self.y))
        ref = by_hand(self.X, self.y, splits, self.Cs,
                      lambda m, X, y, w: -log_loss(y, m.predict_proba(X), labels=m.classes_))
        np.testing.assert_allclose(cv.scores_["setosa"], ref, rtol=1e-5, atol=1e-5)
        self.assertEqual(cv.C_[0], self.Cs[int(np.argmax(ref.mean(axis=0)))])

    def test_refit_is_the_best_model_on_all_data(self):
        # the same optimum from another start: the same objective, weights
        # within what tol 1e-7 on the gradient leaves at this conditioning
        cv = SoftmaxRegressionCV(Cs=self.Cs, cv=3, **TIGHT).fit(self.X, self.y)
        one = SoftmaxRegression(C=cv.C_[0], **TIGHT).fit(self.X, self.y)
        y_idx = np.searchsorted(cv.classes_, self.y)
        j_cv = sklearn_objective(cv.coef_, cv.intercept_, self.X, y_idx, cv.C_[0])
        j_one = sklearn_objective(one.coef_, one.intercept_, self.X, y_idx, cv.C_[0])
        self.assertLessEqual(abs(j_cv - j_one), 1e-9 * abs(j_one))
        scale = np.abs(one.coef_).max()
        np.testing.assert_allclose(cv.coef_, one.coef_, atol=1e-3 * scale)
        np.testing.assert_allclose(cv.intercept_, one.intercept_, atol=1e-3 * scale)
        np.testing.assert_array_equal(cv.predict(self.X), one.predict(self.X))
        self.assertEqual(cv.C, cv.C_[0])

    def test_no_refit_averages_the_folds(self):
        cv = SoftmaxRegressionCV(Cs=self.Cs, cv=3, refit=False, **TIGHT).fit(self.X, self.y)
        splits = list(StratifiedKFold(3).split(self.X, self.y))
        fits = [SoftmaxRegression(C=cv.C_[0], **TIGHT).fit(self.X[tr], self.y[tr])
                for tr, _ in splits]
        scale = np.abs(cv.coef_).max()
        np.testing.assert_allclose(cv.coef_, np.mean([m.coef_ for m in fits], axis=0),
                                   atol=1e-3 * scale)
        np.testing.assert_allclose(cv.intercept_, np.mean([m.intercept_ for m in fits], axis=0),
                                   atol=1e-3 * scale)

    def test_sample_weight_weights_training_and_scores(self):
        w = np.random.RandomState(3).randint(0, 4, size=len(self.y)).astype(float)
        cv = SoftmaxRegressionCV(Cs=[0.1, 3], cv=3, **TIGHT).fit(self.X, self.y,
                                                                  sample_weight=w)
        splits = list(StratifiedKFold(3).split(self.X, self.y))
        ref = by_hand(self.X, self.y, splits, [0.1, 3], accuracy, sample_weight=w)
        np.testing.assert_allclose(cv.scores_["virginica"], ref, atol=1e-12)

    def test_splitters_and_lists_of_splits(self):
        kf = KFold(3, shuffle=True, random_state=0)
        a = SoftmaxRegressionCV(Cs=[0.1, 1], cv=kf, **TIGHT).fit(self.X, self.y)
        b = SoftmaxRegressionCV(Cs=[0.1, 1], cv=list(kf.split(self.X)),
                                **TIGHT).fit(self.X, self.y)
        np.testing.assert_array_equal(a.scores_["setosa"], b.scores_["setosa"])
        self.assertEqual(a.scores_["setosa"].shape, (3, 2))

    def test_cs_int_is_sklearns_grid(self):
        cv = SoftmaxRegressionCV(Cs=4, cv=3).fit(self.X, self.y)
        np.testing.assert_allclose(cv.Cs_, np.logspace(-4, 4, 4))
        self.assertEqual(cv.scores_["setosa"].shape, (3, 4))

    def test_sparse_equals_dense(self):
        X, y = blobs(n=90, k=7, C=3, seed=4)
        X[np.abs(X) < 1] = 0
        d = SoftmaxRegressionCV(Cs=[0.1, 1], cv=3, **TIGHT).fit(X, y)
        s = SoftmaxRegressionCV(Cs=[0.1, 1], cv=3, **TIGHT).fit(sp.csr_matrix(X), y)
        np.testing.assert_array_equal(d.scores_[0], s.scores_[0])
        np.testing.assert_allclose(d.coef_, s.coef_, atol=1e-8)


class TestChoice(unittest.TestCase):
    def test_ties_go_to_the_smaller_c(self):
        X = np.array([[0.], [0.1], [0.2], [1.], [1.1], [1.2]])
        y = np.array([0, 0, 0, 1, 1, 1])
        cv = SoftmaxRegressionCV(Cs=[100, 0.001, 1], cv=3).fit(X, y)
        np.testing.assert_array_equal(cv.scores_[0], np.ones((3, 3)))
        np.testing.assert_array_equal(cv.Cs_, [0.001, 1, 100])
        self.assertEqual(cv.C_[0], 0.001)

    def test_l1_ratios_pass_through(self):
        X, y = blobs(n=60, k=4, C=3, seed=2)
        cv = SoftmaxRegressionCV(Cs=[0.1, 1, 10], cv=3, l1_ratios=[0.5, 0]).fit(X, y)
        self.assertEqual(cv.scores_[0].shape, (3, 3, 2))
        self.assertEqual(cv.n_iter_.shape, (1, 3, 3, 2))
        np.testing.assert_array_equal(cv.l1_ratios_, [0.5, 0])
        self.assertIn(cv.l1_ratio_[0], (0.5, 0))
        self.assertEqual(cv.l1_ratio_.shape, (3,))

    def test_auto_solver(self):
        # "auto": newton for the L2 path, lbfgs (OWL-QN) for an L1 term; the
        # one of the best setting in solver_ and in a saved model's metadata
        X, y = blobs(n=60, k=4, C=3, seed=2)
        cases = ((dict(dtype="float64"), X, "newton"), (dict(dtype="float32"), X, "newton"),
                 (dict(dtype="float32"), sp.csr_matrix(X), "newton"),
                 (dict(dtype="float64", l1_ratios=[0.5]), X, "lbfgs"),
                 (dict(dtype="float64", solver="lbfgs"), X, "lbfgs"),
                 (dict(dtype="float32", solver="sgd"), X, "sgd"))
        for kw, data, solver in cases:
            cv = SoftmaxRegressionCV(Cs=[0.1, 1], cv=3, **kw).fit(data, y)
            self.assertEqual(cv.solver_, solver, msg=str(kw))
        self.assertEqual(SoftmaxRegressionCV().solver, "auto")
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.safetensors")
            SoftmaxRegressionCV(Cs=[0.1, 1], cv=3, dtype="float64").fit(X, y).save(path)
            self.assertEqual(SoftmaxRegressionCV.load(path).solver, "newton")

    def test_bad_parameters(self):
        X, y = blobs(n=30, k=3, C=2, seed=1)
        for kw in (dict(Cs=0), dict(Cs=[]), dict(Cs=[-1, 1]), dict(Cs=[1, np.inf]),
                   dict(Cs=[1, 1.0]), dict(l1_ratios=[1.5]), dict(l1_ratios=[-0.1]),
                   dict(l1_ratios=[0.5, 0.5]), dict(refit="yes"), dict(tol=-1),
                   dict(solver="bfgs"), dict(solver="newton", l1_ratios=[0, 0.5])):
            with self.assertRaises(ValueError, msg=str(kw)):
                SoftmaxRegressionCV(**kw).fit(X, y)
        with self.assertRaises(ValueError):
            SoftmaxRegressionCV(cv=3).fit(X, np.zeros(30))
        self.assertFalse(hasattr(SoftmaxRegressionCV(solver="adam"), "partial_fit"))

    def test_convergence_warning(self):
        X, y = blobs(n=60, k=4, C=3, seed=2)
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            SoftmaxRegressionCV(Cs=[1, 10], cv=3, max_iter=1).fit(X * 100, y)
        self.assertTrue(any("stopped short of tol" in str(r.message) for r in rec))

    def test_check_estimator(self):
        check_estimator(SoftmaxRegressionCV(Cs=3, cv=3))


if __name__ == "__main__":
    unittest.main()
