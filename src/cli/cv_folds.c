/* cv's folds: stratified as scikit-learn's StratifiedKFold(shuffle=True)
 * makes them, with the command's own seeded generator (random.c), so a
 * seed gives the same folds on every platform (not numpy's). */
#include <stdlib.h>

#include "cv.h"

int cv_assign_folds(int32_t *fold, const int32_t *y, size_t n, size_t C, size_t K,
                    uint64_t seed, size_t *least, size_t *most)
{
    size_t *count = calloc(C, sizeof *count);
    size_t *alloc = calloc(C * K, sizeof *alloc); /* (C, K) samples of class c in fold f */
    size_t *start = calloc(C + 1, sizeof *start); /* class c's folds in list[start[c]..) */
    size_t *list = malloc((n ? n : 1) * sizeof *list);
    int rc = -1;
    if (!count || !alloc || !start || !list)
        goto out;
    for (size_t i = 0; i < n; i++)
        count[y[i]]++;
    *least = 0;
    *most = 0;
    for (size_t c = 0; c < C; c++) {
        if (count[c] > 0 && (*least == 0 || count[c] < *least))
            *least = count[c];
        if (count[c] > *most)
            *most = count[c];
    }
    /* the samples sorted by class, dealt to the folds in turn */
    size_t p = 0;
    for (size_t c = 0; c < C; c++)
        for (size_t j = 0; j < count[c]; j++, p++)
            alloc[c * K + p % K]++;
    /* each class's fold labels, shuffled, then handed to its samples in
     * the order of the data */
    uint64_t rs = seed ^ 0xC5F01D5ULL;
    for (size_t c = 0; c < C; c++) {
        size_t m = start[c];
        for (size_t f = 0; f < K; f++)
            for (size_t a = 0; a < alloc[c * K + f]; a++)
                list[m++] = f;
        start[c + 1] = m;
        cli_shuffle(list + start[c], m - start[c], &rs);
    }
    for (size_t i = 0; i < n; i++)
        fold[i] = (int32_t)list[start[y[i]]++];
    rc = 0;
out:
    free(count);
    free(alloc);
    free(start);
    free(list);
    return rc;
}
