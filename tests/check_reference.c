/* The oracle checked against central finite differences in double:
 * if the reference gradient is right, everything tested against it is. */
#include <math.h>
#include <stdlib.h>

#include "problem.h"
#include "reference.h"
#include "testutil.h"

/* Central differences (J(w+h) - J(w-h)) / 2h with h = 1e-6 * max(1, |w|):
 * truncation error O(h^2) ~ 1e-12 and rounding ~ eps*J/h ~ 1e-10, so a
 * relative error below 1e-6 separates right from wrong by orders of
 * magnitude (a log10 factor would be off by 2.3x, a missing term by O(1)). */
static double fd_max_rel_error(problem *p, double l2)
{
    double *dW = malloc(p->C * p->k * sizeof *dW), *db = malloc(p->C * sizeof *db);
    ref_backward(dW, db, p->X, p->y, p->T, p->W, p->b, p->n, p->k, p->C, l2);
    double worst = 0;
    for (size_t q = 0; q < p->C * p->k + p->C; q++) {
        double *param = q < p->C * p->k ? &p->W[q] : &p->b[q - p->C * p->k];
        double analytic = q < p->C * p->k ? dW[q] : db[q - p->C * p->k];
        double saved = *param, h = 1e-6 * fmax(1.0, fabs(saved));
        *param = saved + h;
        double jp = ref_loss(p->X, p->y, p->T, p->W, p->b, p->n, p->k, p->C, l2);
        *param = saved - h;
        double jm = ref_loss(p->X, p->y, p->T, p->W, p->b, p->n, p->k, p->C, l2);
        *param = saved;
        double numeric = (jp - jm) / (2 * h);
        double rel = fabs(analytic - numeric) / fmax(fmax(fabs(analytic), fabs(numeric)), 1e-6);
        if (rel > worst)
            worst = rel;
    }
    free(dW);
    free(db);
    return worst;
}

START_TEST(test_fd_labels)
{
    static const size_t shapes[][3] = {{1, 1, 2}, {7, 5, 3}, {13, 7, 2}, {20, 4, 10}};
    for (size_t s = 0; s < 4; s++) {
        problem p = problem_make(shapes[s][0], shapes[s][1], shapes[s][2], CSM_FLOAT64, 0, 11 + s);
        double err = fd_max_rel_error(&p, 0.0);
        ck_assert_msg(err < 1e-6, "shape %zu: max rel error %g", s, err);
        problem_free(&p);
    }
}
END_TEST

START_TEST(test_fd_soft_targets_l2)
{
    problem p = problem_make(9, 6, 4, CSM_FLOAT64, 1, 5);
    double err = fd_max_rel_error(&p, 0.3);
    ck_assert_msg(err < 1e-6, "max rel error %g", err);
    problem_free(&p);
}
END_TEST

/* The loss is the natural-log cross-entropy: with W = 0, b = 0 every class
 * has probability 1/C and J = ln C exactly (tolerance: 1e-15 relative). */
START_TEST(test_uniform_loss_is_ln_c)
{
    problem p = problem_make(5, 3, 7, CSM_FLOAT64, 0, 3);
    for (size_t q = 0; q < 21; q++)
        p.W[q] = 0;
    for (size_t c = 0; c < 7; c++)
        p.b[c] = 0;
    double J = ref_loss(p.X, p.y, NULL, p.W, p.b, 5, 3, 7, 0.0);
    ck_assert(csm_close(J, log(7.0), 0, 1e-15));
    problem_free(&p);
}
END_TEST

/* Extreme logits: loss stays finite, probabilities are exactly one-hot. */
START_TEST(test_extreme_logits)
{
    double X[2] = {1, -1}, W[2] = {1e4, -1e4}, b[2] = {0, 0}, o[4];
    int32_t y[2] = {1, 1};
    ref_forward(NULL, o, X, W, b, 2, 1, 2);
    ck_assert(o[0] == 1.0 && o[1] == 0.0 && o[2] == 0.0 && o[3] == 1.0);
    double J = ref_loss(X, y, NULL, W, b, 2, 1, 2, 0.0);
    ck_assert(isfinite(J));
    ck_assert(csm_close(J, 1e4, 0, 1e-12)); /* sample 0: 2e4 nats, sample 1: 0 */
}
END_TEST

/* One SGD step equals W - lr dW exactly (same operations in double). */
START_TEST(test_sgd_step)
{
    problem p = problem_make(6, 4, 3, CSM_FLOAT64, 0, 9);
    double W0[12], b0[3], dW[12], db[3];
    for (int q = 0; q < 12; q++)
        W0[q] = p.W[q];
    for (int c = 0; c < 3; c++)
        b0[c] = p.b[c];
    ref_backward(dW, db, p.X, p.y, NULL, W0, b0, 6, 4, 3, 0.1);
    ref_sgd_step(p.W, p.b, p.X, p.y, NULL, 6, 4, 3, 0.1, 0.5);
    for (int q = 0; q < 12; q++)
        ck_assert(p.W[q] == W0[q] - 0.5 * dW[q]);
    for (int c = 0; c < 3; c++)
        ck_assert(p.b[c] == b0[c] - 0.5 * db[c]);
    problem_free(&p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("reference");
    TCase *tc = tcase_create("reference");
    tcase_add_test(tc, test_fd_labels);
    tcase_add_test(tc, test_fd_soft_targets_l2);
    tcase_add_test(tc, test_uniform_loss_is_ln_c);
    tcase_add_test(tc, test_extreme_logits);
    tcase_add_test(tc, test_sgd_step);
    suite_add_tcase(s, tc);
    return csm_test_main(s, 0);
}
