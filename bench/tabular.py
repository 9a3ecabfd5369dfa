#!/usr/bin/env python3
"""clsoftmax against scikit-learn on four small tabular data sets: test
accuracy and the objective reached, with both tools' defaults.

    python3 bench/tabular.py [--clsoftmax ./src/cli/clsoftmax] [-- EXTRA TRAIN ARGS]

For each of scikit-learn's iris, wine, breast_cancer and digits: a stratified
70/30 split (train_test_split(random_state=0, stratify=y)); the raw
(unstandardised) train and test sets are written as CSV (header line, the
integer label first) to a temporary directory, then

  * `clsoftmax train --standardize [EXTRA] TRAIN MODEL` with its defaults and
    `clsoftmax eval TEST MODEL`: the test accuracy;
  * make_pipeline(StandardScaler(), LogisticRegression()) with scikit-learn's
    defaults: the test accuracy;
  * the objective on the standardised training set (scaler fitted on the
    training set), in float64:

        J = (1/n) sum_i [logsumexp(S_i) - S_{i,y_i}] + (lambda/2) ||W||^2,
        lambda = 1/(C n) (2/(C n) for two classes), C = 1, bias not penalised.

    The --standardize model has the scaling folded into raw-feature weights:
    its logits are those of the standardised problem, its ||W||^2 is not.
    So a second clsoftmax model is trained on pre-standardised CSVs (same
    options, no --standardize) and J is that model's; the folded model's J,
    unfolded with the scaler's mean and scale (W_std = W_raw * scale,
    b_std = b_raw + W_raw . mean), is shown too (clsoftmax standardises
    with the population std, as StandardScaler does, so both solve the same
    problem). scikit-learn's J is that of its pipeline's LogisticRegression.
    For the binary set scikit-learn fits one vector d, mapped to
    W = [-d/2, d/2] (marked "b" in the table): clsoftmax's lambda = 2/(C n)
    for two classes makes that the same problem as its C = 1.

clsoftmax's weights are read from the model files (safetensors), never from
its log. Needs numpy and scikit-learn (Debian 12: apt-get install
python3-sklearn); reuses the helpers of bench/optimum.py.
"""
import argparse
import os
import sys
import tempfile
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

try:
    import numpy as np
    from sklearn import datasets
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
except ImportError:
    sys.exit("tabular.py needs numpy and scikit-learn: apt-get install python3-sklearn")

from optimum import (DEFAULT_CLSOFTMAX, class_index, eval_accuracy, fmt_cmd,  # noqa: E402
                     objective, predict, read_safetensors, run_timed, sklearn_softmax,
                     summary_line)

DATASETS = ["iris", "wine", "breast_cancer", "digits"]
C_REG = 1.0


def write_csv(path, X, y):
    """Header line, then label first; %.17g keeps every double exact."""
    k = X.shape[1]
    with open(path, "w", newline="\n") as f:
        f.write("label," + ",".join("f%d" % (j + 1) for j in range(k)) + "\n")
        for label, row in zip(y, X):
            f.write("%d," % label + ",".join("%.17g" % (v + 0.0) for v in row) + "\n")


def parse_csv(path):
    """The values exactly as the file holds them (float() rounds correctly)."""
    with open(path) as f:
        rows = f.read().splitlines()[1:]
    y = np.array([int(r.split(",", 1)[0]) for r in rows], dtype=np.int64)
    X = np.array([[float(v) for v in r.split(",")[1:]] for r in rows], dtype=np.float64)
    return X, y


def fit_quiet(model, X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        t0 = time.perf_counter()
        model.fit(X, y)
        secs = time.perf_counter() - t0
    return secs, any(issubclass(w.category, ConvergenceWarning) for w in caught)


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], allow_abbrev=False,
        epilog="Arguments after the known options (or after --) go to both "
               "`clsoftmax train` runs.")
    ap.add_argument("--clsoftmax", default=DEFAULT_CLSOFTMAX,
                    help="the clsoftmax command (default %(default)s)")
    ap.add_argument("--keep", metavar="DIR", help="write the CSVs and models here instead of "
                    "a temporary directory")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every command and "
                    "clsoftmax's summary line")
    args, extra = ap.parse_known_args()
    if extra and extra[0] == "--":
        extra = extra[1:]

    tmp = tempfile.TemporaryDirectory(prefix="csm-tabular-")
    out = args.keep or tmp.name
    os.makedirs(out, exist_ok=True)
    rows = []
    commands = []
    for name in DATASETS:
        bunch = getattr(datasets, "load_" + name)()
        X = np.asarray(bunch.data, dtype=np.float64)
        y = np.asarray(bunch.target, dtype=np.int64)
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
        raw_tr = os.path.join(out, name + "-train.csv")
        raw_te = os.path.join(out, name + "-test.csv")
        write_csv(raw_tr, Xtr, ytr)
        write_csv(raw_te, Xte, yte)
        Xtr, ytr = parse_csv(raw_tr)
        Xte, yte = parse_csv(raw_te)
        scaler = StandardScaler().fit(Xtr)
        std_tr = os.path.join(out, name + "-train-std.csv")
        write_csv(std_tr, scaler.transform(Xtr), ytr)
        Str, _ = parse_csv(std_tr)   # the standardised problem, as the second model saw it
        n = len(ytr)
        binary = len(np.unique(ytr)) == 2
        lam = (2.0 if binary else 1.0) / (C_REG * n)  # clsoftmax's C (see the docstring)

        # clsoftmax, --standardize on raw features: test accuracy
        m_raw = os.path.join(out, name + ".safetensors")
        cmd = [args.clsoftmax, "train", "--standardize"] + extra + [raw_tr, m_raw]
        secs_csm, p = run_timed(cmd)
        summary, iters = summary_line(p.stderr)
        ecmd = [args.clsoftmax, "eval", raw_te, m_raw]
        _, pe = run_timed(ecmd)
        acc_csm = eval_accuracy(pe.stdout)
        W, b, labels, _ = read_safetensors(m_raw)
        acc_np = float(np.mean(predict(W, b, Xte, labels) == yte))
        if acc_csm is None:
            acc_csm = acc_np
        elif abs(acc_csm - acc_np) > 1.5e-4:
            print("WARNING: %s: clsoftmax eval says accuracy %.6f, the model's weights give "
                  "%.6f" % (name, acc_csm, acc_np))
        # unfold the standardisation: logits W x + b = (W * scale) z + (b + W . mean)
        J_fold = objective(W * scaler.scale_, b + W @ scaler.mean_, Str,
                           class_index(ytr, labels), lam)

        # clsoftmax on pre-standardised features: J of the standardised problem
        m_std = os.path.join(out, name + "-std.safetensors")
        cmd2 = [args.clsoftmax, "train"] + extra + [std_tr, m_std]
        run_timed(cmd2)
        W2, b2, labels2, _ = read_safetensors(m_std)
        J_csm = objective(W2, b2, Str, class_index(ytr, labels2), lam)
        if name == DATASETS[0]:
            commands += [fmt_cmd(cmd), fmt_cmd(ecmd), fmt_cmd(cmd2)]
        if args.verbose:
            print("%s: %s\n    %s\n    %s\n    log: %s" % (
                name, fmt_cmd(cmd), fmt_cmd(ecmd), fmt_cmd(cmd2), summary))

        # scikit-learn defaults
        pipe = make_pipeline(StandardScaler(), LogisticRegression())
        secs_sk, warned = fit_quiet(pipe, Xtr, ytr)
        acc_sk = float(pipe.score(Xte, yte))
        lr = pipe[-1]
        Ws, bs = sklearn_softmax(lr)
        J_sk = objective(Ws, bs, Str, class_index(ytr, [int(c) for c in lr.classes_]), lam)

        rows.append((name, n, len(yte), X.shape[1], acc_csm, acc_sk, J_csm, J_fold, J_sk,
                     binary, warned, iters, secs_csm, secs_sk))

    print("| data | n train / test | k | clsoftmax test acc | sklearn test acc "
          "| clsoftmax J | clsoftmax J (--standardize, unfolded) | sklearn J | "
          "(J_csm - J_sk) / J_sk | clsoftmax iters | clsoftmax s | sklearn s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for (name, n, nte, k, acc_c, acc_s, Jc, Jf, Js, binary, warned, iters,
         sc, ss) in rows:
        mark = (" b" if binary else "") + (" w" if warned else "")
        print("| %s | %d / %d | %d | %.4f | %.4f | %.10f | %.10f | %.10f%s | %+.2e | %s "
              "| %.2f | %.3f |" % (name, n, nte, k, acc_c, acc_s, Jc, Jf, Js, mark,
                                   (Jc - Js) / Js, "?" if iters is None else iters, sc, ss))
    print()
    print("J: mean cross-entropy + (lambda/2)||W||^2 on the standardised training set, "
          "lambda = 1/(C n) (2/(C n) for two classes), C = 1, float64.")
    print("b: binary; scikit-learn's one vector d as the softmax W = [-d/2, d/2].")
    print("w: scikit-learn warned ConvergenceWarning (max_iter=100 reached).")
    print("clsoftmax s: wall time of the whole `train --standardize` process; sklearn s: the "
          "pipeline fit.")
    print()
    print("Commands (iris; the others alike):")
    for c in commands:
        print("    " + c)
    if extra:
        print("Extra train arguments: " + fmt_cmd(extra))
    tmp.cleanup()


if __name__ == "__main__":
    main()
