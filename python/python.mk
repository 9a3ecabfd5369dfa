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
	python/clsoftmax/estimator.py
if HAVE_PYTHON
pkgpython_PYTHON = $(clsoftmax_python_sources)
nodist_pkgpython_PYTHON = python/clsoftmax/_config.py
endif
# The library's path as installed, fixed when the package is built (make, not
# configure, so that $(libdir) is fully expanded).
python/clsoftmax/_config.py: $(srcdir)/python/clsoftmax/_config.py.in Makefile
	$(AM_V_GEN)$(MKDIR_P) python/clsoftmax && \
	sed -e 's|@LIBRARY@|$(libdir)/libclsoftmax.so.0|' \
	  $(srcdir)/python/clsoftmax/_config.py.in > $@.tmp && mv $@.tmp $@
CLEANFILES += python/clsoftmax/_config.py

TESTS += tests/python.sh
clsoftmax_python_tests = \
	tests/python/test_ops.py \
	tests/python/test_estimator.py \
	tests/python/test_model_file.py \
	tests/python/test_sklearn.py \
	tests/python/test_robustness.py \
	tests/python/helpers.py
EXTRA_DIST += $(clsoftmax_python_sources) python/clsoftmax/_config.py.in tests/python.sh \
	bench/python_vs_sklearn.py \
	$(clsoftmax_python_tests)
AM_TESTS_ENVIRONMENT += PYTHON='$(PYTHON)'; export PYTHON;
