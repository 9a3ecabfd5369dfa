# Test harness: every Check test is its own TAP line in `make check` output.
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
SH_LOG_DRIVER = $(LOG_DRIVER)
TEST_EXTENSIONS = .sh
AM_TESTS_ENVIRONMENT = \
	CK_TAP_LOG_FILE_NAME=-; export CK_TAP_LOG_FILE_NAME; \
	CK_VERBOSITY=silent; export CK_VERBOSITY; \
	CLSOFTMAX_KERNEL_DIR='$(abs_top_srcdir)/kernels'; export CLSOFTMAX_KERNEL_DIR; \
	POCL_CACHE_DIR='$(abs_top_builddir)/.pocl-cache'; export POCL_CACHE_DIR; \
	CSM_TEST_DATA='$(abs_top_srcdir)/tests/data'; export CSM_TEST_DATA; \
	CSM_BUILDDIR='$(abs_top_builddir)'; export CSM_BUILDDIR; \
	CLSOFTMAX_CACHE_DIR='$(abs_top_builddir)/.calibration'; export CLSOFTMAX_CACHE_DIR; \
	CC='$(CC)'; export CC; PKG_CONFIG='$(PKG_CONFIG)'; export PKG_CONFIG; \
	CSM_BUILD_CFLAGS='$(CFLAGS)'; export CSM_BUILD_CFLAGS; \
	CSM_BUILD_LDFLAGS='$(LDFLAGS)'; export CSM_BUILD_LDFLAGS; \
	CSM_MPIRUN='$(MPIRUN)'; export CSM_MPIRUN; \
	CSM_MPI_FAIL_LIB='$(abs_top_builddir)/tests/.libs/mpi_fail.so'; export CSM_MPI_FAIL_LIB;

# Shared test helpers (tolerances, device probe, random data).
check_LTLIBRARIES = tests/libtestutil.la
tests_libtestutil_la_SOURCES = tests/testutil.c tests/testutil.h tests/problem.c tests/problem.h \
	tests/hooks.c tests/hooks.h
tests_libtestutil_la_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(OPENCL_CFLAGS)

# tests/cli/mpi.sh's failing rank: a PMPI interposer the ranks preload (a
# shared module, built for the tests only; the command has no test hook).
if HAVE_MPI
check_LTLIBRARIES += tests/mpi_fail.la
endif
tests_mpi_fail_la_SOURCES = tests/mpi_fail.c
tests_mpi_fail_la_CFLAGS = $(AM_CFLAGS) $(MPI_CFLAGS)
tests_mpi_fail_la_LIBADD = $(MPI_LIBS)
tests_mpi_fail_la_LDFLAGS = -module -avoid-version -shared -rpath '$(abs_builddir)/tests'

TEST_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
# Tests of the public API link the installed-to-be shared library, so they
# also prove it exports what they use; tests that reach into internals
# (internal.h, ops.h) link the library's objects instead.
TEST_LIBS = tests/libtestutil.la src/libreference.la src/libclsoftmax.la $(CHECK_LIBS) -lm
TEST_INTERNAL_LIBS = tests/libtestutil.la src/libreference.la src/libclsoftmax_core.la \
	$(CHECK_LIBS) -lm

CORE_TESTS = tests/check_api tests/check_reference tests/check_device tests/check_ops \
	tests/check_train tests/check_solver tests/check_sparse tests/check_args \
	tests/check_model_file tests/check_tiled tests/check_calibrate tests/check_context \
	tests/check_offsets tests/check_limits tests/check_portable tests/check_distributed \
	tests/check_objective tests/check_newton
check_PROGRAMS += $(CORE_TESTS)
TESTS += $(CORE_TESTS)
tests_check_api_SOURCES = tests/check_api.c
tests_check_api_CFLAGS = $(TEST_CFLAGS)
tests_check_api_LDADD = $(TEST_LIBS)
tests_check_reference_SOURCES = tests/check_reference.c
tests_check_reference_CFLAGS = $(TEST_CFLAGS)
tests_check_reference_LDADD = $(TEST_LIBS)
tests_check_device_SOURCES = tests/check_device.c
tests_check_device_CFLAGS = $(TEST_CFLAGS)
tests_check_device_LDADD = $(TEST_LIBS)
tests_check_ops_SOURCES = tests/check_ops.c tests/split_k.h
tests_check_ops_CFLAGS = $(TEST_CFLAGS)
tests_check_ops_LDADD = $(TEST_INTERNAL_LIBS)
tests_check_train_SOURCES = tests/check_train.c tests/split_k.h
tests_check_train_CFLAGS = $(TEST_CFLAGS)
tests_check_train_LDADD = $(TEST_INTERNAL_LIBS)
tests_check_solver_SOURCES = tests/check_solver.c
tests_check_solver_CFLAGS = $(TEST_CFLAGS)
tests_check_solver_LDADD = $(TEST_LIBS)
tests_check_sparse_SOURCES = tests/check_sparse.c
tests_check_sparse_CFLAGS = $(TEST_CFLAGS)
tests_check_sparse_LDADD = $(TEST_LIBS)
tests_check_args_SOURCES = tests/check_args.c
tests_check_args_CFLAGS = $(TEST_CFLAGS)
tests_check_args_LDADD = $(TEST_LIBS)
tests_check_calibrate_SOURCES = tests/check_calibrate.c
tests_check_calibrate_CFLAGS = $(TEST_CFLAGS) $(JANSSON_CFLAGS)
tests_check_calibrate_LDADD = $(TEST_LIBS) $(JANSSON_LIBS)
tests_check_distributed_SOURCES = tests/check_distributed.c
tests_check_distributed_CFLAGS = $(TEST_CFLAGS)
tests_check_distributed_LDADD = $(TEST_LIBS)
tests_check_context_SOURCES = tests/check_context.c
tests_check_context_CFLAGS = $(TEST_CFLAGS)
tests_check_context_LDADD = $(TEST_LIBS)
tests_check_offsets_SOURCES = tests/check_offsets.c
tests_check_offsets_CFLAGS = $(TEST_CFLAGS)
tests_check_offsets_LDADD = $(TEST_LIBS)
tests_check_limits_SOURCES = tests/check_limits.c
tests_check_limits_CFLAGS = $(TEST_CFLAGS)
tests_check_limits_LDADD = $(TEST_LIBS)
tests_check_portable_SOURCES = tests/check_portable.c
tests_check_portable_CFLAGS = $(TEST_CFLAGS)
tests_check_portable_LDADD = $(TEST_LIBS)
tests_check_tiled_SOURCES = tests/check_tiled.c
tests_check_tiled_CFLAGS = $(TEST_CFLAGS)
tests_check_tiled_LDADD = $(TEST_LIBS)
tests_check_newton_SOURCES = tests/check_newton.c
tests_check_newton_CFLAGS = $(TEST_CFLAGS)
tests_check_newton_LDADD = $(TEST_LIBS)
tests_check_objective_SOURCES = tests/check_objective.c
tests_check_objective_CFLAGS = $(TEST_CFLAGS)
tests_check_objective_LDADD = $(TEST_INTERNAL_LIBS)
tests_check_model_file_SOURCES = tests/check_model_file.c
tests_check_model_file_CFLAGS = $(TEST_CFLAGS) $(JANSSON_CFLAGS)
tests_check_model_file_LDADD = $(TEST_INTERNAL_LIBS) $(JANSSON_LIBS)

# Streaming (src/stream.c): streamed against resident results, and the
# device suites again under a small CLSOFTMAX_MAX_ALLOC (tests/stream_env.sh).
check_PROGRAMS += tests/check_stream
TESTS += tests/check_stream tests/stream_env.sh
EXTRA_DIST += tests/stream_env.sh
tests_check_stream_SOURCES = tests/check_stream.c
tests_check_stream_CFLAGS = $(TEST_CFLAGS)
tests_check_stream_LDADD = $(TEST_INTERNAL_LIBS)

# The shared library exports exactly the CSM_API functions of clsoftmax.h;
# a program links against the static one with pkg-config --static's flags.
TESTS += tests/abi.sh tests/static_link.sh
EXTRA_DIST += tests/abi.sh tests/static_link.sh

# The README's API example must compile and run.
check_PROGRAMS += examples/minimal
TESTS += tests/example.sh
EXTRA_DIST += tests/example.sh
examples_minimal_SOURCES = examples/minimal.c
examples_minimal_LDADD = src/libclsoftmax.la

clean-local: clean-pocl-cache
clean-pocl-cache:
	-rm -rf $(abs_top_builddir)/.pocl-cache $(abs_top_builddir)/.calibration
.PHONY: clean-pocl-cache

# scikit-learn's optimum on its bundled data sets (fixtures written by
# tests/data/sklearn/make-fixtures.py; make check needs no Python).
check_PROGRAMS += tests/check_l1
TESTS += tests/check_l1
tests_check_l1_SOURCES = tests/check_l1.c tests/fixture.c tests/fixture.h
tests_check_l1_CFLAGS = $(TEST_CFLAGS)
tests_check_l1_LDADD = src/io/libcsmio.la $(TEST_INTERNAL_LIBS) $(ZLIB_LIBS)
check_PROGRAMS += tests/check_sklearn
TESTS += tests/check_sklearn
tests_check_sklearn_SOURCES = tests/check_sklearn.c tests/fixture.c tests/fixture.h
tests_check_sklearn_CFLAGS = $(TEST_CFLAGS)
tests_check_sklearn_LDADD = src/io/libcsmio.la $(TEST_LIBS) $(ZLIB_LIBS)
EXTRA_DIST += \
	tests/data/sklearn/README \
	tests/data/sklearn/make-fixtures.py \
	tests/data/sklearn/make-l1-fixtures.py \
	tests/data/sklearn/l1-optima.txt \
	tests/data/sklearn/optima.txt \
	tests/data/sklearn/iris.csv \
	tests/data/sklearn/wine.csv \
	tests/data/sklearn/breast_cancer.csv \
	tests/data/sklearn/digits.csv \
	tests/data/sklearn/heart_scale.csv \
	tests/data/sklearn/breast_cancer.proba.csv \
	tests/data/sklearn/breast_cancer-C0.05.proba.csv \
	tests/data/sklearn/heart_scale.proba.csv \
	tests/data/sklearn/heart_scale-C0.05.proba.csv \
	tests/data/sklearn/heart_scale-nobias.proba.csv

# The command's SVG writer and charts (train --plot, eval --plot), no device.
check_PROGRAMS += tests/check_svg
TESTS += tests/check_svg
tests_check_svg_SOURCES = tests/check_svg.c src/cli/svg.c src/cli/plot.c
tests_check_svg_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/cli -I$(top_srcdir)/src/io
tests_check_svg_CFLAGS = $(TEST_CFLAGS)
tests_check_svg_LDADD = $(TEST_LIBS)

# The command's class matching and --class-weight by class name, no device.
# eval's classification report against scikit-learn's figures (fixtures
# written by tests/data/report/make-fixtures.py; make check needs no Python).
check_PROGRAMS += tests/check_report
TESTS += tests/check_report
tests_check_report_SOURCES = tests/check_report.c src/cli/report.c
tests_check_report_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/cli -I$(top_srcdir)/src/io
tests_check_report_CFLAGS = $(TEST_CFLAGS)
tests_check_report_LDADD = $(TEST_LIBS)
EXTRA_DIST += tests/data/report/make-fixtures.py tests/data/report/cases.txt

check_PROGRAMS += tests/check_cli_labels
TESTS += tests/check_cli_labels
tests_check_cli_labels_SOURCES = tests/check_cli_labels.c src/cli/labels.c \
	src/cli/class_weight.c src/cli/args.c
tests_check_cli_labels_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/cli -I$(top_srcdir)/src/io
tests_check_cli_labels_CFLAGS = $(TEST_CFLAGS) $(JANSSON_CFLAGS)
tests_check_cli_labels_LDADD = src/io/libcsmio.la $(TEST_LIBS) $(ZLIB_LIBS) $(JANSSON_LIBS)
