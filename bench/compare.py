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


def crosscheck_weights(k):
    """The fixed weights of bench.c's crosscheck_weights(), in float64."""
    idx = np.arange(C * k, dtype=np.int64).reshape(C, k)
    w = ((idx * 7919) % 2001 - 1000).astype(np.float64) * 1e-5
    b = (np.arange(C, dtype=np.float64) - 4.5) * 0.01
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

    def __init__(self, w, b):
        self.w = w.astype(np.float32)
        self.b = b.astype(np.float32)

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
        delta *= np.float32(1.0 / n)
        t2 = time.perf_counter()
        dw = delta.T @ x                                      # (C, k)
        db = delta.sum(axis=0)
        t3 = time.perf_counter()
        self.w -= np.float32(lr) * dw
        self.b -= np.float32(lr) * db
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench", default="bench/clsoftmax-bench",
                    help="the built clsoftmax-bench (default: %(default)s)")
    ap.add_argument("--no-bench", action="store_true", help="skip clsoftmax-bench")
    ap.add_argument("--bench-arg", action="append", default=[],
                    help="extra argument for clsoftmax-bench (repeatable), e.g. --bench-arg=--cold")
    ap.add_argument("--data", default=DEFAULT_DATA, help="Fashion-MNIST directory (default: %(default)s)")
    ap.add_argument("--synthetic", action="store_true", help="synthetic data of the same shape")
    ap.add_argument("--repeats", type=int, default=5, help="timed repeats (default: %(default)s)")
    ap.add_argument("--batch-size", type=int, default=256, help="minibatch size (default: %(default)s)")
    ap.add_argument("--threads", default="1,%d" % os.cpu_count(),
                    help="comma-separated torch.set_num_threads values to try; the ratios use "
                    "the fastest (default: %(default)s)")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--no-numpy", action="store_true")
    ap.add_argument("--json", help="write all results to this file")
    args = ap.parse_args()
    if args.repeats < 1 or args.batch_size < 1:
        ap.error("--repeats and --batch-size must be >= 1")
    try:
        args.threads = list(dict.fromkeys(int(t) for t in args.threads.split(",")))
        if not args.threads or min(args.threads) < 1:
            raise ValueError
    except ValueError:
        ap.error("--threads wants a comma-separated list of positive integers")

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
