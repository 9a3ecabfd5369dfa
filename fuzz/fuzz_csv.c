/* libFuzzer harness: the CSV reader (src/io/read_csv.c) and what the
 * command does with its tables. The first byte picks the options (label
 * column, header rule, storage, delimiter or labels), the second the
 * weight column and blank-separated fields; the rest is the file, plain
 * or gzipped. */
#include "fuzz_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    csm_read_options opt;
    csm_read_options_init(&opt);
    opt.format = CSM_FORMAT_CSV;
    opt.max_line = 1024; /* the line cap within the reach of small inputs */
    opt.label_column = (int)(data[0] & 3) - 1; /* -1 (last), 0, 1, 2 */
    opt.header = (int)((data[0] >> 2) % 3) - 1; /* detect, no, yes */
    opt.storage = (csm_storage)((data[0] >> 4) % 3);
    switch (data[0] >> 6) { /* --delimiter ';', predict's label detection, --no-labels */
    case 1:
        opt.delimiter = ';';
        break;
    case 2:
        opt.no_labels = -1;
        opt.n_features = 2;
        break;
    case 3:
        opt.no_labels = 1;
        break;
    }
    opt.weight_column = (int)(data[1] & 3) - 1; /* none, 0, 1, 2 */
    if (data[1] & 4)
        opt.delimiter = CSM_DELIM_BLANKS;
    fuzz_read(fuzz_file(0, data + 2, size - 2), &opt);
    return 0;
}
