/* libFuzzer harness: the IDX (MNIST) reader (src/io/read_idx.c, and the
 * labels file through read_labels.c) and what the command does with its
 * tables. Input: a byte for the storage, two bytes (little-endian) for the
 * length of the images file, the images file, then the labels file; either
 * may be gzipped. */
#include "fuzz_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    csm_read_options opt;
    csm_read_options_init(&opt);
    opt.format = CSM_FORMAT_IDX;
    opt.storage = (csm_storage)(data[0] % 3);
    size_t len = (size_t)data[1] | (size_t)data[2] << 8;
    data += 3;
    size -= 3;
    if (len > size)
        len = size;
    opt.labels_path = fuzz_file(1, data + len, size - len);
    fuzz_read(fuzz_file(0, data, len), &opt);
    return 0;
}
