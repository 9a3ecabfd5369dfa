/* Seeded pseudo-random numbers: the same seed gives the same weights and
 * the same shuffles on every platform. */
#ifndef CSM_RNG_H
#define CSM_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct csm_rng {
    uint64_t s[4];
} csm_rng;

void csm_rng_seed(csm_rng *r, uint64_t seed);
/* An independent stream per (seed, stream): e.g. one per epoch, so epoch
 * e's shuffle depends on the seed and e alone, not on the epochs before. */
void csm_rng_seed_stream(csm_rng *r, uint64_t seed, uint64_t stream);
uint64_t csm_rng_next(csm_rng *r);
/* Uniform in [0, 1). */
double csm_rng_uniform(csm_rng *r);
/* Standard normal (Box-Muller). */
double csm_rng_normal(csm_rng *r);
/* Uniform integer in [0, bound), without modulo bias. */
uint64_t csm_rng_below(csm_rng *r, uint64_t bound);
/* Fisher-Yates shuffle of idx (n). */
void csm_rng_shuffle(csm_rng *r, int32_t *idx, size_t n);

#endif
