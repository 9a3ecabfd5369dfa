/* The parts of the public API that need no device: the version the header
 * states against the one the library reports, and the struct_size rule of
 * the public structures (csm_train() and csm_list_devices() checking it are
 * tested in check_train.c and check_device.c, which need a device). */
#include "config.h"

#include <stddef.h>
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

/* csm_train_options_init() takes the caller's sizeof: a size it does not
 * know is refused before a byte is written (an older or newer caller's
 * struct has another layout); the right one gets the defaults. */
START_TEST(test_options_struct_size)
{
    union {
        csm_train_options o;
        unsigned char bytes[sizeof(csm_train_options) + 64];
    } u;
    const size_t sizes[] = {0, 8, sizeof u.o - 8, sizeof u.o + 8, sizeof u.o + 64};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        memset(u.bytes, 0xAB, sizeof u.bytes);
        ck_assert_int_eq(csm_train_options_init(&u.o, sizes[i]), CSM_ERR_INVALID_VALUE);
        for (size_t b = 0; b < sizeof u.bytes; b++)
            ck_assert_msg(u.bytes[b] == 0xAB, "size %zu: byte %zu written", sizes[i], b);
    }
    ck_assert_int_eq(csm_train_options_init(NULL, sizeof u.o), CSM_ERR_NULL_ARGUMENT);
    ck_assert_int_eq(csm_train_options_init(&u.o, sizeof u.o), CSM_OK);
    ck_assert_uint_eq(u.o.struct_size, sizeof u.o);
    ck_assert_int_eq(u.o.solver, CSM_LBFGS);
    ck_assert_int_eq(u.o.max_iter, 1000);
    for (size_t b = sizeof u.o; b < sizeof u.bytes; b++)
        ck_assert_msg(u.bytes[b] == 0xAB, "byte %zu past the struct written", b);
}
END_TEST

/* struct_size leads every public structure: a later version can append
 * fields and still read an older caller's size at offset 0. */
START_TEST(test_struct_size_first)
{
    ck_assert_uint_eq(offsetof(csm_train_options, struct_size), 0);
    ck_assert_uint_eq(offsetof(csm_train_result, struct_size), 0);
    ck_assert_uint_eq(offsetof(csm_device_info, struct_size), 0);
    ck_assert_uint_eq(offsetof(csm_epoch_info, struct_size), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("api");
    tcase_add_test(tc, test_version_macros);
    tcase_add_test(tc, test_options_struct_size);
    tcase_add_test(tc, test_struct_size_first);
    suite_add_tcase(s, tc);
    return csm_test_main(s, 0);
}
