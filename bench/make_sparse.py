#!/usr/bin/env python3
"""Writes deterministic sparse multiclass data sets as libsvm text, for
bench/sparse.py.

    python3 bench/make_sparse.py [--out DIR] [--set a|b|both] [--seed N]

Sets (train rows x features, ~50 non-zeros a row, 20 classes, labels 1..20):

  t   2000 x 5000       (1% dense; a smoke test), test 1000 rows
  a   20000 x 50000     (0.1% dense, ~1e6 non-zeros), test 5000 rows
  b   200000 x 1000000  (~1e7 non-zeros, 160 MB of text), test 20000 rows

Files: DIR/SET-train.svm, DIR/SET-test.svm and DIR/SET.json (the
parameters, counts and the seconds it took). Column indices are 1-based and
ascending within a row; values are written with 6 decimals and are > 0.

How a row is made (text-like, tf-idf):
  * a document draws L ~ Poisson(TOKENS) words, with replacement, from a
    Zipf-like vocabulary: word j (a random permutation of the columns) has
    probability p_j proportional to (rank_j + 20)^-1;
  * the value of word j is (1 + ln count) * idf_j with
    idf_j = 1 + ln(1 / q_j), q_j = 1 - exp(-TOKENS p_j) its expected
    document frequency; the row is then scaled to unit L2 norm;
  * TOKENS is set so that a row has ~50 distinct words.
Labels come from a planted linear model, the same for train and test:
W* (20 x features) with N(0, 1) entries times sqrt(p_j / max p) (frequent
words carry more of the signal, so it can be learnt from the training set),
normalised so that x W*^T has about unit spread, b* ~ N(0, 0.25); a row's
label is drawn from softmax(SCALE x W*^T + b*), SCALE = 12, so the classes
overlap: the planted model itself predicts ~80% of the labels drawn, and
LogisticRegression(C=1) trained on set a gets ~40% on its test set (chance:
~20%, the largest class). With more features than rows the training set may
still be separable; the L2 penalty keeps the optimum finite. The last column appears in the first
training row, so the feature count read from the training file is the
set's.

Everything is vectorised with numpy (digits are laid out in a byte buffer),
so set a takes ~1 s and set b (1e7 non-zeros) ~13 s on 2 cores; peak memory
~1.8 GB for set b.
"""
import argparse
import json
import os
import sys
import time

try:
    import numpy as np
except ImportError:
    sys.exit("make_sparse.py needs numpy: apt-get install python3-numpy")

SETS = {
    "t": dict(n_train=2000, n_test=1000, features=5000, classes=20, nnz=50, seed_offset=2000),
    "a": dict(n_train=20000, n_test=5000, features=50000, classes=20, nnz=50, seed_offset=0),
    "b": dict(n_train=200000, n_test=20000, features=1000000, classes=20, nnz=50,
              seed_offset=1000),
}
ZIPF_S = 1.0
ZIPF_OFFSET = 20.0
SCALE = 12.0          # logit scale of the planted model (sets the label noise)
DECIMALS = 6


# ---------------------------------------------------------------- text output

def _ndigits(a):
    """Decimal digits of each non-negative integer of a (0 has 1)."""
    a = np.asarray(a, dtype=np.int64)
    n = np.ones(a.shape, dtype=np.int64)
    p = 10
    while True:
        m = a >= p
        if not m.any():
            return n
        n += m
        p *= 10


def _put_digits(buf, end, a, nd):
    """Writes the decimal digits of a right-aligned so the last lands at end-1."""
    a = np.asarray(a, dtype=np.int64)
    q = a.copy()
    for p in range(int(nd.max()) if len(nd) else 0):
        m = nd > p
        buf[end[m] - 1 - p] = (48 + q[m] % 10).astype(np.uint8)
        q //= 10


def libsvm_bytes(labels, indptr, cols, vals, decimals=DECIMALS):
    """The libsvm text of a CSR matrix: 'label idx:v idx:v ...\\n' per row, idx
    1-based (cols are 0-based here), v with `decimals` decimals (v >= 0)."""
    labels = np.asarray(labels, dtype=np.int64)
    n = len(labels)
    nnz = len(cols)
    scale = 10 ** decimals
    q = np.rint(np.asarray(vals, dtype=np.float64) * scale).astype(np.int64)
    ip, fp = q // scale, q % scale
    idx = np.asarray(cols, dtype=np.int64) + 1
    nd_idx = _ndigits(idx)
    nd_ip = _ndigits(ip)
    ent_len = 1 + nd_idx + 1 + nd_ip + 1 + decimals          # " idx:i.ffffff"
    nd_lab = _ndigits(labels)
    row_of = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    ent_cum = np.concatenate([[0], np.cumsum(ent_len)])       # exclusive prefix sums
    row_len = nd_lab + (ent_cum[indptr[1:]] - ent_cum[indptr[:-1]]) + 1
    row_start = np.concatenate([[0], np.cumsum(row_len)])
    buf = np.empty(int(row_start[-1]), dtype=np.uint8)
    # labels, then the newline at the end of each row
    _put_digits(buf, row_start[:-1] + nd_lab, labels, nd_lab)
    buf[row_start[1:] - 1] = ord("\n")
    # entries
    start = row_start[row_of] + nd_lab[row_of] + (ent_cum[:-1] - ent_cum[indptr[row_of]])
    del row_of
    buf[start] = ord(" ")
    colon = start + 1 + nd_idx
    _put_digits(buf, colon, idx, nd_idx)
    buf[colon] = ord(":")
    dot = colon + 1 + nd_ip
    _put_digits(buf, dot, ip, nd_ip)
    buf[dot] = ord(".")
    _put_digits(buf, dot + 1 + decimals, fp, np.full(nnz, decimals, dtype=np.int64))
    return buf


# ---------------------------------------------------------------- the data

class Vocabulary:
    """Column probabilities, idf and the planted model of one set."""

    def __init__(self, rng, features, classes, tokens):
        rank = rng.permutation(features)                 # rank of column j
        w = (rank + ZIPF_OFFSET) ** -ZIPF_S
        self.p = w / w.sum()
        self.cdf = np.cumsum(self.p)
        self.cdf[-1] = 1.0
        qdf = -np.expm1(-tokens * self.p)                # expected document frequency
        self.idf = 1.0 + np.log(1.0 / qdf)
        self.tokens = tokens
        signal = np.sqrt(self.p / self.p.max())
        self.W = rng.standard_normal((classes, features)) * signal
        # rows have unit norm and draw words by p: scale W* so that x W*^T has
        # about unit spread
        self.W /= np.sqrt(np.mean(self.W * self.W @ self.p))
        self.b = 0.5 * rng.standard_normal(classes)


def make_rows(rng, vocab, n, force_col=None):
    """(indptr, cols 0-based, values) of n tf-idf rows with unit L2 norm."""
    d = len(vocab.p)
    L = rng.poisson(vocab.tokens, size=n).astype(np.int64)
    L = np.maximum(L, 1)
    rows = np.repeat(np.arange(n, dtype=np.int64), L)
    cols = np.searchsorted(vocab.cdf, rng.random(len(rows)), side="right")
    np.minimum(cols, d - 1, out=cols)
    if force_col is not None:
        cols[0] = force_col
    key = rows * d + cols
    del rows, cols
    key, counts = np.unique(key, return_counts=True)     # sorted: by row, then column
    r = key // d
    c = key - r * d
    del key
    v = (1.0 + np.log(counts)) * vocab.idf[c]
    norm = np.sqrt(np.bincount(r, weights=v * v, minlength=n))
    v /= norm[r]
    v = np.maximum(v, 10.0 ** -DECIMALS)                 # no explicit zeros after rounding
    indptr = np.concatenate([[0], np.cumsum(np.bincount(r, minlength=n))]).astype(np.int64)
    return indptr, c, v


def quantise(v):
    return np.rint(v * 10 ** DECIMALS) / 10 ** DECIMALS


def planted_labels(rng, vocab, indptr, cols, vals):
    """Labels 1..C drawn from softmax(SCALE (x W*^T + b*)), x as written."""
    n = len(indptr) - 1
    C = vocab.W.shape[0]
    row = np.repeat(np.arange(n), np.diff(indptr))
    S = np.zeros((n, C))
    v = quantise(vals)
    for c in range(C):
        S[:, c] = np.bincount(row, weights=v * vocab.W[c, cols], minlength=n)
    S = SCALE * S + vocab.b
    S -= S.max(axis=1, keepdims=True)
    P = np.exp(S)
    P /= P.sum(axis=1, keepdims=True)
    u = rng.random(n)
    y = (P.cumsum(axis=1) < u[:, None]).sum(axis=1)
    y = np.minimum(y, C - 1)
    bayes = float(np.mean(P[np.arange(n), y]))           # mean P(label drawn)
    return y + 1, float(np.mean(P.argmax(axis=1) == y)), bayes


def calibrate_tokens(rng, vocab_args, target):
    """Poisson mean of words per document giving `target` distinct words."""
    features = vocab_args["features"]
    tokens = float(target)
    for _ in range(6):
        vocab = Vocabulary(np.random.default_rng(rng), features, vocab_args["classes"], tokens)
        indptr, _, _ = make_rows(np.random.default_rng(rng + 1), vocab, 4000)
        mean = indptr[-1] / 4000.0
        tokens *= target / mean
    return tokens


def write_set(out, name, seed):
    spec = SETS[name]
    t0 = time.perf_counter()
    base = seed + spec["seed_offset"]
    tokens = calibrate_tokens(base + 7, spec, spec["nnz"])
    vocab = Vocabulary(np.random.default_rng(base), spec["features"], spec["classes"], tokens)
    info = dict(set=name, seed=seed, features=spec["features"], classes=spec["classes"],
                tokens_per_row=tokens, zipf_s=ZIPF_S, zipf_offset=ZIPF_OFFSET, scale=SCALE,
                decimals=DECIMALS)
    last = spec["features"] - 1
    for part, n, sub in (("train", spec["n_train"], 1), ("test", spec["n_test"], 2)):
        rng = np.random.default_rng([base, sub])
        indptr, cols, vals = make_rows(rng, vocab, n, force_col=last if part == "train"
                                       else None)
        y, planted_acc, mean_p = planted_labels(rng, vocab, indptr, cols, vals)
        buf = libsvm_bytes(y, indptr, cols, vals)
        path = os.path.join(out, "%s-%s.svm" % (name, part))
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            buf.tofile(f)
        os.replace(tmp, path)
        info[part] = dict(path=path, rows=n, nnz=int(indptr[-1]),
                          nnz_per_row=float(indptr[-1]) / n, bytes=int(len(buf)),
                          class_counts=np.bincount(y, minlength=spec["classes"] + 1)[1:]
                          .tolist(),
                          planted_model_accuracy=planted_acc,
                          mean_prob_of_label=mean_p)
        del buf, indptr, cols, vals, y
    info["seconds"] = time.perf_counter() - t0
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump(info, f, indent=1)
        f.write("\n")
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    ap.add_argument("--out", default="/tmp/clsoftmax-sparse", help="output directory "
                    "(default %(default)s)")
    ap.add_argument("--set", choices=("t", "a", "b", "both"), default="a",
                    help="which set (default %(default)s)")
    ap.add_argument("--seed", type=int, default=1, help="seed (default %(default)s)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name in ("a", "b") if args.set == "both" else (args.set,):
        info = write_set(args.out, name, args.seed)
        for part in ("train", "test"):
            p = info[part]
            print("%s: %d rows x %d features, %d non-zeros (%.1f a row), %.1f MB; planted "
                  "model's accuracy %.3f" % (p["path"], p["rows"], info["features"], p["nnz"],
                                             p["nnz_per_row"], p["bytes"] / 1e6,
                                             p["planted_model_accuracy"]))
        print("set %s: %.1f s" % (name, info["seconds"]))


if __name__ == "__main__":
    main()
