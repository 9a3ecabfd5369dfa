#!/usr/bin/env python3
"""Writes the small committed corpus of the command-line tests (tests/cli/*.sh).

Deterministic: running it again gives the same bytes (gzip mtime 0).
Good files: small separable problems with -1/+1 and 1..3 labels in every
format. Bad files: one defect each, named after it.
"""
import gzip
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, data, mode="w"):
    with open(os.path.join(HERE, name), mode) as f:
        f.write(data)


def gz(name, data):
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(HERE, name), "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as f:
            f.write(data)


rng = random.Random(20240601)

# -1/+1, two features: label = sign(x1 + x2) with a margin.
pm1 = []
while len(pm1) < 40:
    x1, x2 = round(rng.uniform(-2, 2), 2), round(rng.uniform(-2, 2), 2)
    s = x1 + x2
    if abs(s) < 0.4:
        continue
    pm1.append((1 if s > 0 else -1, x1, x2))
write("pm1.csv", "label,x1,x2\n" + "".join("%d,%g,%g\n" % r for r in pm1))
gz("pm1.csv.gz", "label,x1,x2\n" + "".join("%d,%g,%g\n" % r for r in pm1))
write("pm1.svm", "# -1/+1 problem in libsvm format\n" +
      "".join("%+d 1:%g 2:%g\n" % r for r in pm1))

# 1..3, three features (the third always 0 in libsvm: absent), blobs.
centers = {1: (0.0, 0.0), 2: (3.0, 0.0), 3: (0.0, 3.0)}
three = []
for i in range(60):
    c = 1 + i % 3
    cx, cy = centers[c]
    three.append((c, round(cx + rng.gauss(0, 0.5), 3), round(cy + rng.gauss(0, 0.5), 3)))
# label last, ';' separated, no header
write("three.csv", "".join("%g;%g;0;%d\n" % (x, y, c) for c, x, y in three))
write("three.svm", "".join("%d 1:%g 2:%g\n" % (c, x, y) for c, x, y in three))
gz("three.svm.gz", "".join("%d 1:%g 2:%g\n" % (c, x, y) for c, x, y in three))
# only classes 1 and 3 (a subset: fine for --resume / eval on a 1..3 model)
write("three-subset.svm", "".join("%d 1:%g 2:%g\n" % (c, x, y) for c, x, y in three if c != 2))

# IDX: 30 images of 4x4 bytes in classes 0..2 (bright rows by class).
imgs, labs = bytearray(), bytearray()
for i in range(30):
    c = i % 3
    for r in range(4):
        for col in range(4):
            base = 200 if r == c else 20
            imgs.append(max(0, min(255, base + rng.randint(-20, 20))))
    labs.append(c)
idx_images = struct.pack(">IIII", 0x803, 30, 4, 4) + bytes(imgs)
idx_labels = struct.pack(">II", 0x801, 30) + bytes(labs)
gz("tiny-images-idx3-ubyte.gz", idx_images)
gz("tiny-labels-idx1-ubyte.gz", idx_labels)
write("plain-images-idx3-ubyte", idx_images, "wb")
write("plain-labels-idx1-ubyte", idx_labels, "wb")

# 0..2, imbalanced (36/16/8) overlapping blobs, for --class-weight: weighting
# the classes moves the boundaries, so the model must change. Its own
# generator, so that adding it left the other files' bytes alone.
irng = random.Random(20250301)
imbalanced = []
for c, count, (cx, cy) in ((0, 36, (0.0, 0.0)), (1, 16, (1.5, 0.0)), (2, 8, (0.0, 1.5))):
    for _ in range(count):
        imbalanced.append((c, round(cx + irng.gauss(0, 0.8), 3), round(cy + irng.gauss(0, 0.8), 3)))
irng.shuffle(imbalanced)
write("imbalanced.csv", "label,x1,x2\n" + "".join("%d,%g,%g\n" % r for r in imbalanced))

# ---- bad inputs ----
write("empty.csv", "")
write("ragged.csv", "label,x1,x2\n1,0.5,0.5\n-1,0.25\n1,1,1\n")
write("nonnumeric.csv", "label,x1,x2\n1,0.5,0.5\n-1,abc,0.5\n")
write("nan.csv", "label,x1,x2\n1,0.5,0.5\n-1,nan,0.5\n")
write("inf.csv", "label,x1,x2\n1,0.5,0.5\n-1,0.5,inf\n")
write("unknown-label.csv", "label,x1,x2\n1,0.5,0.5\n2,0.5,0.5\n-1,-1,-1\n")
write("three-features.csv", "label,x1,x2,x3\n1,0.5,0.5,1\n-1,-0.5,-0.5,1\n")
write("single-class.csv", "label,x1,x2\n1,0.5,0.5\n1,0.25,1\n")
write("index0.svm", "1 1:0.5\n-1 0:0.5 2:1\n")
write("decreasing.svm", "1 1:0.5 2:1\n-1 2:0.5 1:1\n")
write("big-index.svm", "1 1:0.5\n-1 7:0.5\n")
write("badmagic-images-idx3-ubyte", struct.pack(">IIII", 0x01020803, 1, 2, 2) + bytes(4), "wb")
write("truncated-images-idx3-ubyte", struct.pack(">IIII", 0x803, 3, 4, 4) + bytes(20), "wb")
write("overflow-images-idx3-ubyte",
      struct.pack(">IIII", 0x803, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF) + bytes(16), "wb")
good_gz = gzip.compress(b"label,x1,x2\n1,0.5,0.5\n-1,-0.5,-0.5\n" * 20, mtime=0)
# flip bytes in the middle of the deflate stream: a CRC / data error
bad = bytearray(good_gz)
for i in range(len(bad) // 2, len(bad) // 2 + 6):
    bad[i] ^= 0x5A
write("corrupt.csv.gz", bytes(bad), "wb")

# ---- sparse, text-like data (tests/cli/sparse.sh): 300 features ("words"),
# about 6 non-zeros per row (2% dense, so --sparse is what auto picks).
# Class c (0..2) draws three of its words from features 20c+1..20c+20, and
# three noise words from 61..300. Its own generator, so that adding it left
# the other files' bytes alone.
SK = 300
srng = random.Random(20250901)


def sparse_row(c):
    feats = {}
    for _ in range(3):
        feats[1 + 20 * c + srng.randrange(20)] = round(srng.uniform(0.2, 3.0), 3)
    for _ in range(3):
        feats[61 + srng.randrange(SK - 60)] = round(srng.uniform(0.2, 3.0), 3)
    return feats


def svm_lines(rows):
    return "".join("%d%s\n" % (c, "".join(" %d:%r" % (j, v) for j, v in sorted(f.items())))
                   for c, f in rows)


sparse_train = [(i % 3, sparse_row(i % 3)) for i in range(150)]
sparse_train[9] = (0, {})         # a sample with no features at all
sparse_train[10][1][SK] = 1.5     # the last feature occurs, so k = 300
write("sparse.svm", "# text-like: 150 samples, 300 features, 3 classes\n" +
      svm_lines(sparse_train))
sparse_test = [(i % 3, sparse_row(i % 3)) for i in range(30)]
write("sparse-test.svm", svm_lines(sparse_test))
# The same rows with words the training data never had (301..304): 10
# non-zeros in 4 features, which predict must ignore.
extra = []
for i, (c, f) in enumerate(sparse_test):
    f = dict(f)
    if i < 10:
        f[SK + 1 + i % 4] = 2.0
    extra.append((c, f))
write("sparse-test-extra.svm", svm_lines(extra))

# sparse.svm divided by each feature's population standard deviation over
# all 150 rows, the implicit zeros included (1 where it is 0): what
# --standardize does to sparse data (scaling, no centring).
n = len(sparse_train)
scale = {}
for j in range(1, SK + 1):
    col = [f.get(j, 0.0) for _, f in sparse_train]
    mean = sum(col) / n
    sd = (sum((x - mean) ** 2 for x in col) / n) ** 0.5
    scale[j] = sd if sd > 1e-12 else 1.0
write("sparse-scaled.svm", svm_lines([(c, {j: v / scale[j] for j, v in f.items()})
                                      for c, f in sparse_train]))
