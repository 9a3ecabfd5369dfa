/* The fused path (kernels/fused.cl): one pass over a block of rows
 * computes the logits, softmax, loss, O - T and the block's gradient while
 * the rows are in cache, 8-bit rows read as bytes; a second launch sums
 * the row groups' partial gradients in a fixed order. For few classes: the
 * kernel keeps C accumulators per row in registers. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "launch.h"
#include "path.h"

/* The kernel keeps per-class arrays in registers, built for a bound CMAX
 * of C from these buckets: a new class count within a bucket, and any
 * feature count, reuses the program. Past the last the registers run out:
 * no candidate. */
static const size_t class_buckets[] = {4, 8, 12, 16, 32, 64, 128, 256};
#define N_BUCKETS (sizeof class_buckets / sizeof *class_buckets)
#define FUSED_MAX_C 256

static size_t class_bucket(size_t C)
{
    for (size_t i = 0; i < N_BUCKETS; i++)
        if (C <= class_buckets[i])
            return class_buckets[i];
    return FUSED_MAX_C;
}
/* Geometry (FL work-items per group, RB rows per block): CPUs run one
 * work-item per group over blocks of 32 rows (a block of 8-bit rows stays
 * in L1); other devices cooperate 64 items per group over 64-row blocks.
 * Less where the device's work-group size or local memory (RB C reals)
 * falls short. */
#define CPU_FL 1
#define CPU_RB 32
#define GPU_FL 64
#define GPU_RB 64
/* Row groups of a step (fused_groups): one per default RB rows, at most
 * GROUPS of them and BUDGET bytes of partial sums. */
#define CPU_GROUPS 32
#define GPU_GROUPS 2048
#define CPU_BUDGET ((size_t)64 << 20)
#define GPU_BUDGET ((size_t)256 << 20)

typedef struct fused {
    cl_kernel k_step, k_reduce;
    size_t fl, rb;     /* work-items per group, rows per block */
    size_t jv;         /* vectors of W per feature chunk */
    size_t groups;     /* work-groups per step (at most) */
    size_t max_groups; /* the bound on them */
    size_t group_rows; /* rows per group */
    size_t rwg;        /* fused_reduce's work-group size */
    cl_mem partial;    /* (groups, C*k + C) */
    cl_mem gstats;     /* (groups) */
    cl_mem gcorrect;   /* (groups) int */
} fused;

static int fused_fits(const csm_context *ctx, const csm_shape *s)
{
    (void)ctx;
    return !s->sparse && s->C <= FUSED_MAX_C;
}

/* Row groups of a step over B rows: one per default block of rows
 * (group_rows: 32 on CPUs, 64 on GPUs, whatever RB the limits left), at
 * most max_groups. Each group sums its rows' gradient in row order and
 * fused_reduce adds the groups' sums in group order, so the result is a
 * function of B and the model's shape: the same on every device of a
 * kind, whatever its compute units. */
static size_t fused_groups(const fused *f, size_t B)
{
    size_t g = (B + f->group_rows - 1) / f->group_rows;
    if (g > f->max_groups)
        g = f->max_groups;
    return g ? g : 1;
}

/* Local memory fused_step declares for fl items over rb rows (fused.cl:
 * delta, rowid, and lsum, lcnt when fl > 1). */
static size_t local_bytes(const csm_step *w, size_t fl, size_t rb)
{
    const size_t es = csm_real_size(w->prec);
    return rb * w->C * es + rb * sizeof(cl_int) + (fl > 1 ? fl * (es + sizeof(cl_int)) : 0);
}

/* The kernels at the largest geometry the device runs: the default FL and
 * RB, else fewer rows per block (they only change how many rows share a
 * pass over W), else fewer items per group. *fits = 0 when not even one
 * item over one row runs (C too large for the device's local memory). */
static csm_status build(csm_step *w, fused *f, const csm_dataset *d, char *extra, size_t len,
                        int *fits)
{
    csm_context *ctx = w->ctx;
    const int cpu = csm_is_cpu(ctx);
    const size_t fl0 = cpu ? CPU_FL : GPU_FL, rb0 = cpu ? CPU_RB : GPU_RB;
    size_t fl = fl0, rb = rb0;
    while (fl > ctx->limits.max_wg)
        fl /= 2;
    if (rb < fl)
        rb = fl;
    const size_t es = csm_real_size(w->prec);
    const unsigned vec = csm_vector_width(ctx, w->prec);
    /* feature chunk: jv vectors of all C classes of W, about 8 KiB, stays in
     * L1 while a block of rows is multiplied by it */
    f->jv = 8192 / (w->C * vec * es);
    if (f->jv < 1)
        f->jv = 1;
    char why[160] = "";
    *fits = 0;
    for (;;) {
        const size_t bytes = local_bytes(w, fl, rb);
        if (bytes <= ctx->limits.local_mem) {
            snprintf(extra, len, "-DX_U8=%d -DFL=%zu -DRB=%zu -DVEC=%u -DCMAX=%zu",
                     d && d->x_u8 ? 1 : 0, fl, rb, vec, class_bucket(w->C));
            csm_status st = csm_get_kernel(ctx, &f->k_step, "fused.cl", "fused_step", w->prec,
                                           extra);
            if (st != CSM_OK)
                return st;
            if (csm_kernel_fits(ctx, f->k_step, fl, why, sizeof why))
                break;
        } else {
            snprintf(why, sizeof why, "%zu bytes of local memory, the device has %llu", bytes,
                     (unsigned long long)ctx->limits.local_mem);
        }
        if (rb > fl) {
            rb /= 2;
        } else if (fl > 1) {
            fl /= 2;
            rb = fl;
        } else {
            csm_log(ctx, CSM_LOG_DEBUG, "fused path cannot run C=%zu on %s: even one row needs %s",
                    w->C, ctx->info.device_name, why);
            return CSM_OK;
        }
    }
    *fits = 1;
    if (fl != fl0 || rb != rb0)
        csm_log(ctx, CSM_LOG_DEBUG,
                "fused path for C=%zu: %zu work-items x %zu rows per block (default %zu x %zu): "
                "the default needs %s",
                w->C, fl, rb, fl0, rb0, why);
    f->fl = fl;
    f->rb = rb;
    f->group_rows = rb0;
    return CSM_OK;
}

static void fused_free(csm_step *w)
{
    fused *f = w->priv;
    if (!f)
        return;
    csm_buffer_release(&f->partial);
    csm_buffer_release(&f->gstats);
    csm_buffer_release(&f->gcorrect);
    free(f);
    w->priv = NULL;
}

static csm_status fused_init(csm_step *w, const csm_dataset *d, const csm_tile *tile, int *fits)
{
    (void)tile;
    csm_context *ctx = w->ctx;
    fused *f = calloc(1, sizeof *f);
    if (!f)
        return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    w->priv = f;
    char extra[128];
    csm_status st = build(w, f, d, extra, sizeof extra, fits);
    if (st != CSM_OK || !*fits) {
        fused_free(w);
        return st;
    }
    /* At most GROUPS row groups, each with its own partial sums: as many as
     * a large CPU or GPU keeps busy, but no more than BUDGET bytes of
     * partials for wide models. Neither depends on the device's compute
     * units (see fused_groups). */
    const int cpu = csm_is_cpu(ctx);
    const size_t es = csm_real_size(w->prec), npart = w->C * w->k + w->C;
    const size_t budget = cpu ? CPU_BUDGET : GPU_BUDGET;
    f->max_groups = cpu ? CPU_GROUPS : GPU_GROUPS;
    if (f->max_groups > budget / (npart * es))
        f->max_groups = budget / (npart * es) ? budget / (npart * es) : 1;
    f->groups = fused_groups(f, w->cap);
    st = csm_buffer_create(ctx, &f->partial, f->groups * npart * es, "fused partials");
    if (st == CSM_OK)
        st = csm_buffer_create(ctx, &f->gstats, f->groups * es, "fused loss sums");
    if (st == CSM_OK)
        st = csm_buffer_create(ctx, &f->gcorrect, f->groups * sizeof(cl_int), "fused counts");
    if (st == CSM_OK)
        st = csm_get_kernel(ctx, &f->k_reduce, "fused.cl", "fused_reduce", w->prec, extra);
    if (st == CSM_OK)
        st = csm_reduce_group(ctx, f->k_reduce, "fused_reduce", &f->rwg);
    if (st != CSM_OK)
        fused_free(w);
    return st;
}

/* fused_step over the block's rows: partial sums per row group, and the
 * outputs `mode` asks for. */
static csm_status launch_step(csm_step *w, const csm_model *m, const csm_block *b, int mode,
                              double scale, size_t groups)
{
    fused *f = w->priv;
    const csm_dataset *d = b->d;
    if (b->labels && d->labels)
        mode |= CSM_HAS_LABELS;
    else if (b->targets && d->targets)
        mode |= CSM_HAS_TARGETS;
    if (b->weights && d->weights && (mode & (CSM_HAS_LABELS | CSM_HAS_TARGETS)))
        mode |= CSM_HAS_WEIGHTS;
    /* unused pointer arguments still need a valid buffer */
    csm_args a = csm_args_start(w->ctx, f->k_step, "fused_step");
    csm_arg_mem(&a, f->partial);
    csm_arg_mem(&a, f->gstats);
    csm_arg_mem(&a, f->gcorrect);
    csm_arg_mem(&a, w->logits);
    csm_arg_mem(&a, w->out);
    csm_arg_mem(&a, w->row_correct);
    csm_arg_mem(&a, d->x_u8 ? d->x_u8 : d->x);
    csm_arg_mem(&a, b->idx ? b->idx : w->row_correct);
    csm_arg_int(&a, b->idx != NULL);
    csm_arg_int(&a, (cl_int)b->start);
    csm_arg_mem(&a, d->labels ? d->labels : w->row_correct);
    csm_arg_mem(&a, d->targets ? d->targets : w->out);
    csm_arg_mem(&a, d->weights ? d->weights : w->row_loss);
    csm_arg_mem(&a, m->weight);
    csm_arg_mem(&a, m->bias);
    csm_arg_int(&a, (cl_int)b->B);
    csm_arg_int(&a, mode);
    csm_arg_real(&a, w->prec, scale);
    csm_arg_int(&a, (cl_int)w->C);
    csm_arg_int(&a, (cl_int)w->k);
    csm_arg_int(&a, (cl_int)f->jv);
    csm_arg_local(&a, f->rb * w->C * csm_real_size(w->prec));
    size_t global = groups * f->fl, local = f->fl;
    return csm_args_launch(&a, 1, &global, &local);
}

/* fused_reduce: the groups' sums in group order into dweight, dbias (with
 * grad) and stats, correct [slot]; with sumsq, ||W||^2 of the weights
 * before the step into sumsq[slot] by one more work-group (fused_step does
 * not write W): no launch of its own. */
static csm_status launch_reduce(csm_step *w, const csm_model *m, size_t slot, size_t groups,
                                int grad, int accumulate, int sumsq)
{
    fused *f = w->priv;
    const size_t rwg = f->rwg;
    size_t global = grad ? csm_round_up(w->C * w->k + w->C, rwg) : rwg, local = rwg;
    const cl_int sumsq_group = sumsq ? (cl_int)(global / rwg) : -1;
    if (sumsq)
        global += rwg;
    csm_args a = csm_args_start(w->ctx, f->k_reduce, "fused_reduce");
    csm_arg_mem(&a, w->dweight);
    csm_arg_mem(&a, w->dbias);
    csm_arg_mem(&a, w->stats);
    csm_arg_mem(&a, w->correct);
    csm_arg_mem(&a, w->sumsq);
    csm_arg_int(&a, (cl_int)slot);
    csm_arg_mem(&a, f->partial);
    csm_arg_mem(&a, f->gstats);
    csm_arg_mem(&a, f->gcorrect);
    csm_arg_mem(&a, sumsq ? m->weight : w->dweight); /* a valid buffer when unused */
    csm_arg_int(&a, (cl_int)groups);
    csm_arg_int(&a, grad);
    csm_arg_int(&a, accumulate);
    csm_arg_int(&a, sumsq_group);
    csm_arg_int(&a, (cl_int)w->C);
    csm_arg_int(&a, (cl_int)w->k);
    return csm_args_launch(&a, 1, &global, &local);
}

static csm_status fused_forward(csm_step *w, const csm_model *m, const csm_block *b, int mode,
                                size_t slot)
{
    const size_t groups = fused_groups(w->priv, b->B);
    csm_status st = launch_step(w, m, b, mode, 1.0, groups);
    return st == CSM_OK ? launch_reduce(w, m, slot, groups, 0, 0, 0) : st;
}

static csm_status fused_step(csm_step *w, const csm_model *m, const csm_block *b, double scale,
                             size_t slot, int accumulate, int sumsq)
{
    const size_t groups = fused_groups(w->priv, b->B);
    csm_status st = launch_step(w, m, b, CSM_COMPUTE_GRAD, scale, groups);
    return st == CSM_OK ? launch_reduce(w, m, slot, groups, 1, accumulate, sumsq) : st;
}

static void fused_describe(const csm_step *w, char *buf, size_t len)
{
    const fused *f = w->priv;
    csm_snprintf(buf, len, "%zu work-items x %zu rows per block", f->fl, f->rb);
}

const csm_path_ops csm_path_fused = {
    .id = CSM_PATH_FUSED,
    .flags = CSM_PATH_ROWS_IDX | CSM_PATH_TARGETS_IDX,
    .fits = fused_fits,
    .init = fused_init,
    .free = fused_free,
    .forward = fused_forward,
    .step = fused_step,
    .describe = fused_describe,
};
