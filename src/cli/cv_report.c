/* cv's results: the mean and standard deviation over the folds of each
 * setting's held-out scores, and the best setting. */
#include <math.h>
#include <stdio.h>

#include "cv.h"

void cv_mean_std(const double *v, size_t i, size_t folds, double *mean, double *std)
{
    double sum = 0, sq = 0;
    for (size_t f = 0; f < folds; f++)
        sum += v[i * folds + f];
    *mean = sum / (double)folds;
    for (size_t f = 0; f < folds; f++) {
        double d = v[i * folds + f] - *mean;
        sq += d * d;
    }
    *std = sqrt(sq / (double)folds); /* numpy's std, as scikit-learn's cv_results_ */
}

size_t cv_best(const cv_cfg *c, const cv_scores *s)
{
    size_t best = 0;
    double best_acc = -1, sd;
    /* C ascending outside, so that the first of equal accuracies is the
     * smallest C; then the l1_ratios in the order given */
    for (size_t i = 0; i < c->n_C; i++)
        for (size_t r = 0; r < c->n_r; r++) {
            double acc;
            cv_mean_std(s->accuracy, r * c->n_C + i, s->folds, &acc, &sd);
            if (acc > best_acc) {
                best_acc = acc;
                best = r * c->n_C + i;
            }
        }
    return best;
}

void cv_print(FILE *f, const cv_cfg *c, const cv_scores *s, size_t best)
{
    double am, as, lm, ls;
    fprintf(f, "%12s %8s %10s %10s %10s %10s\n", "C", "l1_ratio", "accuracy", "std",
            "log_loss", "std");
    for (size_t r = 0; r < c->n_r; r++)
        for (size_t i = 0; i < c->n_C; i++) {
            const size_t at = r * c->n_C + i;
            cv_mean_std(s->accuracy, at, s->folds, &am, &as);
            cv_mean_std(s->log_loss, at, s->folds, &lm, &ls);
            fprintf(f, "%12g %8g %10.4f %10.4f %10.4f %10.4f\n", c->Cs[i], c->ratios[r], am, as,
                    lm, ls);
        }
    cv_mean_std(s->accuracy, best, s->folds, &am, &as);
    fprintf(f, "best: C=%g l1_ratio=%g accuracy=%.4f\n", c->Cs[best % c->n_C],
            c->ratios[best / c->n_C], am);
}
