#!/usr/bin/env python3
"""Epoch times of `clsoftmax train` next to PyTorch, quiet and beside a
competing process (BENCHMARKS.md, "Where the epoch goes").

For each cell (n rows, k features, C classes, full batch or minibatches of
256) the synthetic data of clsoftmax-bench (compare.synthetic_features, as
float32) is written once as a CSV file (label first, then the features as
%.9g, which reads back as the same float32), then, per load setting:

  - `clsoftmax-bench --peak`: the device's float32 FMA peak right now;
  - `clsoftmax train CSV MODEL --solver sgd --lr 0.1 --batch-size B
    --epochs E --tol 0 --history H`: the epoch times from the history
    (the first epoch, which includes the calibration's own steps and the
    first kernel builds, is dropped);
  - PyTorch (2 threads unless --threads), compare.grid_torch on the same
    array: nn.Linear + CrossEntropyLoss + SGD lr 0.1, best and median of
    --torch-epochs after a warm-up.

Load settings: `quiet` (nothing started), `nice0` and `nice19` (`stress -c 1`
started at that nice level before the peak, stopped after the last cell).
The script starts the load itself so that a run under the quiet lock has
exactly the load it names:

    flock -x /work/wt/quiet.lock /usr/bin/python3 bench/epoch_load.py \\
        --load quiet,nice0 --json epochs.json

PyTorch needs OpenBLAS to be a fair comparison (BENCHMARKS.md, "Commands");
the script prints the BLAS libraries it mapped and warns on the reference one.

Extra environment for the library (CLSOFTMAX_PATH=tiled, CLSOFTMAX_PROFILE=1,
POCL_MAX_PTHREAD_COUNT=...) passes through to both clsoftmax processes;
--cl-env NAME=VALUE sets one for clsoftmax only.
"""
import argparse
import csv
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402  (the grid's data generator and PyTorch loop)

import numpy as np  # noqa: E402  (compare.py has checked for it)

CELLS = "20000x1000x100:full,20000x1000x100:256,20000x100x1000:full,20000x100x1000:256"


def parse_cells(text):
    cells = []
    for item in text.split(","):
        shape, _, mode = item.strip().partition(":")
        n, k, c = (int(v) for v in shape.split("x"))
        batch = 0 if mode in ("", "full") else int(mode)
        cells.append((n, k, c, batch))
    return cells


def csv_file(data_dir, n, k, c):
    """The cell's CSV, written on first use; its features as float32."""
    path = os.path.join(data_dir, "synthetic-%dx%dx%d.csv" % (n, k, c))
    x, y = compare.synthetic_features(n, k, c, np.float32)
    if not os.path.exists(path):
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write("y," + ",".join("f%d" % j for j in range(k)) + "\n")
            for r0 in range(0, n, 1024):
                block = np.column_stack([y[r0:r0 + 1024].astype(np.float64),
                                         x[r0:r0 + 1024].astype(np.float64)])
                np.savetxt(f, block, fmt=["%d"] + ["%.9g"] * k, delimiter=",")
        os.rename(tmp, path)
    return path, x, y


def uptime():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def peak(bench, env):
    out = subprocess.run([bench, "--peak"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         universal_newlines=True, env=env).stdout
    for line in out.splitlines():
        if "float32" in line and "GFLOP/s" in line:
            for tok in line.replace(":", " ").split():
                try:
                    return float(tok), out
                except ValueError:
                    continue
    return None, out


def clsoftmax_epochs(args, path, batch, env):
    with tempfile.TemporaryDirectory(prefix="epoch-load-") as tmp:
        hist = os.path.join(tmp, "history.csv")
        cmd = [args.clsoftmax, "train", path, os.path.join(tmp, "model.safetensors"),
               "--solver", "sgd", "--lr", "0.1", "--batch-size", str(batch), "--epochs",
               str(args.epochs), "--tol", "0", "--history", hist] + args.train_arg
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, env=env)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.stdout.write(proc.stdout)
            sys.exit("epoch_load.py: clsoftmax train failed (%d)" % proc.returncode)
        with open(hist) as f:
            secs = [float(r["seconds"]) for r in csv.DictReader(f)]
    times = secs[1:] if len(secs) > 1 else secs
    last = "profile of epoch %d:" % args.epochs  # CLSOFTMAX_PROFILE=on with -v: the last epoch's
    log = [l for l in proc.stdout.splitlines() if " path " in l or last in l]
    return {"cmd": " ".join(cmd), "epochs": secs, "min": min(times),
            "median": statistics.median(times), "wall": wall, "log": log}


def start_load(kind):
    if kind == "quiet":
        return None
    nice = {"nice0": 0, "nice19": 19}[kind]
    return subprocess.Popen(["nice", "-n", str(nice), "stress", "-c", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def stop_load(proc):
    if proc:
        os.killpg(proc.pid, signal.SIGTERM)  # stress and its worker, by this group only
        proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clsoftmax", default="src/cli/clsoftmax")
    ap.add_argument("--bench", default="bench/clsoftmax-bench")
    ap.add_argument("--cells", default=CELLS, help="NxKxC:full|B,... (default: %(default)s)")
    ap.add_argument("--load", default="quiet,nice0", help="quiet, nice0, nice19 (comma list)")
    ap.add_argument("--epochs", type=int, default=6, help="clsoftmax epochs (first dropped)")
    ap.add_argument("--torch-epochs", type=int, default=4, help="PyTorch epochs after a warm-up")
    ap.add_argument("--threads", type=int, default=2, help="PyTorch threads")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--data-dir", default=os.path.join(tempfile.gettempdir(), "clsoftmax-epochs"))
    ap.add_argument("--train-arg", action="append", default=[], help="extra train argument")
    ap.add_argument("--cl-env", action="append", default=[], help="NAME=VALUE for clsoftmax")
    ap.add_argument("--cache-dir", help="the library's calibration cache (default: a new, "
                    "empty one per load setting, so each measures its own choice)")
    ap.add_argument("--json")
    args = ap.parse_args()
    os.makedirs(args.data_dir, exist_ok=True)
    env = dict(os.environ)
    for kv in args.cl_env:
        name, _, value = kv.partition("=")
        env[name] = value
    cells = parse_cells(args.cells)
    data = {}
    for n, k, c, _ in cells:
        if (n, k, c) not in data:
            data[(n, k, c)] = csv_file(args.data_dir, n, k, c)
    results = {"cells": [], "loads": {}}
    if not args.no_torch:
        import torch  # noqa: F401  (maps the BLAS it uses)
        results["blas"] = compare.blas_libraries()
        print("BLAS in this process: %s" % ", ".join(results["blas"]))
        if any("/blas/libblas" in lib for lib in results["blas"]):
            print("WARNING: PyTorch runs on the reference BLAS here (see BENCHMARKS.md: "
                  "libopenblas0-pthread)")
    for kind in [v.strip() for v in args.load.split(",") if v.strip()]:
        load = start_load(kind)
        cache = None
        if not args.cache_dir:
            cache = tempfile.TemporaryDirectory(prefix="epoch-load-cache-")
        env["CLSOFTMAX_CACHE_DIR"] = args.cache_dir or cache.name
        try:
            time.sleep(0.5 if load else 0)
            info = {"uptime_before": uptime()}
            info["peak"], _ = peak(args.bench, env)
            print("== %s: load average %s, peak %s GFLOP/s float32" %
                  (kind, info["uptime_before"], info["peak"]), flush=True)
            for n, k, c, batch in cells:
                path, x, y = data[(n, k, c)]
                cl = clsoftmax_epochs(args, path, batch, env)
                row = {"load": kind, "n": n, "k": k, "C": c, "batch": batch, "clsoftmax": cl}
                if not args.no_torch:
                    mode = "full" if batch == 0 else "mini"
                    pt = compare.grid_torch(x, y, c, [mode], args.torch_epochs, batch or 256,
                                            args.threads)[mode]
                    row["torch"] = {"min": pt["min"], "median": pt["median"], "all": pt["all"]}
                flops = 4.0 * n * k * c
                t = cl["median"]
                pt_med = row["torch"]["median"] if "torch" in row else None
                print("%s n %d k %d C %d %s: clsoftmax %.4f s (min %.4f, %.0f GFLOP/s, %s of "
                      "peak) PyTorch %s ratio %s" %
                      (kind, n, k, c, "full" if batch == 0 else "batch %d" % batch, t, cl["min"],
                       flops / t / 1e9,
                       "%.0f%%" % (100 * flops / t / 1e9 / info["peak"]) if info["peak"] else "?",
                       "%.4f s" % pt_med if pt_med else "-",
                       "%.2fx" % (t / pt_med) if pt_med else "-"), flush=True)
                for line in cl["log"]:
                    print("    " + line)
                results["cells"].append(row)
            info["uptime_after"] = uptime()
            results["loads"][kind] = info
            print("   load average after: %s" % info["uptime_after"], flush=True)
        finally:
            stop_load(load)
            if cache:
                cache.cleanup()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
