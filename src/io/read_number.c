/* Strict number parsing for the text formats: a field is a number only if
 * all of it is (strtod alone would take "1.5abc" as 1.5, and atoi would
 * take "abc" as 0: silent wrong data). Decimal notation only: strtod also
 * takes hex floats ("0x1p3"), which no data file means. */
#include "read_internal.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *csm_num_reason(int code)
{
    switch (code) {
    case CSM_NUM_OK:
        return "ok";
    case CSM_NUM_EMPTY:
        return "empty field";
    case CSM_NUM_SYNTAX:
        return "not a number";
    case CSM_NUM_NONFINITE:
        return "not a finite number (NaN or Inf)";
    case CSM_NUM_NOT_INTEGER:
        return "not an integer";
    case CSM_NUM_RANGE:
        return "out of range";
    }
    return "invalid number";
}

/* Only these bytes can appear in a decimal number; anything else (hex
 * digits, 'x', "nan", "inf") needs a closer look. */
static int decimal_chars(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' ||
              c == '-'))
            return 0;
    }
    return 1;
}

/* Clinger's fast path: a decimal with at most 15 significant digits is an
 * exact double m, and 10^e for |e| <= 22 is exact too, so the one rounding
 * of m * 10^e or m / 10^e gives the correctly rounded value, the same
 * strtod gives, at a fraction of its cost (strtod was half the time of
 * reading a large CSV). Anything else returns 0 and goes to strtod. Needs
 * arithmetic in plain double precision (not x87's extended one). */
static int fast_decimal(const char *p, size_t n, double *out)
{
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
    static const double pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    size_t i = 0;
    int neg = 0, digits = 0, any = 0, frac = 0;
    uint64_t m = 0;
    if (i < n && (p[i] == '+' || p[i] == '-'))
        neg = p[i++] == '-';
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++, any = 1) {
        if (m == 0 && p[i] == '0')
            continue; /* leading zeros are not significant */
        if (++digits > 15)
            return 0;
        m = m * 10 + (uint64_t)(p[i] - '0');
    }
    if (i < n && p[i] == '.') {
        for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++, any = 1) {
            frac++;
            if (m == 0 && p[i] == '0')
                continue;
            if (++digits > 15)
                return 0;
            m = m * 10 + (uint64_t)(p[i] - '0');
        }
    }
    if (!any)
        return 0;
    int e = 0;
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        int eneg = 0, edigits = 0;
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            eneg = p[i++] == '-';
        for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
            if (++edigits > 4)
                return 0;
            e = e * 10 + (p[i] - '0');
        }
        if (edigits == 0)
            return 0;
        if (eneg)
            e = -e;
    }
    if (i != n)
        return 0;
    e -= frac;
    if (e < -22 || e > 22)
        return m == 0 ? (*out = neg ? -0.0 : 0.0, 1) : 0;
    double v = (double)m;
    v = e < 0 ? v / pow10[-e] : v * pow10[e];
    *out = neg ? -v : v;
    return 1;
#else
    (void)p;
    (void)n;
    (void)out;
    return 0;
#endif
}

int csm_parse_double(const char *p, size_t n, double *out)
{
    if (n == 0)
        return CSM_NUM_EMPTY;
    if (fast_decimal(p, n, out))
        return CSM_NUM_OK;
    /* strtod skips leading white space; a field that starts with it was not
     * trimmed by the caller and is not a clean number */
    if (p[0] == ' ' || p[0] == '\t' || p[0] == '\n' || p[0] == '\r' || p[0] == '\f' ||
        p[0] == '\v')
        return CSM_NUM_SYNTAX;
    char *end = NULL;
    errno = 0;
    double v = strtod(p, &end);
    if (end != p + n)
        return CSM_NUM_SYNTAX;
    if (!decimal_chars(p, n)) {
        /* "nan", "inf", "infinity" parse; say what they are */
        if (!isfinite(v))
            return CSM_NUM_NONFINITE;
        return CSM_NUM_SYNTAX; /* hex */
    }
    if (!isfinite(v))
        return CSM_NUM_RANGE; /* decimal but overflows: 1e999 */
    /* ERANGE with a finite result is underflow to (sub)normal: keep it */
    *out = v;
    return CSM_NUM_OK;
}

int csm_parse_label(const char *p, size_t n, int64_t *out)
{
    if (n == 0)
        return CSM_NUM_EMPTY;
    /* fast and exact path: [+-]digits */
    size_t i = 0;
    int neg = 0;
    if (p[0] == '+' || p[0] == '-') {
        neg = p[0] == '-';
        i = 1;
    }
    if (i < n && p[i] >= '0' && p[i] <= '9') {
        uint64_t mag = 0;
        const uint64_t limit = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
        size_t j = i;
        for (; j < n && p[j] >= '0' && p[j] <= '9'; j++) {
            unsigned d = (unsigned)(p[j] - '0');
            if (mag > (limit - d) / 10)
                return CSM_NUM_RANGE;
            mag = mag * 10 + d;
        }
        if (j == n) {
            if (neg)
                *out = mag == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)mag;
            else
                *out = (int64_t)mag;
            return CSM_NUM_OK;
        }
    }
    /* other decimal forms ("2.0", "1e3", "1.000000e+00") name an integer
     * only when the value has no fractional part */
    double v = 0.0;
    int rc = csm_parse_double(p, n, &v);
    if (rc != CSM_NUM_OK)
        return rc;
    if (v != floor(v))
        return CSM_NUM_NOT_INTEGER;
    /* beyond 2^53 a double no longer names one integer */
    if (fabs(v) > 9007199254740992.0)
        return CSM_NUM_RANGE;
    *out = (int64_t)v;
    return CSM_NUM_OK;
}
