/* eval --plot FILE.svg: the confusion matrix as a heatmap. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"

/* The class names: the model's "label_names" (string labels, a JSON array
 * of C strings) when it has a valid one, else its label values. One
 * malloc'd block: the pointers, then the texts. NULL when memory is short. */
static char **class_names(const csm_model *m, size_t C)
{
    const int64_t *values = csm_model_labels(m);
    const char *meta = csm_model_get_metadata(m, "label_names");
    json_t *names = meta ? json_loads(meta, 0, NULL) : NULL;
    if (names && (!json_is_array(names) || json_array_size(names) != C)) {
        json_decref(names);
        names = NULL;
    }
    for (size_t c = 0; names && c < C; c++)
        if (!json_is_string(json_array_get(names, c))) {
            json_decref(names);
            names = NULL;
        }
    size_t bytes = C * sizeof(char *);
    for (size_t c = 0; c < C; c++)
        bytes += names ? strlen(json_string_value(json_array_get(names, c))) + 1 : 24;
    char **out = malloc(bytes);
    if (out) {
        char *p = (char *)(out + C);
        for (size_t c = 0; c < C; c++) {
            out[c] = p;
            if (names) {
                const char *s = json_string_value(json_array_get(names, c));
                memcpy(p, s, strlen(s) + 1);
                p += strlen(s) + 1;
            } else {
                p += snprintf(p, 24, "%lld", (long long)values[c]) + 1;
            }
        }
    }
    json_decref(names);
    return out;
}

int plot_confusion_write(const char *path, const csm_model *model,
                         const unsigned long long *conf, size_t C, const char *title,
                         const char *subtitle)
{
    char **names = class_names(model, C);
    if (!names) {
        cli_error("%s: out of memory for the picture", path);
        return CLI_FAIL;
    }
    plot_heatmap h = {conf, C > PLOT_MAX_CLASSES ? PLOT_MAX_CLASSES : C, C,
                      (const char *const *)names};
    char capped[160] = "";
    if (C > PLOT_MAX_CLASSES) {
        snprintf(capped, sizeof capped,
                 "the first %d of %zu classes (at most %d are drawn)", PLOT_MAX_CLASSES, C,
                 PLOT_MAX_CLASSES);
        fprintf(stderr, "WARNING: %s: the heatmap shows %s\n", path, capped);
    }
    double w, ht, head = capped[0] ? 70 : 54;
    plot_heatmap_size(&h, &w, &ht);
    w += 16; /* drawn 8 from the left edge, 8 spare on the right */
    double title_w = svg_text_width(title, 15) + 32;
    if (w < title_w)
        w = title_w < 1200 ? title_w : 1200;
    if (w < 400)
        w = 400;

    svg_doc d = {0};
    svg_begin(&d, w, head + ht + 8, title, plot_style);
    svg_raw(&d, "<desc>");
    svg_escaped(&d, "Confusion matrix, rows: true class, columns: predicted class. Each cell "
                    "is a <rect class=\"cell\"> with data-true and data-predicted (class indices "
                    "from 0, in the order of the labels) and data-count.");
    svg_raw(&d, "</desc>\n");
    plot_heading(&d, w, title, subtitle);
    if (capped[0])
        svg_text(&d, 16, 60, 11.5, SVG_START, 0, "note", capped);
    plot_heatmap_draw(&d, &h, 8, head);
    int rc;
    if (svg_end(&d)) {
        cli_error("%s: out of memory for the picture", path);
        rc = CLI_FAIL;
    } else {
        rc = cli_replace_file(path, d.buf, d.len);
    }
    svg_free(&d);
    free(names);
    return rc;
}
