"""SoftmaxRegression as scikit-learn sees it: its own check_estimator, the
optimum of LogisticRegression on the same data, Pipeline and GridSearchCV."""
import unittest
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

from clsoftmax import SoftmaxRegression
from helpers import sklearn_objective


class TestCheckEstimator(unittest.TestCase):
    def test_check_estimator(self):
        # Every check scikit-learn runs on its own classifiers (those that
        # need pandas skip themselves with a SkipTestWarning).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            check_estimator(SoftmaxRegression())


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

    def test_binary(self):
        # scikit-learn fits one vector for two classes: with C it is the
        # softmax problem with C / 2, its coef_ is ours' row 1 - row 0 and
        # its decision_function is ours.
        X, y = load_breast_cancer(return_X_y=True)
        X = StandardScaler().fit_transform(X)
        ours = SoftmaxRegression(C=0.5, tol=1e-9, max_iter=5000).fit(X, y)
        ref = LogisticRegression(C=1.0, tol=1e-12, max_iter=20000).fit(X, y)
        np.testing.assert_allclose(ours.coef_[1] - ours.coef_[0], ref.coef_[0], atol=2e-3)
        d = ours.decision_function(X)
        self.assertEqual(d.shape, (X.shape[0],))
        np.testing.assert_allclose(d, ref.decision_function(X), atol=1e-2)
        np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


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


if __name__ == "__main__":
    unittest.main()
