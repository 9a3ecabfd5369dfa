"""The library's operations on NumPy arrays, for people who want the
mathematics without the estimator: devices(), forward(), loss(),
gradient().

weight (C, k) and bias (C) are the model's parameters; X (n, k) is a NumPy
array or a SciPy sparse matrix; y is either n class indices in [0, C) or
soft targets (n, C) whose rows sum to 1. Results are float64 arrays; the
device computes at `dtype` ("float64" by default here: these functions are
for checking and experimenting, where exactness matters more than speed).
"""
import ctypes
import numpy as np

from ._lib import lib, check, raise_status, context, opencl_entry, DeviceInfo
from ._handles import Dataset, Model, as_matrix, precision, ptr

__all__ = ["devices", "forward", "loss", "gradient"]


def devices():
    """Every OpenCL device of every platform, as a list of dicts with the
    fields of csm_device_info (selector: the CLSOFTMAX_DEVICE / `device=`
    value that picks it)."""
    opencl_entry("csm_list_devices")
    count = ctypes.c_size_t()
    err = ctypes.create_string_buffer(1024)
    st = lib.csm_list_devices(None, 0, ctypes.byref(count), err, len(err))
    if st != 0:
        raise_status(st, "csm_list_devices", detail=err.value.decode(errors="replace"))
    n = count.value
    if n == 0:
        return []
    arr = (DeviceInfo * n)()
    arr[0].struct_size = ctypes.sizeof(DeviceInfo)
    st = lib.csm_list_devices(arr, n, ctypes.byref(count), err, len(err))
    if st != 0:
        raise_status(st, "csm_list_devices", detail=err.value.decode(errors="replace"))
    out = []
    for d in arr[:min(n, count.value)]:
        row = {}
        for name, _ in DeviceInfo._fields_[1:]:
            v = getattr(d, name)
            row[name] = v.decode(errors="replace") if isinstance(v, bytes) else v
        row["has_fp64"] = bool(row["has_fp64"])
        out.append(row)
    return out


def _model(ctx, prec, weight, bias, k):
    W = np.asarray(weight)
    if W.ndim != 2 or W.shape[1] != k:
        raise ValueError("weight must have shape (n_classes, %d) to match X, got %s"
                         % (k, W.shape))
    if W.shape[0] < 2:
        raise ValueError("weight needs at least 2 classes (rows), got %d" % W.shape[0])
    return Model(ctx, prec, W, bias)


def _targets(y, n, C):
    y = np.asarray(y)
    if y.ndim == 1:
        if y.shape[0] != n:
            raise ValueError("y has %d labels but X has %d rows" % (y.shape[0], n))
        if y.dtype.kind not in "iu" and not (y.dtype.kind == "f" and np.all(y == np.round(y))):
            raise ValueError("y must hold integer class indices in [0, %d), or soft targets "
                             "of shape (%d, %d)" % (C, n, C))
        return y.astype(np.int64)  # out-of-range values: the library's CSM_ERR_LABEL_RANGE
    if y.ndim == 2:
        if y.shape != (n, C):
            raise ValueError("soft targets must have shape (%d, %d), got %s" % (n, C, y.shape))
        return y
    raise ValueError("y must be 1-D labels or 2-D soft targets, got shape %s" % (y.shape,))


def _labels_fit_int32(y):
    # Indices past int32 would wrap in the conversion and could look valid.
    if y.ndim == 1 and y.size and (y.min() < -2**31 or y.max() >= 2**31):
        raise ValueError("y holds class indices outside the int32 range")


def forward(weight, bias, X, device=None, dtype="float64"):
    """Logits S = X W^T + b and probabilities softmax(S), each (n, C)."""
    X = as_matrix(X)
    prec = precision(dtype)
    ctx = context(device)
    with ctx.lock, _model(ctx, prec, weight, bias, X.shape[1]) as m, Dataset(ctx, prec, X) as d:
        C = m.shape[0]
        S = np.empty((X.shape[0], C))
        O = np.empty((X.shape[0], C))
        check(lib.csm_forward(m.handle, d.handle, ptr(S), ptr(O)), "csm_forward", ctx.handle)
    return S, O


def _with_targets(weight, bias, X, y, C, sample_weight, device, dtype, fn):
    X = as_matrix(X)
    prec = precision(dtype)
    W = np.asarray(weight)
    C = float(C)
    if not C > 0:
        raise ValueError("C must be > 0 (inf: no penalty), got %r" % C)
    ctx = context(device)
    with ctx.lock, _model(ctx, prec, W, bias, X.shape[1]) as m:
        n_classes = m.shape[0]
        t = _targets(y, X.shape[0], n_classes)
        _labels_fit_int32(t)
        with Dataset(ctx, prec, X, t, n_classes, sample_weight) as d:
            return fn(ctx, m, d, n_classes, X.shape[1], C)


def loss(weight, bias, X, y, C=np.inf, sample_weight=None, device=None, dtype="float64"):
    """J = mean cross-entropy (weighted mean with sample_weight) + lambda/2 ||W||^2,
    lambda = 1 / (C * sum of the sample weights), scikit-learn's C (inf: no penalty)."""
    def run(ctx, m, d, n_classes, k, C):
        J = ctypes.c_double()
        check(lib.csm_loss(m.handle, d.handle, C, ctypes.byref(J)), "csm_loss", ctx.handle)
        return J.value
    return _with_targets(weight, bias, X, y, C, sample_weight, device, dtype, run)


def gradient(weight, bias, X, y, C=np.inf, sample_weight=None, device=None, dtype="float64"):
    """(dW (C, k), db (C)): the gradient of loss() with respect to weight and bias."""
    def run(ctx, m, d, n_classes, k, C):
        dW = np.empty((n_classes, k))
        db = np.empty(n_classes)
        check(lib.csm_gradient(m.handle, d.handle, C, None, ptr(dW), ptr(db)),
              "csm_gradient", ctx.handle)
        return dW, db
    return _with_targets(weight, bias, X, y, C, sample_weight, device, dtype, run)
