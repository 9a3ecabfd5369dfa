/* Binding a model to a dataset: the path for its shape, chosen once from
 * the path table (choose.c), and a step on it. */
#ifndef CSM_CHOOSE_H
#define CSM_CHOOSE_H

#include "step.h"

/* Whether a binding may measure the paths of a shape never measured. */
typedef enum csm_measure {
    CSM_MEASURE_NEVER = 0, /* the rule or a saved measurement (one-shot operations) */
    CSM_MEASURE_ALLOWED    /* measure now where the calibrate option says so (training) */
} csm_measure;

/* A step for model m over d for steps of `rows` rows with `slots` loss
 * slots, on the path chosen for them: the "path" option when set, CSR data
 * the sparse path, else a choice made earlier in this context, the fixed
 * rule for small steps, a saved measurement, or (when `measure` allows) a
 * new one. A streamed dataset's first chunk stands for it. */
csm_status csm_bind_step(csm_step *w, csm_model *m, const csm_dataset *d, size_t rows,
                         size_t slots, csm_measure measure);
/* A step as csm_bind_step's, on the path and geometry `as` runs (a step
 * of the same model and data): the whole-data pass after minibatch
 * training takes the training's choice, built already, rather than
 * measuring the paths again for its own row count (a choice for these
 * rows made earlier in this context stands, and the one taken is
 * remembered for them). */
csm_status csm_bind_step_as(csm_step *w, const csm_step *as, csm_model *m, const csm_dataset *d,
                            size_t rows, size_t slots);
/* Training ran steps of `rows` rows (the rows csm_bind_step was given)
 * of m on d in `seconds` each: when the choice came from the calibration
 * file, compares it with what was measured there (calibrate.h: a choice
 * that keeps running far slower is measured again). */
void csm_choice_observed(csm_model *m, const csm_dataset *d, size_t rows, double seconds);
/* A step on the product path that stands in for `path` (which has no
 * products of its own: the fused path), with csm_bind_step's other
 * arguments: for the products only that path offers (Hessian-vector). */
csm_status csm_bind_products_step(csm_step *w, csm_model *m, const csm_dataset *d, size_t rows,
                                  size_t slots, csm_path path);

#endif
