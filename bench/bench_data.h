/* Benchmark data: gzip-compressed IDX files (Fashion-MNIST) read with zlib,
 * or synthetic data of any shape (Fashion-MNIST's by default) that
 * bench/compare.py can regenerate bit for bit. */
#ifndef CSM_BENCH_DATA_H
#define CSM_BENCH_DATA_H

#include <stddef.h>
#include <stdint.h>

typedef struct bench_set {
    unsigned char *x; /* (n, k) pixels, feature value = byte / 255 */
    int32_t *y;       /* (n) labels */
    size_t n, k;
} bench_set;

/* Reads an IDX u8 image file (magic 0x00000803, dims n x rows x cols) and
 * its IDX u8 label file (magic 0x00000801, n). Returns 0 on success; on
 * failure returns -1 with the reason in err (out is left empty). */
int bench_load_idx(const char *images, const char *labels, bench_set *out, char *err,
                   size_t err_len);

/* Synthetic data of n rows, k features, C classes. Row r has the global
 * index g = first_row + r; with h() the splitmix64 finaliser:
 *   label(g)   = h((g << 20) | 0xFFFFF) % C
 *   noise(g,j) = h((g << 20) | j) & 255
 *   proto(c,j) = h((1 << 62) | (c << 20) | j) & 255
 *   pixel      = (proto(label, j) + 3 * noise(g, j)) / 4   (integer division)
 * Training rows start at g = 0, test rows at g = 1 << 30. Needs k < 2^20-1.
 * Returns 0, or -1 when out of memory. */
int bench_synthetic(bench_set *out, size_t n, size_t k, size_t C, uint64_t first_row);

void bench_set_free(bench_set *s);

#endif
