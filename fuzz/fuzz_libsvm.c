/* libFuzzer harness: the libsvm / svmlight reader (src/io/read_libsvm.c)
 * and what the command does with its tables. The first byte picks the
 * options (storage; a feature count given or not, with unseen features
 * skipped or refused; labels, none, or detected); the rest is the file, plain or gzipped. */
#include "fuzz_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    csm_read_options opt;
    csm_read_options_init(&opt);
    opt.format = CSM_FORMAT_LIBSVM;
    opt.max_line = 1024; /* the line cap within the reach of small inputs */
    opt.storage = (csm_storage)(data[0] % 3);
    opt.n_features = (data[0] >> 2) & 7; /* 0: the largest index seen */
    opt.skip_extra_features = (data[0] >> 5) & 1;
    opt.no_labels = (int)(data[0] >> 6) % 3 - 1; /* detect, labels, none */
    fuzz_read(fuzz_file(0, data + 1, size - 1), &opt);
    return 0;
}
