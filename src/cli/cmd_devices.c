/* clsoftmax devices: every platform and device, the CLSOFTMAX_DEVICE
 * selectors that pick each one, and a '*' on the one used now. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void help(void)
{
    printf("Usage: clsoftmax devices\n"
           "List every OpenCL platform and device with the selector strings that\n"
           "CLSOFTMAX_DEVICE accepts for it; '*' marks the device that would be used now.\n"
           "\n"
           "Selector syntax: PLATFORM[:DEVICE], each field a decimal index or a\n"
           "case-insensitive substring of the platform / device name; DEVICE may also\n"
           "be cpu, gpu or accelerator. Unset or empty: the first device of the first\n"
           "platform.\n"
           "\n"
           "Exit status: 0; 1 when there is no device or CLSOFTMAX_DEVICE matches none.\n"
           "\n"
           "Options:\n"
           "  -h, --help   show this help\n");
}

/* First word of a name, lower case, without ':' (which separates the fields). */
static void first_word(char *out, size_t len, const char *name)
{
    size_t o = 0;
    while (*name && isspace((unsigned char)*name))
        name++;
    for (; *name && !isspace((unsigned char)*name) && o + 1 < len; name++) {
        if (*name == ':' || *name == ',')
            continue;
        out[o++] = (char)tolower((unsigned char)*name);
    }
    out[o] = '\0';
}

static int picks(const char *selector, size_t want)
{
    size_t idx = (size_t)-1;
    char err[16];
    return csm_select_device(selector, &idx, err, sizeof err) == CSM_OK && idx == want;
}

static void selectors(char *buf, size_t len, const csm_device_info *d, size_t index)
{
    char plat[64], dev[64], cand[160];
    snprintf(buf, len, "%s", d->selector);
    first_word(plat, sizeof plat, d->platform_name);
    first_word(dev, sizeof dev, d->device_name);
    const char *cands[3][2] = {{plat, dev}, {plat, d->device_type}, {NULL, d->device_type}};
    for (int c = 0; c < 3; c++) {
        const char *p = cands[c][0], *q = cands[c][1];
        char pidx[16];
        if (!p) {
            snprintf(pidx, sizeof pidx, "%u", d->platform_index);
            p = pidx;
        }
        if (!*p || !*q)
            continue;
        snprintf(cand, sizeof cand, "%s:%s", p, q);
        if (strstr(buf, cand))
            continue;
        if (picks(cand, index)) {
            size_t used = strlen(buf);
            snprintf(buf + used, len - used, ", %s", cand);
        }
    }
}

static void human_bytes(char *buf, size_t len, uint64_t b)
{
    if (b >= (1ULL << 30))
        snprintf(buf, len, "%.1f GiB", (double)b / (double)(1ULL << 30));
    else
        snprintf(buf, len, "%.0f MiB", (double)b / (double)(1ULL << 20));
}

int cmd_devices(int argc, char **argv)
{
    static const cli_option opts[] = {{"help", 'h', 0}, {NULL, 0, 0}};
    cli_args it;
    const char *val;
    int id;
    cli_args_init(&it, "devices", argc, argv);
    while ((id = cli_args_next(&it, opts, &val)) != CLI_ARG_END) {
        if (id == CLI_ARG_ERROR)
            return CLI_USAGE;
        if (id == CLI_ARG_POSITIONAL)
            return cli_usage_error("devices", "unexpected argument '%s'", val);
        if (id == 0) {
            help();
            return CLI_OK;
        }
    }

    char err[4096] = "";
    size_t count = 0;
    csm_status st = csm_list_devices(NULL, 0, &count, err, sizeof err);
    if (st != CSM_OK || count == 0) {
        cli_error("%s%s%s", csm_status_string(st == CSM_OK ? CSM_ERR_NO_DEVICE : st),
                  *err ? ": " : "", err);
        return CLI_FAIL;
    }
    csm_device_info *list = calloc(count, sizeof *list);
    if (!list) {
        cli_error("out of memory");
        return CLI_FAIL;
    }
    list[0].struct_size = sizeof *list;
    size_t got = 0;
    st = csm_list_devices(list, count, &got, err, sizeof err);
    if (st != CSM_OK) {
        cli_error("%s%s%s", csm_status_string(st), *err ? ": " : "", err);
        free(list);
        return CLI_FAIL;
    }
    if (got < count)
        count = got;

    size_t chosen = (size_t)-1;
    char serr[4096] = "";
    csm_status sel = csm_select_device(NULL, &chosen, serr, sizeof serr);
    const char *env = getenv("CLSOFTMAX_DEVICE");

    for (size_t i = 0; i < count; i++) {
        const csm_device_info *d = &list[i];
        char sels[256], mem[32], alloc[32];
        selectors(sels, sizeof sels, d, i);
        human_bytes(mem, sizeof mem, d->global_mem_bytes);
        human_bytes(alloc, sizeof alloc, d->max_alloc_bytes);
        printf("%c %-5s %s\n", (sel == CSM_OK && chosen == i) ? '*' : ' ', d->selector,
               d->device_name);
        printf("        platform:  %s\n", d->platform_name);
        printf("        type %s, %u compute units, %s memory (max buffer %s), fp64 %s, driver %s\n",
               d->device_type, d->compute_units, mem, alloc, d->has_fp64 ? "yes" : "no",
               d->driver_version);
        printf("        selectors: %s\n", sels);
    }
    free(list);
    if (sel != CSM_OK) {
        fflush(stdout);
        cli_error("CLSOFTMAX_DEVICE='%s' matches no device (%s)", env ? env : "",
                  csm_status_string(sel));
        return CLI_FAIL;
    }
    if (env && *env)
        printf("(* marks the device used now: CLSOFTMAX_DEVICE='%s')\n", env);
    else
        printf("(* marks the device used now: CLSOFTMAX_DEVICE unset, the first device)\n");
    return CLI_OK;
}
