/* Streaming overhead and transfer/compute overlap (BENCHMARKS.md,
 * "Streaming"): whole-dataset gradient passes (what every L-BFGS
 * evaluation runs) over a resident dataset; the same rows streamed under a
 * max_alloc of a quarter of their bytes, double-buffered as the library
 * does it (writes on a second queue); the same again with the writes put
 * on the compute queue itself (in order: no overlap possible, for
 * comparison); and the streamed pass's transfers alone (every chunk
 * written, nothing computed).
 *
 *   bench/clsoftmax-stream-bench IMAGES LABELS [PASSES] [float32|float64]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_data.h"
#include "internal.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(csm_context *ctx, csm_status st, const char *what)
{
    fprintf(stderr, "ERROR: %s: %s: %s\n", what, csm_status_string(st),
            ctx ? csm_context_last_error(ctx) : "");
    exit(1);
}

static csm_status nothing(void *user, const csm_dataset *chunk, size_t pos)
{
    (void)user, (void)chunk, (void)pos;
    return CSM_OK;
}

/* Seconds per pass, best of `reps` rounds of `passes` passes. */
static double time_passes(csm_model *m, csm_dataset *d, int passes, int transfers_only)
{
    const size_t C = csm_model_n_classes(m), k = csm_model_n_features(m);
    double *g = malloc((C * k + C) * sizeof *g), loss, best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now();
        for (int p = 0; p < passes; p++) {
            csm_status st = transfers_only
                                ? csm_stream_each(d, NULL, nothing, NULL, 0)
                                : csm_gradient(m, d, INFINITY, &loss, g, g + C * k);
            if (st != CSM_OK)
                die(csm_model_context(m), st, "pass");
        }
        clFinish(csm_model_context(m)->queue);
        if (csm_model_context(m)->xfer)
            clFinish(csm_model_context(m)->xfer);
        double t = (now() - t0) / passes;
        if (t < best)
            best = t;
    }
    free(g);
    return best;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s IMAGES LABELS [PASSES] [float32|float64]\n", argv[0]);
        return 2;
    }
    const int passes = argc > 3 ? atoi(argv[3]) : 10;
    const csm_precision prec = argc > 4 && !strcmp(argv[4], "float64") ? CSM_FLOAT64 : CSM_FLOAT32;
    bench_set s;
    char err[512];
    if (bench_load_idx(argv[1], argv[2], &s, err, sizeof err)) {
        fprintf(stderr, "ERROR: %s\n", err);
        return 1;
    }
    csm_context *ctx = NULL;
    csm_status st = csm_context_create(&ctx, NULL, err, sizeof err);
    if (st != CSM_OK) {
        fprintf(stderr, "ERROR: %s\n", err);
        return 1;
    }
    const size_t C = 10, bytes = s.n * s.k + s.n * sizeof(int32_t);
    csm_model *m = NULL;
    if ((st = csm_model_create(ctx, &m, prec, C, s.k)) != CSM_OK) die(ctx, st, "model");
    if ((st = csm_model_init(m, CSM_INIT_NORMAL, 1)) != CSM_OK) die(ctx, st, "init");
    csm_dataset *res = NULL, *str = NULL;
    st = csm_dataset_create(ctx, &res, prec, s.x, CSM_DTYPE_U8, s.n, s.k, s.y, NULL, C);
    if (st != CSM_OK) die(ctx, st, "resident dataset");
    char cap[32];
    snprintf(cap, sizeof cap, "%zu", bytes / 4);
    if ((st = csm_context_set_option(ctx, "max_alloc", cap)) != CSM_OK) die(ctx, st, "max_alloc");
    st = csm_dataset_create(ctx, &str, prec, s.x, CSM_DTYPE_U8, s.n, s.k, s.y, NULL, C);
    if (st != CSM_OK) die(ctx, st, "streamed dataset");
    /* first passes compile and calibrate */
    time_passes(m, res, 1, 0);
    time_passes(m, str, 1, 0);
    const double tr = time_passes(m, res, passes, 0);
    const double ts = time_passes(m, str, passes, 0);
    const double tt = time_passes(m, str, passes, 1);
    /* the writes on the compute queue: serialised with the kernels */
    clFinish(ctx->xfer);
    clReleaseCommandQueue(ctx->xfer);
    clRetainCommandQueue(ctx->queue);
    ctx->xfer = ctx->queue;
    const double t1 = time_passes(m, str, passes, 0);
    printf("%zu x %zu u8, %s, max_alloc %s bytes (a quarter of %zu): %zu chunks\n", s.n, s.k,
           prec == CSM_FLOAT64 ? "float64" : "float32", cap, bytes, csm_dataset_chunks(str));
    printf("gradient pass: resident %.1f ms; streamed %.1f ms (%.2fx), one queue %.1f ms "
           "(%.2fx); transfers alone %.1f ms\n",
           1e3 * tr, 1e3 * ts, ts / tr, 1e3 * t1, t1 / tr, 1e3 * tt);
    csm_dataset_free(res);
    csm_dataset_free(str);
    csm_model_free(m);
    csm_context_free(ctx);
    bench_set_free(&s);
    return 0;
}
