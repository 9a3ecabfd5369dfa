/* xoshiro256** seeded through splitmix64 (both public-domain algorithms by
 * Blackman and Vigna, implemented here from their description). */
#include "config.h"

#include <math.h>

#include "rng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void csm_rng_seed(csm_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

void csm_rng_seed_stream(csm_rng *r, uint64_t seed, uint64_t stream)
{
    /* splitmix64 of the stream number decorrelates neighbouring streams
     * before it is folded into the seed */
    uint64_t mix = splitmix64(&stream);
    csm_rng_seed(r, seed ^ mix);
}

uint64_t csm_rng_next(csm_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double csm_rng_uniform(csm_rng *r) { return (double)(csm_rng_next(r) >> 11) * 0x1.0p-53; }

double csm_rng_normal(csm_rng *r)
{
    double u1;
    do
        u1 = csm_rng_uniform(r);
    while (u1 <= 0.0);
    double u2 = csm_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

uint64_t csm_rng_below(csm_rng *r, uint64_t bound)
{
    /* Rejection keeps every value equally likely. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t x;
    do
        x = csm_rng_next(r);
    while (x >= limit);
    return x % bound;
}

void csm_rng_shuffle(csm_rng *r, int32_t *idx, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)csm_rng_below(r, i);
        int32_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}
