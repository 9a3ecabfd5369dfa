"""devices(), forward(), loss(), gradient() against the NumPy double
reference and central finite differences, and their answers to bad input."""
import unittest

import numpy as np

import clsoftmax
from helpers import ref_forward, ref_loss, ref_gradient, sklearn_objective

try:
    import scipy.sparse as sp
except ImportError:
    sp = None


def problem(n=37, k=11, C=5, seed=0):
    rng = np.random.RandomState(seed)
    W = rng.normal(scale=0.5, size=(C, k))
    b = rng.normal(size=C)
    X = rng.normal(size=(n, k))
    y = rng.randint(0, C, size=n)
    return W, b, X, y


class TestDevices(unittest.TestCase):
    def test_fields(self):
        devs = clsoftmax.devices()
        self.assertGreaterEqual(len(devs), 1)
        for d in devs:
            self.assertEqual(d["selector"], "%d:%d" % (d["platform_index"], d["device_index"]))
            self.assertIn(d["device_type"], ("cpu", "gpu", "accelerator", "other"))
            self.assertTrue(d["device_name"])
            self.assertGreaterEqual(d["compute_units"], 1)
            self.assertGreater(d["max_alloc_bytes"], 0)
            self.assertIsInstance(d["has_fp64"], bool)

    def test_selector_picks_device(self):
        d = clsoftmax.devices()[0]
        W, b, X, _ = problem()
        S, _ = clsoftmax.forward(W, b, X, device=d["selector"])
        np.testing.assert_allclose(S, ref_forward(W, b, X)[0], rtol=1e-12, atol=1e-12)

    def test_unknown_selector_is_error(self):
        W, b, X, _ = problem()
        with self.assertRaises(clsoftmax.Error) as cm:
            clsoftmax.forward(W, b, X, device="no-such-device-xyz")
        self.assertEqual(cm.exception.status_name, "CSM_ERR_DEVICE_NOT_FOUND")
        self.assertEqual(cm.exception.status, 10)
        self.assertIn("no-such-device-xyz", str(cm.exception))
        # Errors pickle (a joblib worker's error reaches the parent whole).
        import pickle
        e = pickle.loads(pickle.dumps(cm.exception))
        self.assertEqual((e.status, e.status_name, str(e)),
                         (10, "CSM_ERR_DEVICE_NOT_FOUND", str(cm.exception)))


class TestReference(unittest.TestCase):
    def test_forward(self):
        W, b, X, _ = problem()
        S, O = clsoftmax.forward(W, b, X)
        S_ref, O_ref = ref_forward(W, b, X)
        np.testing.assert_allclose(S, S_ref, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(O, O_ref, rtol=1e-12, atol=1e-14)

    def test_forward_float32(self):
        W, b, X, _ = problem()
        S, O = clsoftmax.forward(W, b, X, dtype="float32")
        S_ref, O_ref = ref_forward(W, b, X)
        np.testing.assert_allclose(S, S_ref, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(O, O_ref, rtol=1e-5, atol=1e-6)

    def test_loss_and_gradient_labels(self):
        W, b, X, y = problem()
        for C in (np.inf, 0.05):
            l2 = 1.0 / (C * X.shape[0])  # lambda = 1 / (C n)
            J = clsoftmax.loss(W, b, X, y, C=C)
            self.assertAlmostEqual(J, ref_loss(W, b, X, y, l2), places=12)
            dW, db = clsoftmax.gradient(W, b, X, y, C=C)
            dW_ref, db_ref = ref_gradient(W, b, X, y, l2)
            np.testing.assert_allclose(dW, dW_ref, rtol=1e-10, atol=1e-13)
            np.testing.assert_allclose(db, db_ref, rtol=1e-10, atol=1e-13)

    def test_soft_targets_and_weights(self):
        W, b, X, y = problem()
        rng = np.random.RandomState(1)
        T = rng.uniform(size=(X.shape[0], W.shape[0]))
        T /= T.sum(axis=1, keepdims=True)
        w = rng.uniform(0.1, 3, size=X.shape[0])
        C = 0.2  # lambda = 1 / (C sum w)
        J = clsoftmax.loss(W, b, X, T, C=C, sample_weight=w)
        self.assertAlmostEqual(J, sklearn_objective(W, b, X, T, C, w), places=12)
        dW, db = clsoftmax.gradient(W, b, X, T, C=C, sample_weight=w)
        dW_ref, db_ref = ref_gradient(W, b, X, T, 1.0 / (C * w.sum()), w)
        np.testing.assert_allclose(dW, dW_ref, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(db, db_ref, rtol=1e-10, atol=1e-13)

    def test_gradient_finite_differences(self):
        # The README's gradcheck: central differences of the library's own loss.
        W, b, X, y = problem(n=20, k=4, C=3)
        dW, db = clsoftmax.gradient(W, b, X, y, C=5.0)
        eps = 1e-6
        num = np.zeros_like(W)
        for i in np.ndindex(W.shape):
            Wp, Wm = W.copy(), W.copy()
            Wp[i] += eps
            Wm[i] -= eps
            num[i] = (clsoftmax.loss(Wp, b, X, y, 5.0) - clsoftmax.loss(Wm, b, X, y, 5.0)) / (2 * eps)
        np.testing.assert_allclose(dW, num, rtol=1e-6, atol=1e-8)
        numb = np.zeros_like(b)
        for i in range(b.size):
            bp, bm = b.copy(), b.copy()
            bp[i] += eps
            bm[i] -= eps
            numb[i] = (clsoftmax.loss(W, bp, X, y, 5.0) - clsoftmax.loss(W, bm, X, y, 5.0)) / (2 * eps)
        np.testing.assert_allclose(db, numb, rtol=1e-6, atol=1e-8)

    @unittest.skipIf(sp is None, "SciPy not installed")
    def test_sparse_equals_dense(self):
        W, b, X, y = problem()
        X[np.abs(X) < 1] = 0
        Xs = sp.csr_matrix(X)
        np.testing.assert_allclose(clsoftmax.forward(W, b, Xs)[0], ref_forward(W, b, X)[0],
                                   rtol=1e-12, atol=1e-12)
        dW, db = clsoftmax.gradient(W, b, Xs.tocoo(), y, C=0.1)
        dW_ref, db_ref = ref_gradient(W, b, X, y, 1.0 / (0.1 * X.shape[0]))
        np.testing.assert_allclose(dW, dW_ref, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(db, db_ref, rtol=1e-10, atol=1e-13)

    @unittest.skipIf(sp is None, "SciPy not installed")
    def test_sparse_duplicate_entries_summed(self):
        # scipy allows repeated (row, column) entries; the library rejects them.
        W, b, X, y = problem(n=3, k=4, C=2)
        Xs = sp.csr_matrix((np.array([1.0, 2.0, 5.0]), np.array([1, 1, 3]), np.array([0, 2, 3, 3])),
                           shape=(3, 4))
        np.testing.assert_allclose(clsoftmax.forward(W, b, Xs)[0],
                                   ref_forward(W, b, Xs.toarray())[0], rtol=1e-12, atol=1e-12)

    def test_non_contiguous_and_other_dtypes(self):
        W, b, X, y = problem()
        S_ref = clsoftmax.forward(W, b, X)[0]
        for Xv in (np.asfortranarray(X), np.repeat(X, 2, axis=1)[:, ::2]):
            self.assertFalse(Xv.flags.c_contiguous)
            np.testing.assert_allclose(clsoftmax.forward(W, b, Xv)[0], S_ref, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(clsoftmax.forward(np.asfortranarray(W), b[::-1][::-1], X)[0],
                                   S_ref, rtol=1e-12, atol=1e-12)
        Xi = np.arange(12, dtype=np.int32).reshape(3, 4)
        Wi = W[:, :4]
        np.testing.assert_allclose(clsoftmax.forward(Wi, b, Xi)[0],
                                   ref_forward(Wi, b, Xi.astype(float))[0], rtol=1e-12)
        self.assertAlmostEqual(clsoftmax.loss(W, b, X, y.astype(np.uint8)),
                               clsoftmax.loss(W, b, X, y), places=14)


class TestBadInput(unittest.TestCase):
    def setUp(self):
        self.W, self.b, self.X, self.y = problem()

    def test_bad_dtypes(self):
        W, b, X, y = self.W, self.b, self.X, self.y
        with self.assertRaisesRegex(ValueError, "real numbers"):
            clsoftmax.forward(W, b, X.astype(complex))
        with self.assertRaisesRegex(ValueError, "real numbers"):
            clsoftmax.forward(W, b, X.astype(str))
        with self.assertRaisesRegex(ValueError, "weight must hold real numbers"):
            clsoftmax.forward(W.astype(str), b, X)
        with self.assertRaisesRegex(ValueError, "sample_weight must hold real numbers"):
            clsoftmax.loss(W, b, X, y, sample_weight=np.array(["1"] * X.shape[0]))
        with self.assertRaisesRegex(ValueError, "class indices|soft targets"):
            clsoftmax.loss(W, b, X, y + 0.5)
        with self.assertRaisesRegex(ValueError, "dtype"):
            clsoftmax.forward(W, b, X, dtype="float16")

    def test_nan(self):
        W, b, X, y = self.W, self.b, self.X, self.y
        Xn = X.copy()
        Xn[3, 2] = np.nan
        with self.assertRaisesRegex(ValueError, "NaN"):
            clsoftmax.forward(W, b, Xn)
        Xn[3, 2] = np.inf
        with self.assertRaisesRegex(ValueError, "NaN or infinity"):
            clsoftmax.loss(W, b, Xn, y)
        Wn = W.copy()
        Wn[0, 0] = np.nan  # the library's own check
        with self.assertRaises(clsoftmax.Error) as cm:
            clsoftmax.forward(Wn, b, X)
        self.assertEqual(cm.exception.status_name, "CSM_ERR_NONFINITE")
        with self.assertRaises(clsoftmax.Error) as cm:
            clsoftmax.loss(W, b, X, y, sample_weight=np.full(X.shape[0], np.nan))
        self.assertIn(cm.exception.status_name, ("CSM_ERR_NONFINITE", "CSM_ERR_INVALID_VALUE"))
        with self.assertRaisesRegex(ValueError, "C must be > 0"):
            clsoftmax.loss(W, b, X, y, C=np.nan)
        with self.assertRaisesRegex(ValueError, "C must be > 0"):
            clsoftmax.loss(W, b, X, y, C=0)

    def test_empty(self):
        W, b = self.W, self.b
        with self.assertRaisesRegex(ValueError, "at least one sample"):
            clsoftmax.forward(W, b, np.empty((0, W.shape[1])))
        with self.assertRaisesRegex(ValueError, "shape"):
            clsoftmax.forward(np.empty((3, 0)), b[:3], np.empty((5, 0)))

    def test_wrong_shapes(self):
        W, b, X, y = self.W, self.b, self.X, self.y
        with self.assertRaisesRegex(ValueError, "2-D"):
            clsoftmax.forward(W, b, X[0])
        with self.assertRaisesRegex(ValueError, "weight must have shape"):
            clsoftmax.forward(W[:, :-1], b, X)
        with self.assertRaisesRegex(ValueError, "bias must have shape"):
            clsoftmax.forward(W, b[:-1], X)
        with self.assertRaisesRegex(ValueError, "at least 2 classes"):
            clsoftmax.forward(W[:1], b[:1], X)
        with self.assertRaisesRegex(ValueError, "labels but X has"):
            clsoftmax.loss(W, b, X, y[:-1])
        with self.assertRaisesRegex(ValueError, "soft targets must have shape"):
            clsoftmax.loss(W, b, X, np.ones((X.shape[0], W.shape[0] + 1)))
        with self.assertRaisesRegex(ValueError, "sample_weight"):
            clsoftmax.loss(W, b, X, y, sample_weight=np.ones(3))

    def test_library_checks_become_errors(self):
        W, b, X, y = self.W, self.b, self.X, self.y
        bad = y.copy()
        bad[0] = W.shape[0]
        with self.assertRaises(clsoftmax.Error) as cm:
            clsoftmax.loss(W, b, X, bad)
        e = cm.exception
        self.assertEqual(e.status_name, "CSM_ERR_LABEL_RANGE")
        self.assertIsInstance(e, RuntimeError)
        self.assertTrue(str(e).startswith("csm_dataset_create: label out of range"), str(e))
        with self.assertRaises(clsoftmax.Error) as cm:
            clsoftmax.loss(W, b, X, np.full((X.shape[0], W.shape[0]), 0.5))
        self.assertEqual(cm.exception.status_name, "CSM_ERR_TARGETS")
        with self.assertRaisesRegex(ValueError, "int32"):
            clsoftmax.loss(W, b, X, y + 2**32)


if __name__ == "__main__":
    unittest.main()
