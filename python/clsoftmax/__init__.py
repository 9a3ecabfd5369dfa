"""clsoftmax: softmax regression on OpenCL devices, from Python.

    from clsoftmax import SoftmaxRegression
    clf = SoftmaxRegression().fit(X, y)      # a scikit-learn classifier
    clf.save("model.safetensors")            # the file `clsoftmax predict` reads

Lower level: devices(), forward(), loss(), gradient() on NumPy arrays.
Errors of the library raise clsoftmax.Error (status, status_name, message).
The library is the one `make install` installed next to this package
(CLSOFTMAX_LIBRARY overrides the path); the device is picked by `device=`
or CLSOFTMAX_DEVICE, as for the command.
"""
from ._lib import Error, library_path
from .ops import devices, forward, loss, gradient
from .estimator import SoftmaxRegression, load

__all__ = ["Error", "SoftmaxRegression", "load", "devices", "forward", "loss", "gradient",
           "library_path", "version"]


def version():
    """The version of the loaded library ("0.1.0")."""
    from ._lib import lib
    return lib.csm_version().decode()
