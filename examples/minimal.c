/* The README's API example: train a 3-class softmax regression on a tiny
 * dataset, check the gradient is what the formula says, then predict. */
#include <math.h>
#include <stdio.h>

#include <clsoftmax.h>

int main(void)
{
    /* 6 samples, 2 features, 3 classes: each class sits in its own corner */
    const float X[6][2] = {{0, 0}, {0.1f, 0}, {1, 0}, {1, 0.1f}, {0, 1}, {0.1f, 1}};
    const int32_t y[6] = {0, 0, 1, 1, 2, 2};
    char err[2048];

    csm_context *ctx = NULL; /* device from CLSOFTMAX_DEVICE, else the first */
    if (csm_context_create(&ctx, NULL, err, sizeof err) != CSM_OK) {
        fprintf(stderr, "ERROR: %s\n", err);
        return 1;
    }
    csm_dataset *data = NULL;
    csm_model *model = NULL;
    csm_status st = csm_dataset_create(ctx, &data, CSM_FLOAT32, X, CSM_DTYPE_F32, 6, 2, y, NULL, 3);
    if (st == CSM_OK)
        st = csm_model_create(ctx, &model, CSM_FLOAT32, 3, 2); /* zeros */

    csm_train_options opt;
    csm_train_options_init(&opt, sizeof opt); /* L-BFGS to max |gradient| <= 1e-4, C = 1 */
    csm_train_result res = {.struct_size = sizeof res};
    if (st == CSM_OK)
        st = csm_train(model, data, &opt, &res);
    if (st == CSM_OK)
        printf("%s after %d iterations: J = %.6f, max |gradient| = %.2g\n",
               res.converged ? "converged" : csm_stop_string(res.stop), res.n_iter, res.objective,
               res.grad_max_abs);

    double loss = 0, accuracy = 0, dW[6], db[3];
    int32_t pred[6];
    if (st == CSM_OK)
        st = csm_evaluate(model, data, &loss, &accuracy);
    if (st == CSM_OK) /* dJ/dW = (1/n) (O - T)^T X, dJ/db = (1/n) sum_i (O_i - T_i) */
        st = csm_gradient(model, data, INFINITY, NULL, dW, db); /* C = inf: no penalty */
    if (st == CSM_OK)
        st = csm_predict(model, data, pred);
    if (st != CSM_OK) {
        fprintf(stderr, "ERROR: %s: %s\n", csm_status_string(st), csm_context_last_error(ctx));
        csm_model_free(model);
        csm_dataset_free(data);
        csm_context_free(ctx);
        return 1;
    }
    printf("device: %s\n", csm_context_device(ctx)->device_name);
    printf("loss %.4f  accuracy %.2f  |db| %.2e\n", loss, accuracy,
           db[0] * db[0] + db[1] * db[1] + db[2] * db[2]);
    for (int i = 0; i < 6; i++)
        printf("sample %d: label %d predicted %d\n", i, y[i], pred[i]);
    csm_model_free(model);
    csm_dataset_free(data);
    csm_context_free(ctx);
    return accuracy == 1.0 ? 0 : 1;
}
