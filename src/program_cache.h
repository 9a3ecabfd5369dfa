/* Built programs kept on disk between runs (program_cache.c); program.c
 * asks here before it builds from source. */
#ifndef CSM_PROGRAM_CACHE_H
#define CSM_PROGRAM_CACHE_H

#include "internal.h"

/* The program built from srcs with options, loaded from the kept binary
 * and built (linked) for the context's device; NULL when there is none,
 * or it is not usable (then build from source). *seen: 1 when an earlier
 * run built it (a mark or a binary was there). */
cl_program csm_program_cache_load(csm_context *ctx, const char *options, const char *const *srcs,
                                  size_t n_srcs, int *seen);
/* After a build from source: keeps prog's binary for the next run when
 * `seen`, else only the mark; failures only logged (debug). */
void csm_program_cache_store(csm_context *ctx, cl_program prog, const char *options,
                             const char *const *srcs, size_t n_srcs, int seen);

#endif
