# The Python package python/clsoftmax/ (ctypes over the installed library)
# and its tests (tests/python/, run by tests/python.sh). Installed into
# $(pkgpythondir) when configure found Python 3 (AM_PATH_PYTHON); without it
# `make install` leaves it out and the tests say SKIP.
clsoftmax_python_sources = \
	python/clsoftmax/__init__.py \
	python/clsoftmax/_lib.py \
	python/clsoftmax/_handles.py \
	python/clsoftmax/_nosklearn.py \
	python/clsoftmax/ops.py \
	python/clsoftmax/estimator.py \
	python/clsoftmax/cv.py
if HAVE_PYTHON
pkgpython_PYTHON = $(clsoftmax_python_sources)
# The library's path, written when the package is installed, so that it is
# where this `make install` (prefix=..., libdir=... given to it included)
# put the library. `pip install python/` writes its own (python/setup.py).
install-data-hook:
	$(MKDIR_P) "$(DESTDIR)$(pkgpythondir)"
	sed -e 's|@LIBRARY@|$(libdir)/libclsoftmax.so.0|' \
	  $(srcdir)/python/clsoftmax/_config.py.in > "$(DESTDIR)$(pkgpythondir)/_config.py"
uninstall-hook:
	rm -f "$(DESTDIR)$(pkgpythondir)/_config.py"
endif

TESTS += tests/python.sh
clsoftmax_python_tests = \
	tests/python/test_ops.py \
	tests/python/test_estimator.py \
	tests/python/test_model_file.py \
	tests/python/test_sklearn.py \
	tests/python/test_robustness.py \
	tests/python/test_cv.py \
	tests/python/helpers.py
EXTRA_DIST += $(clsoftmax_python_sources) python/clsoftmax/_config.py.in tests/python.sh \
	python/pyproject.toml python/setup.py \
	bench/python_vs_sklearn.py bench/two_classes.py bench/cv_digits.py \
	$(clsoftmax_python_tests)
AM_TESTS_ENVIRONMENT += PYTHON='$(PYTHON)'; export PYTHON;
