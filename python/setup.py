"""Build step of `pip install <clsoftmax source>/python` (pyproject.toml):
finds the installed library and writes clsoftmax/_config.py, so the
package loads that library with no environment variable.

Where the library is: pkg-config's clsoftmax.pc (`make install` writes it;
for a prefix pkg-config does not search, PKG_CONFIG_PATH=PREFIX/lib/pkgconfig
pip install ...), else the dynamic loader's search (ldconfig's cache,
LD_LIBRARY_PATH). The distribution's version is the library's."""
import ctypes
import ctypes.util
import os
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py

SONAME = "libclsoftmax.so.0"


def library():
    """(path of the shared library, its version, how it was found)."""
    try:
        def pc(*args):
            return subprocess.run(["pkg-config"] + list(args) + ["clsoftmax"], check=True,
                                  capture_output=True, text=True).stdout.strip()
        pc_file = pc("--path")
        # make install puts clsoftmax.pc in $(libdir)/pkgconfig: the library is
        # next to that directory, also after `make install prefix=...`, which
        # leaves the .pc's own libdir= line at configure's prefix
        for libdir in (os.path.dirname(os.path.dirname(os.path.abspath(pc_file))),
                       pc("--variable=libdir")):
            path = os.path.join(libdir, SONAME)
            if os.path.exists(path):
                return path, pc("--modversion"), "pkg-config (%s)" % pc_file
    except (OSError, subprocess.CalledProcessError):
        pass
    name = ctypes.util.find_library("clsoftmax")
    if name:
        try:
            dll = ctypes.CDLL(name)
            dll.csm_version.restype = ctypes.c_char_p
            return name, dll.csm_version().decode(), "the dynamic loader"
        except OSError:
            pass
    raise SystemExit(
        "clsoftmax: the library is not installed where pkg-config or the dynamic loader "
        "finds it. Build and install it first (./configure --prefix=PREFIX && make && "
        "make install); for a PREFIX pkg-config does not search, run "
        "PKG_CONFIG_PATH=PREFIX/lib/pkgconfig pip install ...")


LIBRARY, VERSION, HOW = library()


class BuildPy(build_py):
    def run(self):
        super().run()
        out = os.path.join(self.build_lib, "clsoftmax", "_config.py")
        with open(out, "w") as f:
            f.write("# Written by setup.py (pip install): the library found at install time,\n"
                    "# through %s. CLSOFTMAX_LIBRARY overrides it at run time.\n"
                    "LIBRARY = %r\n" % (HOW, LIBRARY))
        print("clsoftmax %s: the package loads %s (found through %s)" % (VERSION, LIBRARY, HOW))


setup(version=VERSION, cmdclass={"build_py": BuildPy})
