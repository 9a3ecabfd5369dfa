/* The entry point of the readers: options, format names, dispatch to the
 * per-format reader (the format detected by detect.c), and the table
 * accessors. */
#include "read_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void csm_read_options_init(csm_read_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->format = CSM_FORMAT_AUTO;
    opt->label_column = 0;
    opt->header = -1;
    opt->labels_path = NULL;
    opt->n_features = 0;
    opt->storage = CSM_STORAGE_AUTO;
    opt->skip_extra_features = 0;
    opt->weight_column = -1;
}

const char *csm_format_name(csm_format format)
{
    switch (format) {
    case CSM_FORMAT_AUTO:
        return "auto";
    case CSM_FORMAT_CSV:
        return "csv";
    case CSM_FORMAT_LIBSVM:
        return "libsvm";
    case CSM_FORMAT_IDX:
        return "idx";
    }
    return "unknown";
}

int csm_parse_format(const char *name, csm_format *out)
{
    static const struct {
        const char *name;
        csm_format format;
    } names[] = {{"auto", CSM_FORMAT_AUTO},     {"csv", CSM_FORMAT_CSV},
                 {"libsvm", CSM_FORMAT_LIBSVM}, {"svmlight", CSM_FORMAT_LIBSVM},
                 {"svm", CSM_FORMAT_LIBSVM},    {"idx", CSM_FORMAT_IDX}};
    if (!name)
        return -1;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(name, names[i].name) == 0) {
            *out = names[i].format;
            return 0;
        }
    }
    return -1;
}

/* The storage asked for: libsvm arrives as CSR and stays so under AUTO only
 * when sparse enough; CSV and IDX arrive dense and are compressed only on
 * request (they were dense in the file, so nothing is saved while reading). */
static int settle_storage(const char *path, const csm_read_options *opt, csm_table *t,
                          char *err, size_t err_len)
{
    csm_storage want = opt->storage;
    if (!t->sparse)
        t->nnz = csm_count_nonzeros(t->features, t->dtype, t->n * t->k);
    if (want == CSM_STORAGE_AUTO && t->sparse && !csm_auto_sparse(t->n, t->k, t->nnz))
        want = CSM_STORAGE_DENSE;
    if (csm_table_convert(t, want, path, err, err_len) != 0) {
        csm_table_free(t);
        return -1;
    }
    return 0;
}

/* A read that failed in a format the reader guessed says so: the guess
 * is the likelier culprit than the file. */
static void append_guess(char *err, size_t err_len, csm_format format, const char *why)
{
    size_t used = err ? strlen(err) : 0;
    if (!err || used + 1 >= err_len)
        return;
    snprintf(err + used, err_len - used,
             " (read as %s, guessed from %s; if that is wrong, pass --format "
             "csv|libsvm|idx)",
             csm_format_name(format), why);
}

int csm_read_table(const char *path, const csm_read_options *opt, csm_table *out, char *err,
                   size_t err_len)
{
    csm_read_options defaults;
    if (err && err_len)
        err[0] = '\0';
    if (out)
        memset(out, 0, sizeof *out);
    if (!path || !out)
        return csm_fail_file(err, err_len, path ? path : "(null)", "no file or no output table");
    if (!opt) {
        csm_read_options_init(&defaults);
        opt = &defaults;
    }
    /* Opened once, whatever the format: a named pipe or standard input
     * cannot be opened again, so the guess peeks at the stream the reader
     * then reads from the start. */
    csm_stream s;
    if (csm_stream_open(&s, path, opt, err, err_len) < 0)
        return -1;
    csm_format format = opt->format;
    const char *why = NULL;
    if (format == CSM_FORMAT_AUTO && (format = csm_detect_format(path)) != CSM_FORMAT_AUTO) {
        why = "the file name";
    } else if (format == CSM_FORMAT_AUTO) {
        why = "the content";
        if (csm_stream_guess_format(&s, &format) != 0) {
            csm_stream_close(&s);
            return -1;
        }
    }
    int rc = -1;
    switch (format) {
    case CSM_FORMAT_CSV:
        rc = csm_read_csv(&s, opt, out);
        break;
    case CSM_FORMAT_LIBSVM:
        rc = csm_read_libsvm(&s, opt, out);
        break;
    case CSM_FORMAT_IDX:
        rc = csm_read_idx(&s, opt, out);
        break;
    case CSM_FORMAT_AUTO:
        break;
    }
    csm_stream_close(&s);
    if (rc != 0) {
        if (why)
            append_guess(err, err_len, format, why);
        return rc;
    }
    out->format = format;
    return settle_storage(csm_display_name(path), opt, out, err, err_len);
}
