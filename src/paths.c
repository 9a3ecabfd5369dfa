/* The table of paths (path.h) and the order in which they stand in for
 * each other when one does not fit the device. */
#include "config.h"

#include "path.h"

static const csm_path_ops *const table[CSM_N_PATHS] = {
    [CSM_PATH_CLBLAST] = &csm_path_clblast,
    [CSM_PATH_FUSED] = &csm_path_fused,
    [CSM_PATH_SPARSE] = &csm_path_sparse,
    [CSM_PATH_TILED] = &csm_path_tiled,
};

const csm_path_ops *csm_path_get(csm_path id)
{
    return (unsigned)id < CSM_N_PATHS ? table[id] : NULL;
}

/* The tiled kernels need little local memory and CLBlast sizes its own:
 * the fused path hands over to the tiled one on CPUs (its kernels are
 * written for them) and to CLBlast elsewhere, the tiled path to CLBlast. */
const csm_path_ops *csm_path_fallback(const csm_context *ctx, csm_path id)
{
    switch (id) {
    case CSM_PATH_FUSED: return csm_is_cpu(ctx) ? &csm_path_tiled : &csm_path_clblast;
    case CSM_PATH_TILED: return &csm_path_clblast;
    default: return NULL;
    }
}
