/* The rule for a class name that the library (model_names.c, label_names
 * set or loaded) and the command (a CSV label read for training) share: no
 * control character, since predict writes one name a line. Header-only, so
 * that the command, which cannot see the library's hidden functions, keeps
 * the same rule without a second copy. */
#ifndef CSM_NAMES_CHECK_H
#define CSM_NAMES_CHECK_H

/* Whether s (UTF-8) holds a control character: C0 (U+0000..U+001F), DEL
 * (U+007F) or C1 (U+0080..U+009F, UTF-8 C2 80..C2 9F). */
static inline int csm_has_control(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    for (; *p; p++)
        if (*p < 0x20 || *p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
            return 1;
    return 0;
}

#endif
