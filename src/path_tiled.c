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

/* CLSOFTMAX_TILE=NV,RT,QC,KC,FTI replaces the default geometry: the tests
 * use it to reach every remainder of the kernels. The bounds keep the
 * accumulators in registers and the packed panel in local memory. */
static csm_status tile_geometry(csm_context *ctx, csm_tile *t)
{
    const char *env = getenv("CLSOFTMAX_TILE");
    if (!env || !*env)
        return CSM_OK;
    unsigned v[5];
    char end;
    if (sscanf(env, "%u,%u,%u,%u,%u%c", &v[0], &v[1], &v[2], &v[3], &v[4], &end) != 5 ||
        v[0] < 1 || v[0] > 4 || v[1] < 1 || v[1] > 8 || v[2] < 1 || v[2] > 8 || v[3] < 1 ||
        v[3] > 256 || v[4] < 1 || v[4] > 8)
        return csm_fail(ctx, CSM_ERR_INVALID_VALUE,
                        "CLSOFTMAX_TILE is '%s': expected NV,RT,QC,KC,FTI with NV 1-4, RT and QC "
                        "1-8, KC 1-256, FTI 1-8",
                        env);
    *t = (csm_tile){v[0], v[1], v[2], v[3], v[4]};
    return CSM_OK;
}

csm_status csm_tiled_init(csm_work *w, const csm_dataset *d)
{
    csm_context *ctx = w->ctx;
    const csm_tile *t = &w->tile;
    csm_status st = tile_geometry(ctx, &w->tile);  /* w->tile: the caller's */
    if (st != CSM_OK)
        return st;
    w->tiled_vec = csm_vector_width(ctx, w->prec);
    w->tiled_cp = round_up(w->C, w->tiled_vec);
    /* Gradient items: feature tiles x class chunks, enough of them to keep
     * every compute unit busy a few times over; a chunk is whole class
     * tiles. The split changes which item computes an element, never the
     * order of its sum. */
    const size_t ft = t->nv * w->tiled_vec;
    w->tiled_nfi = ((w->k + ft - 1) / ft + t->fti - 1) / t->fti;
    const size_t cu = ctx->info.compute_units ? ctx->info.compute_units : 1;
    size_t chunks = (4 * cu + w->tiled_nfi - 1) / w->tiled_nfi;
    size_t per = (w->C + chunks - 1) / chunks;
    w->tiled_cch = round_up(per, t->qc);
    w->tiled_nch = (w->C + w->tiled_cch - 1) / w->tiled_cch;
    /* logits panel: 64 KiB of WT per class tile, at home in L2 */
    const size_t kp = 65536 / (t->nv * w->tiled_vec * csm_real_size(w->prec));
    /* logits items: up to 8 row tiles each, fewer when that would leave
     * fewer than 4 items per compute unit */
    size_t tiles = (w->cap + t->rt - 1) / t->rt, mt = (tiles + 4 * cu - 1) / (4 * cu);
    w->tiled_rows = t->rt * (mt < 1 ? 1 : mt > 8 ? 8 : mt);
    char extra[192];
    snprintf(extra, sizeof extra,
             "-DX_U8=%d -DVEC=%u -DNV=%u -DRT=%u -DQC=%u -DKC=%u -DFTI=%u -DKP=%zu -DCP=%zu",
             d && d->x_u8 ? 1 : 0, w->tiled_vec, t->nv, t->rt, t->qc, t->kc, t->fti,
             kp < 16 ? (size_t)16 : kp, w->tiled_cp);
    static const char *const names[] = {"tiled_transpose", "tiled_logits", "tiled_dweight"};
    cl_kernel *ks[] = {&w->k_tiled_transpose, &w->k_tiled_logits, &w->k_tiled_dweight};
    for (size_t i = 0; i < 3 && st == CSM_OK; i++)
        st = csm_get_kernel_ex(ctx, ks[i], "tiled.cl", names[i], w->prec, w->C, w->k, extra);
    if (st == CSM_OK)
        st = csm_buffer_create(ctx, &w->wt, w->k * w->tiled_cp * csm_real_size(w->prec),
                               "transposed weights");
    if (st == CSM_OK)
        st = csm_buffer_create(ctx, &w->dbias_comp, w->C * csm_real_size(w->prec),
                               "bias gradient compensation");
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
