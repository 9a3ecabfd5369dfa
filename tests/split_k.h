/* For the split-K tests (check_ops.c, check_train.c), which link the
 * library's objects: asserts that work for this model and dataset really
 * splits the gradient GEMM into `chunks` row chunks on the CLBlast path,
 * so that a test meant for split-K cannot pass without it. */
#ifndef CSM_TEST_SPLIT_K_H
#define CSM_TEST_SPLIT_K_H

#include <check.h>

#include "ops.h"

static inline void expect_split_k(csm_model *m, const csm_dataset *d, size_t cap, size_t chunks)
{
    csm_work w;
    csm_status st = csm_work_init_data(&w, m, d, cap, 1);
    ck_assert_msg(st == CSM_OK, "work: %s", csm_context_last_error(csm_model_context(m)));
    csm_path path = w.path;
    size_t split = w.split;
    csm_work_free(&w);
    ck_assert_msg(path == CSM_PATH_CLBLAST, "the %s path, not clblast", csm_path_name(path));
    ck_assert_msg(split == chunks, "split-K into %zu chunks, not %zu", split, chunks);
}

#endif
