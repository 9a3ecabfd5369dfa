# Data-file readers (CSV, libsvm, IDX; gzip through zlib): host-only C linked
# into the command-line tool, not into the public library.
noinst_LTLIBRARIES += src/io/libcsmio.la
src_io_libcsmio_la_SOURCES = \
	src/io/dataio.h \
	src/io/read_internal.h \
	src/io/read_stream.c \
	src/io/read_number.c \
	src/io/read_common.c \
	src/io/table.c \
	src/io/read_labels.c \
	src/io/read_weights.c \
	src/io/label_names.c \
	src/io/detect.c \
	src/io/csv_internal.h \
	src/io/csv_record.c \
	src/io/csv_header.c \
	src/io/read_csv.c \
	src/io/read_libsvm.c \
	src/io/read_idx.c
src_io_libcsmio_la_CFLAGS = $(AM_CFLAGS) $(ZLIB_CFLAGS)
src_io_libcsmio_la_LIBADD = $(ZLIB_LIBS)

# Reader tests: good files give exact values, bad files exact messages.
check_PROGRAMS += tests/check_io
TESTS += tests/check_io
tests_check_io_SOURCES = tests/check_io.c
# Format by content, string labels, --delimiter, data without labels.
check_PROGRAMS += tests/check_io_detect
TESTS += tests/check_io_detect
tests_check_io_detect_SOURCES = tests/check_io_detect.c
tests_check_io_detect_CFLAGS = $(TEST_CFLAGS) $(ZLIB_CFLAGS)
tests_check_io_detect_LDADD = src/io/libcsmio.la $(TEST_LIBS) $(ZLIB_LIBS)

# CSV as pandas, R and NumPy write it; RFC 4180 quoting; the header rule.
check_PROGRAMS += tests/check_csv
TESTS += tests/check_csv
tests_check_csv_SOURCES = tests/check_csv.c
tests_check_csv_CFLAGS = $(TEST_CFLAGS)
tests_check_csv_LDADD = src/io/libcsmio.la $(TEST_LIBS) $(ZLIB_LIBS)

# zlib directly too: the test writes gzip files larger than a read chunk.
tests_check_io_CFLAGS = $(TEST_CFLAGS) $(ZLIB_CFLAGS)
tests_check_io_LDADD = src/io/libcsmio.la $(TEST_LIBS) $(ZLIB_LIBS)

# The reader test corpus, made once by make-fixtures.py (listed one by one:
# Automake has no wildcards).
EXTRA_DIST += \
	tests/data/io/badindex.svm \
	tests/data/io/badlabel.svm \
	tests/data/io/badmagic-images-idx3-ubyte \
	tests/data/io/badpair.svm \
	tests/data/io/badtype-images-idx3-ubyte \
	tests/data/io/blank_middle.csv \
	tests/data/io/corrupt-images-idx3-ubyte.gz \
	tests/data/io/corrupt.csv.gz \
	tests/data/io/decreasing.svm \
	tests/data/io/duplicate.svm \
	tests/data/io/empty-images-idx3-ubyte \
	tests/data/io/empty.csv \
	tests/data/io/empty.svm \
	tests/data/io/empty_field.csv \
	tests/data/io/emptyvalue.svm \
	tests/data/io/f32-images-idx3-ubyte \
	tests/data/io/f32-labels-idx1-ubyte \
	tests/data/io/f64-images-idx3-ubyte \
	tests/data/io/f64-labels-idx1-ubyte \
	tests/data/io/floatlab-images-idx3-ubyte \
	tests/data/io/floatlab-labels-idx1-ubyte \
	tests/data/io/good.csv \
	tests/data/io/good.csv.gz \
	tests/data/io/good.svm \
	tests/data/io/good.svm.gz \
	tests/data/io/good_header_semicolon.csv \
	tests/data/io/good_label_middle.csv \
	tests/data/io/good_tab.tsv \
	tests/data/io/header_mismatch.csv \
	tests/data/io/header_only.csv \
	tests/data/io/hex.csv \
	tests/data/io/huge-images-idx3-ubyte \
	tests/data/io/hugeindex.svm \
	tests/data/io/i16-images-idx3-ubyte \
	tests/data/io/i16-labels-idx1-ubyte \
	tests/data/io/index0.svm \
	tests/data/io/inf.csv \
	tests/data/io/label_fraction.csv \
	tests/data/io/label_integral_float.csv \
	tests/data/io/label_text.csv \
	tests/data/io/labels2d-images-idx3-ubyte \
	tests/data/io/labels2d-labels-idx1-ubyte \
	tests/data/io/make-fixtures.py \
	tests/data/io/mismatch-images-idx3-ubyte \
	tests/data/io/mismatch-labels-idx1-ubyte \
	tests/data/io/mixed_delim.csv \
	tests/data/io/mixgz-images-idx3-ubyte.gz \
	tests/data/io/mixgz-labels-idx1-ubyte \
	tests/data/io/nan-images-idx3-ubyte \
	tests/data/io/nan-labels-idx1-ubyte \
	tests/data/io/nan.csv \
	tests/data/io/nan.svm \
	tests/data/io/nofeatures.svm \
	tests/data/io/nolabel.svm \
	tests/data/io/nolabels-images-idx3-ubyte \
	tests/data/io/nonnumeric.csv \
	tests/data/io/nosamples-images-idx3-ubyte \
	tests/data/io/one_column.csv \
	tests/data/io/overflow-images-idx3-ubyte \
	tests/data/io/overflow.csv \
	tests/data/io/ragged.csv \
	tests/data/io/ragged_more.csv \
	tests/data/io/shortheader-images-idx3-ubyte \
	tests/data/io/shortlabels-images-idx3-ubyte \
	tests/data/io/shortlabels-labels-idx1-ubyte \
	tests/data/io/sparse.svm \
	tests/data/io/tiny-images-idx3-ubyte \
	tests/data/io/tiny-labels-idx1-ubyte \
	tests/data/io/tinygz-images-idx3-ubyte.gz \
	tests/data/io/tinygz-labels-idx1-ubyte.gz \
	tests/data/io/trailing-images-idx3-ubyte \
	tests/data/io/truncated-images-idx3-ubyte \
	tests/data/io/truncated.csv.gz \
	tests/data/io/wide.svm \
	tests/data/io/zerodims-images-idx3-ubyte \
	tests/data/io/zerosize-images-idx3-ubyte
