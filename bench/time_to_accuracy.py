#!/usr/bin/env python3
"""Time to 84% test accuracy on Fashion-MNIST: `clsoftmax train` next to
PyTorch, whole processes, in one run.

Both train softmax regression from zero weights with Adam (lr 0.001, betas
0.9 / 0.999, eps 1e-8, no penalty) on minibatches of 256 reshuffled every
epoch, for 20 epochs, on the features byte / 255, and report the test-set
accuracy (the 10000 t10k rows) after every epoch. Each is one process,
started by this script and timed from its start: "to 84%" is the arrival of
the first epoch line whose test accuracy is >= 84%, "process" the exit.
Both sides pay their own start-up (reading the gzip'd IDX files, the OpenCL
context and kernels from the warm POCL cache; importing torch) and their
per-epoch evaluation.

  clsoftmax: clsoftmax train --solver adam --lr 0.001 --batch-size 256
             --epochs 20 --tol 0 --l2 0 --validation TEST --history
             /dev/stdout -q TRAIN MODEL, on the IDX files as they come
             (8-bit storage on the device) and, with --csv DIR, also on
             float CSV files of the same data (float32 features, as a user's
             CSV becomes), written once into DIR.
  PyTorch:   this script with --torch-child: the same IDX files read with
             gzip into float32 / 255, nn.Linear(784, 10) zero-initialised,
             CrossEntropyLoss, optim.Adam(lr=0.001), randperm minibatches,
             torch.set_num_threads(N) for each N of --threads (default 2,1:
             on a shared 2-core host PyTorch's 2 OpenMP threads can be many
             times slower than 1), the test accuracy after every epoch
             under no_grad.

Runs alternate between the two (--runs, default 3); best and median are
reported. Needs numpy and torch (/usr/bin/python3 on Debian 12), and a
built clsoftmax:

    /usr/bin/python3 bench/time_to_accuracy.py --clsoftmax src/cli/clsoftmax
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

DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"
TARGET = 0.84
EPOCHS, BATCH, LR = 20, 256, 0.001


def load_idx(path, ndims):
    import numpy as np
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic = struct.unpack(">I", raw[:4])[0]
    if magic != 0x800 | ndims:
        raise ValueError("%s: not an IDX u8 file of %d dimensions" % (path, ndims))
    dims = struct.unpack(">%dI" % ndims, raw[4:4 + 4 * ndims])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndims).reshape(dims)


def files(data):
    return {s: (os.path.join(data, "%s-images-idx3-ubyte.gz" % s),
                os.path.join(data, "%s-labels-idx1-ubyte.gz" % s)) for s in ("train", "t10k")}


def torch_child(args):
    """The PyTorch side: prints "epoch,test_accuracy" after every epoch."""
    import numpy as np
    import torch
    torch.set_num_threads(args.threads)
    fs = files(args.data)
    sets = {}
    for s, (img, lab) in fs.items():
        x = load_idx(img, 3)
        x = torch.from_numpy(x.reshape(x.shape[0], -1).astype(np.float32) / np.float32(255))
        y = torch.from_numpy(load_idx(lab, 1).astype(np.int64))
        sets[s] = (x, y)
    x, y = sets["train"]
    xt, yt = sets["t10k"]
    n, k = x.shape
    model = torch.nn.Linear(k, 10)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(1)
    for e in range(1, EPOCHS + 1):
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()
        with torch.no_grad():
            acc = (model(xt).argmax(1) == yt).double().mean().item()
        print("%d,%.6f" % (e, acc), flush=True)
    return 0


def run_timed(cmd, parse):
    """Runs cmd, timing each stdout line from the start; parse(line) gives
    (epoch, test accuracy) or None. Returns the epochs [(epoch, acc, t)] and
    the process's wall time."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, universal_newlines=True, bufsize=1)
    epochs = []
    for line in proc.stdout:
        t = time.perf_counter() - t0
        got = parse(line)
        if got:
            epochs.append(got + (t,))
    rc = proc.wait()
    wall = time.perf_counter() - t0
    if rc != 0:
        sys.exit("time_to_accuracy.py: %s exited with status %d" % (cmd[0], rc))
    return epochs, wall


def parse_history(line):
    """--history rows: epoch,loss,accuracy,val_loss,val_accuracy,seconds,..."""
    f = line.strip().split(",")
    if len(f) < 6 or not f[0].isdigit():
        return None
    return int(f[0]), float(f[4])


def parse_child(line):
    f = line.strip().split(",")
    if len(f) != 2 or not f[0].isdigit():
        return None
    return int(f[0]), float(f[1])


def summarise(name, epochs, wall):
    first = next((e for e in epochs if e[1] >= TARGET), None)
    r = {"epochs": [{"epoch": e, "test_accuracy": a, "t_s": t} for e, a, t in epochs],
         "process_s": wall, "final_accuracy": epochs[-1][1] if epochs else None,
         "best_accuracy": max(a for _, a, _ in epochs) if epochs else None}
    if first:
        r["epoch_to_target"], r["time_to_target_s"] = first[0], first[2]
    print("  %-22s %s; final %.2f%%, process %.2f s" % (
        name, "84%% at epoch %d, %.2f s" % (first[0], first[2]) if first
        else "84% not reached", 100 * r["final_accuracy"], wall), flush=True)
    return r


def write_csvs(args, outdir):
    """The IDX files as float CSV (label, then 784 features byte / 255)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import numpy as np
    from compare import write_float_csv
    out = {}
    for s, (img, lab) in files(args.data).items():
        path = os.path.join(outdir, "fashion-mnist-%s.csv" % s)
        if not os.path.exists(path):
            x = load_idx(img, 3)
            x = x.reshape(x.shape[0], -1).astype(np.float32) / np.float32(255)
            write_float_csv(path, x, load_idx(lab, 1))
            print("wrote %s (%.0f MB)" % (path, os.path.getsize(path) / 1e6), flush=True)
        out[s] = path
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clsoftmax", default="src/cli/clsoftmax",
                    help="the clsoftmax command (default: %(default)s)")
    ap.add_argument("--data", default=DEFAULT_DATA,
                    help="Fashion-MNIST directory (default: %(default)s)")
    ap.add_argument("--runs", type=int, default=3, help="runs of each (default: %(default)s)")
    ap.add_argument("--threads", default="2,1",
                    help="PyTorch's thread counts, a run of each (default: %(default)s)")
    ap.add_argument("--csv", metavar="DIR",
                    help="also run clsoftmax on float CSV files of the data, kept in DIR")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--json", help="write all results to this file")
    ap.add_argument("--torch-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    try:
        threads = [int(t) for t in args.threads.split(",")]
        if not threads or min(threads) < 1:
            raise ValueError
    except ValueError:
        ap.error("--threads wants a comma-separated list of positive integers")
    if args.torch_child:
        args.threads = threads[0]
        return torch_child(args)
    if args.runs < 1:
        ap.error("--runs must be >= 1")
    fs = files(args.data)
    for img, lab in fs.values():
        for p in (img, lab):
            if not os.path.exists(p):
                sys.exit("time_to_accuracy.py: %s not found (apt-get install "
                         "dataset-fashion-mnist, or --data DIR)" % p)
    inputs = {"clsoftmax IDX": (fs["train"][0], fs["t10k"][0])}
    if args.csv:
        os.makedirs(args.csv, exist_ok=True)
        c = write_csvs(args, args.csv)
        inputs["clsoftmax float CSV"] = (c["train"], c["t10k"])
    tmp = tempfile.TemporaryDirectory(prefix="clsoftmax-tta-")
    model = os.path.join(tmp.name, "model.safetensors")

    def cl_cmd(train, test):
        return [args.clsoftmax, "train", "--solver", "adam", "--lr", str(LR), "--batch-size",
                str(BATCH), "--epochs", str(EPOCHS), "--tol", "0", "--l2", "0",
                "--validation", test, "--history", "/dev/stdout", "-q", train, model]

    runners = {name: (cl_cmd(*io), parse_history) for name, io in inputs.items()}
    for t in ([] if args.no_torch else threads):
        runners["PyTorch %d thread%s" % (t, "" if t == 1 else "s")] = (
            [sys.executable, os.path.abspath(__file__), "--torch-child", "--data", args.data,
             "--threads", str(t)], parse_child)
    print("time to %.0f%% test accuracy, Fashion-MNIST, Adam lr %g, batch %d, %d epochs; load "
          "average %.2f %.2f %.2f" % (100 * TARGET, LR, BATCH, EPOCHS, *os.getloadavg()))
    for name, (cmd, _) in runners.items():
        print("  %s: $ %s" % (name, " ".join(cmd)))
    results = {"started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
               "loadavg_start": os.getloadavg(), "commands": {n: c for n, (c, _) in
                                                              runners.items()}, "runs": []}
    for i in range(args.runs):
        print("run %d" % (i + 1), flush=True)
        run = {}
        for name, (cmd, parse) in runners.items():
            run[name] = summarise(name, *run_timed(cmd, parse))
        results["runs"].append(run)
    results["loadavg_end"] = os.getloadavg()
    tmp.cleanup()

    print("\n| | epoch reaching 84% | time to 84% (best / median), s | whole process "
          "(best / median), s | test accuracy after 20 epochs |")
    print("|---|---:|---:|---:|---:|")
    for name in runners:
        rs = [r[name] for r in results["runs"]]
        tt = [r["time_to_target_s"] for r in rs if "time_to_target_s" in r]
        pw = [r["process_s"] for r in rs]
        ep = sorted({r["epoch_to_target"] for r in rs if "epoch_to_target" in r})
        print("| %s | %s | %s | %.2f / %.2f | %s |" % (
            name, ", ".join(map(str, ep)) or "not reached",
            "%.2f / %.2f" % (min(tt), statistics.median(tt)) if tt else "-",
            min(pw), statistics.median(pw),
            ", ".join("%.2f%%" % (100 * r["final_accuracy"]) for r in rs)))
    print("load average %.2f at the start, %.2f at the end" % (results["loadavg_start"][0],
                                                                results["loadavg_end"][0]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
