/* Line chart panels and the heatmap of plot.h. Sizes are in SVG user units
 * (pixels at 100%); text widths are estimates (svg_text_width()), with room
 * to spare. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"

#define TICK_FONT 11.0
#define TITLE_FONT 12.5
#define MARKER_MAX 60 /* points drawn as dots too, up to this many per series */

const char plot_style[] =
    ".train { fill: none; stroke: #1f77b4; stroke-width: 2; stroke-linejoin: round; }\n"
    ".val { fill: none; stroke: #e6550d; stroke-width: 2; stroke-dasharray: 7 4; "
    "stroke-linejoin: round; }\n"
    ".dot-train { fill: #1f77b4; }\n"
    ".dot-val { fill: #e6550d; }\n"
    ".mark { stroke: #777; stroke-width: 1; stroke-dasharray: 3 3; }\n"
    ".legend-box { stroke: #bbb; stroke-width: 1; fill-opacity: 0.9; }\n"
    ".edge { stroke: #ffffff; stroke-width: 0.5; }\n"
    ".count { fill: #222; }\n"
    ".count.dark { fill: #ffffff; }\n"
    ".count.zero { fill: #aaaaaa; }\n";

void plot_heading(svg_doc *d, double width, const char *title, const char *subtitle)
{
    char buf[1024];
    size_t fit = (size_t)((width - 32) / (0.6 * 15));
    svg_truncate(buf, sizeof buf, title, fit);
    svg_text(d, 16, 24, 15, SVG_START, 0, "title", buf);
    fit = (size_t)((width - 32) / (0.6 * 11.5));
    svg_truncate(buf, sizeof buf, subtitle, fit);
    svg_text(d, 16, 43, 11.5, SVG_START, 0, "note", buf);
}

/* ------------------------------------------------------- line chart */

/* The plot area inside the panel: room for the y tick labels and title on
 * the left, the x tick labels and title below. */
typedef struct area {
    double left, top, w, h;
    svg_ticks xt, yt;
} area;

static double map_x(const area *a, double x)
{
    return a->left + (x - a->xt.lo) / (a->xt.hi - a->xt.lo) * a->w;
}

static double map_y(const area *a, double y)
{
    return a->top + a->h - (y - a->yt.lo) / (a->yt.hi - a->yt.lo) * a->h;
}

/* Range of the finite points (x and y both finite) of all series; the count
 * of the others in *bad. Returns the count of finite points. */
static size_t data_range(const plot_series *s, size_t ns, double *xmin, double *xmax,
                         double *ymin, double *ymax, size_t *bad)
{
    size_t good = 0;
    *bad = 0;
    *xmin = *ymin = INFINITY;
    *xmax = *ymax = -INFINITY;
    for (size_t k = 0; k < ns; k++)
        for (size_t i = 0; i < s[k].n; i++) {
            double x = s[k].x[i], y = s[k].y[i];
            if (!isfinite(x) || !isfinite(y)) {
                (*bad)++;
                continue;
            }
            good++;
            *xmin = fmin(*xmin, x);
            *xmax = fmax(*xmax, x);
            *ymin = fmin(*ymin, y);
            *ymax = fmax(*ymax, y);
        }
    return good;
}

/* A y range of one value gets room around it, on the side its bounds
 * allow (an accuracy of 1 gets [0.8, 1], not [0.9, 1.1]). */
static void widen_y(const plot_panel *p, double *ymin, double *ymax)
{
    double mag = fmax(fabs(*ymin), fabs(*ymax));
    if (*ymax - *ymin > mag * 1e-12)
        return;
    double pad = mag > 0 ? mag * 0.1 : 1;
    double lo = *ymin - pad, hi = *ymax + pad;
    if (!isnan(p->y_ceil) && hi > p->y_ceil) {
        lo -= hi - p->y_ceil;
        hi = p->y_ceil;
    }
    if (!isnan(p->y_floor) && lo < p->y_floor) {
        hi += p->y_floor - lo;
        lo = p->y_floor;
        if (!isnan(p->y_ceil) && hi > p->y_ceil)
            hi = p->y_ceil;
    }
    *ymin = lo;
    *ymax = hi;
}

static void draw_axes(svg_doc *d, const plot_panel *p, const area *a)
{
    char lbl[64];
    for (int i = 0; i < a->yt.n; i++) {
        double v = svg_tick(&a->yt, i), y = map_y(a, v);
        svg_line(d, a->left, y, a->left + a->w, y, "grid");
        svg_line(d, a->left - 4, y, a->left, y, "axis");
        svg_format_tick(lbl, sizeof lbl, &a->yt, v);
        svg_text(d, a->left - 7, y + TICK_FONT * 0.35, TICK_FONT, SVG_END, 0, NULL, lbl);
    }
    for (int i = 0; i < a->xt.n; i++) {
        double v = svg_tick(&a->xt, i), x = map_x(a, v);
        svg_line(d, x, a->top, x, a->top + a->h, "grid");
        svg_line(d, x, a->top + a->h, x, a->top + a->h + 4, "axis");
        svg_format_tick(lbl, sizeof lbl, &a->xt, v);
        svg_text(d, x, a->top + a->h + 8 + TICK_FONT, TICK_FONT, SVG_MIDDLE, 0, NULL, lbl);
    }
    svg_rect(d, a->left, a->top, a->w, a->h, "none", "axis", 0);
    svg_text(d, a->left + a->w / 2, p->y + p->h - 4, TITLE_FONT, SVG_MIDDLE, 0, NULL,
             p->x_title);
    svg_text(d, p->x + TITLE_FONT + 2, a->top + a->h / 2, TITLE_FONT, SVG_MIDDLE, -90, NULL,
             p->y_title);
}

/* One series: its data in attributes, then its finite runs as polylines,
 * with dots when the points are few (and always on a point alone, which a
 * polyline would not show). */
static void draw_series(svg_doc *d, const area *a, const plot_series *s, double *px, double *py)
{
    svg_raw(d, "<g class=\"series\" data-series=\"");
    svg_escaped(d, s->name);
    svg_raw(d, "\" data-x=\"");
    for (size_t i = 0; i < s->n; i++) {
        if (i)
            svg_raw(d, " ");
        svg_number(d, s->x[i]);
    }
    svg_raw(d, "\" data-y=\"");
    for (size_t i = 0; i < s->n; i++) {
        if (i)
            svg_raw(d, " ");
        svg_number(d, s->y[i]);
    }
    svg_raw(d, "\">\n");
    size_t finite = 0;
    for (size_t i = 0; i < s->n; i++)
        finite += isfinite(s->x[i]) && isfinite(s->y[i]);
    size_t i = 0;
    while (i < s->n) {
        size_t m = 0;
        for (; i < s->n && isfinite(s->x[i]) && isfinite(s->y[i]); i++, m++) {
            px[m] = map_x(a, s->x[i]);
            py[m] = map_y(a, s->y[i]);
        }
        if (m > 1)
            svg_polyline(d, px, py, m, s->cls);
        if (m == 1 || (m > 0 && finite <= MARKER_MAX))
            for (size_t j = 0; j < m; j++)
                svg_raw(d, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"2.5\" class=\"dot-%s\"/>\n", px[j],
                        py[j], s->cls);
        for (; i < s->n && !(isfinite(s->x[i]) && isfinite(s->y[i])); i++)
            ;
    }
    svg_raw(d, "</g>\n");
}

static void draw_legend(svg_doc *d, const plot_panel *p, const area *a, const plot_series *s,
                        size_t ns)
{
    double w = 0, row = 16, sample = 26;
    size_t shown = 0;
    for (size_t k = 0; k < ns; k++) {
        if (s[k].n == 0)
            continue;
        w = fmax(w, svg_text_width(s[k].legend, TICK_FONT));
        shown++;
    }
    if (!shown)
        return;
    double bw = w + sample + 20, bh = row * (double)shown + 8;
    double x = a->left + a->w - bw - 8;
    double y = p->legend_bottom ? a->top + a->h - bh - 8 : a->top + 8;
    svg_raw(d, "<g class=\"legend\">\n");
    svg_rect(d, x, y, bw, bh, "#ffffff", "legend-box", 0);
    double ly = y + 4 + row / 2;
    for (size_t k = 0; k < ns; k++) {
        if (s[k].n == 0)
            continue;
        svg_line(d, x + 6, ly, x + 6 + sample, ly, s[k].cls);
        svg_text(d, x + 12 + sample, ly + TICK_FONT * 0.35, TICK_FONT, SVG_START, 0, NULL,
                 s[k].legend);
        ly += row;
    }
    svg_raw(d, "</g>\n");
}

void plot_lines(svg_doc *d, const plot_panel *p, const plot_series *s, size_t ns)
{
    area a;
    a.left = p->x + 2 * TITLE_FONT + 52; /* y title, tick labels of up to ~8 characters */
    a.top = p->y + 8;
    a.w = p->x + p->w - 16 - a.left;
    a.h = p->y + p->h - 2 * TITLE_FONT - 26 - a.top;

    double xmin, xmax, ymin, ymax;
    size_t bad, good = data_range(s, ns, &xmin, &xmax, &ymin, &ymax, &bad);
    if (!good) {
        xmin = 0, xmax = 1, ymin = 0, ymax = 1;
        if (!isnan(p->y_floor))
            ymin = p->y_floor;
        if (!isnan(p->y_ceil))
            ymax = p->y_ceil;
    }
    if (isfinite(p->mark_x)) {
        xmin = fmin(xmin, p->mark_x);
        xmax = fmax(xmax, p->mark_x);
    }
    widen_y(p, &ymin, &ymax);
    svg_nice_ticks(&a.xt, xmin, xmax, a.w > 210 ? (int)(a.w / 70) : 3, p->x_integer);
    svg_nice_ticks(&a.yt, ymin, ymax, a.h > 120 ? (int)(a.h / 40) : 3, 0);

    svg_raw(d, "<g class=\"panel\">\n");
    draw_axes(d, p, &a);
    if (isfinite(p->mark_x)) {
        double x = map_x(&a, p->mark_x);
        svg_line(d, x, a.top, x, a.top + a.h, "mark");
        if (p->mark_label)
            svg_text(d, x + 4, a.top + TICK_FONT + 2, TICK_FONT, SVG_START, 0, "note",
                     p->mark_label);
    }
    size_t longest = 0;
    for (size_t k = 0; k < ns; k++)
        longest = s[k].n > longest ? s[k].n : longest;
    double *px = malloc((longest ? longest : 1) * sizeof *px);
    double *py = malloc((longest ? longest : 1) * sizeof *py);
    if (!px || !py) {
        d->failed = 1;
    } else {
        for (size_t k = 0; k < ns; k++)
            draw_series(d, &a, &s[k], px, py);
    }
    free(px);
    free(py);
    draw_legend(d, p, &a, s, ns);
    if (!good || bad) {
        char note[96];
        if (!good)
            snprintf(note, sizeof note, "no finite values to draw");
        else
            snprintf(note, sizeof note, "%zu value%s not finite, not drawn", bad,
                     bad == 1 ? "" : "s");
        svg_text(d, a.left + 6, a.top + a.h - 6, TICK_FONT, SVG_START, 0, "note", note);
    }
    svg_raw(d, "</g>\n");
}

/* ---------------------------------------------------------- heatmap */

typedef struct geom {
    double cell;        /* side of a cell */
    double font;        /* class labels */
    size_t every;       /* a label every `every` classes */
    int slant;          /* column labels at -45 degrees */
    double label_w;     /* widest (truncated) label */
    double left, top;   /* the matrix's corner, from the heatmap's */
    double width, height;
    double count_font;  /* counts in the cells; 0: not written */
    svg_ticks scale;    /* the colour bar's ticks; its top is the darkest colour */
} geom;

static unsigned long long count_at(const plot_heatmap *h, size_t r, size_t c)
{
    return h->counts[r * h->stride + c];
}

static void heatmap_geom(const plot_heatmap *h, geom *g)
{
    size_t C = h->C ? h->C : 1;
    char buf[4 * PLOT_LABEL_CHARS + 8];
    g->cell = fmin(64, fmax(5, 520.0 / (double)C));
    g->font = fmin(13, fmax(8, g->cell * 0.6));
    /* Labels closer than 1.25 line heights overlap: keep every few. */
    g->every = (size_t)ceil(g->font * 1.25 / g->cell);
    if (g->every < 1)
        g->every = 1;
    g->label_w = 0;
    for (size_t c = 0; c < h->C; c++) {
        svg_truncate(buf, sizeof buf, h->labels[c], PLOT_LABEL_CHARS);
        g->label_w = fmax(g->label_w, svg_text_width(buf, g->font));
    }
    g->slant = g->label_w > g->cell * (double)g->every * 0.8;
    double col_labels = g->slant ? g->label_w * 0.7071 + g->font : g->font + 4;
    /* Slanted column labels hang to the left of their column. */
    double overhang = g->slant ? g->label_w * 0.7071 - g->cell / 2 : 0;
    g->left = fmax(TITLE_FONT + 12 + g->label_w + 8, overhang + 4);
    g->top = 4;
    double side = g->cell * (double)C;

    unsigned long long max = 0;
    for (size_t r = 0; r < h->C; r++)
        for (size_t c = 0; c < h->C; c++)
            if (count_at(h, r, c) > max)
                max = count_at(h, r, c);
    svg_nice_ticks(&g->scale, 0, max > 0 ? (double)max : 1, side >= 200 ? 6 : 4, 1);
    char lbl[64];
    svg_format_tick(lbl, sizeof lbl, &g->scale, g->scale.hi);
    double bar_labels = svg_text_width(lbl, TICK_FONT) + 10;

    int digits = snprintf(lbl, sizeof lbl, "%llu", max);
    g->count_font = fmin(14, fmin(g->cell * 0.42, g->cell * 0.85 / (0.6 * digits)));
    if (g->count_font < 6)
        g->count_font = 0;

    g->width = g->left + side + 18 + 14 + bar_labels + TITLE_FONT + 10;
    g->height = g->top + fmax(side, 60) + 6 + col_labels + TITLE_FONT + 12;
}

void plot_heatmap_size(const plot_heatmap *h, double *width, double *height)
{
    geom g;
    heatmap_geom(h, &g);
    *width = g.width;
    *height = g.height;
}

/* White through light blue to dark blue, t in [0, 1]. */
static void colour(char *buf, size_t len, double t, int *dark)
{
    static const double stops[3][3] = {{247, 251, 255}, {107, 174, 214}, {8, 48, 107}};
    if (!(t >= 0))
        t = 0;
    if (t > 1)
        t = 1;
    int seg = t < 0.5 ? 0 : 1;
    double u = t < 0.5 ? t * 2 : (t - 0.5) * 2;
    int rgb[3];
    for (int i = 0; i < 3; i++)
        rgb[i] = (int)lround(stops[seg][i] + u * (stops[seg + 1][i] - stops[seg][i]));
    snprintf(buf, len, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
    *dark = t > 0.55;
}

static void draw_cells(svg_doc *d, const plot_heatmap *h, const geom *g, double x0, double y0)
{
    char fill[16];
    int dark;
    svg_raw(d, "<g class=\"confusion\" data-classes=\"%zu\">\n", h->C);
    for (size_t r = 0; r < h->C; r++)
        for (size_t c = 0; c < h->C; c++) {
            unsigned long long n = count_at(h, r, c);
            double x = x0 + (double)c * g->cell, y = y0 + (double)r * g->cell;
            colour(fill, sizeof fill, (double)n / g->scale.hi, &dark);
            svg_rect(d, x, y, g->cell, g->cell, fill, g->cell >= 8 ? "cell edge" : "cell", 1);
            svg_raw(d, " data-true=\"%zu\" data-predicted=\"%zu\" data-count=\"%llu\"><title>", r,
                    c, n);
            svg_raw(d, "true ");
            svg_escaped(d, h->labels[r]);
            svg_raw(d, ", predicted ");
            svg_escaped(d, h->labels[c]);
            svg_raw(d, ": %llu</title></rect>\n", n);
            if (g->count_font > 0) {
                char num[32];
                snprintf(num, sizeof num, "%llu", n);
                svg_text(d, x + g->cell / 2, y + g->cell / 2 + g->count_font * 0.35, g->count_font,
                         SVG_MIDDLE, 0, n == 0 ? "count zero" : dark ? "count dark" : "count",
                         num);
            }
        }
    svg_raw(d, "</g>\n");
}

/* A class label, truncated, with the whole name as the tooltip of a group
 * around it when it was. */
static void draw_label(svg_doc *d, double x, double y, double size, int anchor, double angle,
                       const char *cls, const char *name)
{
    char buf[4 * PLOT_LABEL_CHARS + 8];
    int cut = svg_truncate(buf, sizeof buf, name, PLOT_LABEL_CHARS);
    if (cut) {
        svg_raw(d, "<g><title>");
        svg_escaped(d, name);
        svg_raw(d, "</title>");
    }
    svg_text(d, x, y, size, anchor, angle, cls, buf);
    if (cut)
        svg_raw(d, "</g>\n");
}

static void draw_colour_bar(svg_doc *d, const geom *g, double x, double y, double side)
{
    double bh = fmax(side, 60);
    svg_raw(d, "<defs><linearGradient id=\"scale\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
               "<stop offset=\"0\" stop-color=\"#f7fbff\"/>"
               "<stop offset=\"0.5\" stop-color=\"#6baed6\"/>"
               "<stop offset=\"1\" stop-color=\"#08306b\"/></linearGradient></defs>\n");
    /* the class's CSS "fill: none" would win over the fill attribute: the
     * gradient goes on a rect of its own, the outline on top */
    svg_rect(d, x, y, 14, bh, "url(#scale)", NULL, 0);
    svg_rect(d, x, y, 14, bh, "none", "axis", 0);
    char lbl[64];
    for (int i = 0; i < g->scale.n; i++) {
        double v = svg_tick(&g->scale, i);
        double ty = y + bh - v / g->scale.hi * bh;
        svg_line(d, x + 14, ty, x + 18, ty, "axis");
        svg_format_tick(lbl, sizeof lbl, &g->scale, v);
        svg_text(d, x + 21, ty + TICK_FONT * 0.35, TICK_FONT, SVG_START, 0, NULL, lbl);
    }
    svg_format_tick(lbl, sizeof lbl, &g->scale, g->scale.hi);
    double tx = x + 21 + svg_text_width(lbl, TICK_FONT) + 6 + TITLE_FONT;
    svg_text(d, tx, y + bh / 2, TITLE_FONT, SVG_MIDDLE, -90, NULL, "count");
}

void plot_heatmap_draw(svg_doc *d, const plot_heatmap *h, double x, double y)
{
    geom g;
    heatmap_geom(h, &g);
    double x0 = x + g.left, y0 = y + g.top, side = g.cell * (double)h->C;
    draw_cells(d, h, &g, x0, y0);
    for (size_t c = 0; c < h->C; c += g.every) {
        double mid = (double)c * g.cell + g.cell / 2;
        draw_label(d, x0 - 6, y0 + mid + g.font * 0.35, g.font, SVG_END, 0, "label-true",
                   h->labels[c]);
        if (g.slant)
            draw_label(d, x0 + mid + g.font * 0.3, y0 + side + 8, g.font, SVG_END, -45,
                       "label-predicted", h->labels[c]);
        else
            draw_label(d, x0 + mid, y0 + side + 4 + g.font, g.font, SVG_MIDDLE, 0,
                       "label-predicted", h->labels[c]);
    }
    svg_text(d, x + TITLE_FONT, y0 + side / 2, TITLE_FONT, SVG_MIDDLE, -90, "axis-title",
             "true");
    svg_text(d, x0 + side / 2, y + g.height - 6, TITLE_FONT, SVG_MIDDLE, 0, "axis-title",
             "predicted");
    draw_colour_bar(d, &g, x0 + side + 18, y0, side);
}
