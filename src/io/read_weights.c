/* A file of sample weights, one per line, in the order of the data's
 * samples: liblinear's `train -W FILE`. Each weight is a finite number
 * >= 0; blank lines may only end the file; the count must be the data's. */
#include "read_internal.h"

#include <stdlib.h>
#include <string.h>

static int blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t')
            return 0;
    return 1;
}

int csm_read_weights(const char *path, size_t n, double **out, char *err, size_t err_len)
{
    csm_stream s;
    char *line, q[64];
    size_t len, got = 0, blank_at = 0;
    int rc;
    *out = NULL;
    double *w = malloc((n > 0 ? n : 1) * sizeof *w);
    if (!w)
        return csm_fail_file(err, err_len, csm_display_name(path), "out of memory for %zu weights",
                             n);
    if (csm_stream_open(&s, path, NULL, err, err_len) < 0) {
        free(w);
        return -1;
    }
    while ((rc = csm_stream_line(&s, &line, &len)) > 0) {
        /* the number alone, blanks around it allowed */
        while (len > 0 && (*line == ' ' || *line == '\t'))
            line++, len--;
        while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
            line[--len] = '\0';
        if (blank(line, len)) {
            if (!blank_at)
                blank_at = s.line;
            continue;
        }
        if (blank_at) {
            s.line = blank_at;
            rc = csm_fail_line(&s, "blank line among the weights");
            break;
        }
        if (got == n) {
            rc = csm_fail_line(&s, "more weights than the data's %zu samples", n);
            break;
        }
        int num = csm_parse_double(line, len, &w[got]);
        if (num != CSM_NUM_OK || w[got] < 0) {
            rc = csm_fail_line(&s, "%s %s: a weight is a finite number >= 0",
                               num != CSM_NUM_OK ? csm_num_reason(num) : "negative",
                               csm_quote(q, sizeof q, line, len));
            break;
        }
        got++;
    }
    if (rc == 0 && got < n)
        rc = csm_fail_file(err, err_len, s.path, "%zu weights for the data's %zu samples", got,
                           n);
    csm_stream_close(&s);
    if (rc < 0) {
        free(w);
        return -1;
    }
    *out = w;
    return 0;
}
