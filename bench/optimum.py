#!/usr/bin/env python3
"""clsoftmax's default solver against scikit-learn on Fashion-MNIST: time to
train, the objective each reaches, and test accuracy, in one run.

    python3 bench/optimum.py [--clsoftmax ./src/cli/clsoftmax] [--double]
                             [--max-iter N] [--sklearn-max-iter N] [--skip-sklearn]
                             [--data DIR] [--warmup] [-- EXTRA TRAIN ARGS]

(a) times the whole process `clsoftmax train [--double] TRAIN-IMAGES MODEL`
    with its defaults (C = 1, L-BFGS; the labels file is found by name);
(b) times scikit-learn's LogisticRegression(C=1, max_iter=1000).fit on the
    same float64 features x/255 (the fit alone; n_iter_ and any
    ConvergenceWarning are reported);
(c) evaluates, in float64 numpy, the objective both minimise,

        J = (1/n) sum_i [logsumexp(S_i) - S_{i,y_i}] + (lambda/2) ||W||^2,
        S = X W^T + b,  lambda = 1/(C n),  bias not penalised

    (scikit-learn's objective divided by n), on the 60000 training images,
    and the accuracy of both models on the 10000 test images.

clsoftmax's weights are read from the model file (safetensors), not from its
log. A float32 model was trained on float32(x/255); J is evaluated on the
float64 features for both models (the difference is ~1e-8 relative).

The first clsoftmax run on a machine also compiles the OpenCL kernels (POCL
caches them on disk); --warmup runs the same train once, untimed, first.
scikit-learn on 60000 x 784 takes minutes: that is expected.

Needs numpy and scikit-learn (Debian 12: apt-get install python3-sklearn
dataset-fashion-mnist).
"""
import argparse
import gzip
import json
import os
import re
import shlex
import struct
import subprocess
import sys
import tempfile
import time
import warnings

try:
    import numpy as np
except ImportError:
    sys.exit("optimum.py needs numpy: apt-get install python3-numpy")

DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"
DEFAULT_CLSOFTMAX = "./src/cli/clsoftmax"


# ---------------------------------------------------------------- shared helpers
# (bench/tabular.py imports these)

_ST_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2"}


def read_safetensors(path):
    """Reads a clsoftmax model file: returns (W (C, k) float64, b (C) float64,
    labels (list of ints, row order of W), metadata dict).

    safetensors: u64 little-endian header length N, N bytes of JSON, then the
    data; each tensor's data_offsets are relative to the byte after the
    header. A file without "labels" metadata has labels 0..C-1."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError("%s: too short for a safetensors file" % path)
    (hlen,) = struct.unpack("<Q", raw[:8])
    if 8 + hlen > len(raw):
        raise ValueError("%s: header length %d runs past the end of the file (%d bytes)"
                         % (path, hlen, len(raw)))
    header = json.loads(raw[8:8 + hlen].decode("utf-8"))
    data = memoryview(raw)[8 + hlen:]
    meta = header.get("__metadata__", {}) or {}

    def tensor(name):
        if name not in header:
            raise ValueError("%s: no tensor %r" % (path, name))
        t = header[name]
        if t["dtype"] not in _ST_DTYPES:
            raise ValueError("%s: tensor %r has dtype %s (want F32 or F64)"
                             % (path, name, t["dtype"]))
        begin, end = t["data_offsets"]
        dt = np.dtype(_ST_DTYPES[t["dtype"]])
        shape = tuple(t["shape"])
        count = int(np.prod(shape)) if shape else 1
        if end - begin != count * dt.itemsize or end > len(data):
            raise ValueError("%s: tensor %r: offsets [%d, %d] do not hold shape %s of %s"
                             % (path, name, begin, end, shape, t["dtype"]))
        return np.frombuffer(data[begin:end], dtype=dt).reshape(shape).astype(np.float64)

    W = tensor("weight")
    b = tensor("bias")
    if W.ndim != 2 or b.shape != (W.shape[0],):
        raise ValueError("%s: weight %s and bias %s do not fit (C, k) and (C)"
                         % (path, W.shape, b.shape))
    labels = json.loads(meta["labels"]) if "labels" in meta else list(range(W.shape[0]))
    if len(labels) != W.shape[0]:
        raise ValueError("%s: %d labels for %d classes" % (path, len(labels), W.shape[0]))
    return W, b, [int(v) for v in labels], meta


def class_index(y, labels):
    """Index of each label of y in labels (the model's row order)."""
    labels = np.asarray(labels)
    order = np.argsort(labels)
    pos = np.searchsorted(labels[order], y)
    pos = np.clip(pos, 0, len(labels) - 1)
    idx = order[pos]
    if np.any(labels[idx] != y):
        missing = sorted(set(np.asarray(y).tolist()) - set(labels.tolist()))
        raise ValueError("labels %s are not classes of the model %s" % (missing, labels.tolist()))
    return idx


def objective(W, b, X, yi, lam, block=8192):
    """J = mean_i [logsumexp(S_i) - S_{i,y_i}] + (lam/2)||W||^2 in float64."""
    W = np.asarray(W, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    n = X.shape[0]
    total = 0.0
    for r0 in range(0, n, block):
        Xb = np.asarray(X[r0:r0 + block], dtype=np.float64)
        S = Xb @ W.T + b
        m = S.max(axis=1)
        lse = m + np.log(np.exp(S - m[:, None]).sum(axis=1))
        total += float(np.sum(lse - S[np.arange(len(Xb)), yi[r0:r0 + block]]))
    return total / n + 0.5 * lam * float(np.sum(W * W))


def predict(W, b, X, labels):
    S = np.asarray(X, dtype=np.float64) @ np.asarray(W, dtype=np.float64).T + b
    return np.asarray(labels)[S.argmax(axis=1)]


def sklearn_softmax(model):
    """(W, b) of the softmax model equivalent to a fitted LogisticRegression,
    rows in model.classes_ order. Binary: scikit-learn fits one vector d for
    classes_[1]; the softmax with the same predictions and the least
    ||W||^2 is W = [-d/2, d/2], b = [-c/2, c/2] (then ||W||^2 = ||d||^2/2:
    clsoftmax's lambda = 2/(C n) for two classes makes LogisticRegression(C)
    the softmax J at the same C)."""
    W, b = model.coef_, model.intercept_
    if W.shape[0] == 1 and len(model.classes_) == 2:
        return np.vstack([-W[0] / 2, W[0] / 2]), np.array([-b[0] / 2, b[0] / 2])
    return W.astype(np.float64), b.astype(np.float64)


def run_timed(cmd, env=None):
    """Runs cmd; returns (seconds, CompletedProcess). Raises on failure."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, env=env)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError("command failed (exit %d): %s\n%s%s" % (
            p.returncode, " ".join(shlex.quote(c) for c in cmd), p.stdout, p.stderr))
    return dt, p


def summary_line(stderr):
    """The last non-empty line of a train log (the solver's summary line,
    e.g. 'converged after 57 iterations ... objective ...'), and the iteration
    count in it if there is one."""
    lines = [ln.strip() for ln in stderr.replace("\r", "\n").splitlines() if ln.strip()]
    hits = [ln for ln in lines if re.search(r"\d+ iterations?\b", ln)]
    line = hits[-1] if hits else (lines[-1] if lines else "")
    m = re.search(r"after (\d+) iterations?", line) or re.search(r"(\d+) iterations?", line)
    return line, (int(m.group(1)) if m else None)


def eval_accuracy(stdout):
    """The accuracy printed by `clsoftmax eval` ('accuracy X')."""
    m = re.search(r"^accuracy\s+([0-9.eE+-]+)", stdout, re.M)
    return float(m.group(1)) if m else None


def fmt_cmd(cmd):
    return " ".join(shlex.quote(c) for c in cmd)


# ---------------------------------------------------------------- data

def find_idx(data, stem):
    for name in (stem, stem + ".gz"):
        p = os.path.join(data, name)
        if os.path.exists(p):
            return p
    raise FileNotFoundError("%s[.gz] not found in %s (apt-get install dataset-fashion-mnist, "
                            "or --data DIR)" % (stem, data))


def load_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    zero, dtype, ndims = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError("%s: not an IDX file of unsigned bytes" % path)
    dims = struct.unpack(">%dI" % ndims, raw[4:4 + 4 * ndims])
    a = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndims)
    if a.size != int(np.prod(dims)):
        raise ValueError("%s: %d values for shape %s" % (path, a.size, dims))
    return a.reshape(dims)


def load_split(data, prefix):
    img = find_idx(data, prefix + "-images-idx3-ubyte")
    lab = find_idx(data, prefix + "-labels-idx1-ubyte")
    x = load_idx(img)
    X = x.reshape(x.shape[0], -1).astype(np.float64) / 255.0
    y = load_idx(lab).astype(np.int64)
    return img, X, y


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Arguments after the known options (or after --) go to `clsoftmax train`.",
        allow_abbrev=False)
    ap.add_argument("--clsoftmax", default=DEFAULT_CLSOFTMAX, help="the clsoftmax command "
                    "(default %(default)s)")
    ap.add_argument("--data", default=DEFAULT_DATA, help="directory of the Fashion-MNIST IDX "
                    "files (default %(default)s)")
    ap.add_argument("--double", action="store_true", help="pass --double to clsoftmax train")
    ap.add_argument("--max-iter", type=int, help="pass --max-iter N to clsoftmax train "
                    "(default: its own default)")
    ap.add_argument("--C", type=float, default=1.0, help="inverse regularisation for both; "
                    "passed to clsoftmax only when not 1 (default 1)")
    ap.add_argument("--sklearn-max-iter", type=int, default=1000,
                    help="LogisticRegression max_iter (default %(default)s)")
    ap.add_argument("--skip-sklearn", action="store_true", help="only clsoftmax")
    ap.add_argument("--warmup", action="store_true",
                    help="run the clsoftmax train once, untimed, before the timed run")
    ap.add_argument("--keep", metavar="DIR", help="write the model here instead of a temp dir")
    args, extra = ap.parse_known_args()
    if extra and extra[0] == "--":
        extra = extra[1:]

    train_img, Xtr, ytr = load_split(args.data, "train")
    test_img, Xte, yte = load_split(args.data, "t10k")
    n, k = Xtr.shape
    lam = 1.0 / (args.C * n)
    print("data: %s: %d x %d train, %d test; C = %g, lambda = 1/(C n) = %.6g"
          % (args.data, n, k, len(yte), args.C, lam))

    rows = []
    commands = []
    tmp = tempfile.TemporaryDirectory(prefix="csm-optimum-")
    outdir = args.keep or tmp.name
    os.makedirs(outdir, exist_ok=True)

    # (a) clsoftmax
    model = os.path.join(outdir, "fashion.safetensors")
    cmd = [args.clsoftmax, "train"]
    if args.double:
        cmd.append("--double")
    if args.max_iter is not None:
        cmd += ["--max-iter", str(args.max_iter)]
    if args.C != 1.0:
        cmd += ["--C", repr(args.C)]
    cmd += extra + [train_img, model]
    commands.append(fmt_cmd(cmd))
    if args.warmup:
        run_timed(cmd)
    secs, p = run_timed(cmd)
    summary, iters = summary_line(p.stderr)
    W, b, labels, meta = read_safetensors(model)
    yi = class_index(ytr, labels)
    J_csm = objective(W, b, Xtr, yi, lam)
    acc_csm = float(np.mean(predict(W, b, Xte, labels) == yte))
    train_acc_csm = float(np.mean(predict(W, b, Xtr, labels) == ytr))
    ecmd = [args.clsoftmax, "eval", test_img, model]
    commands.append(fmt_cmd(ecmd))
    _, pe = run_timed(ecmd)
    acc_eval = eval_accuracy(pe.stdout)
    if acc_eval is not None and abs(acc_eval - acc_csm) > 1.5e-4:
        print("WARNING: clsoftmax eval says accuracy %.6f, the model's weights give %.6f"
              % (acc_eval, acc_csm))
    rows.append({
        "who": "clsoftmax" + (" --double" if args.double else ""),
        "secs": secs, "iters": iters if iters is not None else "?", "J": J_csm,
        "train_acc": train_acc_csm, "test_acc": acc_csm,
        "note": "%s model; log: %s" % (meta.get("precision", "?"), summary or "(none)"),
    })

    # (b) scikit-learn
    if not args.skip_sklearn:
        try:
            from sklearn.exceptions import ConvergenceWarning
            from sklearn.linear_model import LogisticRegression
        except ImportError:
            sys.exit("optimum.py needs scikit-learn for (b): apt-get install python3-sklearn "
                     "(or --skip-sklearn)")
        clf = LogisticRegression(C=args.C, max_iter=args.sklearn_max_iter)
        commands.append("LogisticRegression(C=%r, max_iter=%d).fit(X, y)  "
                        "# X = train images / 255 as float64" % (args.C, args.sklearn_max_iter))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            t0 = time.perf_counter()
            clf.fit(Xtr, ytr)
            secs = time.perf_counter() - t0
        conv = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
        Ws, bs = sklearn_softmax(clf)
        labels_s = [int(c) for c in clf.classes_]
        J_sk = objective(Ws, bs, Xtr, class_index(ytr, labels_s), lam)
        rows.append({
            "who": "scikit-learn lbfgs", "secs": secs, "iters": int(np.max(clf.n_iter_)),
            "J": J_sk,
            "train_acc": float(np.mean(predict(Ws, bs, Xtr, labels_s) == ytr)),
            "test_acc": float(np.mean(predict(Ws, bs, Xte, labels_s) == yte)),
            "note": ("ConvergenceWarning (max_iter=%d reached)" % args.sklearn_max_iter)
            if conv else "converged (tol 1e-4)",
        })

    best = min(r["J"] for r in rows)
    print()
    print("| solver | wall s | iterations | J (float64) | J - min J | train acc | test acc "
          "| note |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in rows:
        print("| %s | %.2f | %s | %.12f | %.3g | %.4f | %.4f | %s |" % (
            r["who"], r["secs"], r["iters"], r["J"], r["J"] - best, r["train_acc"],
            r["test_acc"], r["note"].replace("|", "/")))
    print()
    print("clsoftmax: wall time of the whole `train` process (reading, kernel set-up, "
          "training, saving)%s; scikit-learn: the fit alone."
          % (", after an untimed warm-up run" if args.warmup else ""))
    print("J = mean cross-entropy + (lambda/2)||W||^2 on the training set, lambda = %.6g."
          % lam)
    print()
    print("Commands:")
    for c in commands:
        print("    " + c)
    tmp.cleanup()


if __name__ == "__main__":
    main()
