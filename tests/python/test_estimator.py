"""SoftmaxRegression's own behaviour: history, weights, warm start, sparse
input, solvers, labels of any type, pickling, bad input and parameters,
and the NumPy-only fallback when scikit-learn is absent."""
import os
import pickle
import subprocess
import sys
import unittest

import numpy as np

import clsoftmax
from clsoftmax import SoftmaxRegression
from helpers import blobs, ref_forward, sklearn_objective

try:
    import scipy.sparse as sp
except ImportError:
    sp = None


class TestFit(unittest.TestCase):
    def test_attributes_and_predictions(self):
        X, y = blobs()
        clf = SoftmaxRegression().fit(X, y)
        C, k = 3, X.shape[1]
        self.assertEqual(clf.coef_.shape, (C, k))
        self.assertEqual(clf.intercept_.shape, (C,))
        self.assertEqual(clf.n_features_in_, k)
        np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
        S, O = ref_forward(clf.coef_, clf.intercept_, X)
        np.testing.assert_allclose(clf.decision_function(X), S, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(clf.predict_proba(X), O, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(clf.predict_log_proba(X), np.log(O), rtol=1e-8, atol=1e-12)
        np.testing.assert_array_equal(clf.predict(X), np.argmax(S, axis=1))
        self.assertEqual(clf.score(X, y), np.mean(clf.predict(X) == y))

    def test_history(self):
        X, y = blobs()
        clf = SoftmaxRegression(tol=1e-6).fit(X, y)
        h = clf.history_
        n = clf.n_iter_[0]
        for key in ("loss", "accuracy", "seconds", "grad_max_abs", "evaluations"):
            self.assertEqual(h[key].shape, (n,), key)
        # L-BFGS decreases J at every iteration; the last entry is the result.
        self.assertTrue(np.all(np.diff(h["loss"]) <= 1e-12), h["loss"])
        self.assertAlmostEqual(h["loss"][-1], clf.objective_, delta=1e-12)
        self.assertAlmostEqual(clf.objective_, sklearn_objective(clf.coef_, clf.intercept_, X, y, 1.0),
                               delta=1e-10)
        self.assertLessEqual(h["grad_max_abs"][-1], 1e-6)
        self.assertTrue(np.all(h["seconds"] >= 0))
        adam = SoftmaxRegression(solver="adam", max_iter=7, tol=0).fit(X, y)
        self.assertEqual(adam.history_["loss"].shape, (7,))
        self.assertEqual(adam.n_iter_[0], 7)
        self.assertTrue(np.all(np.isnan(adam.history_["grad_max_abs"])))

    def test_first_order_solvers(self):
        X, y = blobs(n=300)
        for solver in ("sgd", "momentum", "adam"):
            # tol=0: the 30 epochs asked for, no ConvergenceWarning
            clf = SoftmaxRegression(solver=solver, max_iter=30, tol=0, batch_size=32,
                                    random_state=3).fit(X, y)
            self.assertGreater(clf.score(X, y), 0.9, solver)
            again = SoftmaxRegression(solver=solver, max_iter=30, tol=0, batch_size=32,
                                      random_state=3).fit(X, y)
            np.testing.assert_array_equal(clf.coef_, again.coef_)  # same seed, same model

    def test_newton(self):
        # the same optimum as L-BFGS (float64, tol 1e-8), dense and CSR;
        # no partial_fit for a full-batch solver
        X, y = blobs(n=200)
        lb = SoftmaxRegression(dtype="float64", tol=1e-8).fit(X, y)
        inputs = [X] + ([sp.csr_matrix(np.where(np.abs(X) < 0.5, 0, X))] if sp else [])
        for Xi in inputs:
            nt = SoftmaxRegression(solver="newton", dtype="float64", tol=1e-8).fit(Xi, y)
            self.assertTrue(nt.converged_)
            self.assertLessEqual(nt.history_["grad_max_abs"][-1], 1e-8)
            ref = lb if Xi is X else SoftmaxRegression(dtype="float64", tol=1e-8).fit(Xi, y)
            self.assertAlmostEqual(nt.objective_, ref.objective_, delta=1e-12)
            np.testing.assert_allclose(nt.coef_, ref.coef_, rtol=1e-5, atol=1e-6)
        self.assertFalse(hasattr(SoftmaxRegression(solver="newton"), "partial_fit"))

    def test_max_iter_warns(self):
        X, y = blobs()
        with self.assertWarnsRegex(Warning, "iteration limit") as cm:
            clf = SoftmaxRegression(max_iter=2).fit(X, y)
        self.assertEqual(type(cm.warning).__name__, "ConvergenceWarning")
        self.assertFalse(clf.converged_)
        self.assertEqual(clf.n_iter_[0], 2)

    def test_sample_weight_is_repetition(self):
        X, y = blobs(n=60)
        w = np.arange(60) % 3  # 0, 1 and 2 copies
        Xr = np.repeat(X, w, axis=0)
        yr = np.repeat(y, w)
        a = SoftmaxRegression(tol=1e-8).fit(X, y, sample_weight=w)
        b = SoftmaxRegression(tol=1e-8).fit(Xr, yr)
        np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-6)
        np.testing.assert_allclose(a.intercept_, b.intercept_, atol=1e-6)

    def test_class_weight(self):
        X, y = blobs(n=90)
        y[:70] = 0  # imbalanced
        counts = np.bincount(y)
        bal = SoftmaxRegression(class_weight="balanced", tol=1e-8).fit(X, y)
        manual = SoftmaxRegression(tol=1e-8).fit(X, y, sample_weight=len(y) / (3 * counts[y]))
        np.testing.assert_allclose(bal.coef_, manual.coef_, atol=1e-8)
        d = SoftmaxRegression(class_weight={1: 5.0}, tol=1e-8).fit(X, y, sample_weight=np.full(90, 2.0))
        w = np.where(y == 1, 10.0, 2.0)
        manual = SoftmaxRegression(tol=1e-8).fit(X, y, sample_weight=w)
        np.testing.assert_allclose(d.coef_, manual.coef_, atol=1e-8)
        with self.assertRaisesRegex(ValueError, "class_weight names the class 7"):
            SoftmaxRegression(class_weight={7: 1.0}).fit(X, y)

    def test_warm_start(self):
        X, y = blobs()
        clf = SoftmaxRegression(warm_start=True, tol=1e-6).fit(X, y)
        first = clf.n_iter_[0]
        clf.fit(X, y)
        self.assertLessEqual(clf.n_iter_[0], 2)
        self.assertGreater(first, 2)
        cold = SoftmaxRegression(tol=1e-6).fit(X, y)
        cold.fit(X, y)
        self.assertEqual(cold.n_iter_[0], first)

    @unittest.skipIf(sp is None, "SciPy not installed")
    def test_sparse_input(self):
        X, y = blobs(n=80, k=20)
        X[np.abs(X) < 2] = 0
        dense = SoftmaxRegression(tol=1e-8).fit(X, y)
        for fmt in ("csr", "csc", "coo"):
            sparse = SoftmaxRegression(tol=1e-8).fit(sp.csr_matrix(X).asformat(fmt), y)
            np.testing.assert_allclose(sparse.coef_, dense.coef_, atol=1e-7)
            np.testing.assert_allclose(sparse.predict_proba(sp.csr_matrix(X)), dense.predict_proba(X),
                                       atol=1e-9)

    def test_float32(self):
        X, y = blobs()
        f64 = SoftmaxRegression().fit(X, y)
        f32 = SoftmaxRegression(dtype="float32").fit(X.astype(np.float32), y)
        np.testing.assert_allclose(f32.coef_, f64.coef_, atol=5e-3)
        np.testing.assert_array_equal(f32.predict(X), f64.predict(X))

    def test_labels_of_any_type(self):
        X, y = blobs()
        ref = SoftmaxRegression().fit(X, y)
        for labels in (np.array(["setosa", "versicolor", "virginica"]), np.array([-5, 0, 17]),
                       np.array(["x", "y", "z"], dtype=object)):
            clf = SoftmaxRegression().fit(X, labels[y])
            np.testing.assert_array_equal(clf.predict(X), labels[ref.predict(X)])
            np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X), atol=1e-12)
        b = SoftmaxRegression().fit(X, y == 1)
        self.assertEqual(b.predict(X).dtype, bool)

    def test_pickle(self):
        X, y = blobs()
        clf = SoftmaxRegression(C=0.3).fit(X, y)
        again = pickle.loads(pickle.dumps(clf))
        np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
        self.assertEqual(pickle.loads(pickle.dumps(SoftmaxRegression(C=2))).C, 2)

    def test_get_set_params(self):
        clf = SoftmaxRegression()
        p = clf.get_params()
        self.assertEqual(p, {"solver": "lbfgs", "C": 1.0, "tol": 1e-4, "max_iter": 1000,
                             "batch_size": 256, "learning_rate": None, "class_weight": None,
                             "warm_start": False, "random_state": None, "device": None,
                             "dtype": "auto", "fit_intercept": True, "verbose": 0,
                             "l1_ratio": 0.0})
        clf.set_params(C=3.0, solver="adam")
        self.assertEqual((clf.C, clf.solver), (3.0, "adam"))


class TestWhatUsersExpect(unittest.TestCase):
    """What scikit-learn users look for: verbose, fit_intercept, n_iter_,
    predict_log_proba, partial_fit, __version__."""

    def test_verbose(self):
        import contextlib
        import io
        X, y = blobs()
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            clf = SoftmaxRegression(verbose=1).fit(X, y)
        lines = err.getvalue().splitlines()
        n = clf.n_iter_[0]
        self.assertEqual(sum(l.startswith("iteration ") for l in lines), n, lines[:3])
        self.assertRegex(lines[0], r"^iteration 1/1000  loss [0-9.]+  accuracy [0-9.]+  "
                                   r"max\|grad\| [0-9.e+-]+  evals \d+  [0-9.]+s$")
        self.assertRegex(lines[-1], r"^lbfgs converged after %d iterations: objective " % n)
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            SoftmaxRegression(solver="adam", max_iter=3, tol=0, verbose=1).fit(X, y)
        self.assertEqual([l.split()[:2] for l in err.getvalue().splitlines()[:3]],
                         [["epoch", "1/3"], ["epoch", "2/3"], ["epoch", "3/3"]])
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            SoftmaxRegression().fit(X, y)
        self.assertEqual(err.getvalue(), "")
        with self.assertRaisesRegex(ValueError, "verbose"):
            SoftmaxRegression(verbose=-1).fit(X, y)

    def test_no_intercept(self):
        # b = 0 and J at the optimum of the problem without a bias: the
        # gradient of J over W vanishes there (every solver keeps b at 0)
        X, y = blobs()
        X = X + 2.0  # an intercept would matter
        clf = SoftmaxRegression(fit_intercept=False, tol=1e-9, dtype="float64").fit(X, y)
        np.testing.assert_array_equal(clf.intercept_, np.zeros(3))
        with_b = SoftmaxRegression(tol=1e-9, dtype="float64").fit(X, y)
        self.assertGreater(np.abs(with_b.intercept_).max(), 0.1)
        self.assertGreater(clf.objective_, with_b.objective_)
        dW, db = clsoftmax.gradient(clf.coef_, clf.intercept_, X, y, C=1.0)
        self.assertLess(np.abs(dW).max(), 1e-8)
        S, _ = ref_forward(clf.coef_, clf.intercept_, X)
        np.testing.assert_allclose(clf.decision_function(X), S, rtol=1e-12, atol=1e-12)
        for solver in ("sgd", "momentum", "adam"):
            m = SoftmaxRegression(solver=solver, fit_intercept=False, max_iter=5, tol=0).fit(X, y)
            np.testing.assert_array_equal(m.intercept_, np.zeros(3), solver)
        with self.assertRaisesRegex(ValueError, "fit_intercept"):
            SoftmaxRegression(fit_intercept="no").fit(X, y)

    def test_partial_fit(self):
        X, y = blobs(n=300)
        clf = SoftmaxRegression(solver="adam", batch_size=32, random_state=5)
        with self.assertRaisesRegex(ValueError, "classes must be passed"):
            clf.partial_fit(X, y)
        self.assertFalse(hasattr(clf, "coef_"))
        # two calls of one epoch each are the run of two epochs: the second
        # call continues Adam's moments and the epoch count (the shuffle)
        clf.partial_fit(X, y, classes=[0, 1, 2])
        self.assertEqual(clf.n_iter_[0], 1)
        clf.partial_fit(X, y)
        whole = SoftmaxRegression(solver="adam", batch_size=32, random_state=5, max_iter=2,
                                  tol=0).fit(X, y)
        np.testing.assert_allclose(clf.coef_, whole.coef_, rtol=0, atol=1e-12)
        np.testing.assert_allclose(clf.intercept_, whole.intercept_, rtol=0, atol=1e-12)
        # batches need not hold every class; unknown ones are refused
        clf.partial_fit(X[y != 2], y[y != 2])
        with self.assertRaisesRegex(ValueError, "not in classes"):
            clf.partial_fit(X, np.where(y == 2, 7, y))
        with self.assertRaisesRegex(ValueError, "not the same as on the first call"):
            clf.partial_fit(X, y, classes=[0, 1])
        with self.assertRaisesRegex(ValueError, "features"):
            clf.partial_fit(X[:, :-1], y)
        with self.assertRaisesRegex(ValueError, "not supported by partial_fit"):
            SoftmaxRegression(solver="sgd", class_weight="balanced").partial_fit(
                X, y, classes=[0, 1, 2])
        # it pickles with its solver state, and goes on from there
        import pickle
        again = pickle.loads(pickle.dumps(clf))
        np.testing.assert_array_equal(again.partial_fit(X, y).coef_, clf.partial_fit(X, y).coef_)
        # not for L-BFGS (as MLPClassifier): the method is absent
        self.assertFalse(hasattr(SoftmaxRegression(), "partial_fit"))
        with self.assertRaises(AttributeError) as cm:
            SoftmaxRegression().partial_fit(X, y, classes=[0, 1, 2])
        # scikit-learn >= 1.3 says why in the chained exception
        why = str(cm.exception) + str(cm.exception.__cause__)
        self.assertRegex(why, "partial_fit is available for solver='sgd'")

    def test_version(self):
        self.assertEqual(clsoftmax.__version__, clsoftmax.version())
        self.assertRegex(clsoftmax.__version__, r"^\d+\.\d+\.\d+")


class TestBadInput(unittest.TestCase):
    def setUp(self):
        self.X, self.y = blobs()

    def test_bad_parameters(self):
        X, y = self.X, self.y
        for params, pattern in (({"solver": "tron"}, "solver"), ({"C": 0}, "C must"),
                                ({"C": np.nan}, "C must"), ({"tol": -1}, "tol"),
                                ({"max_iter": 0}, "max_iter"), ({"max_iter": 2.5}, "max_iter"),
                                ({"batch_size": -1}, "batch_size"),
                                ({"learning_rate": -0.1}, "learning_rate"),
                                ({"dtype": "float16"}, "dtype"), ({"class_weight": "auto"}, "class_weight"),
                                ({"random_state": "x"}, "random_state")):
            with self.assertRaisesRegex(ValueError, pattern):
                SoftmaxRegression(**params).fit(X, y)

    def test_bad_data(self):
        X, y = self.X, self.y
        Xn = X.copy()
        Xn[0, 0] = np.nan
        with self.assertRaisesRegex(ValueError, "NaN"):
            SoftmaxRegression().fit(Xn, y)
        with self.assertRaisesRegex(ValueError, "class"):
            SoftmaxRegression().fit(X, np.zeros(len(y)))
        with self.assertRaisesRegex(ValueError, "Unknown label type"):
            SoftmaxRegression().fit(X, y + 0.5)
        with self.assertRaises(ValueError):
            SoftmaxRegression().fit(X[:0], y[:0])
        with self.assertRaises(ValueError):
            SoftmaxRegression().fit(X, y[:-1])
        with self.assertRaises(ValueError):
            SoftmaxRegression().fit(X.astype(complex), y)
        with self.assertRaisesRegex(ValueError, "sample_weight"):
            SoftmaxRegression().fit(X, y, sample_weight=-np.ones(len(y)))
        # ours, or scikit-learn >= 1.6's own check of sample_weight
        with self.assertRaisesRegex(ValueError, "zero for every sample|at least one non-zero"):
            SoftmaxRegression().fit(X, y, sample_weight=np.zeros(len(y)))
        clf = SoftmaxRegression().fit(X, y)
        with self.assertRaisesRegex(ValueError, "features"):
            clf.predict(X[:, :-1])
        with self.assertRaisesRegex(ValueError, "NaN"):
            clf.predict(Xn)
        # Non-contiguous input is copied, not misread.
        Xf = np.asfortranarray(X)
        np.testing.assert_array_equal(clf.predict_proba(Xf), clf.predict_proba(X))
        np.testing.assert_array_equal(clf.predict_proba(np.repeat(X, 2, axis=0)[::2]),
                                      clf.predict_proba(X))

    def test_unfitted_and_device_errors(self):
        with self.assertRaises(Exception) as cm:
            SoftmaxRegression().predict(self.X)
        self.assertIn("not fitted", str(cm.exception))
        with self.assertRaises(clsoftmax.Error) as cm:
            SoftmaxRegression(device="no-such-device-xyz").fit(self.X, self.y)
        self.assertEqual(cm.exception.status_name, "CSM_ERR_DEVICE_NOT_FOUND")


def _fit_in_child(queue, X, y):
    try:
        queue.put(SoftmaxRegression().fit(X, y).coef_)
    except clsoftmax.Error as e:
        queue.put((e.status_name, str(e)))


class TestProcesses(unittest.TestCase):
    def test_fork_after_opencl_fails_fast(self):
        # A forked child of a process that used OpenCL would hang in the
        # runtime; it gets an Error naming the way out instead.
        import multiprocessing
        X, y = blobs()
        clsoftmax.devices()
        ctx = multiprocessing.get_context("fork")
        queue = ctx.Queue()
        p = ctx.Process(target=_fit_in_child, args=(queue, X, y), daemon=True)
        p.start()
        try:
            status, message = queue.get(timeout=60)
        finally:
            p.join(5)
            if p.is_alive():
                p.kill()
        self.assertEqual(status, "CSM_ERR_OPENCL")
        self.assertIn("spawn", message)

    def test_spawned_workers(self):
        from sklearn.model_selection import cross_val_score
        X, y = blobs()
        ref = cross_val_score(SoftmaxRegression(), X, y, cv=3)
        np.testing.assert_array_equal(cross_val_score(SoftmaxRegression(), X, y, cv=3, n_jobs=2), ref)

    def test_threads(self):
        # One context, used by one thread at a time (its lock): the same
        # models as one after the other.
        import threading
        X, y = blobs()
        ref = [SoftmaxRegression(C=C).fit(X, y).coef_ for C in (0.1, 1.0, 10.0)]
        out = [None] * 3

        def fit(i, C):
            out[i] = SoftmaxRegression(C=C).fit(X, y).coef_
        threads = [threading.Thread(target=fit, args=(i, C)) for i, C in enumerate((0.1, 1.0, 10.0))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for a, b in zip(out, ref):
            np.testing.assert_array_equal(a, b)


class TestWithoutSklearn(unittest.TestCase):
    def test_numpy_only(self):
        # A child interpreter where `import sklearn` fails: the package and
        # the estimator still work, on NumPy alone.
        code = r"""
import sys
sys.modules["sklearn"] = None
import numpy as np, clsoftmax
from clsoftmax import estimator
assert not estimator.HAVE_SKLEARN
rng = np.random.RandomState(0)
X = rng.normal(size=(90, 4)); y = np.array(["a", "b", "c"])[rng.randint(0, 3, 90)]
X[y == "b"] += 3; X[y == "c"] -= 3
clf = clsoftmax.SoftmaxRegression(C=2.0).fit(X, y, sample_weight=np.ones(90))
w = np.arange(90) % 3  # zero weights drop their rows, also from a list
ref = clsoftmax.SoftmaxRegression(tol=1e-8).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
lw = clsoftmax.SoftmaxRegression(tol=1e-8).fit(X.tolist(), list(y), sample_weight=w)
assert np.allclose(lw.coef_, ref.coef_, atol=1e-6), abs(lw.coef_ - ref.coef_).max()
assert clf.score(X, y) > 0.9, clf.score(X, y)
assert clf.get_params()["C"] == 2.0 and clf.set_params(C=3.0).C == 3.0
assert clf.predict(X).dtype.kind == "U"
for bad, args in ((ValueError, (X[:, :2],)), (ValueError, (np.full((2, 4), np.nan),))):
    try:
        clf.predict(*args)
    except bad:
        pass
    else:
        raise AssertionError("no error for %r" % (args,))
for Xb, yb in ((X, np.zeros(90)), (X, y[:5]), (X[0], y), (X, rng.normal(size=90))):
    try:
        clsoftmax.SoftmaxRegression().fit(Xb, yb)
    except ValueError:
        pass
    else:
        raise AssertionError("fit accepted bad input")
try:
    clsoftmax.SoftmaxRegression().predict(X)
except ValueError:
    pass
else:
    raise AssertionError("predict before fit accepted")
print("ok")
"""
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=os.environ.copy())
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.strip(), "ok")


if __name__ == "__main__":
    unittest.main()
