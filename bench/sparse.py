#!/usr/bin/env python3
"""Sparse libsvm data end to end: clsoftmax against liblinear and
scikit-learn on the same files (time, peak memory, objective, test accuracy).

    python3 bench/sparse.py [--clsoftmax ./src/cli/clsoftmax] [--data DIR]
                            [--set t|a|b|both] [--skip-sklearn] [--skip-liblinear]
                            [--skip-clsoftmax] [--also 'ARGS'] [--tight auto|no]
                            [--no-warmup] [--repeats N] [--timeout S]
                            [--keep DIR [--reuse-sklearn]] [-- EXTRA TRAIN ARGS]

Data: DIR/SET-{train,test}.svm from bench/make_sparse.py (run here when a
file is missing): a = 20000 x 50000, b = 200000 x 1000000, ~50 non-zeros a
row, 20 classes, plus a held-out test file (t = 2000 x 5000, a smoke test).

Every tool runs as its own process under `/usr/bin/time -v`; "peak RSS" is
its "Maximum resident set size", "wall s" the whole process (reading the
text, training, writing the model). Each row:

  * clsoftmax: `clsoftmax train [EXTRA] --history CSV TRAIN MODEL` with its
    defaults (L-BFGS, C = 1, tol 1e-4 on max |dJ/dtheta|); "solver s" is
    the time in its summary line. From the history (its own per-iteration
    loss and seconds) the notes give when its loss first reached
    scikit-learn's J: time to the same objective (exact with --double; in
    float32 the loss carries rounding error). Before the timed run, the same command with
    `--max-iter 1` runs once untimed (it compiles the OpenCL kernels into
    POCL's cache; its RSS is shown as the cost of the data and the set-up
    without the solver's iterations). Test accuracy from the model's
    weights, cross-checked with `clsoftmax eval TEST MODEL`.
  * liblinear: `liblinear-train -s 0 -c 1 -B 1 TRAIN MODEL` (L2-regularised
    logistic regression, trust-region Newton, its default eps 0.01).
    For more than two classes -s 0 trains one-vs-rest binary problems, and
    -B 1 adds a bias feature that is regularised like the weights: not the
    softmax objective, so no J; time, memory, iterations (Newton iterations
    summed over the classes) and test accuracy (from its model file,
    cross-checked with liblinear-predict).
  * scikit-learn: a child python process (this script with --sklearn-child)
    that reads TRAIN with load_svmlight_file (scipy.sparse CSR, float64) and
    fits LogisticRegression(C=1, max_iter=1000) (multinomial lbfgs, tol 1e-4
    on the gradient of the summed objective, n times J's); "solver s" is
    the fit alone. A second child that only imports and reads the file gives
    the baseline RSS shown in the notes.

J, the objective clsoftmax and scikit-learn both minimise, is computed here
in float64 from the saved weights on the training file as read by
load_svmlight_file:

    J = (1/n) sum_i [logsumexp(S_i) - S_{i,y_i}] + (lambda/2) ||W||^2,
    S = X W^T + b,  lambda = 1/(C n) (2/(C n) for two classes: scikit-learn's
    binary C),  bias not penalised.

--tight auto (the default): when clsoftmax at its tolerance stops above
scikit-learn's J, clsoftmax is run again with `--tol 1e-6`, and, if that is
still above, with `--double --tol 1e-4/n` (scikit-learn's own stopping rule
on the mean objective). --also 'ARGS' adds a clsoftmax run with ARGS
appended to EXTRA (repeatable), e.g. --also '--dense'. --repeats N times
each tool N times and reports the fastest (the machine may be shared).
--keep DIR keeps every model, log (stdout, stderr, /usr/bin/time -v) and
history under DIR/SET; --reuse-sklearn then takes scikit-learn's model and
measurements from an earlier run there (its fit takes ~15 min on set b).
A run killed by a signal this script did not send is reported as such.

Needs numpy, scipy and scikit-learn (/usr/bin/python3 on Debian 12) and
liblinear-tools (apt-get install liblinear-tools) unless skipped.
"""
import argparse
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

try:
    import numpy as np
except ImportError:
    sys.exit("sparse.py needs numpy: apt-get install python3-numpy")

DEFAULT_DATA = "/tmp/clsoftmax-sparse"
DEFAULT_CLSOFTMAX = "./src/cli/clsoftmax"
TIME = "/usr/bin/time"
C_REG = 1.0


# ---------------------------------------------------------------- scikit-learn child

def sklearn_child(argv):
    """--sklearn-child TRAIN FEATURES C MAX_ITER OUT.npz|-  : prints one JSON line."""
    train, features, C, max_iter, out = argv
    import warnings
    t0 = time.perf_counter()
    from sklearn.datasets import load_svmlight_file
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    t1 = time.perf_counter()
    X, y = load_svmlight_file(train, n_features=int(features))
    t2 = time.perf_counter()
    res = {"import_s": t1 - t0, "load_s": t2 - t1, "n": X.shape[0], "nnz": int(X.nnz)}
    if out != "-":
        clf = LogisticRegression(C=float(C), max_iter=int(max_iter))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            t3 = time.perf_counter()
            clf.fit(X, y)
            res["fit_s"] = time.perf_counter() - t3
        res["converged"] = not any(issubclass(w.category, ConvergenceWarning)
                                   for w in caught)
        res["n_iter"] = int(np.max(clf.n_iter_))
        np.savez(out, coef=clf.coef_, intercept=clf.intercept_, classes=clf.classes_)
    print(json.dumps(res))


# ---------------------------------------------------------------- helpers

def fmt_cmd(cmd):
    return " ".join(shlex.quote(c) for c in cmd)


def run_measured(cmd, timeout, env=None):
    """Runs cmd under /usr/bin/time -v. Returns dict: wall, rss_mb, rc, stdout,
    stderr, timed_out. The process group is killed on timeout."""
    fd, tfile = tempfile.mkstemp(prefix="csm-time-")
    os.close(fd)
    full = [TIME, "-v", "-o", tfile] + cmd
    t0 = time.perf_counter()
    p = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True, env=env, start_new_session=True)
    timed_out = False
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
    wall = time.perf_counter() - t0
    with open(tfile) as f:
        tv = f.read()
    os.unlink(tfile)
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", tv)
    rss = int(m.group(1)) / 1024.0 if m else None
    cpu = sum(float(v) for v in re.findall(r"(?:User|System) time \(seconds\): ([0-9.]+)", tv))
    m = re.search(r"Exit status: (\d+)", tv)
    rc = int(m.group(1)) if m else p.returncode
    m = re.search(r"Command terminated by signal (\d+)", tv)
    if m:
        rc = -int(m.group(1))
    if p.returncode < 0:       # /usr/bin/time itself was killed
        rc = p.returncode
    return {"wall": wall, "rss_mb": rss, "cpu": cpu, "rc": rc, "stdout": out, "stderr": err,
            "timed_out": timed_out, "time_v": tv}


def solver_secs(r):
    """The training time a run reports (clsoftmax's summary line, the
    scikit-learn child's fit_s), else None."""
    m = CSM_SUMMARY.search(r["stderr"] or "")
    if m:
        return float(m.group("secs"))
    try:
        return float(json.loads(r["stdout"].strip().splitlines()[-1])["fit_s"])
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def run_best(cmd, timeout, repeats, row):
    """Runs cmd `repeats` times; returns the run with the least solver time
    (else wall time), notes every run's times in row, RSS the largest seen."""
    runs = []
    for _ in range(max(1, repeats)):
        r = run_measured(cmd, timeout)
        runs.append(r)
        if check_ok(r, cmd):
            return r
    if len(runs) == 1:
        return runs[0]
    key = [(solver_secs(r) if solver_secs(r) is not None else r["wall"]) for r in runs]
    best = runs[int(np.argmin(key))]
    best = dict(best, rss_mb=max(r["rss_mb"] for r in runs))
    row["notes"].append("best of %d: %s s (wall %s s)" % (
        len(runs), "/".join("%.2f" % v for v in key),
        "/".join("%.2f" % r["wall"] for r in runs)))
    return best


def save_log(outdir, stem, r):
    """Keeps a run's stdout, stderr and /usr/bin/time report beside its model."""
    with open(os.path.join(outdir, stem + ".log"), "w") as f:
        f.write("## stdout\n%s\n## stderr\n%s\n## /usr/bin/time -v\n%s" % (
            r["stdout"], r["stderr"], r["time_v"]))


def history_reaches(path, target):
    """From a `train --history` CSV (per-iteration loss and seconds): the first
    iteration whose loss (clsoftmax's own, at its precision) is <= target,
    and the summed seconds to it."""
    if target is None or not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            rows = [ln.split(",") for ln in f.read().splitlines()[1:] if ln.strip()]
        secs = 0.0
        for row in rows:
            secs += float(row[5])
            if float(row[1]) <= target:
                return ("its own loss first <= scikit-learn's J at iteration %s, after %.2f s"
                        % (row[0], secs))
        if rows:
            return "its own loss never <= scikit-learn's J (last %s at iteration %s)" % (
                rows[-1][1], rows[-1][0])
    except (ValueError, IndexError) as e:
        return "history %s unreadable: %s" % (path, e)
    return None


def check_ok(r, cmd):
    if r["timed_out"]:
        return "timed out after %.0f s (--timeout)" % r["wall"]
    if isinstance(r["rc"], int) and r["rc"] < 0:
        return ("killed by signal %d after %.0f s, not by this script (a name-based kill "
                "such as pkill -f clsoftmax matches /usr/bin/time's command line too); "
                "its last output: %s" % (-r["rc"], r["wall"], " / ".join(
                    (r["stderr"] or "").strip().splitlines()[-2:])))
    if r["rc"] != 0:
        tail = (r["stderr"] or "").strip().splitlines()[-5:]
        return "failed (exit %s): %s" % (r["rc"], " / ".join(tail))
    return None


def load_libsvm(path, features):
    from sklearn.datasets import load_svmlight_file
    X, y = load_svmlight_file(path, n_features=features)
    return X.tocsr(), y.astype(np.int64)


def class_index(y, labels):
    labels = np.asarray(labels)
    order = np.argsort(labels)
    pos = np.clip(np.searchsorted(labels[order], y), 0, len(labels) - 1)
    idx = order[pos]
    if np.any(labels[idx] != y):
        raise ValueError("labels %s are not classes of the model"
                         % sorted(set(np.asarray(y).tolist()) - set(labels.tolist())))
    return idx


def logits(W, b, X):
    return np.asarray(X @ W.T) + b


def objective(W, b, X, yi, lam):
    """J in float64; X scipy.sparse CSR."""
    S = logits(W, b, X)
    m = S.max(axis=1)
    lse = m + np.log(np.exp(S - m[:, None]).sum(axis=1))
    return float(np.mean(lse - S[np.arange(X.shape[0]), yi])) + 0.5 * lam * float(np.sum(W * W))


def accuracy(W, b, X, y, labels):
    return float(np.mean(np.asarray(labels)[logits(W, b, X).argmax(axis=1)] == y))


def fit_width(W, k, who):
    """Pads (or checks) a model's feature count to the data's k."""
    if W.shape[1] == k:
        return W, None
    if W.shape[1] < k:
        return (np.hstack([W, np.zeros((W.shape[0], k - W.shape[1]))]),
                "model has %d features, data %d: padded with zeros" % (W.shape[1], k))
    raise ValueError("%s model has %d features, the data %d" % (who, W.shape[1], k))


def read_liblinear_model(path):
    """(W (classes, k), b (classes), labels) of a liblinear model file."""
    with open(path) as f:
        text = f.read()
    head, _, body = text.partition("\nw\n")
    hd = {}
    for line in head.splitlines():
        key, _, val = line.partition(" ")
        hd[key] = val
    nr_class = int(hd["nr_class"])
    k = int(hd["nr_feature"])
    bias = float(hd.get("bias", "-1"))
    labels = [int(float(v)) for v in hd["label"].split()]
    cols = 1 if nr_class == 2 and hd["solver_type"] != "MCSVM_CS" else nr_class
    rows = k + (1 if bias >= 0 else 0)
    w = np.array(body.split(), dtype=np.float64) if rows * cols < 2e6 else \
        np.fromstring(body, dtype=np.float64, sep=" ")
    if w.size != rows * cols:
        raise ValueError("%s: %d weights, expected %d x %d" % (path, w.size, rows, cols))
    w = w.reshape(rows, cols)
    W = w[:k].T.copy()
    b = w[k] * bias if bias >= 0 else np.zeros(cols)
    if cols == 1:   # binary: decision value > 0 means labels[0]
        W = np.vstack([W[0], -W[0]])
        b = np.array([b[0], -b[0]])
    return W, b, labels


CSM_SUMMARY = re.compile(
    r"(?P<solver>\w+) (?P<how>.*?) after (?P<it>\d+) iterations?"
    r"(?: \((?P<ev>\d+) evaluations?\))? in (?P<secs>[0-9.]+)s: objective (?P<obj>[0-9.eE+-]+)"
    r"(?: \(J incl\. L2, lambda (?P<lam>[0-9.eE+-]+)\))?"
    r"(?:, max\|grad\| (?P<g>[0-9.eE+-]+))?")


def parse_csm_log(stderr, path=""):
    lines = [ln.strip() for ln in stderr.replace("\r", "\n").splitlines() if ln.strip()]
    info = {"summary": "", "warnings": [ln for ln in lines if "WARNING" in ln],
            "storage": [ln.replace(path + ": ", "") for ln in lines
                        if re.search(r"\b(sparse|dense|CSR)\b", re.sub(r"\S*/\S*", "", ln),
                                     re.I)]}
    for ln in reversed(lines):
        m = CSM_SUMMARY.search(ln)
        if m:
            info["summary"] = ln
            info.update({k: v for k, v in m.groupdict().items() if v is not None})
            break
    return info


def ensure_data(data, name):
    paths = [os.path.join(data, "%s-%s.svm" % (name, part)) for part in ("train", "test")]
    if not all(os.path.exists(p) for p in paths):
        cmd = [sys.executable, os.path.join(HERE, "make_sparse.py"), "--out", data,
               "--set", name]
        print("generating: " + fmt_cmd(cmd), flush=True)
        subprocess.run(cmd, check=True)
    meta = os.path.join(data, name + ".json")
    features = None
    if os.path.exists(meta):
        with open(meta) as f:
            features = json.load(f).get("features")
    return paths[0], paths[1], features


def help_has_sparse(clsoftmax):
    try:
        p = subprocess.run([clsoftmax, "train", "--help"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True)
    except OSError:
        return False
    return "--sparse" in p.stdout


# ---------------------------------------------------------------- one set

class Bench:
    def __init__(self, args, extra):
        self.args = args
        self.extra = extra
        self.commands = []

    def clsoftmax(self, train, test, outdir, tag, args_more, X, y, Xte, yte, lam, k,
                  J_sk=None):
        a = self.args
        model = os.path.join(outdir, "csm-%s.safetensors" % tag)
        hist = os.path.join(outdir, "csm-%s.history.csv" % tag)
        cmd = [a.clsoftmax, "train"] + self.extra + args_more + ["--history", hist,
                                                                 train, model]
        row = {"tool": "clsoftmax" + (" " + fmt_cmd(self.extra + args_more)
                                      if self.extra + args_more else " (defaults)"),
               "cmd": fmt_cmd(cmd), "notes": []}
        self.commands.append(row["cmd"])
        if a.warmup:
            wcmd = cmd[:-4] + ["--max-iter", "1"] + cmd[-2:]
            w = run_measured(wcmd, a.timeout)
            err = check_ok(w, wcmd)
            if err:
                row["notes"].append("warm-up (--max-iter 1) " + err)
            else:
                row["notes"].append("--max-iter 1 run: %.2f s, %.0f MB" % (w["wall"],
                                                                           w["rss_mb"]))
                row["warm_rss"] = w["rss_mb"]
        r = run_best(cmd, a.timeout, a.repeats, row)
        row.update(wall=r["wall"], rss=r["rss_mb"], cpu=r["cpu"])
        save_log(outdir, "csm-%s" % tag, r)
        reached = history_reaches(hist, J_sk)
        if reached:
            row["notes"].append(reached)
        err = check_ok(r, cmd)
        if err:
            row["notes"].append(err)
            row["failed"] = True
            return row
        info = parse_csm_log(r["stderr"], train)
        row["log"] = info["summary"]
        row["solver_s"] = float(info["secs"]) if "secs" in info else None
        row["iters"] = ("%s (%s ev.)" % (info["it"], info["ev"]) if "ev" in info
                        else info.get("it", "?"))
        if not info["summary"]:
            row["notes"].append("no summary line in its log")
        elif "how" in info:
            row["notes"].append(info["how"])
        if info["warnings"]:
            row["notes"].append("WARNING (see its log)")
        for sl in info["storage"][:2]:
            if sl != info["summary"]:
                row["notes"].append(sl)
        row["logs"] = info["warnings"] + [info["summary"]]
        try:
            from optimum import read_safetensors
            W, b, labels, meta = read_safetensors(model)
        except Exception as e:      # noqa: BLE001 -- report, go on
            row["notes"].append("model unreadable: %s" % e)
            row["failed"] = True
            return row
        W, note = fit_width(W, k, "clsoftmax")
        if note:
            row["notes"].append(note)
        row["precision"] = meta.get("precision", "?")
        try:
            row["J"] = objective(W, b, X, class_index(y, labels), lam)
        except ValueError as e:
            row["notes"].append("J: %s" % e)
        row["test_acc"] = accuracy(W, b, Xte, yte, labels)
        row["train_acc"] = accuracy(W, b, X, y, labels)
        if "obj" in info and "J" in row:
            rel = (float(info["obj"]) - row["J"]) / row["J"]
            row["J_log_rel"] = rel
            if abs(rel) > 1e-5:
                row["notes"].append("its log's objective %s differs from J by %.2e relative"
                                    % (info["obj"], rel))
        if "lam" in info and abs(float(info["lam"]) - lam) > 1e-6 * lam:
            row["notes"].append("its lambda %s, expected %.6g" % (info["lam"], lam))
        ecmd = [a.clsoftmax, "eval", test, model]
        if not self.commands or self.commands[-1] != fmt_cmd(ecmd):
            self.commands.append(fmt_cmd(ecmd))
        e = run_measured(ecmd, a.timeout)
        err = check_ok(e, ecmd)
        if err:
            row["notes"].append("eval " + err)
        else:
            m = re.search(r"^accuracy\s+([0-9.eE+-]+)", e["stdout"], re.M)
            if m and abs(float(m.group(1)) - row["test_acc"]) > 1.5e-4:
                row["notes"].append("clsoftmax eval says accuracy %s, its weights give %.4f"
                                    % (m.group(1), row["test_acc"]))
            row["notes"].append("eval %.2f s, %.0f MB" % (e["wall"], e["rss_mb"]))
        return row

    def liblinear(self, train, test, outdir, Xte, yte, k):
        a = self.args
        model = os.path.join(outdir, "liblinear.model")
        cmd = [a.liblinear_train] + shlex.split(a.liblinear_args) + [train, model]
        self.commands.append(fmt_cmd(cmd))
        row = {"tool": "liblinear " + a.liblinear_args, "cmd": fmt_cmd(cmd),
               "notes": ["one-vs-rest binary LR (bias regularised): not the softmax J"]}
        r = run_best(cmd, a.timeout, a.repeats, row)
        row.update(wall=r["wall"], rss=r["rss_mb"], cpu=r["cpu"])
        save_log(outdir, row["tool"].split()[0], r)
        err = check_ok(r, cmd)
        if err:
            row["notes"].append(err)
            row["failed"] = True
            return row
        iters = re.findall(r"^iter\s+(\d+)", r["stdout"], re.M)
        # each class's problem counts up from 1: sum the last count of each run
        per = []
        prev = 0
        for v in map(int, iters):
            if v <= prev:
                per.append(prev)
            prev = v
        if prev:
            per.append(prev)
        row["iters"] = "%d (%d problems, max %d)" % (sum(per), len(per), max(per)) if per \
            else "?"
        W, b, labels = read_liblinear_model(model)
        W, note = fit_width(W, k, "liblinear")
        if note:
            row["notes"].append(note)
        row["test_acc"] = accuracy(W, b, Xte, yte, labels)
        pcmd = [a.liblinear_predict, test, model, os.path.join(outdir, "liblinear.pred")]
        self.commands.append(fmt_cmd(pcmd))
        p = run_measured(pcmd, a.timeout)
        m = re.search(r"Accuracy = ([0-9.]+)%", p["stdout"])
        if m and abs(float(m.group(1)) / 100 - row["test_acc"]) > 1.5e-4:
            row["notes"].append("liblinear-predict says %s%%, its weights give %.4f"
                                % (m.group(1), row["test_acc"]))
        return row

    def sklearn(self, train, outdir, X, y, Xte, yte, lam, k):
        a = self.args
        out = os.path.join(outdir, "sklearn.npz")
        me = os.path.abspath(__file__)
        cmd = [a.python, me, "--sklearn-child", train, str(k), repr(C_REG),
               str(a.sklearn_max_iter), out]
        self.commands.append(fmt_cmd(cmd) + "   # load_svmlight_file + LogisticRegression"
                             "(C=%g, max_iter=%d).fit" % (C_REG, a.sklearn_max_iter))
        row = {"tool": "scikit-learn lbfgs", "cmd": fmt_cmd(cmd), "notes": []}
        saved = os.path.join(outdir, "sklearn.json")
        if a.reuse_sklearn and os.path.exists(saved) and os.path.exists(out):
            with open(saved) as f:
                res = json.load(f)
            row.update(wall=res["wall"], rss=res["rss_mb"], cpu=res.get("cpu"))
            row["notes"].append("REUSED from an earlier run (%s), not rerun" % res["when"])
            if res.get("base_rss"):
                row["notes"].append("import + load only: %.0f MB" % res["base_rss"])
        else:
            base = run_measured(cmd[:-1] + ["-"], a.timeout)
            if not check_ok(base, cmd):
                row["notes"].append("import + load only: %.0f MB" % base["rss_mb"])
                row["base_rss"] = base["rss_mb"]
            r = run_best(cmd, a.timeout, a.repeats, row)
            row.update(wall=r["wall"], rss=r["rss_mb"], cpu=r["cpu"])
            save_log(outdir, row["tool"].split()[0], r)
            err = check_ok(r, cmd)
            if err:
                row["notes"].append(err)
                row["failed"] = True
                return row
            res = json.loads(r["stdout"].strip().splitlines()[-1])
            res.update(wall=r["wall"], rss_mb=r["rss_mb"], cpu=r["cpu"],
                       base_rss=row.get("base_rss"),
                       when=time.strftime("%Y-%m-%d %H:%M:%S"))
            with open(saved, "w") as f:
                json.dump(res, f)
        row["solver_s"] = res["fit_s"]
        row["iters"] = str(res["n_iter"])
        row["notes"].append("load %.2f s, fit %.2f s; %s" % (
            res["load_s"], res["fit_s"], "converged (its tol 1e-4 on the summed objective)"
            if res["converged"] else "ConvergenceWarning: max_iter=%d" % a.sklearn_max_iter))
        z = np.load(out)
        W, b, classes = z["coef"], z["intercept"], [int(c) for c in z["classes"]]
        if W.shape[0] == 1:
            # one vector d: the two-row softmax with W1 = -W0 = d/2, whose J
            # (lambda = 2/(C n)) is scikit-learn's objective at the same C
            W, b = np.vstack([-W[0] / 2, W[0] / 2]), np.array([-b[0] / 2, b[0] / 2])
        row["J"] = objective(W, b, X, class_index(y, classes), lam)
        row["test_acc"] = accuracy(W, b, Xte, yte, classes)
        row["train_acc"] = accuracy(W, b, X, y, classes)
        return row


def run_set(args, extra, name, has_sparse):
    train, test, features = ensure_data(args.data, name)
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    X, y = load_libsvm(train, features)
    k = features or X.shape[1]
    Xte, yte = load_libsvm(test, k)
    n = X.shape[0]
    # clsoftmax's C: for two classes lambda = 2/(C n), scikit-learn's binary C
    lam = (2.0 if len(np.unique(y)) == 2 else 1.0) / (C_REG * n)
    print("\n## set %s: %s: %d x %d, %d non-zeros (%.1f a row), %d classes; test %d rows; "
          "lambda = %.6g  (read in %.1f s)" % (
              name, train, n, k, X.nnz, X.nnz / n, len(np.unique(y)), Xte.shape[0], lam,
              time.perf_counter() - t0), flush=True)
    tmp = tempfile.TemporaryDirectory(prefix="csm-sparse-")
    outdir = os.path.join(args.keep, name) if args.keep else tmp.name
    os.makedirs(outdir, exist_ok=True)
    bench = Bench(args, extra)
    rows = []

    def progress(row):
        print("  %s: %s" % (row["tool"], "; ".join(x for x in
            ["wall %.2f s" % row["wall"] if row.get("wall") is not None else "",
             "rss %.0f MB" % row["rss"] if row.get("rss") is not None else "",
             "J %.10f" % row["J"] if "J" in row else ""] + row["notes"] if x)), flush=True)

    sk = None
    if not args.skip_sklearn:
        sk = bench.sklearn(train, outdir, X, y, Xte, yte, lam, k)
        rows.append(sk)
        progress(sk)
    if not args.skip_liblinear:
        rows.append(bench.liblinear(train, test, outdir, Xte, yte, k))
        progress(rows[-1])
    csm_runs = []
    if not args.skip_clsoftmax:
        runs = [("default", [])] + [("also%d" % i, shlex.split(s))
                                     for i, s in enumerate(args.also or [])]
        for tag, more in runs:
            r = bench.clsoftmax(train, test, outdir, tag, more, X, y, Xte, yte, lam, k,
                                sk.get("J") if sk else None)
            rows.append(r)
            csm_runs.append(r)
            progress(r)
        if args.tight == "auto" and sk and "J" in sk and not any(
                "J" in r and r["J"] <= sk["J"] for r in csm_runs):
            for tag, more in (("tol6", ["--tol", "1e-6"]),
                              ("tolsk", ["--double", "--tol", "%.6g" % (1e-4 / n)])):
                r = bench.clsoftmax(train, test, outdir, tag, more, X, y, Xte, yte, lam, k,
                                    sk.get("J"))
                rows.append(r)
                csm_runs.append(r)
                progress(r)
                if "J" in r and r["J"] <= sk["J"]:
                    break

    # ------------------------------------------------------------ table
    Js = [r["J"] for r in rows if "J" in r]
    ref = sk["J"] if sk and "J" in sk else (min(Js) if Js else None)
    print()
    print("load average (1 min) at the start of set %s: %.2f, at its end: %.2f (%d CPUs); "
          "other work on the machine skews the times" % (name, load0, os.getloadavg()[0],
                                                         os.cpu_count() or 0))
    print()
    print("| tool | wall s | CPU s | solver s | peak RSS MB | iterations | J (float64) | "
          "J - J_sklearn | test acc | notes |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in rows:
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["tool"],
            "%.2f" % r["wall"] if r.get("wall") is not None else "-",
            "%.2f" % r["cpu"] if r.get("cpu") is not None else "-",
            "%.2f" % r["solver_s"] if r.get("solver_s") is not None else "-",
            "%.0f" % r["rss"] if r.get("rss") is not None else "-",
            r.get("iters", "-"),
            "%.10f" % r["J"] if "J" in r else "-",
            "%+.3g" % (r["J"] - ref) if "J" in r and ref is not None and sk and "J" in sk
            else "-",
            "%.4f" % r["test_acc"] if "test_acc" in r else "-",
            "; ".join(r["notes"]).replace("|", "/")))
    print()
    for r in rows:
        for ln in r.get("logs", []):
            if ln:
                print("%s log: %s" % (r["tool"], ln))
    print()
    ll = next((r for r in rows if r["tool"].startswith("liblinear") and r.get("rss")), None)
    for r in csm_runs:
        if r.get("failed"):
            continue
        parts = []
        if ll:
            parts.append("memory %.2fx liblinear's (goal <= 3x)" % (r["rss"] / ll["rss"]))
        if sk and not sk.get("failed"):
            parts.append("solver time %.3fx scikit-learn's fit, whole process %.3fx "
                         "(goal <= 0.5x at the same J)" % (
                             (r["solver_s"] or r["wall"]) / sk["solver_s"],
                             r["wall"] / sk["wall"]))
            if "J" in r:
                parts.append("J %s scikit-learn's (%+.2e relative)" % (
                    "<=" if r["J"] <= sk["J"] else "above", (r["J"] - sk["J"]) / sk["J"]))
        if parts:
            print("- %s: %s" % (r["tool"], "; ".join(parts)))
    print()
    print("wall s: the whole process under /usr/bin/time -v (reading the text file, training, "
          "writing the model); CPU s: its user + system time; solver s: clsoftmax's summary line (training alone), "
          "scikit-learn's fit alone. peak RSS: Maximum resident set size. "
          "clsoftmax train --help %s --sparse." % ("lists" if has_sparse else "does NOT list"))
    print()
    print("Commands:")
    for c in bench.commands:
        print("    " + c)
    tmp.cleanup()
    return rows


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--sklearn-child":
        return sklearn_child(sys.argv[2:])
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], allow_abbrev=False,
        epilog="Arguments after the known options (or after --) go to `clsoftmax train`.")
    ap.add_argument("--clsoftmax", default=DEFAULT_CLSOFTMAX,
                    help="the clsoftmax command (default %(default)s)")
    ap.add_argument("--data", default=DEFAULT_DATA, help="directory of the make_sparse.py "
                    "files, generated there when missing (default %(default)s)")
    ap.add_argument("--set", choices=("t", "a", "b", "both"), default="a",
                    help="which data set (default %(default)s; t: a 2000 x 5000 smoke test)")
    ap.add_argument("--skip-sklearn", action="store_true")
    ap.add_argument("--skip-liblinear", action="store_true")
    ap.add_argument("--skip-clsoftmax", action="store_true")
    ap.add_argument("--also", action="append", metavar="'ARGS'",
                    help="another clsoftmax run with ARGS added (repeatable)")
    ap.add_argument("--tight", choices=("auto", "no"), default="auto",
                    help="auto: rerun clsoftmax with tighter tolerances when it stops above "
                    "scikit-learn's J (default %(default)s)")
    ap.add_argument("--no-warmup", dest="warmup", action="store_false",
                    help="skip the untimed --max-iter 1 clsoftmax run")
    ap.add_argument("--timeout", type=float, default=1800,
                    help="seconds before a run is killed (default %(default)s)")
    ap.add_argument("--repeats", type=int, default=1, help="timed runs of each tool; the "
                    "fastest is reported (training time: clsoftmax's summary line, "
                    "scikit-learn's fit; liblinear: wall), every run's time in the notes, "
                    "the largest RSS (default %(default)s)")
    ap.add_argument("--sklearn-max-iter", type=int, default=1000)
    ap.add_argument("--python", default=sys.executable,
                    help="python for the scikit-learn child (default: this one)")
    ap.add_argument("--liblinear-train", default="liblinear-train")
    ap.add_argument("--liblinear-predict", default="liblinear-predict")
    ap.add_argument("--liblinear-args", default="-s 0 -c 1 -B 1",
                    help="(default %(default)s)")
    ap.add_argument("--keep", metavar="DIR", help="keep the models, logs and histories "
                    "under DIR/SET")
    ap.add_argument("--reuse-sklearn", action="store_true", help="with --keep: take "
                    "scikit-learn's model and measurements from DIR/SET/sklearn.{npz,json} "
                    "of an earlier run instead of fitting again (it takes ~15 min on set b)")
    args, extra = ap.parse_known_args()
    if extra and extra[0] == "--":
        extra = extra[1:]
    if not os.path.exists(TIME):
        sys.exit("sparse.py needs %s (apt-get install time)" % TIME)
    has_sparse = help_has_sparse(args.clsoftmax) if not args.skip_clsoftmax else False
    cdir = os.path.dirname(args.clsoftmax)
    cands = [os.path.join(cdir, ".libs", os.path.basename(args.clsoftmax)),  # libtool's
             os.path.join(cdir, "..", ".libs", "libclsoftmax.so"), args.clsoftmax]
    stamps = [os.path.getmtime(c) for c in cands if os.path.exists(c)]
    built = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(max(stamps))) if stamps else "?"
    try:
        head = subprocess.run(["git", "-C", cdir or ".", "describe", "--always", "--dirty"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              universal_newlines=True).stdout.strip()
        built += ", source " + (head or "?")
    except OSError:
        pass
    print("clsoftmax: %s (built %s; train --help %s --sparse); extra train args: %s" % (
        args.clsoftmax, built, "lists" if has_sparse else "does not list",
        fmt_cmd(extra) if extra else "(none)"))
    for name in ("a", "b") if args.set == "both" else (args.set,):
        run_set(args, extra, name, has_sparse)


if __name__ == "__main__":
    main()
