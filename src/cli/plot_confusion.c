/* eval --plot FILE.svg: the confusion matrix as a heatmap. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"

/* The class names, one malloc'd block: the pointers, then the texts (an
 * integer label's written out). NULL when memory is short. */
static char **class_names(const cli_classes *cls)
{
    size_t C = cls->C, bytes = C * sizeof(char *);
    char num[32];
    for (size_t c = 0; c < C; c++)
        bytes += strlen(cli_class_name(cls, c, num, sizeof num)) + 1;
    char **out = malloc(bytes);
    if (!out)
        return NULL;
    char *p = (char *)(out + C);
    for (size_t c = 0; c < C; c++) {
        const char *s = cli_class_name(cls, c, num, sizeof num);
        size_t len = strlen(s) + 1;
        out[c] = p;
        memcpy(p, s, len);
        p += len;
    }
    return out;
}

int plot_confusion_write(const char *path, const cli_classes *cls,
                         const unsigned long long *conf, const char *title,
                         const char *subtitle)
{
    size_t C = cls->C;
    char **names = class_names(cls);
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
        cli_warning("%s: the heatmap shows %s", path, capped);
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
