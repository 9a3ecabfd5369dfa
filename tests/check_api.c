/* The parts of the public API that need no device: the version the header
 * states against the one the library reports, and the struct_size rule of
 * the caller-allocated structures. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "clsoftmax.h"
#include "testutil.h"

/* The macros come from configure's version, csm_version() from the library
 * built in the same tree: they must agree digit for digit. */
START_TEST(test_version_macros)
{
    char text[64];
    snprintf(text, sizeof text, "%d.%d.%d", CSM_VERSION_MAJOR, CSM_VERSION_MINOR,
             CSM_VERSION_PATCH);
    ck_assert_msg(strncmp(csm_version(), text, strlen(text)) == 0, "csm_version() %s, macros %s",
                  csm_version(), text);
    ck_assert_str_eq(csm_version(), CSM_VERSION_STRING);
    ck_assert_str_eq(csm_version(), PACKAGE_VERSION);
    ck_assert_int_eq(CSM_VERSION, CSM_VERSION_MAJOR * 1000000L + CSM_VERSION_MINOR * 1000L +
                                      CSM_VERSION_PATCH);
    ck_assert(CSM_VERSION_MINOR < 1000 && CSM_VERSION_PATCH < 1000);
    /* the combined number orders versions */
    ck_assert(CSM_VERSION_NUMBER(1, 0, 0) > CSM_VERSION_NUMBER(0, 999, 999));
    ck_assert(CSM_VERSION_NUMBER(0, 2, 0) > CSM_VERSION_NUMBER(0, 1, 999));
#if CSM_VERSION < CSM_VERSION_NUMBER(0, 1, 0)
    ck_abort_msg("CSM_VERSION is not usable in #if");
#endif
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("api");
    tcase_add_test(tc, test_version_macros);
    suite_add_tcase(s, tc);
    return csm_test_main(s, 0);
}
