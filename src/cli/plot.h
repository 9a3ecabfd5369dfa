/* The command's pictures: a line chart panel and a heatmap drawn with the
 * SVG writer (plot.c), and what train --plot and eval --plot put in them
 * (plot_history.c, plot_confusion.c).
 *
 * The numbers drawn are in the document too, so that a test or a user can
 * read them back exactly: each line series is a
 *   <g class="series" data-series="NAME" data-x="1 2 ..." data-y="...">
 * holding its <polyline> pieces (a non-finite value ends a piece and is not
 * drawn), and each heatmap cell a
 *   <rect class="cell" data-true="I" data-predicted="J" data-count="N">
 * Numbers are %.17g (the same double when read back), "nan", "inf". */
#ifndef CSM_CLI_PLOT_H
#define CSM_CLI_PLOT_H

#include <stddef.h>

#include "cli.h"
#include "svg.h"

/* ---------------------------------------------------------- plot.c */

/* The style rules of the classes plot.c draws with, for svg_begin(). */
extern const char plot_style[];

/* The picture's title and a line under it (y 24 and 43), shortened with an
 * ellipsis to fit the width. */
void plot_heading(svg_doc *d, double width, const char *title, const char *subtitle);

typedef struct plot_series {
    const char *name;   /* data-series: "loss", "val_loss", ... */
    const char *legend; /* its legend text */
    const char *cls;    /* CSS class of its lines: "train" or "val" */
    const double *x, *y;
    size_t n;
} plot_series;

typedef struct plot_panel {
    double x, y, w, h;       /* the panel's box, tick labels and titles included */
    const char *x_title, *y_title;
    int x_integer;           /* x counts something: ticks at whole numbers */
    double y_floor, y_ceil;  /* the y axis stays within these (NAN: no bound) */
    int legend_bottom;       /* legend at the lower right, else the upper right */
    double mark_x;           /* a dashed vertical line at this x (NAN: none) */
    const char *mark_label;  /* its label */
} plot_panel;

/* A line chart of ns series in one panel: axes with 1-2-5 ticks, grid,
 * legend, markers on the points when there are few. Non-finite points are
 * skipped (and counted in a note); no finite point at all gives empty axes
 * that say so. */
void plot_lines(svg_doc *d, const plot_panel *p, const plot_series *s, size_t ns);

/* A C x C matrix of counts (rows: true class, columns: predicted), the
 * first C rows and columns of a matrix with `stride` columns. */
typedef struct plot_heatmap {
    const unsigned long long *counts;
    size_t C, stride;
    const char *const *labels; /* C class names, truncated with an ellipsis when long */
} plot_heatmap;

/* Labels longer than this many characters are truncated. */
#define PLOT_LABEL_CHARS 20

/* The width and height plot_heatmap_draw() takes. */
void plot_heatmap_size(const plot_heatmap *h, double *width, double *height);
/* The heatmap with its top-left corner at (x, y): cells coloured by count on
 * a white-to-blue scale with the counts written in them (where they fit),
 * class labels on both axes (every few when there are too many to read; the
 * font shrinks first, and long columns labels are slanted), the axis titles
 * "true" and "predicted", and a colour bar. */
void plot_heatmap_draw(svg_doc *d, const plot_heatmap *h, double x, double y);

/* ---------------------------------------------------- plot_history.c */

/* train --plot: the epoch (L-BFGS: iteration) values, kept as they come. */
typedef struct plot_history {
    const char *path; /* NULL: no --plot */
    size_t n, cap;
    double *x, *loss, *accuracy, *val_loss, *val_accuracy;
    int has_val;
} plot_history;

/* Takes the path after checking that a file can be made there (so that a
 * typo fails before training, not after); prints the error, returns CLI_FAIL. */
int plot_history_open(plot_history *h, const char *path);
/* Records one epoch (nothing without a path). Prints the error and returns
 * CLI_FAIL when memory is short. */
int plot_history_add(plot_history *h, const csm_epoch_info *info, int has_val, double val_loss,
                     double val_acc);
/* Writes the picture, whole or not at all: a loss panel above an accuracy
 * panel, training and validation; `unit` names the x axis ("iteration",
 * "epoch"); best_epoch > 0 marks the epoch kept by --early-stopping.
 * Prints the error, returns CLI_FAIL. */
int plot_history_write(const plot_history *h, const char *title, const char *subtitle,
                       const char *unit, int best_epoch);
void plot_history_free(plot_history *h);

/* -------------------------------------------------- plot_confusion.c */

/* At most this many classes are drawn (a larger heatmap is neither legible
 * nor small): beyond it, the first PLOT_MAX_CLASSES, and the picture and a
 * WARNING say so. */
#define PLOT_MAX_CLASSES 100

/* eval --plot: the confusion matrix conf (C x C, rows: true) as a heatmap
 * labelled with the class names of `cls` (cli_model_classes(): the
 * model's "label_names", else its label values). Written whole or not at
 * all; prints the error, returns CLI_FAIL. */
int plot_confusion_write(const char *path, const cli_classes *cls,
                         const unsigned long long *conf, const char *title,
                         const char *subtitle);

#endif
