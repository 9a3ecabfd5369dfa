/* `mpirun -np P clsoftmax train ...`: data-parallel training over P ranks,
 * each on its own device, through the library's reduce hook (csm_train_options
 * .reduce, csm_dataset_set_partition; see clsoftmax.h).
 *
 * Rank 0 reads the data and sends each rank its share (contiguous rows,
 * P nearly equal shares), rather than every rank reading its own rows: the
 * readers (CSV, libsvm, gzip) cannot seek to a row without parsing what
 * comes before it, and everything decided over the whole data (the class
 * set and label mapping, the libsvm feature count, dense or sparse storage,
 * the --standardize statistics, --class-weight balanced's counts) is then
 * decided once, exactly as one process decides it. The cost: rank 0 holds
 * the whole table once, as one process does, and sends each row once.
 *
 * Every rank then trains on its share with the same options and initial
 * weights (broadcast from rank 0); rank 0 alone prints the progress and
 * writes the model (and --history). Refused under MPI: --validation,
 * --validation-split, --early-stopping (their evaluation would have to be
 * distributed too) and --resume (every rank would need the model file). */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "mpi.h"
#include "train.h"

typedef struct share_head {
    uint64_t n, k, sparse, dtype, weighted, nnz; /* C travels with the classes */
    uint64_t row0; /* the receiving rank's first row */
} share_head;

int train_mpi_check(const train_cfg *c)
{
    const char *no = c->resume       ? "--resume"
                     : c->validation ? "--validation"
                     : c->split > 0  ? "--validation-split"
                     : c->patience   ? "--early-stopping"
                                     : NULL;
    if (no)
        return cli_usage_error("train", "%s is not supported under MPI (%d ranks): run it "
                               "without mpirun", no, cli_mpi_size());
    return 0;
}

size_t train_mpi_share_start(size_t n, int r, int P) { return (size_t)((double)n * r / P); }

/* Rows [a, b) of table t to rank r: the header, then the rows, labels and
 * weights. */
static int send_share(int r, const csm_table *t, const int32_t *labels, const double *w,
                      size_t a, size_t b)
{
    const size_t m = b - a, k = t->k;
    share_head h = {t->n, k, (uint64_t)t->sparse, (uint64_t)t->dtype, w != NULL, 0, a};
    if (t->sparse)
        h.nnz = (uint64_t)(t->row_ptr[b] - t->row_ptr[a]);
    if (cli_mpi_send(r, &h, sizeof h))
        return CLI_FAIL;
    if (t->sparse) {
        const size_t z0 = (size_t)t->row_ptr[a];
        if (cli_mpi_send(r, t->row_ptr + a, (m + 1) * sizeof *t->row_ptr) ||
            cli_mpi_send(r, t->col_idx + z0, h.nnz * sizeof *t->col_idx) ||
            cli_mpi_send(r, t->values + z0, h.nnz * sizeof *t->values))
            return CLI_FAIL;
    } else {
        const size_t es = t->dtype == CSM_DTYPE_U8 ? 1 : sizeof(double);
        if (cli_mpi_send(r, (const char *)t->features + a * k * es, m * k * es))
            return CLI_FAIL;
    }
    if (cli_mpi_send(r, labels + a, m * sizeof *labels))
        return CLI_FAIL;
    return w && cli_mpi_send(r, w + a, m * sizeof *w) ? CLI_FAIL : 0;
}

/* Rank 0's weights into w (C x k) and b (C) on every rank, and into m on
 * the others. */
static int bcast_params(csm_model *m, double *w, double *b, uint64_t C, uint64_t k)
{
    csm_status st;
    if (cli_mpi_rank() == 0 && (st = csm_model_get_params(m, w, b)) != CSM_OK)
        return cli_lib_error(csm_model_context(m), st);
    if (cli_mpi_bcast(w, C * k * sizeof *w) || cli_mpi_bcast(b, C * sizeof *b))
        return CLI_FAIL;
    if (cli_mpi_rank() > 0 && (st = csm_model_set_params(m, w, b)) != CSM_OK)
        return cli_lib_error(csm_model_context(m), st);
    return 0;
}

/* What rank 0 broadcasts before the shares: the classes and the initial
 * weights, so every rank starts from the same model. */
static int bcast_model(csm_model *m, uint64_t C, uint64_t k)
{
    double *w = malloc(C * k * sizeof *w), *b = malloc(C * sizeof *b);
    int rc = CLI_FAIL;
    if (!w || !b)
        cli_error("out of memory");
    else
        rc = bcast_params(m, w, b, C, k);
    free(w);
    free(b);
    return rc;
}

int train_mpi_share_rows(const train_cfg *c, csm_model *model, csm_table *tt,
                         const int32_t *labels, const cli_classes *cls, train_mpi_share *s)
{
    const int64_t *classes = csm_model_labels(model);
    const size_t C = cls->C;
    const int P = cli_mpi_size();
    const size_t n = tt->n;
    memset(s, 0, sizeof *s);
    if (n < (size_t)P) {
        cli_error("%s: %zu training samples for %d ranks: every rank needs at least one",
                  c->data_path, n, P);
        return CLI_FAIL;
    }
    /* --class-weight, --weight-column, --weights: the weights of all rows
     * (balanced counts the whole data), then each rank's share of them */
    if (c->class_weight || tt->weights) {
        int rc = cli_sample_weights("train", &c->cw, cls, "the training data", labels, n,
                                    tt->weights, &s->weights);
        if (rc)
            return rc;
    }
    uint64_t head[2] = {C, tt->k};
    if (cli_mpi_bcast(head, sizeof head) || cli_mpi_bcast((void *)classes, C * sizeof *classes) ||
        bcast_model(model, C, tt->k))
        return CLI_FAIL;
    for (int r = 1; r < P; r++)
        if (send_share(r, tt, labels, s->weights, train_mpi_share_start(n, r, P),
                       train_mpi_share_start(n, r + 1, P)))
            return CLI_FAIL;
    /* rank 0 keeps the first share: the table's first rows */
    s->global_n = n;
    s->row0 = 0;
    tt->n = train_mpi_share_start(n, 1, P);
    if (tt->sparse)
        tt->nnz = (uint64_t)tt->row_ptr[tt->n];
    return 0;
}

int train_mpi_attach(train_cfg *c, csm_context *ctx, csm_dataset *d, const train_mpi_share *s)
{
    csm_status st = csm_dataset_set_partition(d, s->row0, s->global_n);
    if (st == CSM_OK && s->weights) /* rank 0: its rows come first */
        st = csm_dataset_set_weights(d, s->weights);
    if (st != CSM_OK)
        return cli_lib_error(ctx, st);
    c->opt.reduce = cli_mpi_reduce;
    c->opt.reduce_user = NULL;
    return 0;
}

int train_penalty(const train_cfg *c, const csm_dataset *d, csm_train_options *opt)
{
    if (!c->use_l2)
        return 0;
    double w[2] = {csm_dataset_weight_sum(d), 0};
    if (cli_mpi_size() > 1 && cli_mpi_reduce(w, 1, NULL) != 0) {
        cli_error("MPI: the sum of the sample weights failed");
        return CLI_FAIL;
    }
    /* the C whose lambda (1 / (C sum w), twice that for two classes) is l2 */
    const double c_scale = csm_dataset_n_classes(d) == 2 ? 2.0 : 1.0;
    opt->C = c->l2 > 0 ? c_scale / (c->l2 * w[0]) : INFINITY;
    return 0;
}

void train_mpi_share_free(train_mpi_share *s) { free(s->weights); }

csm_status train_mpi_accuracy(csm_model *m, const csm_dataset *d, double *accuracy)
{
    double v[2] = {0, (double)csm_dataset_n_samples(d)}, acc = 0;
    csm_status st = csm_evaluate(m, d, NULL, &acc);
    if (st != CSM_OK)
        return st;
    v[0] = acc * v[1]; /* correct predictions: a whole number */
    double sum[3] = {v[0], v[1], 0};
    if (cli_mpi_reduce(sum, 2, NULL) != 0)
        return CSM_ERR_DISTRIBUTED;
    *accuracy = sum[0] / sum[1];
    return CSM_OK;
}

int train_mpi_signal(int own)
{
    /* counts of each signal over the ranks; the first of SIGINT, SIGTERM,
     * SIGHUP that any rank caught, for all */
    static const int order[3] = {SIGINT, SIGTERM, SIGHUP};
    double v[4] = {0, 0, 0, 0};
    for (int i = 0; i < 3; i++)
        v[i] = own == order[i];
    if (cli_mpi_reduce(v, 3, NULL) != 0)
        return own; /* a failed sum aborts the run anyway */
    for (int i = 0; i < 3; i++)
        if (v[i] > 0)
            return order[i];
    return 0;
}

int train_stop_on_signal(csm_model *m, const csm_epoch_info *info, void *user)
{
    (void)m;
    (void)info;
    (void)user;
    return cli_signal_caught() != 0;
}

/* A follower's share: the table and labels rank 0 sent. */
static int recv_share(csm_table *t, int32_t **labels, double **weights, share_head *h)
{
    if (cli_mpi_recv(0, h, sizeof *h))
        return CLI_FAIL;
    /* this rank's rows by the split rank 0 made */
    const int P = cli_mpi_size(), r = cli_mpi_rank();
    const size_t k = (size_t)h->k;
    const size_t rows = train_mpi_share_start((size_t)h->n, r + 1, P) -
                        train_mpi_share_start((size_t)h->n, r, P);
    memset(t, 0, sizeof *t);
    t->n = rows;
    t->k = k;
    t->sparse = (int)h->sparse;
    t->dtype = (csm_dtype)h->dtype;
    *labels = malloc((rows ? rows : 1) * sizeof **labels);
    *weights = h->weighted ? malloc(rows * sizeof **weights) : NULL;
    int ok = *labels && (!h->weighted || *weights);
    if (t->sparse) {
        t->nnz = h->nnz;
        t->row_ptr = malloc((rows + 1) * sizeof *t->row_ptr);
        t->col_idx = malloc((h->nnz ? h->nnz : 1) * sizeof *t->col_idx);
        t->values = malloc((h->nnz ? h->nnz : 1) * sizeof *t->values);
        ok = ok && t->row_ptr && t->col_idx && t->values;
        if (ok && (cli_mpi_recv(0, t->row_ptr, (rows + 1) * sizeof *t->row_ptr) ||
                   cli_mpi_recv(0, t->col_idx, h->nnz * sizeof *t->col_idx) ||
                   cli_mpi_recv(0, t->values, h->nnz * sizeof *t->values)))
            return CLI_FAIL;
        if (ok)
            for (size_t i = rows + 1; i-- > 0;)
                t->row_ptr[i] -= t->row_ptr[0];
    } else {
        const size_t es = t->dtype == CSM_DTYPE_U8 ? 1 : sizeof(double);
        t->features = malloc(rows * k * es);
        ok = ok && t->features;
        if (ok && cli_mpi_recv(0, t->features, rows * k * es))
            return CLI_FAIL;
    }
    if (!ok) {
        cli_error("out of memory for this rank's %zu rows", rows);
        return CLI_FAIL;
    }
    if (cli_mpi_recv(0, *labels, rows * sizeof **labels) ||
        (h->weighted && cli_mpi_recv(0, *weights, rows * sizeof **weights)))
        return CLI_FAIL;
    return 0;
}

/* What a follower holds, freed in one place. */
typedef struct follower {
    csm_context *ctx;
    csm_model *model;
    csm_dataset *d;
    csm_table t;
    int32_t *labels;
    int64_t *classes;
    train_mpi_share s;
} follower;

/* The model rank 0 starts from (its classes and initial weights), and
 * this rank's rows on its device. */
static int follower_setup(train_cfg *c, follower *f)
{
    csm_precision prec = c->use_double ? CSM_FLOAT64 : CSM_FLOAT32;
    uint64_t head[2];
    share_head h;
    if (cli_mpi_bcast(head, sizeof head))
        return CLI_FAIL;
    const size_t C = (size_t)head[0], k = (size_t)head[1];
    if (!(f->classes = malloc(C * sizeof *f->classes))) {
        cli_error("out of memory");
        return CLI_FAIL;
    }
    if (cli_mpi_bcast(f->classes, C * sizeof *f->classes) || !(f->ctx = cli_context_create()))
        return CLI_FAIL;
    csm_status st = csm_model_create(f->ctx, &f->model, prec, C, k);
    if (st == CSM_OK)
        st = csm_model_set_labels(f->model, f->classes);
    if (st != CSM_OK)
        return cli_lib_error(f->ctx, st);
    if (bcast_model(f->model, C, k) || recv_share(&f->t, &f->labels, &f->s.weights, &h))
        return CLI_FAIL;
    train_default_solver(c, f->t.sparse);
    f->s.global_n = (size_t)h.n;
    f->s.row0 = (size_t)h.row0;
    if (cli_make_dataset(f->ctx, &f->d, prec, &f->t, f->labels, C))
        return CLI_FAIL;
    csm_table_free(&f->t);
    return train_mpi_attach(c, f->ctx, f->d, &f->s);
}

/* Trains with rank 0; the exit status rank 0 will have. */
static int follower_train(train_cfg *c, follower *f)
{
    csm_train_result res = {.struct_size = sizeof res};
    double accuracy = 0;
    if (train_penalty(c, f->d, &c->opt))
        return CLI_FAIL;
    c->opt.callback = train_stop_on_signal;
    cli_signals_catch();
    csm_status st = csm_train(f->model, f->d, &c->opt, &res);
    if (st == CSM_OK)
        st = train_mpi_accuracy(f->model, f->d, &accuracy);
    if (st != CSM_OK)
        return cli_lib_error(f->ctx, st);
    /* interrupted on any rank: every rank exits as rank 0, which saves */
    int sig = train_mpi_signal(res.stop == CSM_STOP_CALLBACK ? cli_signal_caught() : 0);
    if (!sig)
        sig = cli_signal_caught(); /* after training: the run is whole, the exit says it */
    return sig ? 128 + sig : CLI_OK;
}

int train_mpi_follower(train_cfg *c)
{
    follower f;
    memset(&f, 0, sizeof f);
    int rc = follower_setup(c, &f);
    if (!rc)
        rc = follower_train(c, &f);
    train_mpi_share_free(&f.s);
    csm_table_free(&f.t);
    free(f.labels);
    free(f.classes);
    csm_dataset_free(f.d);
    csm_model_free(f.model);
    csm_context_free(f.ctx);
    return rc;
}
