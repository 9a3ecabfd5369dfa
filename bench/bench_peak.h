/* The device's measured arithmetic peak: an OpenCL kernel of independent
 * FMA chains on the library context's device and queue (bench_peak.c). */
#ifndef CSM_BENCH_PEAK_H
#define CSM_BENCH_PEAK_H

#include <stddef.h>

#include "internal.h"

#define BENCH_PEAK_MAX_WIDTHS 4
#define BENCH_PEAK_CHAINS 12 /* independent FMA chains per work-item */

/* One vector width's measurement. */
typedef struct bench_peak_width {
    unsigned vec;     /* elements per vector */
    double gflops;    /* best of the repeats */
    double seconds;   /* that run's time */
    double flops;     /* per run */
} bench_peak_width;

typedef struct bench_peak {
    int supported;       /* 0: the device lacks the precision (float64) */
    unsigned preferred;  /* CL_DEVICE_PREFERRED_VECTOR_WIDTH_{FLOAT,DOUBLE} */
    size_t global, local; /* work-items per launch, per group (0: runtime's choice) */
    int chains;          /* independent FMA chains per work-item */
    int repeats;
    double gflops;       /* best over the widths */
    unsigned best_vec;
    int n_widths;
    bench_peak_width width[BENCH_PEAK_MAX_WIDTHS];
} bench_peak;

/* Measures float32 (dbl = 0) or float64 peak FMA throughput on ctx's
 * device: for vector widths 4, 8, 16 (and the preferred width when it is
 * none of those), a kernel of `chains` independent FMA chains per
 * work-item, enough work-items to fill every compute unit a few times
 * over, iterations calibrated so one launch takes about target_s, best of
 * `repeats` launches. FLOPs counted as 2 per FMA lane. Returns 0, or -1
 * with a message in err. */
int bench_peak_measure(csm_context *ctx, int dbl, double target_s, int repeats, bench_peak *out,
                       char *err, size_t err_len);

#endif
