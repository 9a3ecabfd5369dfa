"""ctypes view of libclsoftmax: the public structures, the prototypes, the
error type and the per-process cache of contexts.

The structures mirror include/clsoftmax.h field for field. The library
checks the struct_size of every structure the caller allocates, so a wrong
mirror fails loudly (check_layout(), run on first load) instead of reading
garbage.
"""
import atexit
import contextlib
import ctypes
import logging
import os
import signal
import sys
import threading

__all__ = ["Error", "lib", "context", "check"]

_STATUS_NAMES = [
    "CSM_OK", "CSM_ERR_NULL_ARGUMENT", "CSM_ERR_INVALID_SIZE", "CSM_ERR_INVALID_VALUE",
    "CSM_ERR_NONFINITE", "CSM_ERR_LABEL_RANGE", "CSM_ERR_TARGETS", "CSM_ERR_NO_TARGETS",
    "CSM_ERR_MISMATCH", "CSM_ERR_NO_DEVICE", "CSM_ERR_DEVICE_NOT_FOUND", "CSM_ERR_NO_FP64",
    "CSM_ERR_KERNEL_NOT_FOUND", "CSM_ERR_KERNEL_BUILD", "CSM_ERR_OPENCL", "CSM_ERR_CLBLAST",
    "CSM_ERR_OUT_OF_MEMORY", "CSM_ERR_IO", "CSM_ERR_FORMAT", "CSM_ERR_DISTRIBUTED",
]
CSM_FLOAT32, CSM_FLOAT64 = 0, 1
CSM_DTYPE_F32, CSM_DTYPE_F64, CSM_DTYPE_U8 = 0, 1, 2
SOLVERS = {"sgd": 0, "momentum": 1, "adam": 2, "lbfgs": 3}
CSM_STOP_TOL, CSM_STOP_MAX_ITER = 0, 1


class Error(RuntimeError):
    """A libclsoftmax call failed.

    status: the csm_status code (int); status_name: its enum name
    ("CSM_ERR_INVALID_SIZE"); the message holds the function, the status's
    description and the library's last-error text.
    """

    def __init__(self, status, message):
        self.status = int(status)
        self.status_name = (_STATUS_NAMES[self.status] if 0 <= self.status < len(_STATUS_NAMES)
                            else "CSM_STATUS_%d" % self.status)
        super().__init__(message)

    def __reduce__(self):  # crosses process boundaries (joblib workers) intact
        return (type(self), (self.status, str(self)))


class DeviceInfo(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("platform_index", ctypes.c_uint),
        ("device_index", ctypes.c_uint),
        ("platform_name", ctypes.c_char * 128),
        ("device_name", ctypes.c_char * 128),
        ("device_type", ctypes.c_char * 16),
        ("driver_version", ctypes.c_char * 64),
        ("selector", ctypes.c_char * 32),
        ("has_fp64", ctypes.c_int),
        ("compute_units", ctypes.c_uint),
        ("global_mem_bytes", ctypes.c_uint64),
        ("max_alloc_bytes", ctypes.c_uint64),
    ]


class EpochInfo(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("epoch", ctypes.c_int),
        ("epochs", ctypes.c_int),
        ("loss", ctypes.c_double),
        ("accuracy", ctypes.c_double),
        ("seconds", ctypes.c_double),
        ("samples", ctypes.c_size_t),
        ("grad_max_abs", ctypes.c_double),
        ("evaluations", ctypes.c_int),
    ]


EPOCH_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(EpochInfo),
                            ctypes.c_void_p)
LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)


class TrainOptions(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("solver", ctypes.c_int),
        ("max_iter", ctypes.c_int),
        ("tol", ctypes.c_double),
        ("n_iter_no_change", ctypes.c_int),
        ("C", ctypes.c_double),
        ("batch_size", ctypes.c_size_t),
        ("learning_rate", ctypes.c_double),
        ("momentum", ctypes.c_double),
        ("beta1", ctypes.c_double),
        ("beta2", ctypes.c_double),
        ("epsilon", ctypes.c_double),
        ("lbfgs_memory", ctypes.c_int),
        ("max_linesearch", ctypes.c_int),
        ("seed", ctypes.c_uint64),
        ("shuffle", ctypes.c_int),
        ("resume", ctypes.c_int),
        ("callback", EPOCH_FN),
        ("user", ctypes.c_void_p),
        ("reduce", ctypes.c_void_p),  # csm_reduce_fn; NULL: one process
        ("reduce_user", ctypes.c_void_p),
        ("fit_intercept", ctypes.c_int),
        ("l1_ratio", ctypes.c_double),
    ]


class TrainResult(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("converged", ctypes.c_int),
        ("stop", ctypes.c_int),
        ("n_iter", ctypes.c_int),
        ("total_iter", ctypes.c_long),
        ("n_evals", ctypes.c_long),
        ("objective", ctypes.c_double),
        ("grad_max_abs", ctypes.c_double),
        ("l2", ctypes.c_double),
        ("seconds", ctypes.c_double),
    ]


_p = ctypes.c_void_p
_dp = ctypes.POINTER(ctypes.c_double)
_sz = ctypes.c_size_t
_st = ctypes.c_int
_PROTOTYPES = {
    # name: (restype, argtypes)
    "csm_status_string": (ctypes.c_char_p, [_st]),
    "csm_version": (ctypes.c_char_p, []),
    "csm_list_devices": (_st, [ctypes.POINTER(DeviceInfo), _sz, ctypes.POINTER(_sz),
                               ctypes.c_char_p, _sz]),
    "csm_select_device": (_st, [ctypes.c_char_p, ctypes.POINTER(_sz), ctypes.c_char_p, _sz]),
    "csm_context_create": (_st, [ctypes.POINTER(_p), ctypes.c_char_p, ctypes.c_char_p, _sz]),
    "csm_context_free": (None, [_p]),
    "csm_context_last_error": (ctypes.c_char_p, [_p]),
    "csm_context_set_log_callback": (None, [_p, LOG_FN, _p]),
    "csm_context_device": (ctypes.POINTER(DeviceInfo), [_p]),
    "csm_dataset_create": (_st, [_p, ctypes.POINTER(_p), ctypes.c_int, _p, ctypes.c_int, _sz, _sz,
                                 _p, _p, _sz]),
    "csm_dataset_create_csr": (_st, [_p, ctypes.POINTER(_p), ctypes.c_int, _sz, _sz, _p, _p, _p,
                                     _p, _p, _sz]),
    "csm_dataset_set_weights": (_st, [_p, _p]),
    "csm_dataset_free": (None, [_p]),
    "csm_model_create": (_st, [_p, ctypes.POINTER(_p), ctypes.c_int, _sz, _sz]),
    "csm_model_free": (None, [_p]),
    "csm_model_set_params": (_st, [_p, _p, _p]),
    "csm_model_get_params": (_st, [_p, _p, _p]),
    "csm_model_n_classes": (_sz, [_p]),
    "csm_model_n_features": (_sz, [_p]),
    "csm_model_precision": (ctypes.c_int, [_p]),
    "csm_model_set_labels": (_st, [_p, _p]),
    "csm_model_labels": (ctypes.POINTER(ctypes.c_int64), [_p]),
    "csm_model_set_metadata": (_st, [_p, ctypes.c_char_p, ctypes.c_char_p]),
    "csm_model_get_metadata": (ctypes.c_char_p, [_p, ctypes.c_char_p]),
    "csm_model_metadata_count": (_sz, [_p]),
    "csm_model_metadata_key": (ctypes.c_char_p, [_p, _sz]),
    "csm_model_save": (_st, [_p, ctypes.c_char_p]),
    "csm_model_load": (_st, [_p, ctypes.POINTER(_p), ctypes.c_char_p]),
    "csm_forward": (_st, [_p, _p, _p, _p]),
    "csm_loss": (_st, [_p, _p, ctypes.c_double, _dp]),
    "csm_gradient": (_st, [_p, _p, ctypes.c_double, _dp, _p, _p]),
    "csm_predict_proba": (_st, [_p, _p, _p]),
    "csm_train_options_init": (_st, [ctypes.POINTER(TrainOptions), _sz]),
    "csm_train": (_st, [_p, _p, ctypes.POINTER(TrainOptions), ctypes.POINTER(TrainResult)]),
    "csm_stop_string": (ctypes.c_char_p, [ctypes.c_int]),
}


def library_path():
    """The shared library to load: $CLSOFTMAX_LIBRARY, else the one this
    package was installed for (_config.LIBRARY: written by `make install`,
    or by python/setup.py under `pip install`), else the loader's search."""
    env = os.environ.get("CLSOFTMAX_LIBRARY")
    if env:
        return env
    try:
        from . import _config
        if os.path.exists(_config.LIBRARY):
            return _config.LIBRARY
    except ImportError:  # running from the source tree without a build
        pass
    return "libclsoftmax.so.0"


class _Lib:
    """Loads the library on first use, so that `import clsoftmax` works (and
    says what is missing) even where the library is not found."""

    def __init__(self):
        self._dll = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._dll is not None:
                return self._dll
            path = library_path()
            try:
                dll = ctypes.CDLL(path)
            except OSError as e:
                raise ImportError("clsoftmax: cannot load the library %r (%s); set "
                                  "CLSOFTMAX_LIBRARY to the path of libclsoftmax.so" % (path, e))
            for name, (res, args) in _PROTOTYPES.items():
                fn = getattr(dll, name)
                fn.restype = res
                fn.argtypes = args
            _check_layout(dll)
            self._dll = dll
            return dll

    def __getattr__(self, name):
        return getattr(self._load(), name)


lib = _Lib()


def _check_layout(dll):
    # The library accepts exactly its own struct sizes: a mismatch means the
    # mirror above and the library's header disagree.
    o = TrainOptions()
    st = dll.csm_train_options_init(ctypes.byref(o), ctypes.sizeof(o))
    if st != 0:
        raise ImportError("clsoftmax: csm_train_options_init rejects sizeof(csm_train_options) "
                          "= %d: the library was built from a different clsoftmax.h than this "
                          "package (library version %s)"
                          % (ctypes.sizeof(o), dll.csm_version().decode()))


def status_string(status):
    return lib.csm_status_string(status).decode()


def raise_status(st, what, ctx=None, detail=None):
    text = "%s: %s" % (what, status_string(st))
    if detail is None and ctx is not None:
        detail = lib.csm_context_last_error(ctx).decode(errors="replace")
    if detail:
        text += ": " + detail
    raise Error(st, text)


def check(st, what, ctx=None):
    """Raises Error for a failing status, with the context's last error."""
    if st != 0:
        raise_status(st, what, ctx)


_log = logging.getLogger("clsoftmax")
_LEVELS = {0: logging.DEBUG, 1: logging.INFO, 2: logging.WARNING}
_tls = threading.local()  # the interrupt guard of this thread's library call


@LOG_FN
def _log_callback(level, message, user):
    text = message.decode(errors="replace")
    _log.log(_LEVELS.get(level, logging.WARNING), "%s", text)
    guard = getattr(_tls, "guard", None)
    if guard is not None and guard.echo:
        print(text, file=sys.stderr, flush=True)


class _Guard:
    """What interrupt_guard() hands its block: `pending` turns true when
    Ctrl-C comes during the block."""

    def __init__(self, echo):
        self.echo = echo
        self.pending = False


@contextlib.contextmanager
def interrupt_guard(echo=False):
    """Around library calls that run Python callbacks (training): Ctrl-C
    only sets guard.pending (the epoch callback then stops training at the
    next iteration), and the block raises KeyboardInterrupt when it ends,
    once the library has returned. Python's own handler would raise inside
    a ctypes callback instead, where the interpreter can only print
    "Exception ignored" and lose it. Python's default handler comes back at
    the end of the block. Only the main thread receives signals, and only
    the default handler is replaced: a handler of the program's own stays.
    echo: the library's log messages also go to stderr (verbose=2)."""
    outer = getattr(_tls, "guard", None)
    if outer is not None:  # already guarded further up this thread
        yield outer
        return
    guard = _Guard(echo)
    swap = (threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler)
    if swap:
        def on_sigint(signum, frame):
            guard.pending = True
        signal.signal(signal.SIGINT, on_sigint)
    _tls.guard = guard
    try:
        yield guard
    finally:
        _tls.guard = None
        if swap:
            signal.signal(signal.SIGINT, signal.default_int_handler)
    if guard.pending:
        raise KeyboardInterrupt


CSM_ERR_OPENCL = 14
_opencl_used = False
_forked_after_use = False


def _after_fork_in_child():
    global _forked_after_use, _contexts_lock
    _forked_after_use = _opencl_used
    _contexts_lock = threading.Lock()  # another thread may have held it at fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


def opencl_entry(what):
    """Called before each call that reaches the OpenCL runtime. A runtime
    that was started before fork() does not work in the child (POCL hangs
    there, even on a new context): fail at once instead."""
    global _opencl_used
    if _forked_after_use:
        raise Error(CSM_ERR_OPENCL,
                    "%s: this process was forked from one that had already used OpenCL, and "
                    "OpenCL runtimes do not survive fork() (POCL would hang here): start worker "
                    "processes with the 'spawn' or 'forkserver' method (joblib's default 'loky' "
                    "backend, which GridSearchCV(n_jobs=...) uses, does)" % what)
    _opencl_used = True


class _Context:
    def __init__(self, handle):
        self.handle = handle
        self.lock = threading.RLock()  # one thread at a time per context


_contexts = {}
_contexts_lock = threading.Lock()


def context(device=None):
    """The cached context of `device` (a CLSOFTMAX_DEVICE selector; None:
    the variable, else the first device) for this process. Creating one
    builds kernels, so it is done once; a forked child makes its own (OpenCL
    contexts do not survive fork)."""
    key = (os.getpid(), device)
    opencl_entry("csm_context_create")
    with _contexts_lock:
        c = _contexts.get(key)
        if c is None:
            handle = ctypes.c_void_p()
            err = ctypes.create_string_buffer(1024)
            st = lib.csm_context_create(ctypes.byref(handle),
                                        None if device is None else str(device).encode(),
                                        err, len(err))
            if st != 0:
                raise_status(st, "csm_context_create", detail=err.value.decode(errors="replace"))
            lib.csm_context_set_log_callback(handle, _log_callback, None)
            c = _contexts[key] = _Context(handle)
        return c


@atexit.register
def _free_contexts():
    with _contexts_lock:
        for (pid, _), c in list(_contexts.items()):
            if pid == os.getpid():
                lib.csm_context_free(c.handle)
        _contexts.clear()
