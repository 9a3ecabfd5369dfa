/* What the commands that apply a saved model start from (predict, eval,
 * gradcheck DATA MODEL, and show without DATA): the context, the model and
 * its classes, and DATA read as the model remembers it, in this order, so
 * that a bad model fails before a large file is read. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cli_model_data_open(cli_model_data *md, const char *model_path, const char *data_path,
                        csm_read_options *ro)
{
    memset(md, 0, sizeof *md);
    if (!(md->ctx = cli_context_create()) || cli_load_model(md->ctx, model_path, &md->model) ||
        cli_model_classes(md->model, model_path, &md->classes))
        return CLI_FAIL;
    if (!data_path)
        return 0;
    return cli_read_for_model(data_path, md->model, model_path, ro, &md->tab, md->note,
                              sizeof md->note);
}

void cli_model_data_note(const cli_model_data *md)
{
    if (!cli_quiet)
        fputs(md->note, stderr);
}

void cli_model_data_free(cli_model_data *md)
{
    cli_classes_free(&md->classes);
    csm_table_free(&md->tab);
    csm_model_free(md->model);
    csm_context_free(md->ctx);
    memset(md, 0, sizeof *md);
}

int cli_check_predictions(const int32_t *pred, size_t n, size_t C)
{
    for (size_t i = 0; i < n; i++)
        if (pred[i] < 0 || (size_t)pred[i] >= C) {
            cli_error("the device returned class %d for sample %zu (%zu classes)", (int)pred[i],
                      i + 1, C);
            return CLI_FAIL;
        }
    return 0;
}
