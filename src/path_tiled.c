/* The tiled path: S = X W^T and dW = D^T X by our own register-blocked
 * kernels (kernels/tiled.cl) for CPU devices, where CLBlast's untuned
 * GEMMs reach a few GFLOP/s and the fused kernel's per-class registers run
 * out past a few dozen classes. The bias, softmax, loss, delta and bias
 * gradient are the CLBlast path's kernels, unchanged, and shuffled rows
 * are read in place through the permutation (only their targets are
 * gathered), as on the sparse path. */
#include "config.h"

#include <stdio.h>

#include "ops.h"

static size_t round_up(size_t v, size_t to) { return (v + to - 1) / to * to; }

/* A smaller packed panel (xpack, FTI KC NV VEC reals of local memory):
 * shorter panels first, down to 8 rows, then fewer feature tiles per item,
 * then shorter panels again. 0 when there is nothing left to take. */
static int shrink_tile(csm_tile *t)
{
    if (t->kc > 8)
        t->kc = (t->kc + 1) / 2;
    else if (t->fti > 1)
        t->fti = (t->fti + 1) / 2;
    else if (t->kc > 1)
        t->kc = (t->kc + 1) / 2;
    else
        return 0;
    return 1;
}

csm_status csm_tiled_init(csm_work *w, const csm_dataset *d, int *fits)
{
    csm_context *ctx = w->ctx;
    csm_tile *t = &w->tile;
    /* The "tile" option (CLSOFTMAX_TILE) replaces the caller's geometry:
     * the tests use it to reach every remainder of the kernels. */
    const unsigned *o = ctx->opt.tile;
    if (o[0])
        w->tile = (csm_tile){o[0], o[1], o[2], o[3], o[4]};
    const csm_tile asked = w->tile;
    const size_t es = csm_real_size(w->prec);
    csm_status st = CSM_OK;
    w->tiled_vec = csm_vector_width(ctx, w->prec);
    w->tiled_cp = round_up(w->C, w->tiled_vec);
    *fits = 0;
    char why[160] = "";
    for (;;) {
        /* Gradient items: feature tiles x class chunks, enough of them to
         * keep every compute unit busy a few times over; a chunk is whole
         * class tiles. The split changes which item computes an element,
         * never the order of its sum. */
        const size_t ft = t->nv * w->tiled_vec;
        w->tiled_nfi = ((w->k + ft - 1) / ft + t->fti - 1) / t->fti;
        const size_t cu = ctx->info.compute_units ? ctx->info.compute_units : 1;
        size_t chunks = (4 * cu + w->tiled_nfi - 1) / w->tiled_nfi;
        size_t per = (w->C + chunks - 1) / chunks;
        w->tiled_cch = round_up(per, t->qc);
        w->tiled_nch = (w->C + w->tiled_cch - 1) / w->tiled_cch;
        /* logits panel: 64 KiB of WT per class tile, at home in L2 */
        const size_t kp = 65536 / (t->nv * w->tiled_vec * es);
        /* logits items: up to 8 row tiles each, fewer when that would
         * leave fewer than 4 items per compute unit */
        const size_t tiles = (w->cap + t->rt - 1) / t->rt, mt = (tiles + 4 * cu - 1) / (4 * cu);
        w->tiled_rows = t->rt * (mt < 1 ? 1 : mt > 8 ? 8 : mt);
        const size_t bytes = (size_t)t->fti * t->kc * ft * es;
        if (bytes <= ctx->limits.local_mem) {
            char extra[192];
            snprintf(extra, sizeof extra,
                     "-DX_U8=%d -DVEC=%u -DNV=%u -DRT=%u -DQC=%u -DKC=%u -DFTI=%u -DKP=%zu "
                     "-DCP=%zu",
                     d && d->x_u8 ? 1 : 0, w->tiled_vec, t->nv, t->rt, t->qc, t->kc, t->fti,
                     kp < 16 ? (size_t)16 : kp, w->tiled_cp);
            static const char *const names[] = {"tiled_transpose", "tiled_logits",
                                                "tiled_dweight"};
            cl_kernel *ks[] = {&w->k_tiled_transpose, &w->k_tiled_logits, &w->k_tiled_dweight};
            for (size_t i = 0; i < 3 && st == CSM_OK; i++)
                st = csm_get_kernel_ex(ctx, ks[i], "tiled.cl", names[i], w->prec, w->C, w->k,
                                       extra);
            if (st != CSM_OK)
                return st;
            /* one work-item per group: only the panel can be too large */
            if (csm_kernel_fits(ctx, w->k_tiled_dweight, 1, why, sizeof why) &&
                csm_kernel_fits(ctx, w->k_tiled_logits, 1, why, sizeof why))
                break;
        } else {
            snprintf(why, sizeof why, "%zu bytes of local memory, the device has %llu", bytes,
                     (unsigned long long)ctx->limits.local_mem);
        }
        if (!shrink_tile(t)) {
            csm_log(ctx, CSM_LOG_DEBUG, "tiled path cannot run C=%zu on %s: even one row needs %s",
                    w->C, ctx->info.device_name, why);
            return CSM_OK;
        }
    }
    *fits = 1;
    if (t->kc != asked.kc || t->fti != asked.fti)
        csm_log(ctx, CSM_LOG_DEBUG,
                "tiled path for C=%zu: panels of %u rows, %u feature tiles per item (asked %u, "
                "%u): those need %s",
                w->C, t->kc, t->fti, asked.kc, asked.fti, why);
    st = csm_buffer_create(ctx, &w->wt, w->k * w->tiled_cp * es, "transposed weights");
    if (st == CSM_OK)
        st = csm_buffer_create(ctx, &w->dbias_comp, w->C * es, "bias gradient compensation");
    return st;
}

static cl_mem block_x(const csm_block *b)
{
    return b->d->x_u8 ? b->d->x_u8 : b->d->x;
}

csm_status csm_tiled_enqueue_logits(csm_work *w, csm_model *m, const csm_block *b)
{
    // logits (B, C) = X_rows (B, k) . W (C, k)^T, through WT (k, CP) packed by class tiles
    csm_context *ctx = w->ctx;
    cl_kernel k = w->k_tiled_transpose;
    csm_status st = csm_set_arg(ctx, k, 0, sizeof(cl_mem), &w->wt);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 1, sizeof(cl_mem), &m->weight);
    size_t tg[2] = {round_up(w->tiled_cp, CSM_WG), w->k};
    if (st == CSM_OK) st = csm_launch(ctx, k, 2, tg, NULL, "tiled_transpose");

    k = w->k_tiled_logits;
    cl_mem x = block_x(b);
    cl_mem idx = b->idx ? b->idx : w->row_correct; /* unused without a permutation */
    cl_int use_idx = b->idx != NULL, start = (cl_int)b->start, B = (cl_int)b->B;
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 0, sizeof(cl_mem), &w->logits);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 1, sizeof(cl_mem), &x);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 2, sizeof(cl_mem), &idx);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 3, sizeof use_idx, &use_idx);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 4, sizeof start, &start);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 5, sizeof B, &B);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 6, sizeof(cl_mem), &w->wt);
    cl_int rows = (cl_int)w->tiled_rows;
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 7, sizeof rows, &rows);
    size_t global = (b->B + w->tiled_rows - 1) / w->tiled_rows, local = 1;
    if (st == CSM_OK) st = csm_launch(ctx, k, 1, &global, &local, "tiled_logits");
    return st;
}

csm_status csm_tiled_enqueue_grad(csm_work *w, const csm_block *b, int accumulate)
{
    // dweight (C, k) (+)= delta (B, C)^T . X_rows (B, k); dbias (C) (+)= delta^T 1
    csm_context *ctx = w->ctx;
    cl_kernel k = w->k_tiled_dweight;
    cl_mem x = block_x(b);
    cl_mem idx = b->idx ? b->idx : w->row_correct;
    cl_int use_idx = b->idx != NULL, start = (cl_int)b->start, B = (cl_int)b->B,
           cch = (cl_int)w->tiled_cch, acc = accumulate;
    csm_status st = csm_set_arg(ctx, k, 0, sizeof(cl_mem), &w->dweight);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 1, sizeof(cl_mem), &w->dbias);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 2, sizeof(cl_mem), &w->dbias_comp);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 3, sizeof(cl_mem), &w->out);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 4, sizeof(cl_mem), &x);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 5, sizeof(cl_mem), &idx);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 6, sizeof use_idx, &use_idx);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 7, sizeof start, &start);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 8, sizeof B, &B);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 9, sizeof cch, &cch);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 10, sizeof acc, &acc);
    size_t global[2] = {w->tiled_nfi, w->tiled_nch}, local[2] = {1, 1};
    if (st == CSM_OK) st = csm_launch(ctx, k, 2, global, local, "tiled_dweight");
    return st;
}
