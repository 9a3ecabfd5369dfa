/* For the split-K tests (check_ops.c, check_train.c), which link the
 * library's objects: asserts that a step for this model and dataset really
 * splits the gradient GEMM into `chunks` row chunks on the CLBlast path,
 * so that a test meant for split-K cannot pass without it. */
#ifndef CSM_TEST_SPLIT_K_H
#define CSM_TEST_SPLIT_K_H

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "choose.h"

static inline void expect_split_k(csm_model *m, const csm_dataset *d, size_t cap, size_t chunks)
{
    csm_step w;
    csm_status st = csm_bind_step(&w, m, d, cap, 1, CSM_MEASURE_NEVER);
    ck_assert_msg(st == CSM_OK, "step: %s", csm_context_last_error(csm_model_context(m)));
    char what[96], want[96];
    csm_step_describe(&w, what, sizeof what);
    csm_step_free(&w);
    snprintf(want, sizeof want, "clblast gradient GEMM in %zu row chunks", chunks);
    ck_assert_msg(!strcmp(what, want), "%s, not %s", what, want);
}

#endif
