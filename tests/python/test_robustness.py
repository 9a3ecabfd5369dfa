"""No input or call order crashes the interpreter or leaves the estimator
half-updated: a refit that fails validation, fitted attributes edited by
hand, fit and predict from two threads at once, Ctrl-C during fit, and
integer classes at the ends of int64 and beyond."""
import contextlib
import io
import os
import signal
import subprocess
import sys
import threading
import time
import unittest

import numpy as np

import clsoftmax
from clsoftmax import SoftmaxRegression
from helpers import blobs, cli


def fitted_state(clf):
    return {key: getattr(clf, key) for key in ("classes_", "coef_", "intercept_",
                                               "n_features_in_", "n_iter_")}


class TestFailedRefit(unittest.TestCase):
    """A refit that fails keeps the previous model whole."""

    def setUp(self):
        self.X, self.y = blobs()
        self.clf = SoftmaxRegression().fit(self.X, self.y)
        self.before = fitted_state(self.clf)
        self.P = self.clf.predict_proba(self.X)

    def assert_unchanged(self):
        for key, value in self.before.items():
            self.assertIs(getattr(self.clf, key), value, key)
        np.testing.assert_array_equal(self.clf.predict_proba(self.X), self.P)

    def test_sample_weight_of_the_wrong_length(self):
        # the case of the issue: 5 new classes, then a bad sample_weight
        X5, y5 = blobs(n=200, k=7, C=5, seed=1)
        with self.assertRaises(ValueError):
            self.clf.fit(X5, y5, sample_weight=np.ones(3))
        self.assert_unchanged()
        self.assertEqual(self.clf.predict_proba(self.X).shape, (len(self.X), 3))

    def test_other_failures(self):
        X5, y5 = blobs(n=200, k=7, C=5, seed=1)
        bad = [
            lambda: self.clf.fit(X5, y5, sample_weight=-np.ones(200)),
            lambda: self.clf.fit(X5, np.zeros(200)),              # one class
            lambda: self.clf.fit(X5[:, :0], y5),                  # no feature
            lambda: self.clf.fit(np.full((200, 7), np.nan), y5),  # NaN
            lambda: self.clf.set_params(class_weight={9: 1.0}).fit(X5, y5),
            lambda: self.clf.set_params(class_weight=None, C=-1).fit(X5, y5),
            lambda: self.clf.set_params(C=1.0, device="no-such-device-xyz").fit(X5, y5),
        ]
        for i, call in enumerate(bad):
            with self.assertRaises((ValueError, clsoftmax.Error), msg=str(i)):
                call()
            self.clf.set_params(class_weight=None, C=1.0, device=None)
            self.assert_unchanged()


class TestEditedAttributes(unittest.TestCase):
    """Fitted attributes set by hand that disagree are refused, never used
    to size a buffer that another of them fills."""

    def test_disagreeing_attributes(self):
        X, y = blobs()
        for attr, value in (("classes_", np.arange(7)), ("classes_", np.arange(2)),
                            ("coef_", np.zeros((3, 2))), ("coef_", np.zeros((8, 5))),
                            ("coef_", np.zeros(5)), ("intercept_", np.zeros(4)),
                            ("n_features_in_", 9)):
            clf = SoftmaxRegression().fit(X, y)
            setattr(clf, attr, value)
            for method in (clf.predict, clf.predict_proba, clf.predict_log_proba,
                           clf.decision_function):
                with self.assertRaises(ValueError, msg="%s %s" % (attr, method.__name__)):
                    method(X)
            with self.assertRaises(ValueError):
                clf.save(os.devnull)

    def test_unfitted(self):
        X, y = blobs()
        clf = SoftmaxRegression()
        for method in (clf.predict, clf.predict_proba, clf.predict_log_proba,
                       clf.decision_function):
            with self.assertRaisesRegex(Exception, "not fitted"):
                method(X)


class TestThreads(unittest.TestCase):
    def test_fit_and_predict_at_once(self):
        # One thread refits between models of 3 and 5 classes (and 5 and 7
        # features); others predict meanwhile. Each prediction comes from
        # one whole model: probabilities of 3 or 5 classes summing to 1, or
        # a ValueError when the features no longer match; never a crash.
        A = blobs(n=150, k=5, C=3, seed=2)
        B = blobs(n=150, k=7, C=5, seed=3)
        clf = SoftmaxRegression(tol=1e-3).fit(*A)
        stop = threading.Event()
        errors, shapes = [], set()

        def refit():
            try:
                for i in range(12):
                    clf.fit(*(B if i % 2 == 0 else A))
            except BaseException as e:
                errors.append(e)
            finally:
                stop.set()

        def predict():
            while not stop.is_set():
                for X in (A[0], B[0]):
                    try:
                        P = clf.predict_proba(X)
                    except ValueError as e:
                        self.assertIn("features", str(e))
                        continue
                    except BaseException as e:
                        errors.append(e)
                        return
                    shapes.add(P.shape)
                    if not np.allclose(P.sum(axis=1), 1):
                        errors.append(AssertionError("rows do not sum to 1"))

        threads = [threading.Thread(target=refit)] + \
            [threading.Thread(target=predict) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertTrue(shapes <= {(150, 3), (150, 5)}, shapes)
        # the last fit (A) is what the estimator holds, whole
        self.assertEqual(clf.coef_.shape, (3, 5))
        self.assertEqual(len(clf.classes_), 3)


def _sigint_soon(delay):
    time.sleep(delay)
    os.kill(os.getpid(), signal.SIGINT)


class TestInterrupt(unittest.TestCase):
    @unittest.skipUnless(threading.current_thread() is threading.main_thread(),
                         "signals reach the main thread only")
    def test_ctrl_c_stops_fit(self):
        X, y = blobs(n=400, k=20, C=4)
        clf = SoftmaxRegression(tol=1e-3).fit(X, y)
        before = fitted_state(clf)
        # tol=0 with 10^7 epochs: hours, unless Ctrl-C stops it; verbose=2
        # sends every library message through the log callback, where
        # Python's own handler used to raise and lose the interrupt
        clf.set_params(solver="sgd", tol=0, max_iter=10**7, verbose=2)
        for delay in (0.5, 1.5):
            t = threading.Thread(target=_sigint_soon, args=(delay,))
            start = time.monotonic()
            t.start()
            with self.assertRaises(KeyboardInterrupt), \
                    contextlib.redirect_stderr(io.StringIO()) as err:
                clf.fit(X, y)
            self.assertIn("epoch 1/10000000", err.getvalue())
            elapsed = time.monotonic() - start
            t.join()
            self.assertLess(elapsed, 60)
            for key, value in before.items():
                self.assertIs(getattr(clf, key), value, key)
            self.assertIs(signal.getsignal(signal.SIGINT), signal.default_int_handler)
        # and the estimator works on
        clf.set_params(solver="lbfgs", tol=1e-3, max_iter=1000, verbose=0).fit(X, y)
        self.assertGreater(clf.score(X, y), 0.9)

    def test_ctrl_c_in_a_child_interpreter(self):
        # The command-line experience: SIGINT from outside, the traceback
        # ends in KeyboardInterrupt, nothing "ignored".
        code = r"""
import sys, numpy as np, clsoftmax
rng = np.random.RandomState(0)
X = rng.normal(size=(300, 10)); y = rng.randint(0, 3, 300)
clsoftmax.SoftmaxRegression(solver="sgd", max_iter=1, tol=0).fit(X, y)
print("ready", flush=True)
try:
    clsoftmax.SoftmaxRegression(solver="sgd", tol=0, max_iter=10**7, verbose=2).fit(X, y)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(3)
"""
        p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=os.environ.copy())
        self.assertEqual(p.stdout.readline().strip(), "ready")
        time.sleep(1.0)
        p.send_signal(signal.SIGINT)
        try:
            out, err = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            self.fail("SIGINT did not stop fit")
        self.assertEqual(p.returncode, 3, err[-2000:])
        self.assertEqual(out.strip(), "interrupted")
        self.assertNotIn("Exception ignored", err)


class TestExtremeClasses(unittest.TestCase):
    def roundtrip(self, labels, dir_):
        """Fits on the classes `labels`, saves, loads back and (when the
        command is built) has `clsoftmax predict` print the same classes."""
        X, y = blobs(C=len(labels))
        labels = np.asarray(labels) if not isinstance(labels, np.ndarray) else labels
        yl = labels[y]
        clf = SoftmaxRegression().fit(X, yl)
        np.testing.assert_array_equal(clf.classes_, np.sort(labels))
        pred = clf.predict(X)
        self.assertEqual(pred.dtype, clf.classes_.dtype)
        self.assertGreater(np.mean(pred == yl), 0.9)
        path = os.path.join(dir_, "m.safetensors")
        clf.save(path)
        back = clsoftmax.load(path)
        self.assertEqual(back.classes_.tolist(), clf.classes_.tolist())
        np.testing.assert_array_equal(back.predict(X), pred)
        if cli():
            csv = os.path.join(dir_, "x.csv")
            np.savetxt(csv, X, delimiter=",", fmt="%.17g")
            out = subprocess.run([cli(), "predict", "--no-labels", "-q", csv, path],
                                 capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(out.stdout.split(), [str(v) for v in pred])
        return clf, back, path, X

    def test_int64_ends_and_beyond(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            i64 = np.iinfo(np.int64)
            clf, back, path, X = self.roundtrip(np.array([i64.min, 0, i64.max]), d)
            self.assertEqual(back.classes_.dtype, np.int64)
            # uint64 above 2^63: stored by name (label_type "int"), exact
            big = np.array([2**63, 2**63 + 1, 2**64 - 1], dtype=np.uint64)
            clf, back, path, X = self.roundtrip(big, d)
            self.assertEqual(back.classes_.dtype, np.uint64)
            # Python integers past 64 bits: scikit-learn's target check
            # refuses them in fit; classes set by hand are stored by name
            # and come back as Python ints
            X, y = blobs()
            huge = np.array([-2**70, 5, 2**70], dtype=object)
            with self.assertRaisesRegex(ValueError, "Unknown label type"):
                SoftmaxRegression().fit(X, huge[y])
            clf = SoftmaxRegression().fit(X, y)
            clf.classes_ = huge
            clf.save(path)
            back = clsoftmax.load(path)
            self.assertEqual(back.classes_.tolist(), [-2**70, 5, 2**70])
            self.assertEqual(back.predict(X).tolist(), clf.predict(X).tolist())


if __name__ == "__main__":
    unittest.main()
