"""Library objects made for one call and freed at its end: datasets from
NumPy arrays or SciPy CSR matrices, models from weights and bias.

Inputs are checked here, before the library sees them, so that a bad array
gives a ValueError naming the argument rather than a crash: the library
reads host memory by the sizes it is given, and only Python knows the
array's real size, dtype and layout.
"""
import ctypes
import os
import shutil
import tempfile

import numpy as np

from ._lib import (lib, check, CSM_FLOAT32, CSM_FLOAT64, CSM_DTYPE_F32, CSM_DTYPE_F64)

_PRECISIONS = {"float32": CSM_FLOAT32, "float64": CSM_FLOAT64}


def precision(dtype):
    """The library's precision for a dtype given as "float32", "float64",
    np.float32 or np.float64."""
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = None
    if name not in _PRECISIONS:
        raise ValueError("dtype must be 'float32' or 'float64', not %r" % (dtype,))
    return _PRECISIONS[name]


def ptr(a):
    return a.ctypes.data_as(ctypes.c_void_p) if a is not None else None


def real_array(a, name):
    """a as a C-contiguous float64 array; ValueError unless it holds real
    numbers (NumPy would turn the strings "1.5" into numbers silently)."""
    a = np.asarray(a)
    if a.dtype.kind not in "biuf":
        raise ValueError("%s must hold real numbers, not dtype %s" % (name, a.dtype))
    return np.ascontiguousarray(a, dtype=np.float64)


def is_sparse(X):
    try:
        import scipy.sparse
    except ImportError:
        return False
    return scipy.sparse.issparse(X)


def as_matrix(X, name="X"):
    """X as the library takes it: a C-contiguous float64 or float32 (n, k)
    array, or a canonical CSR matrix with int64 row pointers, int32 columns
    and float64 values. Raises ValueError for anything else."""
    if is_sparse(X):
        X = X.tocsr()
        if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
            raise ValueError("%s: need at least one sample and one feature, got shape %s"
                             % (name, X.shape))
        if not X.has_canonical_format:
            X = X.copy()
            X.sum_duplicates()
        data = np.ascontiguousarray(X.data, dtype=np.float64)
        if not np.all(np.isfinite(data)):
            raise ValueError("%s contains NaN or infinity" % name)
        if X.shape[1] >= 2**31:
            raise ValueError("%s: too many features for 32-bit column indices" % name)
        return _Csr(X.shape, np.ascontiguousarray(X.indptr, dtype=np.int64),
                    np.ascontiguousarray(X.indices, dtype=np.int32), data)
    X = np.asarray(X)
    if X.dtype.kind not in "biuf":
        raise ValueError("%s must hold real numbers, not dtype %s" % (name, X.dtype))
    if X.ndim != 2:
        raise ValueError("%s must be a 2-D array (n_samples, n_features), got shape %s"
                         % (name, X.shape))
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError("%s: need at least one sample and one feature, got shape %s"
                         % (name, X.shape))
    # float32 goes to the library as it is (float -> double is exact there).
    X = np.ascontiguousarray(X, dtype=np.float32 if X.dtype == np.float32 else np.float64)
    if not np.all(np.isfinite(X)):
        raise ValueError("%s contains NaN or infinity" % name)
    return X


class _Csr:
    def __init__(self, shape, indptr, indices, data):
        self.shape, self.indptr, self.indices, self.data = shape, indptr, indices, data



class Dataset:
    """A dataset on the device, freed on exit of the `with` block.

    X from as_matrix(); y: None, class indices (n,) in [0, n_classes), or
    soft targets (n, n_classes); weights: None or (n,) sample weights."""

    def __init__(self, ctx, prec, X, y=None, n_classes=0, weights=None):
        self.ctx = ctx
        self.handle = ctypes.c_void_p()
        n, k = X.shape
        labels = targets = None
        if y is not None:
            y = np.asarray(y)
            if y.ndim == 1:
                labels = np.ascontiguousarray(y, dtype=np.int32)
                if labels.shape[0] != n:
                    raise ValueError("y has %d entries but X has %d rows" % (labels.shape[0], n))
            else:
                targets = real_array(y, "soft targets")
                if targets.shape != (n, n_classes):
                    raise ValueError("soft targets must have shape %s, got %s"
                                     % ((n, n_classes), targets.shape))
        else:
            n_classes = 0
        self._keep = (X, labels, targets)
        if isinstance(X, _Csr):
            st = lib.csm_dataset_create_csr(ctx.handle, ctypes.byref(self.handle), prec, n, k,
                                            ptr(X.indptr), ptr(X.indices), ptr(X.data),
                                            ptr(labels), ptr(targets), n_classes)
            check(st, "csm_dataset_create_csr", ctx.handle)
        else:
            dtype = CSM_DTYPE_F32 if X.dtype == np.float32 else CSM_DTYPE_F64
            st = lib.csm_dataset_create(ctx.handle, ctypes.byref(self.handle), prec, ptr(X),
                                        dtype, n, k, ptr(labels), ptr(targets), n_classes)
            check(st, "csm_dataset_create", ctx.handle)
        if weights is not None:
            w = real_array(weights, "sample_weight")
            if w.shape != (n,):
                self.free()
                raise ValueError("sample_weight must have shape (%d,), got %s" % (n, w.shape))
            try:
                check(lib.csm_dataset_set_weights(self.handle, ptr(w)),
                      "csm_dataset_set_weights", ctx.handle)
            except Exception:
                self.free()
                raise

    def free(self):
        if self.handle:
            lib.csm_dataset_free(self.handle)
            self.handle = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.free()


class Model:
    """A model on the device, freed on exit of the `with` block: either
    created from weight (C, k) and bias (C), or wrapping a loaded handle."""

    def __init__(self, ctx, prec=None, weight=None, bias=None, handle=None):
        self.ctx = ctx
        if handle is not None:
            self.handle = handle
            return
        self.handle = ctypes.c_void_p()
        W = real_array(weight, "weight")
        if W.ndim != 2:
            raise ValueError("weight must be a 2-D array (n_classes, n_features), got shape %s"
                             % (W.shape,))
        b = real_array(bias, "bias")
        if b.shape != (W.shape[0],):
            raise ValueError("bias must have shape (%d,), got %s" % (W.shape[0], b.shape))
        check(lib.csm_model_create(ctx.handle, ctypes.byref(self.handle), prec,
                                   W.shape[0], W.shape[1]), "csm_model_create", ctx.handle)
        try:
            check(lib.csm_model_set_params(self.handle, ptr(W), ptr(b)),
                  "csm_model_set_params", ctx.handle)
        except Exception:
            self.free()
            raise

    @classmethod
    def with_solver_state(cls, ctx, state, prec, weight, bias):
        """A model from solver_state_bytes() (the solver's moments and
        counts), with weight and bias set; where the state does not fit
        (another precision or shape), a model without it."""
        tmp = tempfile.mkdtemp(prefix="clsoftmax-state-")
        try:
            path = os.path.join(tmp, "state.safetensors")
            with open(path, "wb") as f:
                f.write(state)
            handle = ctypes.c_void_p()
            check(lib.csm_model_load(ctx.handle, ctypes.byref(handle), os.fsencode(path)),
                  "csm_model_load", ctx.handle)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        m = cls(ctx, handle=handle)
        W = real_array(weight, "weight")
        if lib.csm_model_precision(m.handle) != prec or m.shape != W.shape:
            m.free()
            return cls(ctx, prec, weight, bias)
        try:
            check(lib.csm_model_set_params(m.handle, ptr(W), ptr(real_array(bias, "bias"))),
                  "csm_model_set_params", ctx.handle)
        except Exception:
            m.free()
            raise
        return m

    def solver_state_bytes(self):
        """The model with its solver state as model-file bytes (the library
        keeps the state with the model; a file is the only way out)."""
        tmp = tempfile.mkdtemp(prefix="clsoftmax-state-")
        try:
            path = os.path.join(tmp, "state.safetensors")
            check(lib.csm_model_save(self.handle, os.fsencode(path)), "csm_model_save",
                  self.ctx.handle)
            with open(path, "rb") as f:
                return f.read()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    @property
    def shape(self):
        return (lib.csm_model_n_classes(self.handle), lib.csm_model_n_features(self.handle))

    def params(self):
        C, k = self.shape
        W = np.empty((C, k))
        b = np.empty(C)
        check(lib.csm_model_get_params(self.handle, ptr(W), ptr(b)), "csm_model_get_params",
              self.ctx.handle)
        return W, b

    def free(self):
        if self.handle:
            lib.csm_model_free(self.handle)
            self.handle = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.free()
