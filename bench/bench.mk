# The benchmark (see BENCHMARKS.md). Built by `make bench` only: it is an
# EXTRA_PROGRAM, so neither `make` nor `make check` builds it.
EXTRA_PROGRAMS += bench/clsoftmax-bench
bench_clsoftmax_bench_SOURCES = bench/bench.c bench/bench_data.c bench/bench_data.h \
	bench/bench_peak.c bench/bench_peak.h
bench_clsoftmax_bench_CFLAGS = $(AM_CFLAGS) $(OPENCL_CFLAGS) $(ZLIB_CFLAGS)
# -static: link the library's static archive, so the internal block
# operations (src/ops.h) the phase timing calls are always reachable, and the
# binary runs from the build tree without a libtool wrapper (it re-executes
# itself through /proc/self/exe to measure start-up).
bench_clsoftmax_bench_LDFLAGS = -static
bench_clsoftmax_bench_LDADD = src/libclsoftmax.la $(CLBLAST_LIBS) $(OPENCL_LIBS) $(ZLIB_LIBS) -lm
CLEANFILES += bench/clsoftmax-bench$(EXEEXT)
EXTRA_DIST += bench/compare.py bench/time_to_accuracy.py bench/epoch_load.py bench/optimum.py bench/tabular.py bench/sparse.py bench/make_sparse.py bench/l1.py \
	bench/mpi.sh

.PHONY: bench
bench: bench/clsoftmax-bench$(EXEEXT)

# Streaming overhead and overlap (BENCHMARKS.md, "Streaming"); reaches the
# internal chunk loop, hence static like the benchmark above.
EXTRA_PROGRAMS += bench/clsoftmax-stream-bench
bench_clsoftmax_stream_bench_SOURCES = bench/bench_stream.c bench/bench_data.c bench/bench_data.h
bench_clsoftmax_stream_bench_CFLAGS = $(AM_CFLAGS) $(OPENCL_CFLAGS) $(ZLIB_CFLAGS)
bench_clsoftmax_stream_bench_LDFLAGS = -static
bench_clsoftmax_stream_bench_LDADD = src/libclsoftmax.la $(CLBLAST_LIBS) $(OPENCL_LIBS) $(ZLIB_LIBS) -lm
CLEANFILES += bench/clsoftmax-stream-bench$(EXEEXT)
bench: bench/clsoftmax-stream-bench$(EXEEXT)

# Reading CSV (BENCHMARKS.md, "Reading CSV"): the readers alone, no device.
# bench/bench_libcsv.c is the comparison with Debian's libcsv, built by hand
# (libcsv is no dependency; the command is in the file and in BENCHMARKS.md).
EXTRA_PROGRAMS += bench/clsoftmax-csv-bench
bench_clsoftmax_csv_bench_SOURCES = bench/bench_csv.c bench/bench_clock.h
bench_clsoftmax_csv_bench_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/io
bench_clsoftmax_csv_bench_LDADD = src/io/libcsmio.la src/libclsoftmax.la $(ZLIB_LIBS) -lm
CLEANFILES += bench/clsoftmax-csv-bench$(EXEEXT)
EXTRA_DIST += bench/bench_libcsv.c bench/make_csv.sh
bench: bench/clsoftmax-csv-bench$(EXEEXT)
