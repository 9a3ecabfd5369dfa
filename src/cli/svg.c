/* The SVG writer of svg.h. */
#include "svg.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(svg_doc *d, size_t more)
{
    if (d->failed)
        return -1;
    if (d->len + more + 1 <= d->cap)
        return 0;
    size_t cap = d->cap ? d->cap : 4096;
    while (cap < d->len + more + 1) {
        if (cap > (size_t)-1 / 2) {
            d->failed = 1;
            return -1;
        }
        cap *= 2;
    }
    char *p = realloc(d->buf, cap);
    if (!p) {
        d->failed = 1;
        return -1;
    }
    d->buf = p;
    d->cap = cap;
    return 0;
}

static void append(svg_doc *d, const char *s, size_t n)
{
    if (reserve(d, n))
        return;
    memcpy(d->buf + d->len, s, n);
    d->len += n;
    d->buf[d->len] = '\0';
}

void svg_raw(svg_doc *d, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        d->failed = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        append(d, small, (size_t)n);
        return;
    }
    if (reserve(d, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(d->buf + d->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    d->len += (size_t)n;
}

/* Length of the well-formed UTF-8 sequence at s holding a character XML
 * allows, with its code point in *cp; 0 when the bytes are not one. */
static size_t utf8_char(const unsigned char *s, unsigned long *cp)
{
    unsigned char c = s[0];
    size_t n;
    unsigned long v;
    unsigned char lo = 0x80, hi = 0xBF; /* range of the second byte */
    if (c < 0x80) {
        *cp = c;
        return c >= 0x20 || c == '\t' || c == '\n' || c == '\r' ? 1 : 0;
    }
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, v = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, v = c & 0x0F, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, v = c & 0x07, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        unsigned char b = s[i];
        if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF))
            return 0; /* also stops at the terminating NUL */
        v = v << 6 | (b & 0x3F);
    }
    *cp = v;
    return v == 0xFFFE || v == 0xFFFF ? 0 : n; /* not characters in XML */
}

void svg_escaped(svg_doc *d, const char *text)
{
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    while (*s) {
        const char *ent = NULL;
        switch (*s) {
        case '&': ent = "&amp;"; break;
        case '<': ent = "&lt;"; break;
        case '>': ent = "&gt;"; break;
        case '"': ent = "&quot;"; break;
        case '\'': ent = "&apos;"; break;
        default: break;
        }
        if (ent) {
            append(d, ent, strlen(ent));
            s++;
            continue;
        }
        unsigned long cp;
        size_t n = utf8_char(s, &cp);
        if (n) {
            append(d, (const char *)s, n);
            s += n;
        } else {
            append(d, "\xEF\xBF\xBD", 3); /* U+FFFD for the one bad byte */
            s++;
        }
    }
}

void svg_begin(svg_doc *d, double width, double height, const char *title, const char *css)
{
    svg_raw(d, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" "
               "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n<title>",
            width, height, width, height);
    svg_escaped(d, title);
    svg_raw(d, "</title>\n");
    svg_raw(d, "<style>\n"
               "text { font-family: 'DejaVu Sans', Arial, Helvetica, sans-serif; fill: #222; }\n"
               ".title { font-weight: bold; }\n"
               ".axis { stroke: #444; stroke-width: 1; fill: none; }\n"
               ".grid { stroke: #e3e3e3; stroke-width: 1; }\n"
               ".note { fill: #666; }\n");
    if (css)
        svg_raw(d, "%s", css);
    svg_raw(d, "</style>\n<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n");
}

int svg_end(svg_doc *d)
{
    svg_raw(d, "</svg>\n");
    return d->failed ? -1 : 0;
}

void svg_free(svg_doc *d)
{
    free(d->buf);
    memset(d, 0, sizeof *d);
}

void svg_text(svg_doc *d, double x, double y, double size, int anchor, double angle,
              const char *cls, const char *text)
{
    static const char *const anchors[] = {"start", "middle", "end"};
    svg_raw(d, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"%.1f\"", x, y, size);
    if (anchor != SVG_START)
        svg_raw(d, " text-anchor=\"%s\"", anchors[anchor == SVG_MIDDLE ? 1 : 2]);
    if (angle != 0)
        svg_raw(d, " transform=\"rotate(%.1f %.2f %.2f)\"", angle, x, y);
    if (cls)
        svg_raw(d, " class=\"%s\"", cls);
    svg_raw(d, ">");
    svg_escaped(d, text);
    svg_raw(d, "</text>\n");
}

void svg_line(svg_doc *d, double x1, double y1, double x2, double y2, const char *cls)
{
    svg_raw(d, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"", x1, y1, x2, y2);
    if (cls)
        svg_raw(d, " class=\"%s\"", cls);
    svg_raw(d, "/>\n");
}

void svg_rect(svg_doc *d, double x, double y, double w, double h, const char *fill,
              const char *cls, int open)
{
    svg_raw(d, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"", x, y,
            w, h, fill);
    if (cls)
        svg_raw(d, " class=\"%s\"", cls);
    if (!open)
        svg_raw(d, "/>\n");
}

void svg_polyline(svg_doc *d, const double *px, const double *py, size_t n, const char *cls)
{
    svg_raw(d, "<polyline");
    if (cls)
        svg_raw(d, " class=\"%s\"", cls);
    svg_raw(d, " points=\"");
    for (size_t i = 0; i < n; i++)
        svg_raw(d, i ? " %.2f,%.2f" : "%.2f,%.2f", px[i], py[i]);
    svg_raw(d, "\"/>\n");
}

void svg_number(svg_doc *d, double v)
{
    if (isnan(v))
        svg_raw(d, "nan");
    else if (isinf(v))
        svg_raw(d, v > 0 ? "inf" : "-inf");
    else
        svg_raw(d, "%.17g", v);
}

size_t svg_text_length(const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t n = 0;
    while (*s) {
        unsigned long cp;
        size_t k = utf8_char(s, &cp);
        s += k ? k : 1;
        n++;
    }
    return n;
}

double svg_text_width(const char *text, double size)
{
    return 0.6 * size * (double)svg_text_length(text);
}

int svg_truncate(char *out, size_t len, const char *text, size_t max_chars)
{
    static const char ellipsis[] = "\xE2\x80\xA6";
    const size_t el = sizeof ellipsis - 1;
    const unsigned char *s = (const unsigned char *)text;
    size_t total = svg_text_length(text), bytes = strlen(text);
    if (len == 0)
        return total > max_chars;
    if (total <= max_chars && bytes < len) {
        memcpy(out, text, bytes + 1);
        return 0;
    }
    /* Shortened: whole characters, then the ellipsis, within len bytes. */
    size_t keep = max_chars > 0 ? max_chars - 1 : 0, pos = 0;
    size_t budget = max_chars > 0 && len > el ? len - 1 - el : 0;
    for (size_t i = 0; i < keep; i++) {
        unsigned long cp;
        size_t k = utf8_char(s + pos, &cp);
        if (!k)
            k = 1;
        if (pos + k > budget)
            break;
        pos += k;
    }
    while (pos > 0 && text[pos - 1] == ' ')
        pos--; /* "name…", not "name …" */
    memcpy(out, text, pos);
    if (max_chars > 0 && len > el) {
        memcpy(out + pos, ellipsis, el);
        pos += el;
    }
    out[pos] = '\0';
    return 1;
}

/* ------------------------------------------------------------- ticks */

static void ticks_unit(svg_ticks *t)
{
    t->step = 0.2;
    t->first = 0;
    t->n = 6;
    t->lo = 0;
    t->hi = 1;
    t->decimals = 1;
}

int svg_nice_ticks(svg_ticks *t, double min, double max, int max_ticks, int integer)
{
    if (!isfinite(min) || !isfinite(max) || min > max) {
        ticks_unit(t);
        return -1;
    }
    if (max_ticks < 3)
        max_ticks = 3; /* a range across 0 needs 3: -step, 0, step */
    /* A range too narrow for doubles to tell its ticks apart is a constant. */
    double mag = fmax(fabs(min), fabs(max));
    if (max - min <= mag * 1e-12) {
        double pad = mag > 0 ? mag * 0.1 : 1;
        if (integer && pad < 1)
            pad = 1;
        min -= pad;
        max += pad;
    }
    /* Each bound over max_ticks - 1 apart: no overflow for bounds near DBL_MAX. */
    double raw = max / (max_ticks - 1) - min / (max_ticks - 1);
    if (integer && raw < 1)
        raw = 1;
    double base = pow(10, floor(log10(raw)));
    static const double mult[] = {1, 2, 5};
    for (int i = 0;; i++) {
        double step = mult[i % 3] * base * pow(10, i / 3);
        if (!isfinite(step) || step <= 0) {
            ticks_unit(t);
            return -1;
        }
        /* Bounds a rounding error away from a tick count as on it. */
        double f = floor(min / step + 1e-9), l = ceil(max / step - 1e-9);
        if (fabs(f) > 9e15 || fabs(l) > 9e15) {
            ticks_unit(t);
            return -1;
        }
        if (l - f + 1 <= max_ticks) {
            t->step = step;
            t->first = (long long)f;
            t->n = (int)(l - f) + 1;
            if (t->n < 2) { /* a range within one tick: two ticks */
                t->n = 2;
            }
            t->lo = svg_tick(t, 0);
            t->hi = svg_tick(t, t->n - 1);
            break;
        }
    }
    int e = (int)floor(log10(t->step) + 1e-9);
    mag = fmax(fabs(t->lo), fabs(t->hi));
    t->decimals = e < -4 || mag >= 1e7 ? -1 : (e < 0 ? -e : 0);
    return 0;
}

double svg_tick(const svg_ticks *t, int i)
{
    return (double)(t->first + i) * t->step;
}

void svg_format_tick(char *buf, size_t len, const svg_ticks *t, double v)
{
    if (fabs(v) < t->step * 1e-6)
        v = 0; /* no "-0", no 1e-17 for a tick at zero */
    if (t->decimals >= 0) {
        snprintf(buf, len, "%.*f", t->decimals, v);
        return;
    }
    /* Enough mantissa digits to tell ticks one step apart. */
    double mag = fmax(fabs(t->lo), fabs(t->hi));
    int digits = (int)floor(log10(mag) + 1e-9) - (int)floor(log10(t->step) + 1e-9);
    if (digits < 0)
        digits = 0;
    if (digits > 15)
        digits = 15;
    if (v == 0)
        snprintf(buf, len, "0");
    else
        snprintf(buf, len, "%.*e", digits, v);
}
