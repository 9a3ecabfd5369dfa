"""save()/load(): the same safetensors file the command reads and writes,
labels of any type through the label_names convention, and errors."""
import json
import os
import shutil
import stat
import struct
import subprocess
import tempfile
import unittest

import numpy as np

import clsoftmax
from clsoftmax import SoftmaxRegression
import helpers
from helpers import cli


def blobs(n=60, k=4, C=3, seed=1):
    return helpers.blobs(n, k, C, seed)


def metadata(path):
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(length))["__metadata__"]


class ModelFileTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="csm-python-")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def path(self, name):
        return os.path.join(self.dir, name)


class TestRoundTrip(ModelFileTest):
    def roundtrip(self, classes, y_idx=None, **params):
        X, y = blobs()
        clf = SoftmaxRegression(**params).fit(X, classes[y])
        p = self.path("m.safetensors")
        clf.save(p)
        back = clsoftmax.load(p)
        np.testing.assert_array_equal(back.classes_, clf.classes_)
        self.assertEqual(back.classes_.dtype.kind, clf.classes_.dtype.kind)
        np.testing.assert_array_equal(back.predict(X), clf.predict(X))
        # the file keeps the precision the model was trained in ("auto": float64
        # for data this small)
        prec = metadata(p)["precision"]
        self.assertEqual(prec, "float64" if clf.dtype == "auto" else clf.dtype)
        self.assertEqual(back.dtype, prec)
        np.testing.assert_allclose(back.predict_proba(X), clf.predict_proba(X),
                                   rtol=1e-12 if prec == "float64" else 1e-6)
        for name in ("C", "tol", "max_iter", "solver", "fit_intercept"):
            self.assertEqual(getattr(back, name), getattr(clf, name), name)
        return p, back

    def test_integer_labels(self):
        p, back = self.roundtrip(np.array([-3, 4, 10]), C=0.5, tol=1e-5)
        meta = metadata(p)
        self.assertEqual(json.loads(meta["labels"]), [-3, 4, 10])
        self.assertNotIn("label_names", meta)
        self.assertEqual(meta["precision"], "float64")

    def test_float32(self):
        self.roundtrip(np.array([0, 1, 2]), dtype="float32")

    def test_string_labels(self):
        p, back = self.roundtrip(np.array(["cat", "dog", "émeu"]))
        meta = metadata(p)
        self.assertEqual(json.loads(meta["label_names"]), ["cat", "dog", "émeu"])
        self.assertEqual(meta["label_type"], "str")
        self.assertEqual(json.loads(meta["labels"]), [0, 1, 2])

    def test_float_labels(self):
        # scikit-learn's checks refuse fractional labels in fit; the file
        # convention still keeps them exact (repr).
        X, y = blobs()
        clf = SoftmaxRegression().fit(X, y)
        clf.classes_ = np.array([0.1, 1.25, 1e300])
        clf.save(self.path("f.safetensors"))
        meta = metadata(self.path("f.safetensors"))
        self.assertEqual(meta["label_type"], "float")
        back = clsoftmax.load(self.path("f.safetensors"))
        self.assertEqual(back.classes_.tolist(), [0.1, 1.25, 1e300])
        clf.classes_ = np.array([1.0, 2.0, 5.0])  # integral: plain labels
        clf.save(self.path("i.safetensors"))
        self.assertNotIn("label_names", metadata(self.path("i.safetensors")))
        self.assertEqual(clsoftmax.load(self.path("i.safetensors")).classes_.tolist(), [1, 2, 5])

    def test_bool_labels(self):
        X, y = blobs(C=2)
        clf = SoftmaxRegression().fit(X, y == 1)
        clf.save(self.path("b.safetensors"))
        self.assertEqual(json.loads(metadata(self.path("b.safetensors"))["label_names"]),
                         ["False", "True"])
        back = clsoftmax.load(self.path("b.safetensors"))
        np.testing.assert_array_equal(back.predict(X), clf.predict(X).astype(str))


class TestCommandLine(ModelFileTest):
    def setUp(self):
        super().setUp()
        if not cli() or not os.access(cli(), os.X_OK):
            self.skipTest("the clsoftmax command is not built (CSM_CLI)")
        X, y = blobs(n=80)
        self.X, self.y = X, np.array([2, 5, 9])[y]
        self.csv = self.path("data.csv")
        np.savetxt(self.csv, np.column_stack([self.y, X]), delimiter=",", fmt="%.17g")

    def run_cli(self, *args):
        out = subprocess.run([cli()] + list(args), capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout

    def test_cli_predicts_python_model(self):
        clf = SoftmaxRegression(C=0.2).fit(self.X, self.y)
        clf.save(self.path("py.safetensors"))
        pred = self.run_cli("predict", self.csv, self.path("py.safetensors")).split()
        np.testing.assert_array_equal(np.array(pred, dtype=int), clf.predict(self.X))
        proba = self.run_cli("predict", "--proba", self.csv, self.path("py.safetensors"))
        lines = proba.strip().splitlines()
        self.assertEqual(lines[0], "2,5,9")
        P = np.array([[float(v) for v in l.split(",")] for l in lines[1:]])
        np.testing.assert_allclose(P, clf.predict_proba(self.X), atol=1e-8)

    def test_cli_reads_fractional_classes(self):
        # label_type "float": the command prints the names and matches a
        # test file's labels to them by value, whatever their text
        clf = SoftmaxRegression(C=0.2).fit(self.X, self.y)
        clf.classes_ = np.array([0.5, 1.25, 2.5])
        p = self.path("frac.safetensors")
        clf.save(p)
        texts = {2: "0.50", 5: "1.250", 9: "25e-1"}
        csv = self.path("frac.csv")
        with open(csv, "w") as f:
            for label, row in zip(self.y, self.X):
                f.write(",".join([texts[label]] + ["%.17g" % v for v in row]) + "\n")
        pred = self.run_cli("predict", csv, p).split()
        self.assertEqual(pred, [repr(float(v)) for v in clf.predict(self.X)])
        out = self.run_cli("eval", csv, p)
        acc = float(out.split("accuracy ")[1].split()[0])
        truth = np.array([0.5, 1.25, 2.5])[np.searchsorted([2, 5, 9], self.y)]
        want = np.mean(clf.predict(self.X) == truth)
        self.assertAlmostEqual(acc, want, places=6)

    def test_python_loads_cli_model(self):
        m = self.path("cli.safetensors")
        self.run_cli("train", "-q", "--double", "--C", "0.2", "--tol", "1e-8", self.csv, m)
        back = clsoftmax.load(m)
        self.assertEqual(back.dtype, "float64")
        self.assertEqual(back.C, 0.2)
        np.testing.assert_array_equal(back.classes_, [2, 5, 9])
        pred = self.run_cli("predict", self.csv, m).split()
        np.testing.assert_array_equal(back.predict(self.X), np.array(pred, dtype=int))
        ours = SoftmaxRegression(C=0.2, tol=1e-8).fit(self.X, self.y)
        np.testing.assert_allclose(back.coef_, ours.coef_, atol=1e-5)


class TestErrors(ModelFileTest):
    def test_missing_and_malformed(self):
        with self.assertRaises(clsoftmax.Error) as cm:
            clsoftmax.load(self.path("absent.safetensors"))
        self.assertEqual(cm.exception.status_name, "CSM_ERR_IO")
        self.assertIn("absent.safetensors", str(cm.exception))
        with open(self.path("junk.safetensors"), "wb") as f:
            f.write(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
        with self.assertRaises(clsoftmax.Error) as cm:
            clsoftmax.load(self.path("junk.safetensors"))
        self.assertEqual(cm.exception.status_name, "CSM_ERR_FORMAT")

    def test_save_errors(self):
        X, y = blobs()
        with self.assertRaises(Exception) as cm:
            SoftmaxRegression().save(self.path("x.safetensors"))
        self.assertIn("not fitted", str(cm.exception))
        clf = SoftmaxRegression().fit(X, y)
        with self.assertRaises(clsoftmax.Error) as cm:
            clf.save(self.path("no/such/dir/m.safetensors"))
        self.assertEqual(cm.exception.status_name, "CSM_ERR_IO")

    def test_label_names_mismatch(self):
        X, y = blobs()
        clf = SoftmaxRegression().fit(X, np.array(["a", "b", "c"])[y])
        clf.save(self.path("s.safetensors"))
        # A file whose label_names disagree with its classes is refused.
        with open(self.path("s.safetensors"), "rb") as f:
            (length,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(length))
            data = f.read()
        header["__metadata__"]["label_names"] = json.dumps(["a", "b"])
        text = json.dumps(header).encode()
        text += b" " * (-len(text) % 8)
        with open(self.path("s2.safetensors"), "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text + data)
        # (the library refuses it on load: CSM_ERR_FORMAT naming the field)
        with self.assertRaisesRegex(clsoftmax.Error, "label_names"):
            clsoftmax.load(self.path("s2.safetensors"))

    def test_save_never_replaces_special_files(self):
        # save() is csm_model_save: a FIFO (or a device) there is refused,
        # and stays what it was
        X, y = blobs()
        clf = SoftmaxRegression().fit(X, y)
        fifo = self.path("fifo.safetensors")
        os.mkfifo(fifo)
        with self.assertRaises(clsoftmax.Error) as cm:
            clf.save(fifo)
        self.assertEqual(cm.exception.status_name, "CSM_ERR_IO")
        self.assertIn("named pipe", str(cm.exception))
        self.assertTrue(stat.S_ISFIFO(os.stat(fifo).st_mode))

    def test_class_names_one_printable_line(self):
        # a class name with a newline would split predict's lines: refused
        X, y = blobs()
        clf = SoftmaxRegression().fit(X, np.array(["a", "b\nc", "d"])[y])
        with self.assertRaisesRegex(clsoftmax.Error, "control character"):
            clf.save(self.path("nl.safetensors"))
        self.assertFalse(os.path.exists(self.path("nl.safetensors")))


if __name__ == "__main__":
    unittest.main()
