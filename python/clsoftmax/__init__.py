"""clsoftmax: softmax regression on OpenCL devices, from Python.

    from clsoftmax import SoftmaxRegression
    clf = SoftmaxRegression().fit(X, y)      # a scikit-learn classifier
    clf.save("model.safetensors")            # the file `clsoftmax predict` reads
    cv = SoftmaxRegressionCV(Cs=[0.01, 0.1, 1, 10], cv=5).fit(X, y)  # cv.C_, cv.scores_

Lower level: devices(), forward(), loss(), gradient() on NumPy arrays.
Errors of the library raise clsoftmax.Error (status, status_name, message).
The library is the one this package was installed for (`make install`, or
`pip install` after it: see README, "Python"; CLSOFTMAX_LIBRARY overrides
the path); the device is picked by `device=` or CLSOFTMAX_DEVICE, as for
the command. clsoftmax.__version__ is the library's version.
"""
from ._lib import Error, library_path
from .ops import devices, forward, loss, gradient
from .estimator import SoftmaxRegression, load
from .cv import SoftmaxRegressionCV

__all__ = ["Error", "SoftmaxRegression", "SoftmaxRegressionCV", "load", "devices", "forward", "loss", "gradient",
           "library_path", "version", "__version__"]


def version():
    """The version of the loaded library ("0.1.0")."""
    from ._lib import lib
    return lib.csm_version().decode()


def __getattr__(name):
    # __version__ is the library's, so it is read from the library (which
    # is loaded on first use, not at import)
    if name == "__version__":
        return version()
    raise AttributeError("module 'clsoftmax' has no attribute %r" % (name,))
