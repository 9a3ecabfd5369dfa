/* train --plot FILE.svg: the loss and the accuracy per iteration (L-BFGS)
 * or epoch, training and validation, in two panels over the same x axis.
 * The series are named as the --history columns and the Python package's
 * history arrays: loss, accuracy, val_loss, val_accuracy. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"

#define WIDTH 760.0
#define PANEL_H 320.0
#define GAP 16.0 /* between the panels */
#define HEAD 54.0 /* title and subtitle */

int plot_history_open(plot_history *h, const char *path)
{
    memset(h, 0, sizeof *h);
    h->path = path; /* checked before any work (cli_io_check) */
    return 0;
}

int plot_history_add(plot_history *h, const csm_epoch_info *info, int has_val, double val_loss,
                     double val_acc)
{
    if (!h->path)
        return 0;
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 64;
        double **arr[] = {&h->x, &h->loss, &h->accuracy, &h->val_loss, &h->val_accuracy};
        for (size_t i = 0; i < sizeof arr / sizeof *arr; i++) {
            double *p = realloc(*arr[i], cap * sizeof *p);
            if (!p) {
                cli_error("%s: out of memory for the training history", h->path);
                return CLI_FAIL;
            }
            *arr[i] = p;
        }
        h->cap = cap;
    }
    h->x[h->n] = info->epoch;
    h->loss[h->n] = info->loss;
    h->accuracy[h->n] = info->accuracy;
    h->val_loss[h->n] = has_val ? val_loss : NAN;
    h->val_accuracy[h->n] = has_val ? val_acc : NAN;
    h->has_val |= has_val;
    h->n++;
    return 0;
}

void plot_history_free(plot_history *h)
{
    free(h->x);
    free(h->loss);
    free(h->accuracy);
    free(h->val_loss);
    free(h->val_accuracy);
    memset(h, 0, sizeof *h);
}

int plot_history_write(const plot_history *h, const char *title, const char *subtitle,
                       const char *unit, int best_epoch)
{
    if (!h->path)
        return 0;
    size_t nv = h->has_val ? h->n : 0;
    plot_series loss[2] = {
        {"loss", "training (J, with the L2 term)", "train", h->x, h->loss, h->n},
        {"val_loss", "validation", "val", h->x, h->val_loss, nv}};
    plot_series acc[2] = {{"accuracy", "training", "train", h->x, h->accuracy, h->n},
                          {"val_accuracy", "validation", "val", h->x, h->val_accuracy, nv}};
    char mark[64];
    snprintf(mark, sizeof mark, "kept: %s %d", unit, best_epoch);
    plot_panel p = {.x = 0, .y = HEAD, .w = WIDTH, .h = PANEL_H, .x_title = unit,
                    .y_title = "loss", .x_integer = 1, .y_floor = 0, .y_ceil = NAN,
                    .legend_bottom = 0, .mark_x = best_epoch > 0 ? best_epoch : NAN,
                    .mark_label = mark};

    svg_doc d = {0};
    svg_begin(&d, WIDTH, HEAD + 2 * PANEL_H + GAP + 8, title, plot_style);
    svg_raw(&d, "<desc>");
    svg_escaped(&d, "Training history. Each series is a <g class=\"series\"> with its name in "
                    "data-series (loss, accuracy, val_loss, val_accuracy), the x values in "
                    "data-x and the y values in data-y: numbers separated by spaces, nan where "
                    "there is no value.");
    svg_raw(&d, "</desc>\n");
    plot_heading(&d, WIDTH, title, subtitle);
    plot_lines(&d, &p, loss, 2);
    p.y += PANEL_H + GAP;
    p.y_title = "accuracy";
    p.y_ceil = 1;
    p.legend_bottom = 1;
    plot_lines(&d, &p, acc, 2);
    int rc;
    if (svg_end(&d)) {
        cli_error("%s: out of memory for the picture", h->path);
        rc = CLI_FAIL;
    } else {
        rc = cli_replace_file(h->path, d.buf, d.len);
    }
    svg_free(&d);
    return rc;
}
