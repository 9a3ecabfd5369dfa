#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz harnesses (fuzz/corpus/*): small valid
inputs, each prefixed with the option bytes its harness reads first, so the
fuzzer starts from files the readers accept. Made from the reader test
fixtures (tests/data/io) and, for model files, built here byte by byte.
Run from the top of the source tree; the output is committed."""
import gzip
import json
import os
import struct

IO = "tests/data/io"
OUT = "fuzz/corpus"


def gz(data):
    """One gzip member, the same bytes on every run (no time stamp)."""
    return gzip.compress(data, mtime=0)


def read(name):
    with open(os.path.join(IO, name), "rb") as f:
        return f.read()


def write(kind, name, data):
    os.makedirs(os.path.join(OUT, kind), exist_ok=True)
    with open(os.path.join(OUT, kind, name), "wb") as f:
        f.write(data)


# CSV: option byte = label column (bits 0-1: last, 0, 1, 2), header rule
# (bits 2-3 mod 3: detect, no, yes), storage (bits 4-5 mod 3); a second
# byte: weight column (bits 0-1: none, 0, 1, 2), blank-separated (bit 2).
def csv_opts(label, header, storage, weight=0, blanks=0):
    return bytes([label | header << 2 | storage << 4, weight | blanks << 2])


write("csv", "good", csv_opts(1, 0, 0) + read("good.csv"))
write("csv", "good-gz-sparse", csv_opts(1, 0, 2) + read("good.csv.gz"))
write("csv", "header-semicolon", csv_opts(0, 2, 0) + read("good_header_semicolon.csv"))
write("csv", "label-middle", csv_opts(2, 1, 1) + read("good_label_middle.csv"))
write("csv", "tab-label-first", csv_opts(1, 0, 0) + read("good_tab.tsv"))
write("csv", "crlf-header", csv_opts(1, 2, 0) + b"label,x1,x2\r\n1,0.5,-2\r\n0,1e-3,+7\r\n")
# as pandas (QUOTE_ALL, an index), R (write.table) and NumPy (savetxt) write
write("csv", "pandas-quoted", csv_opts(0, 0, 0) +
      b'"","a,b","y"\n"0","1.5","set ""x"""\n"1","2","two\nlines"\n')
write("csv", "r-table", csv_opts(0, 0, 0, blanks=1) +
      b'"x0" "x1" "y"\n"1" 5.1 3.5 "setosa"\n"2" 7 3.2 "virginica"\n')
write("csv", "savetxt-weights", csv_opts(0, 0, 0, weight=2) +
      b"# x0 x1 w y\n5.0e+00 3.5e+00 1.0e+00 0.0e+00\n7.0e+00 3.2e+00 2.5e-01 1.0e+00\n")
# the stream's rules: every gzip member is read (and each checked), and a
# line over the cap (the harnesses set max_line to 1024) is an error
write("csv", "multi-member-gz", csv_opts(1, 0, 0) + gz(b"0,1.5,2\n1,-2,3\n") +
      gz(b"") + gz(b"2,4,5e-1\n"))
write("csv", "over-long-line", csv_opts(1, 0, 0) + b"0,1,2\n1," + b"7" * 1100 + b",3\n")
# the cap holds for a record joined across lines by a quoted field too
write("csv", "over-long-record", csv_opts(1, 0, 0) + b'0,1,2\n1,"a' +
      b"\n".join([b"7" * 100] * 11) + b'",3\n')

# libsvm: option byte = storage (mod 3), n_features (bits 2-4), skip
# unseen features (bit 5).
def svm_opts(storage, n_features, skip):
    return bytes([storage | n_features << 2 | skip << 5])


write("libsvm", "good", svm_opts(0, 0, 0) + read("good.svm"))
write("libsvm", "good-gz-dense", svm_opts(1, 0, 0) + read("good.svm.gz"))
write("libsvm", "sparse", svm_opts(2, 0, 0) + read("sparse.svm"))
write("libsvm", "wide-skip", svm_opts(0, 3, 1) + read("wide.svm"))
write("libsvm", "fixed-k", svm_opts(2, 4, 0) + b"1 1:1 4:0.5\n2 2:-1\n1 3:2.5e-1 4:0\n")
write("libsvm", "multi-member-gz", svm_opts(0, 0, 0) + gz(b"1 1:1 4:0.5\n") + gz(b"2 2:-1\n"))
write("libsvm", "over-long-line", svm_opts(0, 0, 0) + b"1 1:1\n2 " +
      b" ".join(b"%d:1" % i for i in range(1, 300)) + b"\n")

# IDX: storage byte, images length (2 bytes, little-endian), images, labels.
def idx(storage, images, labels):
    return bytes([storage]) + struct.pack("<H", len(images)) + images + labels


write("idx", "tiny-u8", idx(0, read("tiny-images-idx3-ubyte"), read("tiny-labels-idx1-ubyte")))
write("idx", "tiny-gz-sparse",
      idx(2, read("tinygz-images-idx3-ubyte.gz"), read("tinygz-labels-idx1-ubyte.gz")))
write("idx", "f32", idx(0, read("f32-images-idx3-ubyte"), read("f32-labels-idx1-ubyte")))
write("idx", "f64", idx(1, read("f64-images-idx3-ubyte"), read("f64-labels-idx1-ubyte")))
write("idx", "i16", idx(0, read("i16-images-idx3-ubyte"), read("i16-labels-idx1-ubyte")))
images = read("tiny-images-idx3-ubyte")
write("idx", "multi-member-gz",
      idx(0, gz(images[:20]) + gz(images[20:]), read("tiny-labels-idx1-ubyte")))


# Model files: safetensors as csm_model_save() writes them (sorted compact
# JSON header padded with spaces to 8 bytes, little-endian F32/F64 data),
# and one as other writers do (no clsoftmax metadata).
def safetensors(tensors, meta, f64):
    fmt, dtype = ("<d", "F64") if f64 else ("<f", "F32")
    header, data = {}, b""
    for name, shape, values in tensors:
        raw = b"".join(struct.pack(fmt, v) for v in values)
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if meta is not None:
        header["__metadata__"] = meta
    text = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


def model(C, k, f64=False, labels=None, solver=None, extra=None, plain=False,
          lbfgs_history=False):
    w = [0.25 * (i % 7) - 0.5 for i in range(C * k)]
    b = [0.125 * c for c in range(C)]
    tensors = [("bias", [C], b), ("weight", [C, k], w)]
    meta = None if plain else {"format": "clsoftmax", "format_version": "1",
                               "labels": json.dumps(labels or list(range(C))),
                               "n_classes": str(C), "n_features": str(k)}
    if solver:
        meta.update({"solver_state": solver, "solver_iterations": "3", "solver_steps": "12"})
        for part in {"adam": ["m", "v"], "momentum": ["v"]}.get(solver, []):
            tensors += [("state.%s.weight" % part, [C, k], [0.5] * (C * k)),
                        ("state.%s.bias" % part, [C], [0.25] * C)]
        if lbfgs_history:
            mem, n = 3, C * k + C
            meta["solver_lbfgs"] = json.dumps({"memory": mem, "count": 2, "head": 2,
                                               "order": [0, 1], "stalled": 0},
                                              separators=(",", ":"))
            tensors += [("state.lbfgs.s", [mem, n], [0.01 * i for i in range(mem * n)]),
                        ("state.lbfgs.y", [mem, n], [0.02 * i for i in range(mem * n)])]
    if extra:
        meta.update(extra)
    return safetensors(tensors, meta, f64)


write("model", "f32", model(3, 4, labels=[-1, 0, 7]))
write("model", "f64", model(2, 3, f64=True))
write("model", "adam-state", model(3, 2, solver="adam"))
write("model", "momentum-state", model(2, 2, solver="momentum", extra={"note": "h\u00e9llo"}))
write("model", "lbfgs-count", model(4, 1, solver="lbfgs"))
write("model", "plain-pytorch-style", model(2, 5, plain=True))
write("model", "lbfgs-history", model(3, 2, solver="lbfgs", lbfgs_history=True))
write("model", "label-names", model(3, 1, extra={"label_names": json.dumps(["a b", "\u00e9", "c"]),
                                                  "label_type": "str"}))
