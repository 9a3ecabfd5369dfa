"""SoftmaxRegression as scikit-learn sees it: its own check_estimator (no
warning hidden: tests/python.sh turns FutureWarning and DeprecationWarning
into errors), the optimum of LogisticRegression on the same data, for two
classes too (its probabilities at the same C), Pipeline and GridSearchCV."""
import os
import unittest

import numpy as np
import sklearn
from sklearn.datasets import load_breast_cancer, load_digits, load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

from clsoftmax import SoftmaxRegression
from helpers import sklearn_objective, sklearn_fixture

SKLEARN = tuple(int(v) for v in sklearn.__version__.split(".")[:2])


class TestCheckEstimator(unittest.TestCase):
    def test_check_estimator(self):
        # Every check scikit-learn runs on its own classifiers, with the
        # defaults (those that need pandas skip themselves with a
        # SkipTestWarning, which stays visible).
        check_estimator(SoftmaxRegression())

    def test_check_estimator_partial_fit(self):
        # a first-order solver has partial_fit, which scikit-learn checks too
        check_estimator(SoftmaxRegression(solver="adam"))

    def test_tags(self):
        est = SoftmaxRegression()
        if SKLEARN >= (1, 6):
            tags = est.__sklearn_tags__()
            self.assertTrue(tags.input_tags.sparse)
            self.assertEqual(tags.estimator_type, "classifier")
        else:
            self.assertIn("sparse", est._get_tags()["X_types"])


class TestSameOptimum(unittest.TestCase):
    """Against LogisticRegression (multinomial for > 2 classes): the same
    objective, so at float64 and tight tolerances the same minimiser."""

    def compare(self, X, y, C=1.0, atol=2e-3):
        ours = SoftmaxRegression(C=C, tol=1e-8, max_iter=5000).fit(X, y)
        ref = LogisticRegression(C=C, tol=1e-10, max_iter=20000).fit(X, y)
        J = sklearn_objective(ours.coef_, ours.intercept_, X, y, C)
        J_ref = sklearn_objective(ref.coef_, ref.intercept_, X, y, C)
        self.assertTrue(ours.converged_)
        self.assertLess(abs(J - J_ref) / J_ref, 1e-6, (J, J_ref))
        # Near the optimum J is flat along some directions (digits' constant
        # pixels, the bias), so the parameters agree less than J does.
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=atol)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=atol)
        np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
        np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=atol / 10)
        self.assertAlmostEqual(ours.objective_, J, delta=1e-10 * J)
        return ours, ref

    def test_iris(self):
        X, y = load_iris(return_X_y=True)
        self.compare(X, y)
        self.compare(X, y, C=0.1)

    def test_digits(self):
        X, y = load_digits(return_X_y=True)
        self.compare(X / 16.0, y, atol=1e-2)


class TestTwoClasses(unittest.TestCase):
    """C means LogisticRegression's C for two classes too: at the same C,
    in float64 to a tight tol, the probabilities are scikit-learn's at its
    optimum within 1e-6 (tests/data/sklearn/CASE.proba.csv, computed by
    make-fixtures.py to 1e-12), on breast cancer and liblinear's
    heart_scale, and its binary coef_ is our row 1 - row 0."""

    def check_case(self, case, C, **params):
        X, y, P = sklearn_fixture(case)
        ours = SoftmaxRegression(C=C, tol=1e-10, max_iter=5000, dtype="float64",
                                 **params).fit(X, y)
        self.assertTrue(ours.converged_, ours.stop_)
        np.testing.assert_allclose(ours.predict_proba(X), P, rtol=0, atol=1e-6)
        return X, y, ours

    def test_breast_cancer(self):
        for case, C in (("breast_cancer", 1.0), ("breast_cancer-C0.05", 0.05)):
            X, y, ours = self.check_case(case, C)
            ref = LogisticRegression(C=C, tol=1e-10, max_iter=20000).fit(X, y)
            # one fit of scikit-learn 1.2 stops ~1e-8 relative above the
            # optimum in J (its scipy ftol), 1e-4 away in the weights: the
            # fixture above is the optimum itself
            np.testing.assert_allclose(ours.coef_[1] - ours.coef_[0], ref.coef_[0], atol=1e-3)
            d = ours.decision_function(X)
            self.assertEqual(d.shape, (X.shape[0],))
            np.testing.assert_allclose(d, ref.decision_function(X), rtol=1e-4, atol=1e-3)
            np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
            np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-4)

    def test_heart_scale(self):
        for case, C in (("heart_scale", 1.0), ("heart_scale-C0.05", 0.05)):
            X, y, ours = self.check_case(case, C)
            np.testing.assert_array_equal(ours.classes_, [-1, 1])
            ref = LogisticRegression(C=C, tol=1e-10, max_iter=20000).fit(X, y)
            np.testing.assert_array_equal(ours.predict(X), ref.predict(X))

    def test_no_intercept(self):
        X, y, ours = self.check_case("heart_scale-nobias", 1.0, fit_intercept=False)
        np.testing.assert_array_equal(ours.intercept_, [0.0, 0.0])
        ref = LogisticRegression(C=1.0, tol=1e-10, max_iter=20000, fit_intercept=False).fit(X, y)
        np.testing.assert_allclose(ours.coef_[1] - ours.coef_[0], ref.coef_[0], atol=1e-3)

    def test_float32_to_its_precision(self):
        X, y, P = sklearn_fixture("heart_scale")
        ours = SoftmaxRegression(C=1.0, tol=1e-6, dtype="float32").fit(X, y)
        np.testing.assert_allclose(ours.predict_proba(X), P, rtol=0, atol=1e-4)


class TestElasticNet(unittest.TestCase):
    """l1_ratio: scikit-learn's saga optimum (tests/data/sklearn/l1-optima.txt)
    and its exact zeros, saga's own fit being minutes long on digits."""

    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "sklearn")

    def optimum(self, name):
        with open(os.path.join(self.here, "l1-optima.txt")) as f:
            for line in f:
                fields = line.split()
                if fields and fields[0] == name:
                    return float(fields[7]), np.array([c == "1" for c in fields[10]])
        raise KeyError(name)

    def test_wine(self):
        data = np.loadtxt(os.path.join(self.here, "wine.csv"), delimiter=",", skiprows=1)
        X, y = data[:, 1:], data[:, 0].astype(np.int64)
        for r in (1.0, 0.5):
            J_saga, zeros = self.optimum("wine-l1_%g" % r)
            ours = SoftmaxRegression(l1_ratio=r, tol=1e-9, dtype="float64").fit(X, y)
            n = len(y)
            J = (sklearn_objective(ours.coef_, ours.intercept_, X, y, np.inf)
                 + (r * np.abs(ours.coef_).sum() + (1 - r) / 2 * (ours.coef_ ** 2).sum()) / n)
            self.assertTrue(ours.converged_)
            self.assertLessEqual((J - J_saga) / J_saga, 1e-6, (r, J, J_saga))
            np.testing.assert_array_equal(ours.coef_.ravel() == 0, zeros)

    def test_bad_l1_ratio(self):
        X, y = load_iris(return_X_y=True)
        for r in (-0.1, 1.5, np.nan, "0.5"):
            with self.assertRaises(ValueError):
                SoftmaxRegression(l1_ratio=r).fit(X, y)
        with self.assertRaises(ValueError):
            SoftmaxRegression(l1_ratio=0.5, solver="adam").fit(X, y)


class TestComposition(unittest.TestCase):
    def test_pipeline(self):
        X, y = load_iris(return_X_y=True)
        names = np.array(["setosa", "versicolor", "virginica"])[y]
        pipe = make_pipeline(StandardScaler(), SoftmaxRegression(C=10.0)).fit(X, names)
        ref = make_pipeline(StandardScaler(), LogisticRegression(C=10.0, max_iter=1000)).fit(X, names)
        self.assertEqual(pipe.predict(X).dtype.kind, "U")
        self.assertGreaterEqual((pipe.predict(X) == ref.predict(X)).mean(), 0.99)
        self.assertAlmostEqual(pipe.score(X, names), ref.score(X, names), delta=0.015)

    def test_grid_search_over_C(self):
        X, y = load_digits(return_X_y=True)
        X = X[:600] / 16.0
        y = y[:600]
        grid = {"C": [0.01, 0.1, 1.0]}
        ours = GridSearchCV(SoftmaxRegression(), grid, cv=3).fit(X, y)
        ref = GridSearchCV(LogisticRegression(max_iter=2000), grid, cv=3).fit(X, y)
        self.assertEqual(ours.best_params_, ref.best_params_)
        np.testing.assert_allclose(ours.cv_results_["mean_test_score"],
                                   ref.cv_results_["mean_test_score"], atol=0.01)
        self.assertIsInstance(ours.best_estimator_, SoftmaxRegression)
        self.assertEqual(ours.best_estimator_.C, ours.best_params_["C"])

    def test_feature_names(self):
        try:
            import pandas as pd
        except ImportError:
            self.skipTest("pandas is not installed")
        X, y = load_iris(return_X_y=True, as_frame=True)
        clf = SoftmaxRegression().fit(X, y)
        np.testing.assert_array_equal(clf.feature_names_in_, X.columns)
        with self.assertRaisesRegex(ValueError, "feature names"):
            clf.predict(X.rename(columns={X.columns[0]: "other"}))
        # a refit on an array drops the names it no longer has
        clf.fit(X.to_numpy(), y)
        self.assertFalse(hasattr(clf, "feature_names_in_"))


if __name__ == "__main__":
    unittest.main()
