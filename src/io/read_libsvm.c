/* libsvm / svmlight reader: "LABEL INDEX:VALUE ..." per line, indices from
 * 1 and strictly increasing, '#' starting a comment. The pairs go straight
 * into CSR arrays (0-based columns), so memory follows the non-zeros, never
 * n x k: a one-line file naming feature 100000000 costs a few bytes.
 * csm_read_table densifies afterwards when the storage asks for it. */
#include "read_internal.h"

#include <stdlib.h>
#include <string.h>

/* Indices travel as 32-bit values and kernels index features with int:
 * a larger index is a malformed file, not a real feature space. */
#define CSM_LIBSVM_MAX_INDEX 2147483647u

typedef struct svm_state {
    int32_t *col;     /* (nnz) 0-based feature index */
    double *val;      /* (nnz) */
    int64_t *row_ptr; /* (n + 1) */
    int64_t *y;       /* (n) */
    uint32_t *skipped; /* (n_skipped) 1-based indices beyond n_features (skip_extra_features) */
    size_t nnz, n, n_skipped, cap_col, cap_val, cap_rows, cap_y, cap_skipped;
    uint32_t max_index;
    int unlabeled;     /* -1 undecided (the first line decides), 0 labels, 1 none */
} svm_state;

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Cuts the next whitespace-separated token out of [*p, end) and
 * NUL-terminates it. Returns 0 when none is left. */
static int next_token(char **p, char *end, char **tok, size_t *n)
{
    char *s = *p;
    while (s < end && is_space(*s))
        s++;
    if (s == end)
        return 0;
    char *e = s;
    while (e < end && !is_space(*e))
        e++;
    *e = '\0'; /* a space, or the NUL already ending the line */
    *tok = s;
    *n = (size_t)(e - s);
    *p = e < end ? e + 1 : end;
    return 1;
}

/* A 1-based feature index: digits only, no sign. Returns 0 with *out set,
 * -1 if not digits, 1 if it exceeds `limit` (*out then the saturated
 * value). */
static int parse_index(const char *p, size_t n, uint64_t limit, uint64_t *out)
{
    if (n == 0)
        return -1;
    uint64_t v = 0;
    int over = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        if (!over) {
            v = v * 10 + (uint64_t)(p[i] - '0');
            if (v > limit)
                over = 1;
        }
    }
    *out = v;
    return over;
}

/* A pair beyond the feature count, kept only to count it and its feature. */
static int skip_pair(svm_state *st, uint32_t index)
{
    if (csm_grow((void **)&st->skipped, &st->cap_skipped, st->n_skipped + 1,
                 sizeof *st->skipped) < 0)
        return -1;
    st->skipped[st->n_skipped++] = index;
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Distinct values of v[0..n) (sorted in place). */
static size_t count_distinct(uint32_t *v, size_t n)
{
    if (n == 0)
        return 0; /* v may be NULL then, which qsort must not get (UBSan, fuzz/fuzz_libsvm) */
    qsort(v, n, sizeof *v, cmp_u32);
    size_t d = 0;
    for (size_t i = 0; i < n; i++)
        d += i == 0 || v[i] != v[i - 1];
    return d;
}

/* Gives back the slack of geometric growth: the arrays live as long as the
 * table, which is the largest thing the command holds. */
static void *shrink(void *p, size_t n, size_t size)
{
    void *q = realloc(p, (n > 0 ? n : 1) * size);
    return q ? q : p;
}

static int parse_line(csm_stream *s, const csm_read_options *opt, svm_state *st, char *line,
                      size_t len)
{
    char q[64], q2[64];
    char *p = line, *end = line + len, *tok;
    size_t tn;
    if (!next_token(&p, end, &tok, &tn))
        return 0; /* blank or comment-only line */

    if (csm_grow((void **)&st->y, &st->cap_y, st->n + 1, sizeof *st->y) < 0 ||
        csm_grow((void **)&st->row_ptr, &st->cap_rows, st->n + 2, sizeof *st->row_ptr) < 0)
        return csm_fail_line(s, "out of memory after %zu samples", st->n);
    if (st->unlabeled == -1)
        st->unlabeled = opt->no_labels == 1 || (opt->no_labels == -1 && memchr(tok, ':', tn));
    int rc = CSM_NUM_OK;
    st->y[st->n] = 0;
    if (st->unlabeled)
        p = tok; /* the first token is a feature: read it again below */
    else
        rc = csm_parse_label(tok, tn, &st->y[st->n]);
    if (rc != CSM_NUM_OK) {
        const char *hint = memchr(tok, ':', tn) ? " (the line must start with the label)" : "";
        return csm_fail_line(s, "label %s: %s%s", csm_quote(q, sizeof q, tok, tn),
                             csm_num_reason(rc), hint);
    }

    int by_count = opt->n_features > 0 && opt->n_features <= CSM_LIBSVM_MAX_INDEX;
    int skip = by_count && opt->skip_extra_features;
    /* when skipping, indices past the count are read (and skipped) too */
    uint64_t limit = by_count && !skip ? (uint64_t)opt->n_features : CSM_LIBSVM_MAX_INDEX;
    uint64_t prev = 0;
    int first = !st->unlabeled;
    if (st->unlabeled)
        tok[tn] = tn < (size_t)(end - tok) ? ' ' : '\0'; /* undo next_token's cut */
    while (next_token(&p, end, &tok, &tn)) {
        char *colon = memchr(tok, ':', tn);
        if (!colon)
            return csm_fail_line(s, "expected INDEX:VALUE, got %s",
                                 csm_quote(q, sizeof q, tok, tn));
        size_t in = (size_t)(colon - tok);
        /* svmlight's query id, allowed right after the label; not a feature */
        if (first && in == 3 && memcmp(tok, "qid", 3) == 0) {
            int64_t qid;
            first = 0;
            if (csm_parse_label(colon + 1, tn - 4, &qid) != CSM_NUM_OK)
                return csm_fail_line(s, "bad query id %s", csm_quote(q, sizeof q, tok, tn));
            continue;
        }
        first = 0;
        uint64_t index = 0;
        int ir = parse_index(tok, in, limit, &index);
        if (ir < 0)
            return csm_fail_line(s, "bad feature index %s in %s (expected a positive integer)",
                                 csm_quote(q, sizeof q, tok, in),
                                 csm_quote(q2, sizeof q2, tok, tn));
        if (ir > 0) {
            if (by_count)
                return csm_fail_line(s, "feature index %s exceeds the feature count %zu",
                                     csm_quote(q, sizeof q, tok, in), opt->n_features);
            return csm_fail_line(s, "feature index %s is too large (at most %u)",
                                 csm_quote(q, sizeof q, tok, in), CSM_LIBSVM_MAX_INDEX);
        }
        if (index == 0)
            return csm_fail_line(s, "feature index 0 (indices start at 1)");
        if (index == prev)
            return csm_fail_line(s, "duplicate feature index %llu", (unsigned long long)index);
        if (index < prev)
            return csm_fail_line(s, "feature index %llu after %llu (indices must be strictly "
                                    "increasing)",
                                 (unsigned long long)index, (unsigned long long)prev);
        prev = index;
        double v;
        size_t vn = tn - in - 1;
        rc = csm_parse_double(colon + 1, vn, &v);
        if (rc != CSM_NUM_OK)
            return csm_fail_line(s, "feature %llu: %s %s", (unsigned long long)index,
                                 csm_num_reason(rc), csm_quote(q, sizeof q, colon + 1, vn));
        if (skip && index > opt->n_features) {
            if (skip_pair(st, (uint32_t)index) < 0)
                return csm_fail_line(s, "out of memory after %zu skipped feature values",
                                     st->n_skipped);
            continue;
        }
        if (csm_grow((void **)&st->col, &st->cap_col, st->nnz + 1, sizeof *st->col) < 0 ||
            csm_grow((void **)&st->val, &st->cap_val, st->nnz + 1, sizeof *st->val) < 0)
            return csm_fail_line(s, "out of memory after %zu feature values", st->nnz);
        st->col[st->nnz] = (int32_t)(index - 1);
        st->val[st->nnz] = v;
        st->nnz++;
        if (index > st->max_index)
            st->max_index = (uint32_t)index;
    }
    st->row_ptr[st->n + 1] = (int64_t)st->nnz;
    st->n++;
    return 0;
}

int csm_read_libsvm(csm_stream *s, const csm_read_options *opt, csm_table *out)
{
    svm_state st;
    memset(&st, 0, sizeof st);
    st.unlabeled = -1;
    size_t k = 0;
    int rc, ok = 0;
    char *line;
    size_t len;
    if (csm_grow((void **)&st.row_ptr, &st.cap_rows, 1, sizeof *st.row_ptr) < 0) {
        csm_fail_file(s->err, s->err_len, s->path, "out of memory");
        goto done;
    }
    st.row_ptr[0] = 0;
    while ((rc = csm_stream_line(s, &line, &len)) > 0) {
        char *hash = memchr(line, '#', len);
        if (hash) {
            *hash = '\0';
            len = (size_t)(hash - line);
        }
        if (parse_line(s, opt, &st, line, len) < 0)
            goto done;
    }
    if (rc < 0)
        goto done;
    if (st.n == 0) {
        s->line++;
        csm_fail_line(s, "no samples%s", s->line == 1 ? " (the file is empty)"
                                                     : " (only comments and blank lines)");
        goto done;
    }
    k = opt->n_features > 0 ? opt->n_features : st.max_index;
    if (k == 0) {
        csm_fail_file(s->err, s->err_len, s->path,
                      "no features: no sample has an INDEX:VALUE pair");
        goto done;
    }
    ok = 1;
done:
    if (!ok) {
        free(st.col);
        free(st.val);
        free(st.row_ptr);
        free(st.y);
        free(st.skipped);
        return -1;
    }
    out->n = st.n;
    out->k = k;
    out->dtype = CSM_DTYPE_F64;
    out->features = NULL;
    out->labels = shrink(st.y, st.n, sizeof *st.y);
    out->sparse = 1;
    out->nnz = st.nnz;
    out->row_ptr = shrink(st.row_ptr, st.n + 1, sizeof *st.row_ptr);
    out->col_idx = shrink(st.col, st.nnz, sizeof *st.col);
    out->values = shrink(st.val, st.nnz, sizeof *st.val);
    out->skipped_nnz = st.n_skipped;
    out->skipped_features = count_distinct(st.skipped, st.n_skipped);
    out->unlabeled = st.unlabeled == 1;
    free(st.skipped);
    return 0;
}
