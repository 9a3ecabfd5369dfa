/* libFuzzer harness: the model-file (safetensors) parser of
 * csm_model_load() (src/model_file.c), up to where a model would be made
 * on a device: no OpenCL device is used. */
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    csm_status st = csm_model_file_check(NULL, "fuzz", data, size);
    if (st != CSM_OK && st != CSM_ERR_FORMAT && st != CSM_ERR_OUT_OF_MEMORY)
        abort(); /* a malformed file is a format error, nothing else */
    return 0;
}
