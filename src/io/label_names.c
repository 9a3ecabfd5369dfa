/* String labels: the distinct label texts of a CSV file (`setosa`,
 * `virginica`), interned while reading by an open-addressing hash table,
 * then sorted by bytes so that the classes are numbered the same way for
 * every file that holds the same names. */
#include "read_internal.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* Doubles the slot table (kept at most half full) and re-inserts. */
static int rehash(csm_label_dict *d)
{
    size_t n_slots = d->n_slots ? 2 * d->n_slots : 64;
    if (n_slots > SIZE_MAX / sizeof(size_t))
        return -1;
    size_t *slots = calloc(n_slots, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < d->n; i++) {
        size_t at = (size_t)(hash_bytes(d->names[i], strlen(d->names[i])) & (n_slots - 1));
        while (slots[at])
            at = (at + 1) & (n_slots - 1);
        slots[at] = i + 1;
    }
    free(d->slots);
    d->slots = slots;
    d->n_slots = n_slots;
    return 0;
}

int csm_label_dict_add(csm_label_dict *d, const char *s, size_t len, int64_t *index)
{
    if (memchr(s, '\0', len))
        return -1;
    if (2 * (d->n + 1) > d->n_slots && rehash(d) < 0)
        return -1;
    size_t at = (size_t)(hash_bytes(s, len) & (d->n_slots - 1));
    while (d->slots[at]) {
        const char *name = d->names[d->slots[at] - 1];
        if (strlen(name) == len && memcmp(name, s, len) == 0) {
            *index = (int64_t)(d->slots[at] - 1);
            return 0;
        }
        at = (at + 1) & (d->n_slots - 1);
    }
    if (csm_grow((void **)&d->names, &d->cap, d->n + 1, sizeof *d->names) < 0)
        return -1;
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, s, len);
    copy[len] = '\0';
    d->names[d->n] = copy;
    d->slots[at] = d->n + 1;
    *index = (int64_t)d->n;
    d->n++;
    return 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(**(char *const *const *)a, **(char *const *const *)b);
}

int csm_label_dict_finish(csm_label_dict *d, int64_t *labels, size_t n, char ***names,
                          size_t *n_names)
{
    size_t m = d->n;
    char ***order = malloc((m > 0 ? m : 1) * sizeof *order);
    int64_t *rank = malloc((m > 0 ? m : 1) * sizeof *rank);
    char **sorted = malloc((m > 0 ? m : 1) * sizeof *sorted);
    if (!order || !rank || !sorted) {
        free(order);
        free(rank);
        free(sorted);
        return -1;
    }
    /* sort pointers to the slots, so the old index is their offset */
    for (size_t i = 0; i < m; i++)
        order[i] = &d->names[i];
    qsort(order, m, sizeof *order, cmp_name);
    for (size_t r = 0; r < m; r++) {
        rank[order[r] - d->names] = (int64_t)r;
        sorted[r] = *order[r];
    }
    for (size_t i = 0; i < n; i++)
        labels[i] = rank[labels[i]];
    free(order);
    free(rank);
    free(d->names);
    free(d->slots);
    memset(d, 0, sizeof *d);
    *names = sorted;
    *n_names = m;
    return 0;
}

void csm_label_dict_free(csm_label_dict *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->names[i]);
    free(d->names);
    free(d->slots);
    memset(d, 0, sizeof *d);
}
