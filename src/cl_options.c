/* The "cl_options" option (CLSOFTMAX_CL_OPTIONS) adds compiler options to
 * every kernel build, for portability checks (-cl-opt-disable,
 * -cl-std=CL1.2, -Werror). It must not change what the kernels compute:
 * -DNCLASS=2 once silently built a broken model (accuracy 0.33, exit 0).
 * So a -D or -U of one of the kernels' own names is refused: a name the
 * library defines for the build (the precision, the tuning knobs) or one
 * the sources use in a preprocessor line (#if, #ifdef, #ifndef, #elif,
 * #define, #undef). Checked at each build, against that build's own
 * options and sources, so that it holds whatever defines a path adds. */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "internal.h"

/* The name of a -D or -U option at *p (advanced past it): "-DNAME=v",
 * "-D NAME=v", "-UNAME", "-U NAME". Returns the name's length (its start
 * in *name), 0 for any other option. */
static size_t next_define(const char **p, const char *end, const char **name, char *kind)
{
    const char *s = *p;
    while (s < end && isspace((unsigned char)*s))
        s++;
    const char *tok = s;
    while (s < end && !isspace((unsigned char)*s))
        s++;
    *p = s;
    if (s - tok < 2 || tok[0] != '-' || (tok[1] != 'D' && tok[1] != 'U'))
        return 0;
    *kind = tok[1];
    const char *n = tok + 2;
    if (n == s) { /* "-D NAME": the name is the next word */
        while (s < end && isspace((unsigned char)*s))
            s++;
        n = s;
        while (s < end && !isspace((unsigned char)*s))
            s++;
        *p = s;
    }
    const char *e = n;
    while (e < s && *e != '=')
        e++;
    *name = n;
    return (size_t)(e - n);
}

static int is_ident(int c)
{
    return isalnum(c) || c == '_';
}

/* Whether the identifier [name, name + len) appears in a preprocessor line
 * of src (the directives that test or set macros). */
static int in_directives(const char *src, const char *name, size_t len)
{
    for (const char *line = src; line && *line;) {
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        const char *p = line;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p < end && *p == '#') {
            for (const char *q = p + 1; q + len <= end; q++)
                if (!memcmp(q, name, len) && !is_ident((unsigned char)q[-1]) &&
                    (q + len == end || !is_ident((unsigned char)q[len])))
                    return 1;
        }
        line = nl ? nl + 1 : NULL;
    }
    return 0;
}

csm_status csm_cl_options_check(csm_context *ctx, const char *user, const char *ours,
                                 const char *const *sources, size_t n_sources)
{
    if (!user || !*user)
        return CSM_OK;
    const char *p = user, *end = user + strlen(user);
    while (p < end) {
        const char *name;
        char kind = 'D';
        size_t len = next_define(&p, end, &name, &kind);
        if (!len)
            continue;
        const char *why = NULL;
        const char *q = ours, *qend = ours + strlen(ours);
        while (!why && q < qend) {
            const char *own;
            char k;
            size_t ol = next_define(&q, qend, &own, &k);
            if (ol == len && !memcmp(own, name, len))
                why = "the library defines it for the build";
        }
        for (size_t i = 0; !why && i < n_sources; i++)
            if (in_directives(sources[i], name, len))
                why = "the kernels' sources use it";
        if (why)
            return csm_fail(ctx, CSM_ERR_INVALID_VALUE,
                            "cl_options (CLSOFTMAX_CL_OPTIONS): -%c%.*s would %s %.*s, a macro of "
                            "the kernels (%s): extra compiler options may not redefine the "
                            "kernels' own names",
                            kind, (int)len, name, kind == 'D' ? "redefine" : "undefine", (int)len,
                            name, why);
    }
    return CSM_OK;
}
