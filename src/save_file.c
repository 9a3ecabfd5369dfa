/* The library's way to replace a file whole (csm_model_save): the
 * context-free replace_file.c, its errors and notices turned into the
 * context's. */
#include "config.h"

#include "internal.h"

static void log_info(const char *message, void *user)
{
    csm_log((csm_context *)user, CSM_LOG_INFO, "%s", message);
}

csm_status csm_replace_file(csm_context *ctx, const char *path, const void *data, size_t len,
                            int flags)
{
    char err[CSM_REPLACE_ERR_LEN] = "";
    switch (csm_replace_file_raw(err, sizeof err, path, data, len, flags, log_info, ctx)) {
    case CSM_REPLACE_OK:
        return CSM_OK;
    case CSM_REPLACE_FAIL_MEMORY:
        return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "%s", err);
    default:
        return csm_fail(ctx, CSM_ERR_IO, "%s", err);
    }
}
