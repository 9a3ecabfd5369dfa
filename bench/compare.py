#!/usr/bin/env python3
"""Softmax regression in PyTorch and NumPy next to clsoftmax, in one run.

Loads the same Fashion-MNIST files as clsoftmax-bench (or regenerates its
synthetic data bit for bit), checks that all three compute the same loss at
the same fixed initial weights and after one full-batch SGD step, times a
full-batch epoch and a minibatch epoch (forward, softmax cross-entropy,
backward, SGD update) in each, runs clsoftmax-bench with --json, and prints
the ratios against the targets of BENCHMARKS.md.

Needs numpy; torch is optional (Debian 12: apt-get install python3-numpy
python3-torch). Example, from a build directory:

    make bench
    python3 ../bench/compare.py --bench bench/clsoftmax-bench

--shapes runs a grid of synthetic shapes instead (BENCHMARKS.md, "Shape
grid"): n in {20000, 60000}, k in {100, 784, 1000, 4096}, C in {2, 10, 100,
1000}, full-batch and minibatch-256 epochs of plain SGD (lr 0.1), best and
median of 4 epochs after a warm-up, in clsoftmax, PyTorch (nn.Linear +
CrossEntropyLoss + SGD, all cores) and NumPy, on the same data. clsoftmax
runs three ways per shape: clsoftmax-bench --shape NxKxC --input float32
(the features reach the library as float32, as a user's CSV file or NumPy
array does), the whole command `clsoftmax train` on a float CSV of the same
data (epoch times from --history, and the whole process's time), and
clsoftmax-bench --input u8 (the 8-bit storage of IDX files; a separate
table). GFLOP/s (4nkC an epoch) and the fraction of the device's peak read
by clsoftmax-bench --peak before and after the cells (the higher reading),
and of the highest peak the device has shown (a record kept in
--peak-record). Subsets: --shapes-n 20000 --shapes-k 100,784 --shapes-c 10
--modes full; --quick: the four cells of the issue "Fast whatever the
machine is doing" (20000 x 1000 x 100 and 20000 x 100 x 1000, full batch
and 256), a few minutes.

    /usr/bin/python3 bench/compare.py --shapes --quick --json quick.json
    /usr/bin/python3 bench/compare.py --shapes --json grid.json

How long (before the float32 and command columns were added, which add
about as much again as the clsoftmax-bench runs, plus writing each CSV once):
estimated from small runs on the 2-core EPYC of BENCHMARKS.md (shared at the
time), not by running it all: about 40-55 minutes with
OpenBLAS. The C = 1000 column is about 90% of the arithmetic and runs on
the library's CLBlast path there (measured 22 GFLOP/s full batch, 7-15
GFLOP/s minibatch): about 25 minutes of clsoftmax, the 60000 x 4096 x 1000
cell about 11 of them (983 GFLOP an epoch; 5 epochs a mode plus about 2
epochs' worth of cross-check). PyTorch and NumPy: roughly 5-10 minutes each
if OpenBLAS reaches 50-100 GFLOP/s at these shapes (not measured: that
machine had only Debian's reference BLAS, 3-5 GFLOP/s, with which they take
hours; the script warns). Peak memory at n = 60000, k = 4096, float32:
about 1.3 GB in this process, 1.7 GB in clsoftmax-bench on the CLBlast path
(float32; twice that with --double).
"""
import argparse
import gzip
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time

try:
    import numpy as np
except ImportError:
    sys.exit("compare.py needs numpy: apt-get install python3-numpy (or pip install numpy)")

DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"
C = 10
SYNTH_N, SYNTH_N_TEST, SYNTH_K = 60000, 10000, 784
CROSSCHECK_TOL = 1e-4
LR = 0.1


# ---------------------------------------------------------------- data

def load_idx(path, ndims):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic = struct.unpack(">I", raw[:4])[0]
    if magic != 0x800 | ndims:
        raise ValueError("%s: not an IDX u8 file of %d dimensions (magic %08x)" % (path, ndims, magic))
    dims = struct.unpack(">%dI" % ndims, raw[4:4 + 4 * ndims])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndims).reshape(dims)


def _mix(x):
    """splitmix64 finaliser on a uint64 array (wrapping arithmetic)."""
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def synthetic(n, k, classes, first_row):
    """The synthetic data of bench/bench_data.c, bit for bit."""
    j = np.arange(k, dtype=np.uint64)
    c = np.arange(classes, dtype=np.uint64)
    u20, mask = np.uint64(20), np.uint64(255)
    proto = (_mix((np.uint64(1) << np.uint64(62)) | (c[:, None] << u20) | j[None, :]) & mask)
    proto = proto.astype(np.uint16)
    g = np.arange(n, dtype=np.uint64) + np.uint64(first_row)
    y = (_mix((g << u20) | np.uint64(0xFFFFF)) % np.uint64(classes)).astype(np.int64)
    x = np.empty((n, k), dtype=np.uint8)
    for r0 in range(0, n, 4096):
        gg = g[r0:r0 + 4096]
        noise = (_mix((gg[:, None] << u20) | j[None, :]) & mask).astype(np.uint16)
        x[r0:r0 + 4096] = ((proto[y[r0:r0 + 4096]] + 3 * noise) // 4).astype(np.uint8)
    return x, y


def load_data(args):
    img = os.path.join(args.data, "train-images-idx3-ubyte.gz")
    lab = os.path.join(args.data, "train-labels-idx1-ubyte.gz")
    if not args.synthetic and os.path.exists(img) and os.path.exists(lab):
        x = load_idx(img, 3)
        x = x.reshape(x.shape[0], -1)
        y = load_idx(lab, 1).astype(np.int64)
        source = "fashion-mnist " + args.data
    else:
        if not args.synthetic:
            print("note: %s not found: using synthetic data of the same shape" % img)
        x, y = synthetic(SYNTH_N, SYNTH_K, C, 0)
        source = "synthetic"
    # float32 features byte / 255, as the library does for CSM_DTYPE_U8
    xf = x.astype(np.float32) / np.float32(255.0)
    return np.ascontiguousarray(xf), y, source


def crosscheck_weights(k, classes=C):
    """The fixed weights of bench.c's crosscheck_weights(), in float64."""
    idx = np.arange(classes * k, dtype=np.int64).reshape(classes, k)
    w = ((idx * 7919) % 2001 - 1000).astype(np.float64) * 1e-5
    b = (np.arange(classes, dtype=np.float64) - 4.5) * 0.01
    return w, b


def blas_libraries():
    """The BLAS libraries mapped into this process (Linux), e.g. OpenBLAS or
    Debian's slow reference libblas (/usr/lib/<arch>/blas/libblas.so.3)."""
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                if "blas" in os.path.basename(path).lower():
                    libs.add(os.path.realpath(path))
    except OSError:
        pass
    return sorted(libs)


def summary(times):
    return {"median": statistics.median(times), "min": min(times), "max": max(times),
            "count": len(times)}


# --------------------------------------------------------------- numpy

class NumpySoftmax:
    """S = X W^T + b; O = softmax(S); J = mean -log O_iy;
    dW = (O - T)^T X / n; db = sum_i (O_i - T_i) / n; SGD update."""

    def __init__(self, w, b, dtype=np.float32):
        self.w = w.astype(dtype)
        self.b = b.astype(dtype)

    def loss(self, x, y):
        s = x @ self.w.T + self.b
        m = s.max(axis=1, keepdims=True)
        lse = np.log(np.exp(s - m).sum(axis=1, keepdims=True)) + m
        return float(np.mean(lse[:, 0] - s[np.arange(len(y)), y], dtype=np.float64))

    def step(self, x, y, lr, times=None):
        n = len(y)
        t0 = time.perf_counter()
        s = x @ self.w.T                                      # (n, C) forward
        t1 = time.perf_counter()
        s += self.b
        m = s.max(axis=1, keepdims=True)
        e = np.exp(s - m)
        z = e.sum(axis=1, keepdims=True)
        rows = np.arange(n)
        loss = float(np.mean(np.log(z[:, 0]) + m[:, 0] - s[rows, y], dtype=np.float64))
        delta = e / z                                         # O
        delta[rows, y] -= 1                                   # O - T
        delta *= delta.dtype.type(1.0 / n)
        t2 = time.perf_counter()
        dw = delta.T @ x                                      # (C, k)
        db = delta.sum(axis=0)
        t3 = time.perf_counter()
        self.w -= self.w.dtype.type(lr) * dw
        self.b -= self.b.dtype.type(lr) * db
        t4 = time.perf_counter()
        if times is not None:
            for key, v in zip(("forward", "softmax_loss", "gradient", "update"),
                              (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                times.setdefault(key, []).append(v)
        return loss


def numpy_bench(x, y, args):
    n, k = x.shape
    w0, b0 = crosscheck_weights(k)
    model = NumpySoftmax(w0, b0)
    loss0 = model.step(x, y, LR)
    loss1 = model.loss(x, y)
    res = {"crosscheck": {"loss_init": loss0, "loss_after_step": loss1}}

    model = NumpySoftmax(np.zeros((C, k)), np.zeros(C))
    full, phases = [], {}
    for e in range(args.repeats + 1):
        ph = {} if e else None
        t0 = time.perf_counter()
        model.step(x, y, LR, ph)
        dt = time.perf_counter() - t0
        if e:
            full.append(dt)
            for key, v in ph.items():
                phases.setdefault(key, []).extend(v)
    res["full_batch"] = summary(full)
    res["phases_full_batch"] = {key: summary(v) for key, v in phases.items()}

    model = NumpySoftmax(np.zeros((C, k)), np.zeros(C))
    rng = np.random.default_rng(1)
    mini = []
    for e in range(args.repeats + 1):
        t0 = time.perf_counter()
        perm = rng.permutation(n)
        for i in range(0, n, args.batch_size):
            idx = perm[i:i + args.batch_size]
            model.step(x[idx], y[idx], LR)
        dt = time.perf_counter() - t0
        if e:
            mini.append(dt)
    res["minibatch"] = summary(mini)
    return res


# --------------------------------------------------------------- torch

def torch_bench(x, y, args, threads):
    import torch
    res = {"version": torch.__version__}
    torch.set_num_threads(threads)
    res["threads"] = torch.get_num_threads()
    n, k = x.shape
    xt = torch.from_numpy(x)
    yt = torch.from_numpy(y)
    loss_fn = torch.nn.CrossEntropyLoss()

    def make_model(w, b):
        model = torch.nn.Linear(k, C)
        with torch.no_grad():
            model.weight.copy_(torch.from_numpy(w.astype(np.float32)))
            model.bias.copy_(torch.from_numpy(b.astype(np.float32)))
        return model, torch.optim.SGD(model.parameters(), lr=LR)

    w0, b0 = crosscheck_weights(k)
    model, opt = make_model(w0, b0)
    opt.zero_grad()
    loss = loss_fn(model(xt), yt)
    loss.backward()
    opt.step()
    with torch.no_grad():
        loss1 = loss_fn(model(xt), yt).item()
    res["crosscheck"] = {"loss_init": loss.item(), "loss_after_step": loss1}

    model, opt = make_model(np.zeros((C, k)), np.zeros(C))
    full, phases = [], {}
    for e in range(args.repeats + 1):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        s = model(xt)                                         # forward
        t1 = time.perf_counter()
        loss = loss_fn(s, yt)                                 # softmax + loss
        t2 = time.perf_counter()
        loss.backward()                                       # gradient
        t3 = time.perf_counter()
        opt.step()                                            # update
        loss.item()
        t4 = time.perf_counter()
        if e:
            full.append(t4 - t0)
            for key, v in zip(("forward", "softmax_loss", "gradient", "update"),
                              (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                phases.setdefault(key, []).append(v)
    res["full_batch"] = summary(full)
    res["phases_full_batch"] = {key: summary(v) for key, v in phases.items()}

    model, opt = make_model(np.zeros((C, k)), np.zeros(C))
    gen = torch.Generator().manual_seed(1)
    mini = []
    for e in range(args.repeats + 1):
        t0 = time.perf_counter()
        perm = torch.randperm(n, generator=gen)
        total = torch.zeros(())
        for i in range(0, n, args.batch_size):
            idx = perm[i:i + args.batch_size]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            total += loss.detach() * len(idx)
        total.item()
        dt = time.perf_counter() - t0
        if e:
            mini.append(dt)
    res["minibatch"] = summary(mini)
    return res


# ---------------------------------------------------------- clsoftmax

def run_bench(args):
    fd, path = tempfile.mkstemp(prefix="clsoftmax-bench-", suffix=".json")
    os.close(fd)
    cmd = [args.bench, "--json", path, "--repeats", str(args.repeats),
           "--batch-size", str(args.batch_size)]
    cmd += ["--synthetic"] if args.synthetic else ["--data", args.data]
    cmd += args.bench_arg
    print("$ " + " ".join(cmd), flush=True)
    try:
        rc = subprocess.call(cmd)
        if rc != 0:
            sys.exit("compare.py: clsoftmax-bench failed (exit status %d)" % rc)
        with open(path) as f:
            return json.load(f)
    finally:
        os.unlink(path)


# ------------------------------------------------------------- report

def fmt(v, unit="s"):
    if v is None:
        return "-"
    if unit == "s":
        return "%.4f" % v
    return "%.0f" % v


def ratio(a, b):
    return "%.2fx" % (a / b) if a is not None and b else "-"


# ---------------------------------------------------------------- grid
#
# --shapes: synthetic data of every (n, k, C) of a grid, full-batch and
# minibatch epochs in clsoftmax, PyTorch and NumPy on the same data.

GRID_N = (20000, 60000)
GRID_K = (100, 784, 1000, 4096)
GRID_C = (2, 10, 100, 1000)
GRID_REPEATS = 4
GRID_BATCH = 256
# --quick: the four cells of the issue "Fast whatever the machine is doing"
# (each in full-batch and minibatch epochs)
QUICK_CELLS = ((20000, 1000, 100), (20000, 100, 1000))
DEFAULT_PEAK_RECORD = os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
    "clsoftmax", "peak-record.json")


def synthetic_features(n, k, classes, dtype):
    """synthetic(n, k, classes, 0) as features byte / 255 of `dtype`, made
    block by block so the only full-size array is the result (n = 60000,
    k = 4096: 983 MB in float32)."""
    j = np.arange(k, dtype=np.uint64)
    c = np.arange(classes, dtype=np.uint64)
    u20, mask = np.uint64(20), np.uint64(255)
    proto = (_mix((np.uint64(1) << np.uint64(62)) | (c[:, None] << u20) | j[None, :]) & mask)
    proto = proto.astype(np.uint16)
    g = np.arange(n, dtype=np.uint64)
    y = (_mix((g << u20) | np.uint64(0xFFFFF)) % np.uint64(classes)).astype(np.int64)
    x = np.empty((n, k), dtype=dtype)
    step = max(1, (1 << 22) // k)
    scale = np.dtype(dtype).type(255.0)
    for r0 in range(0, n, step):
        gg = g[r0:r0 + step]
        noise = (_mix((gg[:, None] << u20) | j[None, :]) & mask).astype(np.uint16)
        byte = ((proto[y[r0:r0 + step]] + 3 * noise) // 4).astype(np.uint8)
        np.divide(byte.astype(dtype), scale, out=x[r0:r0 + step])
    return x, y


def epoch_stats(times):
    """Best (min) and median of the timed epochs (the warm-up dropped)."""
    return {"min": min(times), "median": statistics.median(times), "max": max(times),
            "count": len(times), "all": times}


def grid_numpy(x, y, classes, modes, repeats, batch):
    n, k = x.shape
    dt = x.dtype.type
    w0, b0 = crosscheck_weights(k, classes)
    model = NumpySoftmax(w0, b0, dt)
    loss0 = model.step(x, y, LR)
    loss1 = model.loss(x, y)
    res = {"crosscheck": {"loss_init": loss0, "loss_after_step": loss1}}
    del model
    rng = np.random.default_rng(1)
    for mode in modes:
        model = NumpySoftmax(np.zeros((classes, k)), np.zeros(classes), dt)
        times = []
        for e in range(repeats + 1):
            t0 = time.perf_counter()
            if mode == "full":
                model.step(x, y, LR)
            else:
                perm = rng.permutation(n)
                for i in range(0, n, batch):
                    idx = perm[i:i + batch]
                    model.step(x[idx], y[idx], LR)
            if e:
                times.append(time.perf_counter() - t0)
        res[mode] = epoch_stats(times)
        del model
    return res


def grid_torch(x, y, classes, modes, repeats, batch, threads):
    import torch
    torch.set_num_threads(threads)
    n, k = x.shape
    tdtype = torch.float64 if x.dtype == np.float64 else torch.float32
    xt = torch.from_numpy(x)            # shares x's memory
    yt = torch.from_numpy(y)
    loss_fn = torch.nn.CrossEntropyLoss()

    def make_model(w, b):
        model = torch.nn.Linear(k, classes, dtype=tdtype)
        with torch.no_grad():
            model.weight.copy_(torch.from_numpy(w))
            model.bias.copy_(torch.from_numpy(b))
        return model, torch.optim.SGD(model.parameters(), lr=LR)

    res = {"version": torch.__version__, "threads": torch.get_num_threads()}
    w0, b0 = crosscheck_weights(k, classes)
    model, opt = make_model(w0, b0)
    opt.zero_grad()
    loss = loss_fn(model(xt), yt)
    loss.backward()
    opt.step()
    with torch.no_grad():
        loss1 = loss_fn(model(xt), yt).item()
    res["crosscheck"] = {"loss_init": loss.item(), "loss_after_step": loss1}
    del model, opt, loss
    gen = torch.Generator().manual_seed(1)
    for mode in modes:
        model, opt = make_model(np.zeros((classes, k)), np.zeros(classes))
        times = []
        for e in range(repeats + 1):
            t0 = time.perf_counter()
            if mode == "full":
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(xt), yt)
                loss.backward()
                opt.step()
                loss.item()
            else:
                perm = torch.randperm(n, generator=gen)
                total = torch.zeros((), dtype=tdtype)
                for i in range(0, n, batch):
                    idx = perm[i:i + batch]
                    opt.zero_grad(set_to_none=True)
                    loss = loss_fn(model(xt[idx]), yt[idx])
                    loss.backward()
                    opt.step()
                    total += loss.detach() * len(idx)
                total.item()
            if e:
                times.append(time.perf_counter() - t0)
        res[mode] = epoch_stats(times)
        del model, opt
    return res


def grid_bench_json(cmd):
    """Runs clsoftmax-bench `cmd` (without --json) and returns its JSON."""
    fd, path = tempfile.mkstemp(prefix="clsoftmax-bench-", suffix=".json")
    os.close(fd)
    cmd = cmd + ["--json", path]
    print("$ " + " ".join(cmd), flush=True)
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True)
        if proc.returncode != 0:
            sys.stdout.write(proc.stdout)
            sys.exit("compare.py: clsoftmax-bench failed (exit status %d)" % proc.returncode)
        with open(path) as f:
            return json.load(f), proc.stdout
    finally:
        os.unlink(path)


def grid_bench(args, n, k, classes, modes, inp):
    """clsoftmax-bench on synthetic data of n x k x C, the features handed to
    the library as `inp`: float32 (byte / 255 as float32, as a CSV or NumPy
    array reaches it) or u8 (the bytes, as an IDX file)."""
    cmd = [args.bench, "--shape", "%dx%dx%d" % (n, k, classes), "--repeats", str(args.repeats),
           "--batch-size", str(args.batch_size), "--modes", ",".join(modes), "--input", inp,
           "--no-phases", "--no-accuracy", "--no-startup"]
    if args.double:
        cmd.append("--double")
    cmd += args.bench_arg
    res, out = grid_bench_json(cmd)
    for line in out.splitlines():    # the bench's own summary of the epochs
        if line.startswith(("path:", "  full-batch", "  minibatch", "    GFLOP/s", "  features",
                            "  library log")):
            print("  " + line.rstrip())
    return res


# ------------------------------------------------------- whole command

def write_float_csv(path, x, y):
    """x (byte / 255 in float32 or float64) as a CSV file: the label first,
    then the k features, each printed with enough digits to come back as the
    same float32 (%.9g), no header. The values are the 256 of byte / 255, so
    the text of each comes from a table."""
    scale = x.dtype.type(255.0)
    table = np.array(["%.9g" % v for v in (np.arange(256, dtype=x.dtype) / scale)], dtype=object)
    tmp = path + ".part"
    with open(tmp, "w") as f:
        step = max(1, (1 << 20) // max(1, x.shape[1]))
        for r0 in range(0, x.shape[0], step):
            block = np.rint(x[r0:r0 + step] * scale).astype(np.uint8)
            words = table[block]
            f.write("".join("%d,%s\n" % (lab, ",".join(row))
                            for lab, row in zip(y[r0:r0 + step], words)))
    os.replace(tmp, path)


def read_history(path):
    """--history: a dict per epoch (epoch, loss, ..., seconds)."""
    rows = []
    with open(path) as f:
        head = f.readline().strip().split(",")
        for line in f:
            vals = line.strip().split(",")
            rows.append({h: (float(v) if v else None) for h, v in zip(head, vals)})
    return rows


def grid_command(args, n, k, classes, modes, x, y, csv_dir):
    """`clsoftmax train` as a user runs it on a float CSV of the cell's data:
    plain SGD lr 0.1, no penalty, zero init, reshuffled minibatches (or full
    batch), repeats + 1 epochs; epoch times from --history (the first
    dropped), and the whole process's wall time (reading the CSV, the
    context, the kernels from the warm cache, the epochs, saving the model)."""
    csv = os.path.join(csv_dir, "grid-%dx%dx%d.csv" % (n, k, classes))
    if not os.path.exists(csv):
        t0 = time.perf_counter()
        write_float_csv(csv, x, y)
        print("  wrote %s (%.0f MB) in %.1f s" % (csv, os.path.getsize(csv) / 1e6,
                                                  time.perf_counter() - t0), flush=True)
    res = {"csv": csv, "csv_bytes": os.path.getsize(csv)}
    for mode in modes:
        hist = os.path.join(csv_dir, "history-%d.csv" % os.getpid())
        model = os.path.join(csv_dir, "model-%d.safetensors" % os.getpid())
        cmd = [args.clsoftmax, "train", "--solver", "sgd", "--lr", str(LR), "--l2", "0",
               "--batch-size", "0" if mode == "full" else str(args.batch_size),
               "--epochs", str(args.repeats + 1), "--tol", "0", "--format", "csv",
               "--no-header", "--history", hist, "-q"]
        if args.double:
            cmd.append("--double")
        cmd += [csv, model]
        print("$ " + " ".join(cmd), flush=True)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.stdout.write(proc.stdout)
            sys.exit("compare.py: clsoftmax train failed (exit status %d)" % proc.returncode)
        rows = read_history(hist)
        os.unlink(hist)
        os.unlink(model)
        secs = [r["seconds"] for r in rows]
        if len(secs) != args.repeats + 1:
            sys.exit("compare.py: clsoftmax train ran %d epochs, not %d" % (len(secs),
                                                                             args.repeats + 1))
        st = epoch_stats(secs[1:])
        st["first_epoch_s"] = secs[0]
        st["process_s"] = wall
        st["outside_epochs_s"] = wall - sum(secs)
        res[mode] = st
        print("  %-5s command   best %9.4f s  median %9.4f s  (first epoch %.4f s); whole "
              "process %.3f s, of it %.3f s outside the epochs" % (
                  mode, st["min"], st["median"], secs[0], wall, st["outside_epochs_s"]),
              flush=True)
    return res


# ---------------------------------------------------------------- peak

def peak_reading(args, precision):
    """clsoftmax-bench --peak on the device of --bench-arg (if any): the JSON
    and the GFLOP/s of `precision`."""
    dev = []
    for i, a in enumerate(args.bench_arg):
        if a.startswith("--device="):
            dev = [a]
        elif a == "--device" and i + 1 < len(args.bench_arg):
            dev = [a, args.bench_arg[i + 1]]
    peak_json, out = grid_bench_json([args.bench, "--peak"] + dev)
    sys.stdout.write(out)
    p = peak_json["peak"].get(precision)
    return peak_json, (p["gflops"] if p else None)


def peak_record_update(path, device, precision, gflops, when):
    """The highest peak this device has shown, kept in a JSON file across
    runs: {device: {precision: {"gflops", "date"}}}. Adds this run's reading
    when it is higher, and returns the record's entry afterwards."""
    rec = {}
    if os.path.exists(path):
        with open(path) as f:
            rec = json.load(f)
    cur = rec.setdefault(device, {}).get(precision)
    if gflops and (not cur or gflops > cur["gflops"]):
        cur = rec[device][precision] = {"gflops": gflops, "date": when}
        d = os.path.dirname(os.path.abspath(path))
        os.makedirs(d, exist_ok=True)
        tmp = path + ".part"
        with open(tmp, "w") as f:
            json.dump(rec, f, indent=1, sort_keys=True)
        os.replace(tmp, path)
    return cur


def parse_list(ap, name, text):
    try:
        vals = [int(v) for v in text.split(",") if v.strip()]
        if not vals or min(vals) < 1:
            raise ValueError
        return vals
    except ValueError:
        ap.error("%s wants a comma-separated list of positive integers" % name)


def pct(v):
    if v is None:
        return "-"
    return "%.0f%%" % (100 * v) if v >= 0.1 else "%.1f%%" % (100 * v)


def grid_main(ap, args):
    if args.quick:
        cells = list(QUICK_CELLS)
    else:
        ns = parse_list(ap, "--shapes-n", args.shapes_n)
        ks = parse_list(ap, "--shapes-k", args.shapes_k)
        cs = parse_list(ap, "--shapes-c", args.shapes_c)
        cells = [(n, k, c) for n in ns for k in ks for c in cs]
    if min(c for _, _, c in cells) < 2:
        ap.error("--shapes-c: at least 2 classes")
    if max(k for _, k, _ in cells) >= (1 << 20) - 1:
        ap.error("--shapes-k: the synthetic generator takes k < 2^20 - 1")
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes or any(m not in ("full", "mini") for m in modes):
        ap.error("--modes is a comma-separated list of full and mini")
    modes = list(dict.fromkeys(modes))
    inputs = [v.strip() for v in args.inputs.split(",") if v.strip()]
    if not inputs or any(v not in ("float32", "u8") for v in inputs):
        ap.error("--inputs is a comma-separated list of float32 and u8")
    inputs = list(dict.fromkeys(inputs))
    if args.no_bench:
        inputs = []
    threads = args.threads_grid
    dtype = np.float64 if args.double else np.float32
    precision = "float64" if args.double else "float32"
    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            print("note: torch not installed: skipping PyTorch")
    torch_ok = torch is not None
    command = not args.no_command
    if command and not os.access(args.clsoftmax, os.X_OK):
        ap.error("--clsoftmax %s: not an executable (build it, or --no-command)" % args.clsoftmax)

    results = {"grid": {"cells": [list(c) for c in cells], "modes": modes,
                        "repeats": args.repeats, "inputs": inputs, "command": command,
                        "batch_size": args.batch_size, "precision": precision, "lr": LR,
                        "torch_threads": threads},
               "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
               "loadavg_start": os.getloadavg(),
               "numpy_version": np.__version__, "cpus": os.cpu_count(), "cells": []}
    if torch_ok:
        results["torch_version"] = torch.__version__
        torch.zeros(4, 4) @ torch.zeros(4, 4)     # loads torch's BLAS, if a shared one
    np.zeros((4, 4), dtype=np.float32) @ np.zeros((4, 4), dtype=np.float32)
    blas = blas_libraries()
    results["blas"] = blas
    print("compare.py --shapes: numpy %s%s, %d CPUs; BLAS in this process: %s; load average "
          "%.2f %.2f %.2f" % (
              np.__version__, ", torch %s (threads %s)" % (
                  results["torch_version"], ",".join(map(str, threads)))
              if torch_ok else "", os.cpu_count(), ", ".join(blas) or "none found",
              *results["loadavg_start"]))
    if any("/blas/" in b for b in blas):
        print("warning: that is the reference BLAS, many times slower than OpenBLAS (here about "
              "3-5 GFLOP/s): NumPy's and PyTorch's times mean little and the grid takes hours; "
              "apt-get install libopenblas0-pthread")

    def save():
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=1)

    csv_tmp = None
    csv_dir = args.csv_dir
    if command:
        if csv_dir:
            os.makedirs(csv_dir, exist_ok=True)
        else:
            csv_tmp = tempfile.TemporaryDirectory(prefix="clsoftmax-grid-")
            csv_dir = csv_tmp.name

    # the peak, read before the cells and again after them; the run's peak is
    # the higher reading, and the record keeps the highest of every run
    readings = []
    if not args.no_bench:
        pj, p = peak_reading(args, precision)
        results["peak"] = pj
        readings.append(p)
        save()
    device_cpu = results.get("peak", {}).get("device_type") == "cpu"

    t_start = time.perf_counter()
    for n, k, classes in cells:
        t_cell = time.perf_counter()
        flops = 4.0 * n * k * classes
        print("\n=== n %d, k %d, C %d, %s: %.3g GFLOP an epoch (4nkC) ==="
              % (n, k, classes, precision, flops * 1e-9), flush=True)
        cell = {"n": n, "k": k, "C": classes, "flops_per_epoch": flops}
        for inp in inputs:
            print("  clsoftmax-bench, input %s" % inp)
            cell["clsoftmax_" + inp] = grid_bench(args, n, k, classes, modes, inp)
        t0 = time.perf_counter()
        x, y = synthetic_features(n, k, classes, dtype)
        print("  data: %.2f s (%.0f MB of %s features)"
              % (time.perf_counter() - t0, x.nbytes / 1e6, precision), flush=True)
        if command:
            cell["command"] = grid_command(args, n, k, classes, modes, x, y, csv_dir)
            if not args.csv_dir:
                os.unlink(cell["command"]["csv"])
        if torch_ok:
            # PyTorch at each thread count; the comparison takes its fastest
            # per mode (on a shared 2-core host 2 OpenMP threads can be many
            # times slower than 1 at minibatch steps)
            by = {t: grid_torch(x, y, classes, modes, args.repeats, args.batch_size, t)
                  for t in threads}
            pt = dict(by[threads[0]])
            for mode in modes:
                t = min(threads, key=lambda t: by[t][mode]["min"])
                pt[mode] = dict(by[t][mode], threads=t)
                print("  %-5s pytorch           %s" % (mode, ", ".join(
                    "%d thread%s %.4f s" % (t, "" if t == 1 else "s", by[t][mode]["min"])
                    for t in threads)))
            pt["by_threads"] = {str(t): by[t] for t in threads}
            cell["pytorch"] = pt
        if not args.no_numpy:
            cell["numpy"] = grid_numpy(x, y, classes, modes, args.repeats, args.batch_size)
        del x, y
        xnames = [nm for nm in ("clsoftmax_float32", "clsoftmax_u8", "pytorch", "numpy")
                  if nm in cell]
        ok = True
        for key in ("loss_init", "loss_after_step"):
            vals = {nm: cell[nm]["crosscheck"][key] for nm in xnames}
            if len(vals) < 2:
                continue
            spread = max(vals.values()) - min(vals.values())
            tol = CROSSCHECK_TOL * max(1.0, max(abs(v) for v in vals.values()))
            good = spread <= tol
            ok &= good
            print("  cross-check %-15s %s  spread %.2e %s" % (
                key, "  ".join("%s %.6f" % (nm, v) for nm, v in vals.items()), spread,
                "OK" if good else "MISMATCH (tolerance %.2g)" % tol), flush=True)
        cell["crosscheck_ok"] = ok
        for mode in modes:
            sec = "full_batch" if mode == "full" else "minibatch"
            row = {}
            for nm in ("clsoftmax_float32", "clsoftmax_u8", "command", "pytorch", "numpy"):
                if nm not in cell:
                    continue
                if nm.startswith("clsoftmax"):
                    es = cell[nm].get(sec, {}).get("epoch_s")
                    best, med = (es["min"], es["median"]) if es else (None, None)
                else:
                    best, med = cell[nm][mode]["min"], cell[nm][mode]["median"]
                row[nm] = {"best_s": best, "median_s": med,
                           "gflops": flops / best * 1e-9 if best else None}
                if nm == "command":
                    row[nm]["process_s"] = cell[nm][mode]["process_s"]
                if nm == "pytorch":
                    row[nm]["threads"] = cell[nm][mode]["threads"]
                if best is None:
                    print("  %-5s %-17s not measured" % (mode, nm))
                    continue
                print("  %-5s %-17s best %9.4f s  median %9.4f s  %8.2f GFLOP/s"
                      % (mode, nm, best, med, row[nm]["gflops"]))
            cell.setdefault("summary", {})[mode] = row
        cell["seconds"] = time.perf_counter() - t_cell
        results["cells"].append(cell)
        save()
        print("  cell done in %.1f s (%.1f s so far)" % (
            cell["seconds"], time.perf_counter() - t_start), flush=True)
    if csv_tmp:
        csv_tmp.cleanup()

    if not args.no_bench:
        print()
        pj, p = peak_reading(args, precision)
        results["peak_end"] = pj
        readings.append(p)
    results["loadavg_end"] = os.getloadavg()
    readings = [r for r in readings if r]
    peak = max(readings) if readings else None
    highest = None
    if peak:
        device = results["peak"].get("device", "?")
        rec = peak_record_update(args.peak_record, device, precision, peak, results["started"])
        highest = rec["gflops"] if rec else None
        if args.peak_known and args.peak_known > (highest or 0):
            highest = args.peak_known
        results["peak_run"] = {"readings": readings, "gflops": peak, "highest_shown": highest,
                               "record": args.peak_record, "known": args.peak_known}
    for cell in results["cells"]:
        for mode, row in cell.get("summary", {}).items():
            for nm, r in row.items():
                frac_ok = nm.startswith("clsoftmax") or nm == "command" or device_cpu
                g = r["gflops"]
                r["peak_fraction"] = g / peak if frac_ok and g and peak else None
                r["highest_fraction"] = g / highest if frac_ok and g and highest else None

    print()
    print_grid_table(results, modes, precision)
    results["total_seconds"] = time.perf_counter() - t_start
    save()
    bad = [c for c in results["cells"] if not c["crosscheck_ok"]]
    if bad:
        print("\ncompare.py: the implementations disagree on the loss for %s" % ", ".join(
            "%dx%dx%d" % (c["n"], c["k"], c["C"]) for c in bad), file=sys.stderr)
        return 1
    return 0


def print_grid_table(results, modes, precision):
    pr = results.get("peak_run", {})
    peak, highest = pr.get("gflops"), pr.get("highest_shown")
    print("Device: %s. Peak %s read in this run: %s GFLOP/s (%s); the highest this device has "
          "shown: %s GFLOP/s (record %s%s)." % (
              results.get("peak", {}).get("device", "?"), precision,
              "%.1f" % peak if peak else "?",
              ", ".join("%.1f" % r for r in pr.get("readings", [])) + " before / after",
              "%.1f" % highest if highest else "?", pr.get("record", "-"),
              "; --peak-known %.1f" % pr["known"] if pr.get("known") else ""))
    print("PyTorch %s, the faster of %s threads per cell and mode; NumPy %s; BLAS %s. Load "
          "average %.2f at the start, %.2f at the end." % (
              results.get("torch_version", "-"),
              " and ".join(map(str, results["grid"]["torch_threads"])),
                        results["numpy_version"], ", ".join(results.get("blas", [])) or "?",
                        results["loadavg_start"][0], results.get("loadavg_end", [0])[0]))
    print("Epoch time = best of %d epochs after a warm-up (s); GFLOP/s = 4nkC / epoch time; "
          "%% run / %% top = GFLOP/s against this run's peak / the highest shown; command = "
          "`clsoftmax train` on a float CSV (epoch from --history; process = the whole "
          "command); ratios < 1: clsoftmax faster." % results["grid"]["repeats"])
    batch = results["grid"]["batch_size"]

    def cols(row, nm, with_pct=True):
        r = row.get(nm)
        if not r or r["best_s"] is None:
            return ["-"] * (4 if with_pct else 1)
        g = r["gflops"]
        out = ["%.4f" % r["best_s"]]
        if with_pct:
            out += ["%.1f" % g if g >= 10 else "%.2f" % g, pct(r.get("peak_fraction")),
                    pct(r.get("highest_fraction"))]
        return out

    def q(row, a, b):
        ra, rb = row.get(a), row.get(b)
        if ra and rb and ra["best_s"] and rb["best_s"]:
            return "%.2f" % (ra["best_s"] / rb["best_s"])
        return "-"

    def table(title, head, make):
        print("\n" + title + "\n")
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join("---:" if i < 3 or i > 4 else "---" for i in range(len(head))) + "|")
        for cell in results["cells"]:
            for mode in modes:
                row = cell.get("summary", {}).get(mode, {})
                key = "clsoftmax_float32" if "clsoftmax_float32" in cell else "clsoftmax_u8"
                path = cell.get(key, {}).get("path", "-")
                print("| " + " | ".join(
                    [str(cell["n"]), str(cell["k"]), str(cell["C"]),
                     "full" if mode == "full" else "mini-%d" % batch, path]
                    + make(cell, row)) + " |")

    inputs = results["grid"]["inputs"]
    if "float32" in inputs or results["grid"]["command"]:
        table("Float features (float32 input, as a CSV file or a NumPy array reaches the "
              "library)",
              ["n", "k", "C", "mode", "path", "clsoftmax s", "GFLOP/s", "% run", "% top",
               "command epoch s", "command process s", "PyTorch s", "threads", "GFLOP/s",
               "% run", "NumPy s", "cl/PT", "cmd/PT", "cl/NP"],
              lambda cell, row: cols(row, "clsoftmax_float32")
              + cols(row, "command", False)
              + ["%.2f" % row["command"]["process_s"] if "command" in row else "-"]
              + cols(row, "pytorch")[:1]
              + [str(row["pytorch"]["threads"]) if "pytorch" in row else "-"]
              + cols(row, "pytorch")[1:3] + cols(row, "numpy", False)
              + [q(row, "clsoftmax_float32", "pytorch"), q(row, "command", "pytorch"),
                 q(row, "clsoftmax_float32", "numpy")])
    if "u8" in inputs:
        table("8-bit features (u8 input, as an IDX file: bytes on the device)",
              ["n", "k", "C", "mode", "path", "clsoftmax u8 s", "GFLOP/s", "% run", "% top",
               "u8/PT", "u8/float32"],
              lambda cell, row: cols(row, "clsoftmax_u8")
              + [q(row, "clsoftmax_u8", "pytorch"), q(row, "clsoftmax_u8", "clsoftmax_float32")])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench", default="bench/clsoftmax-bench",
                    help="the built clsoftmax-bench (default: %(default)s)")
    ap.add_argument("--no-bench", action="store_true", help="skip clsoftmax-bench")
    ap.add_argument("--bench-arg", action="append", default=[],
                    help="extra argument for clsoftmax-bench (repeatable), e.g. --bench-arg=--cold")
    ap.add_argument("--data", default=DEFAULT_DATA, help="Fashion-MNIST directory (default: %(default)s)")
    ap.add_argument("--synthetic", action="store_true", help="synthetic data of the same shape")
    ap.add_argument("--repeats", type=int,
                    help="timed repeats after one warm-up (default: 5; with --shapes %d)"
                    % GRID_REPEATS)
    ap.add_argument("--batch-size", type=int, default=256, help="minibatch size (default: %(default)s)")
    ap.add_argument("--threads",
                    help="comma-separated torch.set_num_threads values to try; the ratios use "
                    "the fastest (default: 1,%d; with --shapes %d,1, the fastest per cell and "
                    "mode)" % (os.cpu_count(), os.cpu_count()))
    grid = ap.add_argument_group(
        "shape grid", "--shapes: synthetic data of every n x k x C of the grid, full-batch and "
        "minibatch epochs in clsoftmax, PyTorch and NumPy, GFLOP/s and the fraction of the "
        "device's measured peak (clsoftmax-bench --peak); a markdown table at the end")
    grid.add_argument("--shapes", action="store_true", help="run the grid")
    grid.add_argument("--shapes-n", default=",".join(map(str, GRID_N)),
                      help="rows (default: %(default)s)")
    grid.add_argument("--shapes-k", default=",".join(map(str, GRID_K)),
                      help="features (default: %(default)s)")
    grid.add_argument("--shapes-c", default=",".join(map(str, GRID_C)),
                      help="classes (default: %(default)s)")
    grid.add_argument("--modes", default="full,mini",
                      help="full (full-batch epochs), mini (minibatch epochs of --batch-size) "
                      "or both (default: %(default)s)")
    grid.add_argument("--quick", action="store_true",
                      help="only the cells %s (n x k x C), instead of --shapes-n/-k/-c"
                      % ", ".join("%dx%dx%d" % c for c in QUICK_CELLS))
    grid.add_argument("--inputs", default="float32,u8",
                      help="clsoftmax-bench runs per cell, by how the features reach the "
                      "library: float32 (as a CSV or NumPy array), u8 (bytes, as IDX) "
                      "(default: %(default)s)")
    grid.add_argument("--no-command", action="store_true",
                      help="skip the whole-command column (clsoftmax train on a float CSV)")
    grid.add_argument("--clsoftmax", default="src/cli/clsoftmax",
                      help="the clsoftmax command for that column (default: %(default)s)")
    grid.add_argument("--csv-dir",
                      help="keep the cells' CSV files here and reuse them in later runs "
                      "(default: a temporary directory, each file removed after its cell)")
    grid.add_argument("--peak-record", default=DEFAULT_PEAK_RECORD,
                      help="JSON file of the highest peak each device has shown, updated by "
                      "every run (default: %(default)s)")
    grid.add_argument("--peak-known", type=float,
                      help="a peak reading (GFLOP/s) taken outside the record, counted as "
                      "shown by this device")
    grid.add_argument("--double", action="store_true",
                      help="float64 everywhere (clsoftmax-bench --double, NumPy and PyTorch in "
                      "float64; the fraction of the float64 peak)")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--no-numpy", action="store_true")
    ap.add_argument("--json", help="write all results to this file")
    args = ap.parse_args()
    if args.repeats is None:
        args.repeats = GRID_REPEATS if args.shapes else 5
    if args.repeats < 1 or args.batch_size < 1:
        ap.error("--repeats and --batch-size must be >= 1")
    if args.shapes:
        threads = parse_list(ap, "--threads", args.threads or "%d,1" % os.cpu_count())
        args.threads_grid = list(dict.fromkeys(threads))
        return grid_main(ap, args)
    if args.double:
        ap.error("--double needs --shapes (clsoftmax-bench --double is passed with --bench-arg)")
    args.threads = list(dict.fromkeys(parse_list(ap, "--threads",
                                                 args.threads or "1,%d" % os.cpu_count())))

    results = {}
    if not args.no_bench:
        results["clsoftmax"] = run_bench(args)
        print(flush=True)

    t0 = time.perf_counter()
    x, y, source = load_data(args)
    print("compare.py: %s: %d x %d, float32 (loaded in %.2f s); numpy %s, %d CPUs"
          % (source, x.shape[0], x.shape[1], time.perf_counter() - t0, np.__version__,
             os.cpu_count()), flush=True)
    if not args.no_torch:
        try:
            import torch
            default_threads = torch.get_num_threads()
            runs = {}
            for t in args.threads:
                runs[t] = torch_bench(x, y, args, t)
                print("PyTorch %s, %d thread%s: full-batch epoch %.4f s, minibatch-%d epoch %.4f s"
                      % (runs[t]["version"], runs[t]["threads"], "" if t == 1 else "s",
                         runs[t]["full_batch"]["median"], args.batch_size,
                         runs[t]["minibatch"]["median"]), flush=True)
            # the ratios are taken against PyTorch's best thread count for each measurement
            best_full = min(runs, key=lambda t: runs[t]["full_batch"]["median"])
            best_mini = min(runs, key=lambda t: runs[t]["minibatch"]["median"])
            first = runs[args.threads[0]]
            results["pytorch"] = {
                "version": first["version"], "threads_default": default_threads,
                "crosscheck": first["crosscheck"],
                "full_batch": runs[best_full]["full_batch"], "full_batch_threads": best_full,
                "phases_full_batch": runs[best_full]["phases_full_batch"],
                "minibatch": runs[best_mini]["minibatch"], "minibatch_threads": best_mini,
                "by_threads": {str(t): r for t, r in runs.items()}}
            print("PyTorch default thread count here: %d; the comparison uses the faster of %s"
                  % (default_threads, ", ".join(str(t) for t in args.threads)))
        except ImportError:
            print("note: torch not installed (apt-get install python3-torch, or pip install torch): "
                  "skipping PyTorch")
    if not args.no_numpy:
        results["numpy"] = numpy_bench(x, y, args)
        print("NumPy done", flush=True)
    blas = blas_libraries()
    results["blas"] = blas
    print("BLAS in this process: %s" % (", ".join(blas) or "none found"))
    if any("/blas/" in b for b in blas):
        print("warning: that is the reference BLAS, many times slower than OpenBLAS; for the "
              "comparison of BENCHMARKS.md: apt-get install libopenblas0-pthread")

    names = [k for k in ("clsoftmax", "pytorch", "numpy") if k in results]
    n = x.shape[0]

    # correctness cross-check
    print("\nCross-check: loss at the fixed weights, and after one full-batch SGD step (lr %g)" % LR)
    ok = True
    for key in ("loss_init", "loss_after_step"):
        vals = {nm: results[nm]["crosscheck"][key] for nm in names}
        spread = max(vals.values()) - min(vals.values())
        good = spread <= CROSSCHECK_TOL
        ok &= good
        print("  %-16s %s   max difference %.2e %s" % (
            key, "  ".join("%s %.6f" % (nm, v) for nm, v in vals.items()), spread,
            "OK" if good else "MISMATCH (tolerance %g)" % CROSSCHECK_TOL))

    # times
    def get(nm, section, field="median"):
        try:
            if nm == "clsoftmax" and section in ("full_batch", "minibatch"):
                return results[nm][section]["epoch_s"][field]
            return results[nm][section][field]
        except KeyError:
            return None

    print("\nEpoch times (median of %d; seconds) and throughput%s" % (
        args.repeats, "; PyTorch at %d / %d threads (full batch / minibatch)" % (
            results["pytorch"]["full_batch_threads"], results["pytorch"]["minibatch_threads"])
        if "pytorch" in results else ""))
    print("  %-28s %10s %10s %10s %12s %12s" % ("", "clsoftmax", "PyTorch", "NumPy",
                                                 "cl/PyTorch", "cl/NumPy"))
    for section, label in (("full_batch", "full-batch epoch"),
                           ("minibatch", "minibatch-%d epoch" % args.batch_size)):
        v = [get(nm, section) if nm in results else None for nm in ("clsoftmax", "pytorch", "numpy")]
        print("  %-28s %10s %10s %10s %12s %12s" % (label, fmt(v[0]), fmt(v[1]), fmt(v[2]),
                                                     ratio(v[0], v[1]), ratio(v[0], v[2])))
        sps = [n / t if t else None for t in v]
        print("  %-28s %10s %10s %10s %12s %12s" % ("  samples/s", fmt(sps[0], ""), fmt(sps[1], ""),
                                                     fmt(sps[2], ""), ratio(sps[0], sps[1]),
                                                     ratio(sps[0], sps[2])))

    print("\nFull-batch phases (median; seconds)")
    phase_rows = ("forward", "softmax_loss", "gradient", "update")
    cl_ph = results.get("clsoftmax", {}).get("phases_full_batch", {})
    print("  %-28s %10s %10s %10s" % ("", "clsoftmax", "PyTorch", "NumPy"))
    for ph in phase_rows + ("fused_forward_loss", "fused_step"):
        row = [cl_ph.get(ph, {}).get("median")]
        for nm in ("pytorch", "numpy"):
            row.append(results.get(nm, {}).get("phases_full_batch", {}).get(ph, {}).get("median"))
        if all(v is None for v in row):
            continue
        print("  %-28s %10s %10s %10s" % (ph, fmt(row[0]), fmt(row[1]), fmt(row[2])))

    if "clsoftmax" in results:
        r = results["clsoftmax"]
        print("\nTargets (clsoftmax %s path, %s)" % (r.get("path", "?"), r.get("device", "?")))
        pt = results.get("pytorch")
        if pt:
            q = get("clsoftmax", "full_batch") / pt["full_batch"]["median"]
            print("  full-batch epoch <= 0.5x PyTorch:      %.2fx  %s" % (q, "met" if q <= 0.5 else "NOT met"))
            q = pt["minibatch"]["median"] / get("clsoftmax", "minibatch")
            print("  minibatch throughput >= 2x PyTorch:    %.2fx  %s" % (q, "met" if q >= 2 else "NOT met"))
        acc = r.get("accuracy")
        if acc:
            t = acc.get("train_s_to_target")
            reached = acc.get("epoch_reaching_target", 0) > 0
            print("  >= 84%% test accuracy in <= 1.5 s:      %s  %s" % (
                "%.3f s (epoch %d, %s)" % (t, acc["epoch_reaching_target"], acc["optimizer"])
                if reached else "not reached in %d epochs" % acc["epochs"],
                "met" if reached and t <= 1.5 else "NOT met"))
        warm = r.get("startup_warm")
        if warm:
            t = warm["to_first_epoch_s"]["median"]
            print("  warm start to first epoch <= 0.5 s:    %.3f s  %s" % (t, "met" if t <= 0.5 else "NOT met"))
        cold = r.get("startup_cold")
        print("  cold start (reported):                 %s" % (
            "%.2f s" % cold["to_first_epoch_s"] if cold else "not measured (--bench-arg=--cold)"))

    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    if not ok:
        print("\ncompare.py: the implementations disagree on the loss", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
