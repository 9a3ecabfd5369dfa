#!/usr/bin/env python3
"""Writes tests/data/report/cases.txt: scikit-learn's classification_report
figures for pairs of true and predicted labels, which tests/check_report
compares with clsoftmax eval's report (src/cli/report.c). Run once from this
directory with Debian's python3-sklearn; the output is committed, so
`make check` never runs this.

Labels are integers; a model of C classes predicts 0..C-1, and a true label
>= C is a class the model never saw (eval's rows after the model's). The
report is computed as scikit-learn does by default: over the labels found
in y_true or y_pred, zero_division=0 (what the default "warn" returns)."""
import numpy as np
import sklearn
from sklearn.metrics import classification_report


def case(out, name, C, y_true, y_pred):
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    assert y_pred.max() < C
    rep = classification_report(y_true, y_pred, output_dict=True, zero_division=0)
    out.write("case %s %d %d\n" % (name, C, len(y_true)))
    out.write("true %s\n" % " ".join(str(v) for v in y_true))
    out.write("pred %s\n" % " ".join(str(v) for v in y_pred))
    for label in sorted(set(y_true) | set(y_pred)):
        r = rep[str(label)]
        out.write("row %d %.17g %.17g %.17g %d\n" % (label, r["precision"], r["recall"],
                                                     r["f1-score"], r["support"]))
    for avg, key in (("macro", "macro avg"), ("weighted", "weighted avg")):
        r = rep[key]
        out.write("%s %.17g %.17g %.17g %d\n" % (avg, r["precision"], r["recall"],
                                                 r["f1-score"], r["support"]))
    out.write("accuracy %.17g\nend\n" % rep["accuracy"])


rng = np.random.default_rng(20)
with open("cases.txt", "w") as out:
    out.write("# scikit-learn %s classification_report(y_true, y_pred, output_dict=True, "
              "zero_division=0), written by make-fixtures.py\n" % sklearn.__version__)
    # iris-like: three classes, a few errors
    case(out, "three", 3, [0] * 5 + [1] * 6 + [2] * 4, [0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 1, 2, 2, 2, 1])
    # a class never predicted (precision 0/0), one never true (recall 0/0)
    case(out, "undefined", 4, [0, 0, 1, 1, 2, 2, 2], [0, 1, 1, 1, 3, 3, 0])
    # a model class that is neither (not reported), perfect predictions
    case(out, "perfect", 5, [0, 1, 1, 3, 3, 3], [0, 1, 1, 3, 3, 3])
    # classes the model never saw: all their samples are errors
    case(out, "unseen", 3, [0, 1, 2, 3, 3, 4, 0, 1], [0, 1, 2, 0, 1, 2, 0, 0])
    # odd sizes: 7 model classes, 93 samples, 2 classes unseen, 70% right
    y = rng.integers(0, 9, size=93)
    p = np.where(rng.random(93) < 0.7, y, rng.integers(0, 7, size=93))
    p = np.where(p >= 7, rng.integers(0, 7, size=93), p)
    case(out, "random93", 7, y, p)
