/* The command's SVG writer and charts (src/cli/svg.c, plot.c), without a
 * device: XML escaping of every text (entities, controls, bad UTF-8),
 * truncation with an ellipsis, 1-2-5 ticks and their labels, and what the
 * charts put in the document for awkward data (non-finite values, one
 * point, a constant, long and hostile class names). The end-to-end pictures
 * of train --plot and eval --plot are tests/cli/plot.sh. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"
#include "svg.h"
#include "testutil.h"

static char *escaped(const char *text)
{
    svg_doc d = {0};
    svg_escaped(&d, text);
    ck_assert(!d.failed);
    return d.buf ? d.buf : calloc(1, 1);
}

#define ASSERT_ESCAPED(in, want)                                                                 \
    do {                                                                                         \
        char *got_ = escaped(in);                                                                \
        ck_assert_str_eq(got_, want);                                                            \
        free(got_);                                                                              \
    } while (0)

START_TEST(test_escape_entities)
{
    ASSERT_ESCAPED("plain text 123", "plain text 123");
    ASSERT_ESCAPED("a&b<c>d\"e'f", "a&amp;b&lt;c&gt;d&quot;e&apos;f");
    ASSERT_ESCAPED("&amp;", "&amp;amp;"); /* text, not markup: escaped again */
    ASSERT_ESCAPED("", "");
    /* tab, newline and carriage return are XML characters; other controls are not */
    ASSERT_ESCAPED("a\tb\nc\rd", "a\tb\nc\rd");
    ASSERT_ESCAPED("a\x01" "b\x1f" "c", "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c");
}
END_TEST

START_TEST(test_escape_utf8)
{
    /* well-formed UTF-8 of 2, 3 and 4 bytes passes through */
    ASSERT_ESCAPED("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
    /* every byte of a malformed sequence becomes U+FFFD */
    ASSERT_ESCAPED("x\xC3", "x\xEF\xBF\xBD");                                /* truncated */
    ASSERT_ESCAPED("\xC0\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD");                  /* overlong '/' */
    ASSERT_ESCAPED("\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  /* a surrogate */
    ASSERT_ESCAPED("\xF4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"); /* > U+10FFFF */
    ASSERT_ESCAPED("\xEF\xBF\xBE", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"); /* U+FFFE */
    ASSERT_ESCAPED("a\xFF<", "a\xEF\xBF\xBD&lt;");
}
END_TEST

START_TEST(test_elements)
{
    svg_doc d = {0};
    svg_text(&d, 1, 2.5, 11, SVG_END, -45, "label", "x<y");
    ck_assert_str_eq(d.buf, "<text x=\"1.00\" y=\"2.50\" font-size=\"11.0\" text-anchor=\"end\" "
                            "transform=\"rotate(-45.0 1.00 2.50)\" class=\"label\">x&lt;y</text>\n");
    svg_free(&d);
    svg_number(&d, 0.1);
    svg_raw(&d, " ");
    svg_number(&d, NAN);
    svg_raw(&d, " ");
    svg_number(&d, -INFINITY);
    ck_assert_str_eq(d.buf, "0.10000000000000001 nan -inf");
    ck_assert_double_eq(strtod(d.buf, NULL), 0.1); /* reads back as the same double */
    svg_free(&d);

    svg_begin(&d, 300, 200, "a \"title\" & more", NULL);
    ck_assert_int_eq(svg_end(&d), 0);
    ck_assert_ptr_nonnull(strstr(d.buf, "<title>a &quot;title&quot; &amp; more</title>"));
    ck_assert_ptr_nonnull(strstr(d.buf, "width=\"300\" height=\"200\""));
    ck_assert_uint_eq(strlen(d.buf), d.len);
    svg_free(&d);

    /* a document larger than the first allocation stays whole */
    for (int i = 0; i < 5000; i++)
        svg_line(&d, i, i, i + 1, i + 1, "grid");
    ck_assert(!d.failed);
    ck_assert_uint_eq(strlen(d.buf), d.len);
    size_t lines = 0;
    for (const char *p = d.buf; (p = strstr(p, "<line ")); p++)
        lines++;
    ck_assert_uint_eq(lines, 5000);
    svg_free(&d);
}
END_TEST

START_TEST(test_truncate)
{
    char out[64];
    ck_assert_int_eq(svg_truncate(out, sizeof out, "abc", 5), 0);
    ck_assert_str_eq(out, "abc");
    ck_assert_int_eq(svg_truncate(out, sizeof out, "abcde", 5), 0);
    ck_assert_str_eq(out, "abcde");
    ck_assert_int_eq(svg_truncate(out, sizeof out, "abcdef", 5), 1);
    ck_assert_str_eq(out, "abcd\xE2\x80\xA6");
    ck_assert_uint_eq(svg_text_length(out), 5);
    ck_assert_int_eq(svg_truncate(out, sizeof out, "abcd  efgh", 7), 1);
    ck_assert_str_eq(out, "abcd\xE2\x80\xA6"); /* no space before the ellipsis */
    /* characters, not bytes: never half of a UTF-8 sequence */
    ck_assert_int_eq(svg_truncate(out, sizeof out, "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", 3), 1);
    ck_assert_str_eq(out, "\xC3\xA9\xC3\xA9\xE2\x80\xA6");
    ck_assert_uint_eq(svg_text_length("\xC3\xA9t\xC3\xA9"), 3);
    ck_assert_uint_eq(svg_text_length("\xFF\xFE"), 2); /* bad bytes count one each */
    /* a small buffer shortens too, whole characters and the ellipsis within it */
    ck_assert_int_eq(svg_truncate(out, 6, "abcdefgh", 20), 1);
    ck_assert_str_eq(out, "ab\xE2\x80\xA6");
    ck_assert_int_eq(svg_truncate(out, 7, "\xC3\xA9\xC3\xA9\xC3\xA9", 20), 0); /* 6 bytes and NUL */
    ck_assert_int_eq(svg_truncate(out, 6, "\xC3\xA9\xC3\xA9\xC3\xA9", 20), 1);
    ck_assert_str_eq(out, "\xC3\xA9\xE2\x80\xA6"); /* 2 + 3 bytes: a second é would not fit */
    ck_assert_int_eq(svg_truncate(out, sizeof out, "abc", 0), 1);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(svg_truncate(out, sizeof out, "", 3), 0);
    ck_assert_str_eq(out, "");
    ck_assert_double_eq_tol(svg_text_width("abcd", 10), 24, 1e-12);
}
END_TEST

/* The 1-2-5 properties, for any range. */
static void assert_nice(const svg_ticks *t, double min, double max, int max_ticks)
{
    double m = t->step / pow(10, floor(log10(t->step) + 1e-9));
    ck_assert_msg(fabs(m - 1) < 1e-9 || fabs(m - 2) < 1e-9 || fabs(m - 5) < 1e-9,
                  "[%g, %g]: step %g is not 1, 2 or 5 times a power of ten", min, max, t->step);
    ck_assert_msg(t->n >= 2 && t->n <= (max_ticks < 3 ? 3 : max_ticks), "[%g, %g]: %d ticks",
                  min, max, t->n);
    double tol = t->step * 1e-9;
    ck_assert_msg(t->lo <= min + tol && t->hi >= max - tol, "[%g, %g] not within [%g, %g]", min,
                  max, t->lo, t->hi);
    ck_assert_double_eq(t->lo, svg_tick(t, 0));
    ck_assert_double_eq(t->hi, svg_tick(t, t->n - 1));
    for (int i = 1; i < t->n; i++)
        ck_assert_double_eq_tol(svg_tick(t, i) - svg_tick(t, i - 1), t->step, tol * 1e3);
}

START_TEST(test_ticks)
{
    static const struct {
        double min, max;
        int max_ticks, integer;
        double step, lo, hi;
        int n;
    } cases[] = {
        {0, 1, 6, 0, 0.2, 0, 1, 6},
        {0.13, 0.87, 5, 0, 0.5, 0, 1, 3},
        {0.13, 0.87, 9, 0, 0.1, 0.1, 0.9, 9},
        {1, 15, 10, 1, 2, 0, 16, 9},             /* epochs 1..15 */
        {1, 1000, 10, 1, 200, 0, 1000, 6},
        {1, 3, 10, 1, 1, 1, 3, 3},               /* integer: no step under 1 */
        {1, 1, 5, 1, 1, 0, 2, 3},                /* one epoch */
        {0.5, 0.5, 5, 0, 0.05, 0.45, 0.55, 3},   /* a constant: widened by 10% */
        {0, 0, 5, 0, 0.5, -1, 1, 5},             /* zero: widened by 1 */
        {-3.7, -1.2, 6, 0, 1, -4, -1, 4},
        {2.302585, 0.35, 6, 0, 0.2, 0, 1, 6},    /* min > max: unusable */
        {0.349956, 2.302585, 8, 0, 0.5, 0, 2.5, 6},
        {0, 20, 6, 1, 5, 0, 20, 5},              /* counts of a confusion matrix */
        {0, 37, 6, 1, 10, 0, 40, 5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        svg_ticks t;
        int rc = svg_nice_ticks(&t, cases[i].min, cases[i].max, cases[i].max_ticks,
                                cases[i].integer);
        ck_assert_int_eq(rc, cases[i].min > cases[i].max ? -1 : 0);
        ck_assert_msg(fabs(t.step - cases[i].step) < 1e-12 && fabs(t.lo - cases[i].lo) < 1e-12 &&
                          fabs(t.hi - cases[i].hi) < 1e-12 && t.n == cases[i].n,
                      "case %zu [%g, %g]: step %g [%g, %g] n %d, expected step %g [%g, %g] n %d",
                      i, cases[i].min, cases[i].max, t.step, t.lo, t.hi, t.n, cases[i].step,
                      cases[i].lo, cases[i].hi, cases[i].n);
        if (rc == 0)
            assert_nice(&t, fmin(cases[i].min, cases[i].lo), cases[i].max, cases[i].max_ticks);
    }
    /* unusable bounds: [0, 1] */
    const double bad[][2] = {{NAN, 1}, {0, NAN}, {-INFINITY, 1}, {0, INFINITY}, {2, 1}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        svg_ticks t;
        ck_assert_int_eq(svg_nice_ticks(&t, bad[i][0], bad[i][1], 5, 0), -1);
        ck_assert(t.lo == 0 && t.hi == 1 && t.n >= 2);
    }
    /* extremes stay finite */
    svg_ticks t;
    ck_assert_int_eq(svg_nice_ticks(&t, -1e308, 1e308, 5, 0), 0);
    ck_assert(isfinite(t.lo) && isfinite(t.hi) && t.lo <= -1e308 && t.hi >= 1e308);
    ck_assert_int_eq(svg_nice_ticks(&t, 1e20, 1e20 + 1, 5, 0), 0); /* a constant at this scale */
    assert_nice(&t, 1e20, 1e20, 5);
    ck_assert_int_eq(svg_nice_ticks(&t, 1e-300, 3e-300, 5, 0), 0);
    assert_nice(&t, 1e-300, 3e-300, 5);
    /* random ranges of every scale */
    uint64_t state = 12345;
    for (int i = 0; i < 20000; i++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        double u1 = (double)(state >> 11) / 9007199254740992.0;
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        double u2 = (double)(state >> 11) / 9007199254740992.0;
        double scale = pow(10, (double)(int)(u1 * 24) - 12);
        double a = (u1 * 2 - 1) * scale, b = a + u2 * scale;
        int max_ticks = 2 + (int)(u2 * 13);
        ck_assert_int_eq(svg_nice_ticks(&t, a, b, max_ticks, i % 5 == 0), 0);
        if (b - a > fmax(fabs(a), fabs(b)) * 1e-12)
            assert_nice(&t, a, b, max_ticks);
    }
}
END_TEST

START_TEST(test_tick_labels)
{
    svg_ticks t;
    char buf[64];
    svg_nice_ticks(&t, 0.1, 0.9, 9, 0); /* step 0.1: (first + i) * 0.1 is 0.30000000000000004 */
    svg_format_tick(buf, sizeof buf, &t, svg_tick(&t, 2));
    ck_assert_str_eq(buf, "0.3");
    svg_nice_ticks(&t, -0.4, 0.4, 5, 0);
    svg_format_tick(buf, sizeof buf, &t, -1e-18);
    ck_assert_str_eq(buf, "0.0"); /* no "-0.0" */
    svg_format_tick(buf, sizeof buf, &t, svg_tick(&t, 0));
    ck_assert_str_eq(buf, "-0.4");
    svg_nice_ticks(&t, 1, 1000, 10, 1);
    svg_format_tick(buf, sizeof buf, &t, svg_tick(&t, 3));
    ck_assert_str_eq(buf, "600");
    svg_nice_ticks(&t, 0.98, 1, 5, 0);
    ck_assert_double_eq_tol(t.step, 0.005, 1e-15);
    svg_format_tick(buf, sizeof buf, &t, svg_tick(&t, 1));
    ck_assert_str_eq(buf, "0.985");
    /* tiny and huge values in exponent notation, with the digits the step needs */
    svg_nice_ticks(&t, 0, 5e-6, 6, 0);
    svg_format_tick(buf, sizeof buf, &t, svg_tick(&t, 3));
    ck_assert_str_eq(buf, "3e-06");
    svg_format_tick(buf, sizeof buf, &t, 0);
    ck_assert_str_eq(buf, "0");
    svg_nice_ticks(&t, 1.2e7, 1.3e7, 6, 0);
    svg_format_tick(buf, sizeof buf, &t, svg_tick(&t, 1));
    ck_assert_str_eq(buf, "1.22e+07");
}
END_TEST

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* Every coordinate attribute in the document is a finite number. */
static void assert_finite_coordinates(const char *doc)
{
    static const char *const attrs[] = {" x=\"", " y=\"", " x1=\"", " y1=\"", " x2=\"",
                                        " y2=\"", " cx=\"", " cy=\"", " width=\"", " height=\"",
                                        " points=\""};
    for (size_t a = 0; a < sizeof attrs / sizeof *attrs; a++)
        for (const char *p = doc; (p = strstr(p, attrs[a])); p++) {
            const char *v = p + strlen(attrs[a]);
            const char *end = strchr(v, '"');
            ck_assert_ptr_nonnull(end);
            for (const char *c = v; c < end; c++)
                ck_assert_msg(strchr("0123456789.-, %", *c), "%s: not a number in %.60s",
                              attrs[a], p);
        }
}

static char *draw_lines(const plot_series *s, size_t ns, double y_ceil)
{
    plot_panel p = {.x = 0, .y = 0, .w = 600, .h = 300, .x_title = "epoch", .y_title = "loss",
                    .x_integer = 1, .y_floor = 0, .y_ceil = y_ceil, .mark_x = NAN};
    svg_doc d = {0};
    svg_begin(&d, 600, 300, "t", plot_style);
    plot_lines(&d, &p, s, ns);
    ck_assert_int_eq(svg_end(&d), 0);
    assert_finite_coordinates(d.buf);
    return d.buf;
}

START_TEST(test_lines_awkward_data)
{
    /* non-finite values: recorded in data-y, skipped in the drawing, which
     * breaks the line there */
    const double x[] = {1, 2, 3, 4, 5, 6};
    const double y[] = {1, NAN, 3, 4, INFINITY, 5};
    plot_series s = {"loss", "training", "train", x, y, 6};
    char *doc = draw_lines(&s, 1, NAN);
    ck_assert_ptr_nonnull(strstr(doc, "data-series=\"loss\" data-x=\"1 2 3 4 5 6\" "
                                      "data-y=\"1 nan 3 4 inf 5\""));
    ck_assert_uint_eq(count(doc, "<polyline"), 1); /* 3-4; 1 and 5 stand alone */
    ck_assert_uint_eq(count(doc, "<circle"), 4);    /* few points: every finite one */
    ck_assert_ptr_nonnull(strstr(doc, "2 values not finite, not drawn"));
    free(doc);

    /* one point, and a constant series: visible, on a widened axis */
    const double one[] = {0.5};
    plot_series s1 = {"accuracy", "training", "train", x, one, 1};
    doc = draw_lines(&s1, 1, 1);
    ck_assert_uint_eq(count(doc, "<polyline"), 0);
    ck_assert_uint_eq(count(doc, "<circle"), 1);
    free(doc);
    const double flat[] = {1, 1, 1, 1, 1, 1};
    plot_series s2 = {"accuracy", "training", "train", x, flat, 6};
    doc = draw_lines(&s2, 1, 1);
    ck_assert_uint_eq(count(doc, "<polyline"), 1);
    ck_assert_ptr_nonnull(strstr(doc, ">1.00<")); /* the top tick is the ceiling, 1 */
    ck_assert_ptr_null(strstr(doc, ">1.05<"));
    free(doc);

    /* nothing finite at all, and an empty series: empty axes that say so */
    const double none[] = {NAN, INFINITY};
    plot_series s3[2] = {{"loss", "training", "train", x, none, 2},
                         {"val_loss", "validation", "val", x, none, 0}};
    doc = draw_lines(s3, 2, NAN);
    ck_assert_uint_eq(count(doc, "<polyline"), 0);
    ck_assert_ptr_nonnull(strstr(doc, "no finite values to draw"));
    ck_assert_ptr_nonnull(strstr(doc, "data-series=\"val_loss\" data-x=\"\" data-y=\"\""));
    free(doc);

    /* many points: one polyline of all of them, no dots */
    enum { N = 5000 };
    double *xs = malloc(N * sizeof *xs), *ys = malloc(N * sizeof *ys);
    for (int i = 0; i < N; i++)
        xs[i] = i + 1, ys[i] = 1.0 / (i + 1);
    plot_series s4 = {"loss", "training", "train", xs, ys, N};
    doc = draw_lines(&s4, 1, NAN);
    ck_assert_uint_eq(count(doc, "<polyline"), 1);
    ck_assert_uint_eq(count(doc, "<circle"), 0);
    const char *pts = strstr(doc, "points=\"");
    ck_assert_ptr_nonnull(pts);
    ck_assert_uint_eq(count(pts, ",") - count(strchr(pts + 8, '"'), ","), N);
    free(doc);
    free(xs);
    free(ys);
}
END_TEST

START_TEST(test_heatmap)
{
    const unsigned long long counts[] = {5, 0, 1, 0, 7, 0, 2, 0, 9};
    const char *labels[] = {"setosa", "<b>&\"x\"", "a very long class name indeed, longer than twenty"};
    plot_heatmap h = {counts, 3, 3, labels};
    double w, ht;
    plot_heatmap_size(&h, &w, &ht);
    ck_assert(w > 100 && ht > 100 && isfinite(w) && isfinite(ht));
    svg_doc d = {0};
    svg_begin(&d, w, ht, "t", plot_style);
    plot_heatmap_draw(&d, &h, 0, 0);
    ck_assert_int_eq(svg_end(&d), 0);
    assert_finite_coordinates(d.buf);
    ck_assert_uint_eq(count(d.buf, "data-count="), 9);
    char want[96];
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) {
            snprintf(want, sizeof want, "data-true=\"%d\" data-predicted=\"%d\" data-count=\"%llu\"",
                     r, c, counts[r * 3 + c]);
            ck_assert_msg(strstr(d.buf, want), "no cell %s", want);
        }
    ck_assert_uint_eq(count(d.buf, "class=\"label-true\">setosa<"), 1);
    ck_assert_uint_eq(count(d.buf, "class=\"label-predicted\">setosa<"), 1);
    ck_assert_uint_eq(count(d.buf, ">&lt;b&gt;&amp;&quot;x&quot;<"), 2);
    /* the long name: 19 characters and an ellipsis, the whole name in a tooltip */
    ck_assert_uint_eq(count(d.buf, ">a very long class n\xE2\x80\xA6</text>"), 2);
    ck_assert_uint_eq(count(d.buf, "<title>a very long class name indeed, longer than twenty</title>"), 2);
    ck_assert_ptr_nonnull(strstr(d.buf, ">true<"));
    ck_assert_ptr_nonnull(strstr(d.buf, ">predicted<"));
    ck_assert_ptr_nonnull(strstr(d.buf, "linearGradient"));
    svg_free(&d);

    /* the largest heatmap drawn: no text too small to read in the cells, and
     * every few labels only */
    enum { C = PLOT_MAX_CLASSES };
    unsigned long long *big = calloc((size_t)C * C, sizeof *big);
    const char **names = malloc(C * sizeof *names);
    char (*text)[24] = malloc(C * sizeof *text);
    for (int c = 0; c < C; c++) {
        big[(size_t)c * C + c] = 1000 + (unsigned)c;
        snprintf(text[c], sizeof text[c], "class %d", c);
        names[c] = text[c];
    }
    plot_heatmap hb = {big, C, C, names};
    plot_heatmap_size(&hb, &w, &ht);
    ck_assert(w < 1000 && ht < 1000);
    svg_begin(&d, w, ht, "t", plot_style);
    plot_heatmap_draw(&d, &hb, 0, 0);
    ck_assert_int_eq(svg_end(&d), 0);
    ck_assert_uint_eq(count(d.buf, "data-count="), (size_t)C * C);
    ck_assert_uint_eq(count(d.buf, "class=\"count"), 0);
    size_t shown = count(d.buf, "class=\"label-true\"");
    ck_assert_msg(shown >= 10 && shown < C, "%zu row labels", shown);
    svg_free(&d);
    free(big);
    free(names);
    free(text);
}
END_TEST

/* The document an XML parser reads: hostile names, non-finite data. */
START_TEST(test_well_formed)
{
    if (system("xmllint --version >/dev/null 2>&1") != 0)
        CSM_TEST_SKIP("xmllint is not installed (Debian: libxml2-utils)");
    const unsigned long long counts[] = {1, 2, 3, 4};
    const char *labels[] = {"]]><!-- \x01\xFF & 'quoted' \"", "\xC3\xA9t\xC3\xA9 </svg>"};
    plot_heatmap h = {counts, 2, 2, labels};
    const double x[] = {1, 2, 3}, y[] = {NAN, 0.5, -INFINITY};
    plot_series s = {"loss", "<&>", "train", x, y, 3};
    plot_panel p = {.x = 0, .y = 200, .w = 600, .h = 300, .x_title = "a&b", .y_title = "<y>",
                    .x_integer = 1, .y_floor = NAN, .y_ceil = NAN, .mark_x = 2,
                    .mark_label = "kept \"2\""};
    svg_doc d = {0};
    svg_begin(&d, 600, 500, labels[0], plot_style);
    plot_heading(&d, 600, labels[0], labels[1]);
    plot_heatmap_draw(&d, &h, 0, 50);
    plot_lines(&d, &p, &s, 1);
    ck_assert_int_eq(svg_end(&d), 0);
    FILE *f = popen("xmllint --noout - 2>&1", "w");
    ck_assert_ptr_nonnull(f);
    fwrite(d.buf, 1, d.len, f);
    ck_assert_int_eq(pclose(f), 0);
    svg_free(&d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("svg");
    TCase *tc = tcase_create("svg");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_escape_entities);
    tcase_add_test(tc, test_escape_utf8);
    tcase_add_test(tc, test_elements);
    tcase_add_test(tc, test_truncate);
    tcase_add_test(tc, test_ticks);
    tcase_add_test(tc, test_tick_labels);
    tcase_add_test(tc, test_lines_awkward_data);
    tcase_add_test(tc, test_heatmap);
    tcase_add_test(tc, test_well_formed);
    suite_add_tcase(s, tc);
    return csm_test_main(s, 0);
}
