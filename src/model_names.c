/* The class names a model may carry (metadata "label_names", written by the
 * clsoftmax command and the Python package for string or fractional
 * classes): checked wherever they enter a model, set or loaded, so that a
 * name can never split a line of predictions (a newline in a name made 30
 * samples print 40 lines) nor two classes share a name (eval then scored
 * right answers as wrong). */
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "names_check.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int csm_check_label_names(const char *value, size_t C, char *why, size_t len)
{
    json_error_t jerr;
    json_t *a = json_loads(value, JSON_REJECT_DUPLICATES, &jerr);
    int bad = 1;
    const char **sorted = NULL;
    if (!json_is_array(a) || json_array_size(a) != C) {
        snprintf(why, len, "is not a JSON array of the model's %zu class names", C);
        goto done;
    }
    sorted = malloc(C * sizeof *sorted);
    if (!sorted) {
        snprintf(why, len, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < C; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (!s) {
            snprintf(why, len, "entry %zu is not a string", i + 1);
            goto done;
        }
        if (csm_has_control(s)) {
            snprintf(why, len,
                     "entry %zu holds a control character (a newline, a tab, ...): a class "
                     "name must be one printable line",
                     i + 1);
            goto done;
        }
        sorted[i] = s;
    }
    qsort(sorted, C, sizeof *sorted, cmp_str);
    for (size_t i = 1; i < C; i++)
        if (strcmp(sorted[i], sorted[i - 1]) == 0) {
            snprintf(why, len, "the name '%.64s' is given to two classes: names must be unique",
                     sorted[i]);
            goto done;
        }
    bad = 0;
done:
    free(sorted);
    json_decref(a);
    return bad ? -1 : 0;
}
