/* A tiny deterministic generator (splitmix64) for gradcheck's random data
 * and weights and train's --validation-split shuffle: the same seed gives
 * the same numbers on every platform. */
#include <math.h>

#include "cli.h"

uint64_t cli_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

double cli_rand_uniform(uint64_t *state)
{
    return (double)(cli_rand(state) >> 11) * 0x1.0p-53;
}

double cli_rand_normal(uint64_t *state)
{
    double u1 = cli_rand_uniform(state), u2 = cli_rand_uniform(state);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void cli_shuffle(size_t *idx, size_t n, uint64_t *state)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(cli_rand(state) % i);
        size_t tmp = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = tmp;
    }
}
