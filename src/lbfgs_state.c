/* The L-BFGS history a model carries (lbfgs_state.h): its host part and
 * its metadata text. The solver (solver_lbfgs.c) hands its history over
 * and takes it back; the model file (model_file.c) stores S and Y as the
 * tensors "state.lbfgs.s" and "state.lbfgs.y" with this text beside. */
#include "config.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lbfgs_state.h"

/* csm_train's limit of lbfgs_memory */
#define MAX_MEMORY 1000

csm_lbfgs_state *csm_lbfgs_state_new(int mem)
{
    if (mem < 1 || mem > MAX_MEMORY)
        return NULL;
    csm_lbfgs_state *s = calloc(1, sizeof *s);
    if (s && !(s->order = calloc((size_t)mem, sizeof *s->order))) {
        free(s);
        s = NULL;
    }
    if (s)
        s->mem = mem;
    return s;
}

void csm_lbfgs_state_free(csm_lbfgs_state *s)
{
    if (!s)
        return;
    csm_buffer_release(&s->S);
    csm_buffer_release(&s->Y);
    free(s->order);
    free(s);
}

char *csm_lbfgs_state_text(const csm_lbfgs_state *s)
{
    json_t *order = json_array();
    for (int i = 0; order && i < s->count; i++)
        if (json_array_append_new(order, json_integer(s->order[i])) != 0) {
            json_decref(order);
            order = NULL;
        }
    if (!order)
        return NULL;
    json_t *root = json_pack("{s:i, s:i, s:i, s:o, s:i}", "memory", s->mem, "count", s->count,
                             "head", s->head, "order", order, "stalled", s->stalled);
    char *text = root ? json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(root);
    return text;
}

/* An integer field of obj in [lo, hi] into *out; 0, or -1. */
static int int_field(json_t *obj, const char *key, long lo, long hi, int *out)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return -1;
    *out = (int)json_integer_value(v);
    return 0;
}

csm_status csm_lbfgs_state_parse(csm_context *ctx, const char *path, const char *text,
                                 csm_lbfgs_state **out)
{
    *out = NULL;
    json_error_t jerr;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    int mem = 0;
    const char *bad = NULL;
    if (!json_is_object(root))
        bad = "is not a JSON object";
    else if (json_object_size(root) != 5)
        bad = "must hold exactly memory, count, head, order and stalled";
    else if (int_field(root, "memory", 1, MAX_MEMORY, &mem) != 0)
        bad = "memory is not an integer in [1, 1000]";
    csm_lbfgs_state *s = bad ? NULL : csm_lbfgs_state_new(mem);
    if (!bad && !s) {
        json_decref(root);
        return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
    }
    json_t *order = json_object_get(root, "order");
    if (!bad && int_field(root, "count", 0, mem, &s->count) != 0)
        bad = "count is not an integer in [0, memory]";
    if (!bad && int_field(root, "head", 0, mem - 1, &s->head) != 0)
        bad = "head is not an integer in [0, memory)";
    if (!bad && int_field(root, "stalled", 0, 1000000, &s->stalled) != 0)
        bad = "stalled is not an integer in [0, 1000000]";
    if (!bad && (!json_is_array(order) || json_array_size(order) != (size_t)s->count))
        bad = "order is not an array of count rows";
    for (int i = 0; !bad && i < s->count; i++) {
        json_t *v = json_array_get(order, (size_t)i);
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= mem) {
            bad = "order holds a row outside [0, memory)";
            break;
        }
        s->order[i] = (int)json_integer_value(v);
        for (int j = 0; j < i; j++)
            if (s->order[j] == s->order[i])
                bad = "order holds a row twice";
    }
    json_decref(root);
    if (bad) {
        csm_lbfgs_state_free(s);
        return csm_fail(ctx, CSM_ERR_FORMAT, "%s: __metadata__ solver_lbfgs %s", path, bad);
    }
    *out = s;
    return CSM_OK;
}
