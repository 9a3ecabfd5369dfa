/* A small SVG writer for the command's pictures (train --plot, eval
 * --plot): the document grows in memory, so that the file can be written
 * whole or not at all (cli_replace_file()), and every piece of text goes
 * through one escaping routine. No dependency beyond the C library. */
#ifndef CSM_CLI_SVG_H
#define CSM_CLI_SVG_H

#include <stddef.h>

typedef struct svg_doc {
    char *buf;      /* NUL-terminated document so far */
    size_t len, cap;
    int failed;     /* out of memory: later calls add nothing */
} svg_doc;

/* The XML declaration, the <svg> element of width x height user units
 * (pixels), its <title> (escaped) and a <style> element holding `css` (the
 * picture's own rules, may be NULL) after the common ones. */
void svg_begin(svg_doc *d, double width, double height, const char *title, const char *css);
/* Closes the <svg> element. Returns 0, or -1 when memory ran out at any
 * point of the document (d->buf is then incomplete). */
int svg_end(svg_doc *d);
void svg_free(svg_doc *d);

/* Appends printf-formatted markup as is: for tags and numeric attributes
 * only, never for text from outside the program. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void svg_raw(svg_doc *d, const char *fmt, ...);
/* Appends text escaped for element content and attribute values: & < > " '
 * become entities; characters XML 1.0 forbids (controls other than tab, LF
 * and CR) and bytes that are not valid UTF-8 become U+FFFD, so that any
 * label or file name gives a well-formed document. */
void svg_escaped(svg_doc *d, const char *text);

/* Text anchors (SVG's text-anchor). */
enum { SVG_START, SVG_MIDDLE, SVG_END };

/* <text> at (x, y), font size `size`, rotated by `angle` degrees about
 * (x, y) (0: none), with class `cls` (may be NULL) and the escaped text. */
void svg_text(svg_doc *d, double x, double y, double size, int anchor, double angle,
              const char *cls, const char *text);
/* <line> with class `cls` (may be NULL). */
void svg_line(svg_doc *d, double x1, double y1, double x2, double y2, const char *cls);
/* <rect>: fill is a colour ("#rrggbb", "none"), cls may be NULL. Left
 * open (no "/>") when `open` is set, for attributes or children the caller
 * adds (then it ends it with "/>" or "...</rect>"). */
void svg_rect(svg_doc *d, double x, double y, double w, double h, const char *fill,
              const char *cls, int open);
/* <polyline> through (px[i], py[i]), i < n, with class `cls`. */
void svg_polyline(svg_doc *d, const double *px, const double *py, size_t n, const char *cls);
/* A number for a data-* attribute: %.17g (reads back as the same double),
 * and "nan", "inf", "-inf" for the values that are not finite. */
void svg_number(svg_doc *d, double v);

/* ---- text measures (no font metrics: an average glyph is 0.6 em) */

/* Code points of the UTF-8 text (invalid bytes count one each). */
size_t svg_text_length(const char *text);
/* Width of the text at font size `size`, estimated. */
double svg_text_width(const char *text, double size);
/* Copies text into out (len bytes) keeping at most max_chars code points:
 * longer text keeps max_chars - 1 (less the spaces they end with) and ends
 * with an ellipsis (U+2026). Never cuts a UTF-8 sequence. Returns 1 when it shortened the text, else 0. */
int svg_truncate(char *out, size_t len, const char *text, size_t max_chars);

/* ---- axis ticks */

/* Ticks at multiples of a 1-2-5 step (1, 2 or 5 times a power of ten):
 * ticks[i] = (first + i) * step for i < n, from lo (<= the data's minimum)
 * to hi (>= its maximum). */
typedef struct svg_ticks {
    double step;
    long long first; /* lo = first * step */
    int n;           /* ticks, 2 or more */
    double lo, hi;   /* the axis range: first and last tick */
    int decimals;    /* digits after the point in fixed notation; -1: use
                        exponent notation (huge or tiny values) */
} svg_ticks;

/* The smallest 1-2-5 step that covers [min, max] with at most max_ticks
 * ticks (taken as 3 when smaller: a range across 0 needs -step, 0, step). integer: the step is at least 1 (counts, epochs). An empty
 * range (min == max) is widened around the value; non-finite bounds or
 * min > max give the range [0, 1]. Returns 0, or -1 with t set for [0, 1]
 * when the bounds were unusable. */
int svg_nice_ticks(svg_ticks *t, double min, double max, int max_ticks, int integer);
/* The i-th tick value. */
double svg_tick(const svg_ticks *t, int i);
/* A tick's label: as few digits as the step needs ("0.25", "100", "1.5e-06"),
 * never "-0". */
void svg_format_tick(char *buf, size_t len, const svg_ticks *t, double v);

#endif
