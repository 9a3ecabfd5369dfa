# libFuzzer harnesses for the parsers: CSV, libsvm, IDX (src/io/) and the
# model file (src/model_file.c). Built by `make fuzz` with the clang that
# configure found (FUZZ_CC), never by `make` or `make check`; no OpenCL
# device is used. `make fuzz-run` runs each for FUZZ_SECONDS (default 30)
# from its seed corpus (fuzz/corpus/NAME, copied: new inputs go to the
# build tree's fuzz/corpus-NAME) with its dictionary (fuzz/NAME.dict).
fuzz_cflags = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
FUZZ_SECONDS = 30
fuzz_names = csv libsvm idx model
fuzz_harnesses = fuzz/fuzz_csv$(EXEEXT) fuzz/fuzz_libsvm$(EXEEXT) fuzz/fuzz_idx$(EXEEXT) \
	fuzz/fuzz_model$(EXEEXT)

fuzz_cppflags = -I$(top_builddir) -I$(top_srcdir)/include -I$(top_builddir)/include \
	-I$(top_srcdir)/src -I$(top_srcdir)/src/io -I$(top_srcdir)/kernels \
	-DCLSOFTMAX_KERNEL_DIR_DEFAULT='"$(pkgdatadir)/kernels"' \
	-DCLSOFTMAX_KERNEL_DIR_SOURCE='"$(abs_top_srcdir)/kernels"'
# The .c files of a source list, with the source tree's prefix (shell, so
# that the list stays the one of the library it builds).
fuzz_c_files = for f in $$list; do case $$f in *.c) printf '%s ' "$(top_srcdir)/$$f";; esac; done

# The readers: src/io's sources compiled into each harness.
fuzz_io_deps = $(src_io_libcsmio_la_SOURCES) fuzz/fuzz_table.h
fuzz_io_link = list='$(src_io_libcsmio_la_SOURCES)'; \
	$(FUZZ_CC) $(fuzz_cflags) $(fuzz_cppflags) $(ZLIB_CFLAGS) -o $@ \
	  $(top_srcdir)/fuzz/$${name}.c `$(fuzz_c_files)` $(ZLIB_LIBS)
fuzz/fuzz_csv$(EXEEXT): fuzz/fuzz_csv.c $(fuzz_io_deps)
	@$(MKDIR_P) fuzz
	$(AM_V_CCLD)name=fuzz_csv; $(fuzz_io_link)
fuzz/fuzz_libsvm$(EXEEXT): fuzz/fuzz_libsvm.c $(fuzz_io_deps)
	@$(MKDIR_P) fuzz
	$(AM_V_CCLD)name=fuzz_libsvm; $(fuzz_io_link)
fuzz/fuzz_idx$(EXEEXT): fuzz/fuzz_idx.c $(fuzz_io_deps)
	@$(MKDIR_P) fuzz
	$(AM_V_CCLD)name=fuzz_idx; $(fuzz_io_link)

# The model parser shares status, solver names and the model with the rest
# of the library, so the harness is linked with all of it, src/libreplace.la
# included (built here again with the sanitizers); only
# csm_model_file_check() runs, on no device.
fuzz/fuzz_model$(EXEEXT): fuzz/fuzz_model.c $(src_libclsoftmax_core_la_SOURCES) \
	  $(src_libreplace_la_SOURCES)
	@$(MKDIR_P) fuzz
	$(AM_V_CCLD)list='$(src_libclsoftmax_core_la_SOURCES) $(src_libreplace_la_SOURCES)'; \
	$(FUZZ_CC) $(fuzz_cflags) $(fuzz_cppflags) $(OPENCL_CFLAGS) $(CLBLAST_CFLAGS) \
	  $(JANSSON_CFLAGS) -o $@ $(top_srcdir)/fuzz/fuzz_model.c `$(fuzz_c_files)` \
	  $(CLBLAST_LIBS) $(OPENCL_LIBS) $(JANSSON_LIBS) -lm

if HAVE_FUZZ
fuzz: $(fuzz_harnesses)
	@echo "fuzz harnesses built: $(fuzz_harnesses) (run them with 'make fuzz-run')"

fuzz-run: $(fuzz_harnesses)
	@for n in $(fuzz_names); do \
	  mkdir -p fuzz/corpus-$$n fuzz/artifacts-$$n && \
	  cp $(top_srcdir)/fuzz/corpus/$$n/* fuzz/corpus-$$n/ && chmod u+w fuzz/corpus-$$n/* && \
	  echo "fuzz_$$n: $(FUZZ_SECONDS) s, corpus fuzz/corpus-$$n, crashes in fuzz/artifacts-$$n/" && \
	  ./fuzz/fuzz_$$n$(EXEEXT) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -dict=$(top_srcdir)/fuzz/$$n.dict -artifact_prefix=fuzz/artifacts-$$n/ \
	    fuzz/corpus-$$n >fuzz/fuzz_$$n.log 2>&1; \
	  rc=$$?; \
	  grep -E 'stat::number_of_executed_units|stat::average_exec_per_sec|ERROR|SUMMARY' \
	    fuzz/fuzz_$$n.log; \
	  test $$rc -eq 0 || { echo "fuzz_$$n found a problem: fuzz/fuzz_$$n.log"; exit 1; }; \
	done
else
fuzz fuzz-run:
	@echo "make fuzz: not available: $(FUZZ_MISSING)" >&2; exit 1
endif
.PHONY: fuzz fuzz-run

clean-local: clean-fuzz
clean-fuzz:
	-rm -rf fuzz/corpus-csv fuzz/corpus-libsvm fuzz/corpus-idx fuzz/corpus-model \
		fuzz/artifacts-csv fuzz/artifacts-libsvm fuzz/artifacts-idx fuzz/artifacts-model \
		fuzz/*.log $(fuzz_harnesses)
.PHONY: clean-fuzz

EXTRA_DIST += fuzz/fuzz.mk fuzz/fuzz_table.h fuzz/fuzz_csv.c fuzz/fuzz_libsvm.c \
	fuzz/fuzz_idx.c fuzz/fuzz_model.c fuzz/make-seeds.py \
	fuzz/csv.dict fuzz/libsvm.dict fuzz/idx.dict fuzz/model.dict \
	fuzz/corpus/csv/crlf-header \
	fuzz/corpus/csv/pandas-quoted \
	fuzz/corpus/csv/r-table \
	fuzz/corpus/csv/savetxt-weights \
	fuzz/corpus/csv/good \
	fuzz/corpus/csv/good-gz-sparse \
	fuzz/corpus/csv/header-semicolon \
	fuzz/corpus/csv/label-middle \
	fuzz/corpus/csv/tab-label-first \
	fuzz/corpus/csv/multi-member-gz \
	fuzz/corpus/csv/over-long-line \
	fuzz/corpus/csv/over-long-record \
	fuzz/corpus/idx/f32 \
	fuzz/corpus/idx/f64 \
	fuzz/corpus/idx/i16 \
	fuzz/corpus/idx/tiny-gz-sparse \
	fuzz/corpus/idx/tiny-u8 \
	fuzz/corpus/idx/multi-member-gz \
	fuzz/corpus/libsvm/fixed-k \
	fuzz/corpus/libsvm/good \
	fuzz/corpus/libsvm/good-gz-dense \
	fuzz/corpus/libsvm/sparse \
	fuzz/corpus/libsvm/wide-skip \
	fuzz/corpus/libsvm/multi-member-gz \
	fuzz/corpus/libsvm/over-long-line \
	fuzz/corpus/model/adam-state \
	fuzz/corpus/model/f32 \
	fuzz/corpus/model/f64 \
	fuzz/corpus/model/lbfgs-count \
	fuzz/corpus/model/momentum-state \
	fuzz/corpus/model/plain-pytorch-style \
	fuzz/corpus/model/lbfgs-history \
	fuzz/corpus/model/label-names
