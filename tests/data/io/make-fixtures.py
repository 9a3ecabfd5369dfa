#!/usr/bin/env python3
"""Writes the reader test corpus (tests/data/io). Run once from this
directory; the outputs are committed, so `make check` never runs this.
Every file is tiny; gzip members carry mtime 0 so reruns are byte-identical.
tests/check_io.c asserts the exact values and messages these files give."""
import gzip
import struct


def write(name, data):
    if isinstance(data, str):
        data = data.encode()
    with open(name, "wb") as f:
        f.write(data)


def gz(data):
    if isinstance(data, str):
        data = data.encode()
    return gzip.compress(data, compresslevel=9, mtime=0)


def idx(type_code, dims, values):
    fmt = {0x08: "B", 0x09: "b", 0x0B: "h", 0x0C: "i", 0x0D: "f", 0x0E: "d"}[type_code]
    head = bytes([0, 0, type_code, len(dims)]) + struct.pack(">%dI" % len(dims), *dims)
    return head + struct.pack(">%d%s" % (len(values), fmt), *values)


# ---------------------------------------------------------------- CSV, good
GOOD_CSV = "0,1.5,-2,3e2\n2,0,0.25,-1e-3\n1,4,5,6\n"
write("good.csv", GOOD_CSV)
write("good.csv.gz", gz(GOOD_CSV))
# header, ';', CRLF, label last, trailing blank lines
write("good_header_semicolon.csv", "x1;x2;label\r\n1.5;2;3\r\n-1;0;-1\r\n\r\n\r\n")
# UTF-8 BOM, tabs, spaces around fields, "+1" and "2.0" labels, no final newline
write("good_tab.tsv", "\ufeff+1\t 0.5\t2 \n2.0\t-3\t4e-1")

# label in the middle column (label_column 1)
write("good_label_middle.csv", "1.5,7,2\n-1,-7,3\n")

# ----------------------------------------------------------------- CSV, bad
write("empty.csv", "")
write("header_only.csv", "label,a,b\n")
write("ragged.csv", "0,1,2\n1,3,4\n2,5\n")
write("ragged_more.csv", "0,1,2\n1,3,4,5\n")
write("nonnumeric.csv", "0,1,2\n1,abc,4\n")
write("nan.csv", "0,1,2\n1,3,4\n2,nan,6\n")
write("inf.csv", "0,1,2\n1,-inf,4\n")
write("overflow.csv", "0,1,2\n1,1e999,4\n")
write("hex.csv", "0,1,2\n1,0x10,4\n")
write("empty_field.csv", "0,1,2\n1,,4\n")
write("label_fraction.csv", "0,1,2\n2.5,3,4\n")
write("label_integral_float.csv", "2.0,1,2\n-1,3,4\n")
write("label_text.csv", "a,b,c\n0,1,2\nx,3,4\n")
write("blank_middle.csv", "0,1,2\n\n1,3,4\n")
write("one_column.csv", "1\n2\n")
write("header_mismatch.csv", "label,a\n0,1,2,3\n")
write("mixed_delim.csv", "0,1,2\n1;3;4\n")
# gzip damaged in the deflate data, and gzip cut short
body = "".join("%d,%d.%d,%d\n" % (i % 3, i, i * 7 % 10, i * i) for i in range(200))
z = bytearray(gz(body))
for i in range(len(z) // 2, len(z) // 2 + 8):
    z[i] ^= 0x5A
write("corrupt.csv.gz", bytes(z))
write("truncated.csv.gz", gz(body)[:-40])

# ------------------------------------------------------------- libsvm, good
GOOD_SVM = ("# comment line\n"
            "+1 1:0.5 3:-2 # trailing comment\n"
            "\n"
            "-1\t2:1e1\n"
            "3 qid:7 1:1 4:4\n")
write("good.svm", GOOD_SVM)
write("good.svm.gz", gz(GOOD_SVM))
# sparse: 4 samples of 40 features, 6 stored values (one an explicit zero),
# 3.75% dense: an empty sample and one with a single value
write("sparse.svm", "1 3:0.5 40:2\n# comment\n2\n-1 17:-1.25\n1 1:1e-3 2:2 40:0\n")
# feature 100000000 in a 24-byte file: a dense table would need 1.6 GB
write("wide.svm", "1 100000000:1\n-1 3:2.5\n")

# -------------------------------------------------------------- libsvm, bad
write("empty.svm", "# nothing but a comment\n\n")
write("index0.svm", "1 1:1\n2 0:1 2:3\n")
write("decreasing.svm", "1 1:1 3:2\n2 3:1 2:3\n")
write("duplicate.svm", "1 1:1 2:2 2:5\n")
write("nan.svm", "1 1:1\n1 1:NaN\n")
write("badpair.svm", "1 1:1\n1 2\n")
write("badindex.svm", "1 -1:1\n")
write("badlabel.svm", "1 1:1\n1.5 1:2\n")
write("nolabel.svm", "1:1 2:2\n")
write("nofeatures.svm", "1\n2\n")
write("emptyvalue.svm", "1 1:\n")
write("hugeindex.svm", "1 99999999999:1\n")

# ---------------------------------------------------------------- IDX, good
TINY_IMAGES = idx(0x08, [3, 2, 2], [0, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
TINY_LABELS = idx(0x08, [3], [7, 0, 7])
write("tiny-images-idx3-ubyte", TINY_IMAGES)
write("tiny-labels-idx1-ubyte", TINY_LABELS)
write("tinygz-images-idx3-ubyte.gz", gz(TINY_IMAGES))
write("tinygz-labels-idx1-ubyte.gz", gz(TINY_LABELS))
# images gzipped, labels not: the derived name must drop ".gz"
write("mixgz-images-idx3-ubyte.gz", gz(TINY_IMAGES))
write("mixgz-labels-idx1-ubyte", TINY_LABELS)
write("f64-images-idx3-ubyte", idx(0x0E, [2, 3], [-1.5, 0.0, 2.25, 1e300, -7.0, 0.125]))
write("f64-labels-idx1-ubyte", idx(0x0C, [2], [-5, 100000]))
write("i16-images-idx3-ubyte", idx(0x0B, [2, 1, 2], [-2, 300, 32767, -32768]))
write("i16-labels-idx1-ubyte", idx(0x09, [2], [-1, 1]))
write("f32-images-idx3-ubyte", idx(0x0D, [1, 2], [0.5, -3.0]))
write("f32-labels-idx1-ubyte", idx(0x0B, [1], [-300]))

# ----------------------------------------------------------------- IDX, bad
write("empty-images-idx3-ubyte", b"")
write("badmagic-images-idx3-ubyte", b"P5\n2 2\n255\n" + bytes(4))
write("badtype-images-idx3-ubyte", bytes([0, 0, 0x07, 2]) + struct.pack(">2I", 1, 1) + b"\0")
write("zerodims-images-idx3-ubyte", bytes([0, 0, 0x08, 0]))
write("shortheader-images-idx3-ubyte", bytes([0, 0, 0x08, 3]) + struct.pack(">2I", 3, 2))
write("zerosize-images-idx3-ubyte", idx(0x08, [3, 0, 2], []))
write("nosamples-images-idx3-ubyte", idx(0x08, [0, 2, 2], []))
write("truncated-images-idx3-ubyte", TINY_IMAGES[:-2])
write("trailing-images-idx3-ubyte", TINY_IMAGES + b"\x01")
# 2^32-1 to the 4th: overflows 64 bits, let alone memory
write("overflow-images-idx3-ubyte", bytes([0, 0, 0x08, 4]) + struct.pack(">4I", *[0xFFFFFFFF] * 4)
      + bytes(8))
# fits in size_t (10^11 bytes) but only 4 bytes follow: truncated, not a 100 GB malloc
write("huge-images-idx3-ubyte", bytes([0, 0, 0x08, 3]) + struct.pack(">3I", 1000000, 1000, 100)
      + bytes(4))
write("mismatch-images-idx3-ubyte", TINY_IMAGES)
write("mismatch-labels-idx1-ubyte", idx(0x08, [2], [1, 2]))
write("floatlab-images-idx3-ubyte", TINY_IMAGES)
write("floatlab-labels-idx1-ubyte", idx(0x0D, [3], [1.0, 2.0, 3.0]))
write("labels2d-images-idx3-ubyte", TINY_IMAGES)
write("labels2d-labels-idx1-ubyte", idx(0x08, [3, 1], [1, 2, 3]))
write("shortlabels-images-idx3-ubyte", TINY_IMAGES)
write("shortlabels-labels-idx1-ubyte", TINY_LABELS[:-1])
write("nan-images-idx3-ubyte", idx(0x0D, [1, 2], [1.0, float("nan")]))
write("nan-labels-idx1-ubyte", idx(0x08, [1], [0]))
write("nolabels-images-idx3-ubyte", TINY_IMAGES)
z = bytearray(gz(idx(0x08, [40, 5, 5], [(i * 37) % 256 for i in range(1000)])))
for i in range(len(z) // 2, len(z) // 2 + 8):
    z[i] ^= 0x5A
write("corrupt-images-idx3-ubyte.gz", bytes(z))
