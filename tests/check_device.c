/* Device selection (CLSOFTMAX_DEVICE), kernel loading errors. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "clsoftmax.h"

START_TEST(test_list_devices)
{
    size_t count = 0;
    ck_assert_int_eq(csm_list_devices(NULL, 0, &count, NULL, 0), CSM_OK);
    ck_assert_uint_ge(count, 1);
    csm_device_info *list = calloc(count, sizeof *list);
    list[0].struct_size = sizeof *list;
    size_t again = 0;
    ck_assert_int_eq(csm_list_devices(list, count, &again, NULL, 0), CSM_OK);
    ck_assert_uint_eq(again, count);
    for (size_t i = 0; i < count; i++) {
        char sel[32];
        snprintf(sel, sizeof sel, "%u:%u", list[i].platform_index, list[i].device_index);
        ck_assert_str_eq(list[i].selector, sel);
        ck_assert(list[i].device_name[0] != '\0');
        /* the index selector of each device picks exactly that device */
        size_t idx = 99;
        ck_assert_int_eq(csm_select_device(list[i].selector, &idx, NULL, 0), CSM_OK);
        ck_assert_uint_eq(idx, i);
    }
    free(list);
}
END_TEST

/* The list is written at the library's stride, so a struct_size other than
 * its own is refused before anything is written, with a message that says
 * what to do; every entry written carries the size. */
START_TEST(test_list_devices_struct_size)
{
    csm_device_info list[2];
    char err[1024] = "";
    size_t count = 0;
    memset(list, 0, sizeof list);
    ck_assert_int_eq(csm_list_devices(list, 2, &count, err, sizeof err), CSM_ERR_INVALID_VALUE);
    ck_assert_msg(strstr(err, "struct_size is 0") && strstr(err, "sizeof(csm_device_info)"), "%s",
                  err);
    ck_assert(list[0].device_name[0] == '\0');
    list[0].struct_size = sizeof list[0] + 16;
    ck_assert_int_eq(csm_list_devices(list, 2, &count, err, sizeof err), CSM_ERR_INVALID_VALUE);
    /* counting only needs no struct */
    ck_assert_int_eq(csm_list_devices(NULL, 0, &count, err, sizeof err), CSM_OK);
    ck_assert_int_eq(csm_list_devices(list, 0, &count, err, sizeof err), CSM_OK);
    list[0].struct_size = sizeof list[0];
    ck_assert_int_eq(csm_list_devices(list, 2, &count, err, sizeof err), CSM_OK);
    for (size_t i = 0; i < count && i < 2; i++)
        ck_assert_uint_eq(list[i].struct_size, sizeof list[i]);
}
END_TEST

START_TEST(test_selector_forms)
{
    csm_device_info first = {.struct_size = sizeof first};
    size_t count = 0, idx = 99;
    ck_assert_int_eq(csm_list_devices(&first, 1, &count, NULL, 0), CSM_OK);
    unsetenv("CLSOFTMAX_DEVICE");
    ck_assert_int_eq(csm_select_device(NULL, &idx, NULL, 0), CSM_OK);
    ck_assert_uint_eq(idx, 0);
    setenv("CLSOFTMAX_DEVICE", "", 1);
    ck_assert_int_eq(csm_select_device(NULL, &idx, NULL, 0), CSM_OK);
    ck_assert_uint_eq(idx, 0);
    /* platform index alone, type, case-insensitive name parts */
    char sel[300];
    snprintf(sel, sizeof sel, "%u", first.platform_index);
    ck_assert_int_eq(csm_select_device(sel, &idx, NULL, 0), CSM_OK);
    snprintf(sel, sizeof sel, "%u:%s", first.platform_index, first.device_type);
    ck_assert_int_eq(csm_select_device(sel, &idx, NULL, 0), CSM_OK);
    char part[8] = "";
    for (int i = 0; i < 4 && first.platform_name[i]; i++)
        part[i] = (char)toupper((unsigned char)first.platform_name[i]);
    snprintf(sel, sizeof sel, "%s:%.5s", part, first.device_name);
    ck_assert_msg(csm_select_device(sel, &idx, NULL, 0) == CSM_OK, "selector '%s'", sel);
    ck_assert_uint_eq(idx, 0);
    /* the variable is used when no selector is given, and a selector wins */
    setenv("CLSOFTMAX_DEVICE", first.selector, 1);
    ck_assert_int_eq(csm_select_device(NULL, &idx, NULL, 0), CSM_OK);
    ck_assert_uint_eq(idx, 0);
    setenv("CLSOFTMAX_DEVICE", "no-such-device-xyz", 1);
    ck_assert_int_eq(csm_select_device(NULL, &idx, NULL, 0), CSM_ERR_DEVICE_NOT_FOUND);
    ck_assert_int_eq(csm_select_device(first.selector, &idx, NULL, 0), CSM_OK);
    unsetenv("CLSOFTMAX_DEVICE");
}
END_TEST

/* An unknown device fails with the list of devices and their selectors. */
START_TEST(test_unknown_device_lists_devices)
{
    csm_device_info first = {.struct_size = sizeof first};
    size_t count = 0;
    ck_assert_int_eq(csm_list_devices(&first, 1, &count, NULL, 0), CSM_OK);
    setenv("CLSOFTMAX_DEVICE", "no-such-platform:42", 1);
    csm_context *ctx = (csm_context *)1;
    char err[4096];
    ck_assert_int_eq(csm_context_create(&ctx, NULL, err, sizeof err), CSM_ERR_DEVICE_NOT_FOUND);
    ck_assert_ptr_null(ctx);
    ck_assert_msg(strstr(err, "no-such-platform:42") != NULL, "%s", err);
    char want[64];
    snprintf(want, sizeof want, "CLSOFTMAX_DEVICE=%s", first.selector);
    ck_assert_msg(strstr(err, want) != NULL, "%s", err);
    ck_assert_msg(strstr(err, first.device_name) != NULL, "%s", err);
    /* also through the explicit selector, and for gpu on a cpu-only box etc. */
    ck_assert_int_eq(csm_context_create(&ctx, "0:7777", err, sizeof err), CSM_ERR_DEVICE_NOT_FOUND);
    ck_assert_int_eq(csm_context_create(&ctx, "0:0:0", err, sizeof err), CSM_ERR_DEVICE_NOT_FOUND);
    ck_assert_msg(strstr(err, "malformed") != NULL, "%s", err);
    /* without an error buffer: the status only (this crashed once) */
    ck_assert_int_eq(csm_context_create(&ctx, "no-such-platform:42", NULL, 0),
                     CSM_ERR_DEVICE_NOT_FOUND);
    ck_assert_int_eq(csm_context_create(&ctx, "0:0:0", NULL, 0), CSM_ERR_DEVICE_NOT_FOUND);
    size_t idx = 0;
    ck_assert_int_eq(csm_select_device("no-such-platform:42", &idx, NULL, 0),
                     CSM_ERR_DEVICE_NOT_FOUND);
    unsetenv("CLSOFTMAX_DEVICE");
}
END_TEST

/* The context is on the device CLSOFTMAX_DEVICE selects (CI: "0:cpu"; unset:
 * the first), whichever that is here. */
START_TEST(test_context_info)
{
    size_t count = 0, idx = 0;
    char err[4096];
    ck_assert_int_eq(csm_list_devices(NULL, 0, &count, NULL, 0), CSM_OK);
    csm_device_info *list = calloc(count, sizeof *list);
    list[0].struct_size = sizeof *list;
    ck_assert_int_eq(csm_list_devices(list, count, &count, NULL, 0), CSM_OK);
    ck_assert_msg(csm_select_device(NULL, &idx, err, sizeof err) == CSM_OK, "%s", err);
    ck_assert_uint_lt(idx, count);
    csm_context *ctx = NULL;
    ck_assert_int_eq(csm_context_create(&ctx, NULL, err, sizeof err), CSM_OK);
    const csm_device_info *info = csm_context_device(ctx);
    ck_assert_ptr_nonnull(info);
    ck_assert_uint_eq(info->struct_size, sizeof *info);
    ck_assert_str_eq(info->selector, list[idx].selector);
    ck_assert_str_eq(info->device_name, list[idx].device_name);
    ck_assert_str_eq(info->platform_name, list[idx].platform_name);
    free(list);
    ck_assert_str_eq(csm_context_last_error(ctx), "");
    csm_context_free(ctx);
    ck_assert_int_eq(csm_context_create(NULL, NULL, err, sizeof err), CSM_ERR_NULL_ARGUMENT);
}
END_TEST

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* Missing kernels: the error names every path tried. */
START_TEST(test_missing_kernel_names_paths)
{
    setenv("CLSOFTMAX_KERNEL_DIR", "/nonexistent/kernels-dir", 1);
    csm_context *ctx = NULL;
    ck_assert_int_eq(csm_context_create(&ctx, NULL, NULL, 0), CSM_OK);
    csm_model *m = NULL;
    ck_assert_int_eq(csm_model_create(ctx, &m, CSM_FLOAT32, 2, 3), CSM_OK);
    double x[3] = {1, 2, 3}, loss;
    int32_t y = 1;
    csm_dataset *d = NULL;
    ck_assert_int_eq(csm_dataset_create(ctx, &d, CSM_FLOAT32, x, CSM_DTYPE_F64, 1, 3, &y, NULL, 2), CSM_OK);
    ck_assert_int_eq(csm_loss(m, d, INFINITY, &loss), CSM_ERR_KERNEL_NOT_FOUND);
    const char *e = csm_context_last_error(ctx);
    ck_assert_msg(strstr(e, "/nonexistent/kernels-dir/csm_kernel_flags.h") != NULL, "%s", e);
    ck_assert_msg(strstr(e, "CLSOFTMAX_KERNEL_DIR") != NULL, "%s", e);
    csm_dataset_free(d);
    csm_model_free(m);
    csm_context_free(ctx);
}
END_TEST

/* csm_predict_proba of a zero 2-class model on one sample, into probs,
 * with the kernels of dir (CLSOFTMAX_KERNEL_DIR; NULL: unset); the
 * context's last error into msg. */
static csm_status proba_with_kernels(const char *dir, double probs[2], char *msg, size_t len)
{
    if (dir)
        setenv("CLSOFTMAX_KERNEL_DIR", dir, 1);
    else
        unsetenv("CLSOFTMAX_KERNEL_DIR");
    csm_context *ctx = NULL;
    ck_assert_int_eq(csm_context_create(&ctx, NULL, NULL, 0), CSM_OK);
    csm_model *m = NULL;
    ck_assert_int_eq(csm_model_create(ctx, &m, CSM_FLOAT32, 2, 1), CSM_OK);
    double x = 1;
    csm_dataset *d = NULL;
    ck_assert_int_eq(csm_dataset_create(ctx, &d, CSM_FLOAT32, &x, CSM_DTYPE_F64, 1, 1, NULL, NULL, 0),
                     CSM_OK);
    csm_status st = csm_predict_proba(m, d, probs);
    snprintf(msg, len, "%s", csm_context_last_error(ctx));
    csm_dataset_free(d);
    csm_model_free(m);
    csm_context_free(ctx);
    return st;
}

/* Without CLSOFTMAX_KERNEL_DIR a built, not yet installed library finds
 * the kernels in its source tree (after the installed directory). */
START_TEST(test_kernels_found_without_variable)
{
    double probs[2];
    char msg[2048];
    ck_assert_msg(proba_with_kernels(NULL, probs, msg, sizeof msg) == CSM_OK, "%s", msg);
    ck_assert(probs[0] == 0.5 && probs[1] == 0.5);
}
END_TEST

/* The kernels of CLSOFTMAX_KERNEL_DIR copied into the new directory dir. */
static void copy_kernels(char *dir)
{
    char path[512], src[512];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const char *real_dir = getenv("CLSOFTMAX_KERNEL_DIR");
    ck_assert_ptr_nonnull(real_dir);
    DIR *dh = opendir(real_dir);
    ck_assert_ptr_nonnull(dh);
    struct dirent *e;
    while ((e = readdir(dh)) != NULL) {
        size_t len = strlen(e->d_name);
        /* the kernels, and the header of flags they share with the host */
        if (len < 4 || (strcmp(e->d_name + len - 3, ".cl") && strcmp(e->d_name + len - 2, ".h")))
            continue;
        snprintf(src, sizeof src, "%s/%s", real_dir, e->d_name);
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *in = fopen(src, "r"), *out = fopen(path, "w");
        ck_assert(in && out);
        int ch;
        while ((ch = fgetc(in)) != EOF)
            fputc(ch, out);
        fclose(in);
        fclose(out);
    }
    closedir(dh);
}

static void remove_kernels(const char *dir)
{
    char path[512];
    struct dirent *e;
    DIR *dh = opendir(dir);
    while (dh && (e = readdir(dh)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (dh)
        closedir(dh);
    rmdir(dir);
}

/* A kernel that does not compile: the error carries the build log. The
 * good kernels are copied to a temporary directory and the two files that
 * compute probabilities (one per path) are replaced by broken ones. */
START_TEST(test_broken_kernel_has_build_log)
{
    char dir[] = "/tmp/csm-kernels-XXXXXX", path[512];
    copy_kernels(dir);
    static const char *broken[2] = {"forward.cl", "fused.cl"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, broken[i]);
        write_file(path, "__kernel void broken(__global real *x) { x[0] = undefined_name_q; }\n");
    }
    char msg[8192];
    double probs[2];
    ck_assert_int_eq(proba_with_kernels(dir, probs, msg, sizeof msg), CSM_ERR_KERNEL_BUILD);
    ck_assert_msg((strstr(msg, "forward.cl") || strstr(msg, "fused.cl")) && strstr(msg, "build log") &&
                      strstr(msg, "undefined_name_q"),
                  "%s", msg);
    remove_kernels(dir);
}
END_TEST

/* A kernel file that is not a regular file of at most 1 MB is refused at
 * once, naming it: a named pipe (reading it blocked forever), a link to
 * /dev/zero (an endless read grew memory by gigabytes), a file over 1 MB. */
START_TEST(test_kernel_file_checked)
{
    static const char *files[2] = {"forward.cl", "fused.cl"};
    static const char *says[3] = {"kernel source is a named pipe (FIFO), not a regular file",
                                  "kernel source is a character device, not a regular file",
                                  "kernel source of 1048577 bytes, over the limit of 1048576"};
    char real_dir[512];
    snprintf(real_dir, sizeof real_dir, "%s", getenv("CLSOFTMAX_KERNEL_DIR"));
    for (int kind = 0; kind < 3; kind++) {
        char dir[] = "/tmp/csm-kernels-XXXXXX", path[512];
        setenv("CLSOFTMAX_KERNEL_DIR", real_dir, 1);
        copy_kernels(dir);
        for (int i = 0; i < 2; i++) {
            snprintf(path, sizeof path, "%s/%s", dir, files[i]);
            unlink(path);
            if (kind == 0) {
                ck_assert(mkfifo(path, 0600) == 0);
            } else if (kind == 1) {
                ck_assert(symlink("/dev/zero", path) == 0);
            } else {
                FILE *f = fopen(path, "w");
                ck_assert_ptr_nonnull(f);
                for (long b = 0; b < (1L << 20) + 1; b++)
                    fputc(b % 64 ? ' ' : '\n', f);
                fclose(f);
            }
        }
        char msg[2048];
        double probs[2];
        ck_assert_int_eq(proba_with_kernels(dir, probs, msg, sizeof msg), CSM_ERR_IO);
        ck_assert_msg(strstr(msg, says[kind]) && strstr(msg, dir), "%s", msg);
        remove_kernels(dir);
    }
}
END_TEST

typedef struct logbuf {
    int calls;
} logbuf;

static void on_log(csm_log_level level, const char *msg, void *user)
{
    (void)level;
    ck_assert_ptr_nonnull(msg);
    ((logbuf *)user)->calls++;
}

/* The library reports through the callback (kernel builds are logged). */
START_TEST(test_log_callback)
{
    csm_context *ctx = NULL;
    ck_assert_int_eq(csm_context_create(&ctx, NULL, NULL, 0), CSM_OK);
    logbuf lb = {0};
    csm_context_set_log_callback(ctx, on_log, &lb);
    csm_model *m = NULL;
    ck_assert_int_eq(csm_model_create(ctx, &m, CSM_FLOAT32, 2, 1), CSM_OK);
    double x = 1, probs[2];
    csm_dataset *d = NULL;
    ck_assert_int_eq(csm_dataset_create(ctx, &d, CSM_FLOAT32, &x, CSM_DTYPE_F64, 1, 1, NULL, NULL, 0), CSM_OK);
    ck_assert_int_eq(csm_predict_proba(m, d, probs), CSM_OK);
    ck_assert(probs[0] == 0.5 && probs[1] == 0.5);
    ck_assert_int_gt(lb.calls, 0);
    csm_dataset_free(d);
    csm_model_free(m);
    csm_context_free(ctx);
}
END_TEST

START_TEST(test_status_strings)
{
    for (int s = CSM_OK; s <= CSM_ERR_DISTRIBUTED; s++) {
        const char *t = csm_status_string((csm_status)s);
        ck_assert_ptr_nonnull(t);
        ck_assert_str_ne(t, "unknown status");
    }
    ck_assert_str_eq(csm_status_string((csm_status)999), "unknown status");
    ck_assert_str_eq(csm_version(), PACKAGE_VERSION);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("device");
    TCase *tc = tcase_create("device");
    tcase_set_timeout(tc, CSM_DEVICE_TIMEOUT);
    tcase_add_test(tc, test_list_devices);
    tcase_add_test(tc, test_list_devices_struct_size);
    tcase_add_test(tc, test_selector_forms);
    tcase_add_test(tc, test_unknown_device_lists_devices);
    tcase_add_test(tc, test_context_info);
    tcase_add_test(tc, test_missing_kernel_names_paths);
    tcase_add_test(tc, test_kernels_found_without_variable);
    tcase_add_test(tc, test_broken_kernel_has_build_log);
    tcase_add_test(tc, test_kernel_file_checked);
    tcase_add_test(tc, test_log_callback);
    tcase_add_test(tc, test_status_strings);
    suite_add_tcase(s, tc);
    return csm_test_main(s, 1);
}
