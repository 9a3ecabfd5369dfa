# The clsoftmax command (src/cli/) and its shell tests (tests/cli/).
bin_PROGRAMS += src/cli/clsoftmax
src_cli_clsoftmax_SOURCES = \
	src/cli/cli.h \
	src/cli/main.c \
	src/cli/args.c \
	src/cli/messages.c \
	src/cli/random.c \
	src/cli/data.c \
	src/cli/data_format.c \
	src/cli/feature_names.c \
	src/cli/model_data.c \
	src/cli/labels.c \
	src/cli/standardize.c \
	src/cli/progress.c \
	src/cli/history.c \
	src/cli/cmd_devices.c \
	src/cli/train.h \
	src/cli/cmd_train.c \
	src/cli/train_read.c \
	src/cli/train_options.c \
	src/cli/train_prepare.c \
	src/cli/train_fit.c \
	src/cli/train_save.c \
	src/cli/train_report.c \
	src/cli/cv.h \
	src/cli/cmd_cv.c \
	src/cli/cv_folds.c \
	src/cli/cv_fit.c \
	src/cli/cv_report.c \
	src/cli/class_weight.c \
	src/cli/cmd_predict.c \
	src/cli/cmd_eval.c \
	src/cli/report.c \
	src/cli/cmd_gradcheck.c \
	src/cli/cmd_calibrate.c \
	src/cli/cmd_show.c \
	src/cli/svg.h \
	src/cli/svg.c \
	src/cli/plot.h \
	src/cli/plot.c \
	src/cli/plot_history.c \
	src/cli/plot_confusion.c \
	src/cli/outputs.c \
	src/cli/signals.c
src_cli_clsoftmax_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/io
src_cli_clsoftmax_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
src_cli_clsoftmax_LDADD = src/io/libcsmio.la src/libclsoftmax.la $(ZLIB_LIBS) $(JANSSON_LIBS) -lm
# the outputs' checks and writing them whole, reading the calibration cache
# capped: the library's own code (src/replace_file.c, src/read_file.c), not
# exported by it
src_cli_clsoftmax_LDADD += src/libreplace.la
# MPI training (mpirun -np N clsoftmax train): only the command links MPI
src_cli_clsoftmax_SOURCES += src/cli/mpi.h src/cli/mpi_train.c
if HAVE_MPI
src_cli_clsoftmax_SOURCES += src/cli/mpi.c
src_cli_clsoftmax_CFLAGS += $(MPI_CFLAGS)
src_cli_clsoftmax_LDADD += $(MPI_LIBS)
else
src_cli_clsoftmax_SOURCES += src/cli/mpi_none.c
endif

dist_man_MANS += src/cli/clsoftmax.1

# Shell tests of the command (TAP, through the TAP driver of tests/tests.mk).
# Run by $(SHELL) so they need no execute bit.
SH_LOG_COMPILER = $(SHELL)
CLI_TESTS = \
	tests/cli/usage.sh \
	tests/cli/devices.sh \
	tests/cli/train.sh \
	tests/cli/options.sh \
	tests/cli/solver.sh \
	tests/cli/bad_input.sh \
	tests/cli/model_file.sh \
	tests/cli/gradcheck.sh \
	tests/cli/sparse.sh \
	tests/cli/calibrate.sh \
	tests/cli/program_cache.sh \
	tests/cli/determinism.sh \
	tests/cli/remember.sh \
	tests/cli/dialects.sh \
	tests/cli/plot.sh \
	tests/cli/stream.sh \
	tests/cli/safety.sh \
	tests/cli/mpi.sh \
	tests/cli/sklearn.sh \
	tests/cli/cv.sh
TESTS += $(CLI_TESTS)

# The independent model-file reader tests/cli/model_file.sh runs.
check_PROGRAMS += tests/st_check
tests_st_check_SOURCES = tests/st_check.c
tests_st_check_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/io
tests_st_check_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_st_check_LDADD = src/io/libcsmio.la $(JANSSON_LIBS) $(ZLIB_LIBS) -lm
EXTRA_DIST += $(CLI_TESTS) tests/cli/lib.sh

# The committed corpus of the shell tests (written by make-fixtures.py).
EXTRA_DIST += \
	tests/data/cli/make-fixtures.py \
	tests/data/cli/pm1.csv \
	tests/data/cli/pm1.csv.gz \
	tests/data/cli/pm1.svm \
	tests/data/cli/three.csv \
	tests/data/cli/three.svm \
	tests/data/cli/three.svm.gz \
	tests/data/cli/three-subset.svm \
	tests/data/cli/imbalanced.csv \
	tests/data/cli/sparse.svm \
	tests/data/cli/sparse-test.svm \
	tests/data/cli/sparse-test-extra.svm \
	tests/data/cli/sparse-scaled.svm \
	tests/data/cli/tiny-images-idx3-ubyte.gz \
	tests/data/cli/tiny-labels-idx1-ubyte.gz \
	tests/data/cli/plain-images-idx3-ubyte \
	tests/data/cli/plain-labels-idx1-ubyte \
	tests/data/cli/empty.csv \
	tests/data/cli/ragged.csv \
	tests/data/cli/nonnumeric.csv \
	tests/data/cli/nan.csv \
	tests/data/cli/inf.csv \
	tests/data/cli/unknown-label.csv \
	tests/data/cli/three-features.csv \
	tests/data/cli/single-class.csv \
	tests/data/cli/index0.svm \
	tests/data/cli/decreasing.svm \
	tests/data/cli/big-index.svm \
	tests/data/cli/badmagic-images-idx3-ubyte \
	tests/data/cli/truncated-images-idx3-ubyte \
	tests/data/cli/overflow-images-idx3-ubyte \
	tests/data/cli/corrupt.csv.gz
