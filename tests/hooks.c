/* Test hooks (hooks.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hooks.h"
#include "internal.h"

void hook_limits(csm_context *ctx, size_t max_wg, unsigned long long local_mem,
                 size_t max_offset)
{
    csm_limits *l = &ctx->limits;
    if (max_wg && max_wg < l->max_wg)
        l->max_wg = max_wg;
    if (local_mem && local_mem < l->local_mem)
        l->local_mem = local_mem;
    if (max_offset && max_offset < l->max_offset)
        l->max_offset = max_offset;
}

void hook_device_type(csm_context *ctx, const char *type)
{
    snprintf(ctx->info.device_type, sizeof ctx->info.device_type, "%s", type);
}

void hook_tile(csm_context *ctx, const char *geometry)
{
    unsigned g[5];
    char end;
    if (!geometry) {
        memset(ctx->opt.tile, 0, sizeof ctx->opt.tile);
    } else {
        if (sscanf(geometry, "%u,%u,%u,%u,%u%c", &g[0], &g[1], &g[2], &g[3], &g[4], &end) != 5 ||
            g[0] < 1 || g[0] > 4 || g[1] < 1 || g[1] > 8 || g[2] < 1 || g[2] > 8 || g[3] < 1 ||
            g[3] > 256 || g[4] < 1 || g[4] > 8) {
            fprintf(stderr, "hook_tile: geometry '%s' is not NV,RT,QC,KC,FTI in range\n",
                    geometry);
            abort();
        }
        memcpy(ctx->opt.tile, g, sizeof ctx->opt.tile);
    }
    ctx->opt.generation++; /* path choices made under the old geometry go */
}

void hook_slow_floor(csm_context *ctx, double seconds) { ctx->slow_floor = seconds; }
