#!/bin/sh
# Command-line contract that needs no device: --version, --help, usage
# errors (exit 2 with a hint), strict number parsing, the man page.
. "$(dirname "$0")/lib.sh"

runs "--version exits 0" --version
check "--version prints the version" grep -Eq '^clsoftmax [0-9]+\.[0-9]+\.[0-9]+' "$T/out"
runs "--help exits 0" --help
for c in devices train predict eval show gradcheck calibrate cv; do
    check "--help lists $c" grep -q "^  $c" "$T/out"
done
for c in devices train predict eval show gradcheck calibrate cv; do
    runs "$c --help exits 0" "$c" --help
    check "$c --help starts with Usage" grep -q "^Usage: clsoftmax $c" "$T/out"
done
run help train
check "help train == train --help" grep -q "^Usage: clsoftmax train" "$T/out"

# train --help shows every option and its default
run train --help
cp "$T/out" "$T/train-help"
for o in solver max-iter epochs tol n-iter-no-change lbfgs-memory C l2 class-weight lr \
    batch-size optimizer momentum init seed no-shuffle standardize double \
    validation validation-split early-stopping history resume quiet format label-column \
    header no-header labels; do
    check "train --help documents --$o" grep -q -- "--$o " "$T/train-help"
done
# The help prints the defaults of csm_train_options_init(); these are the
# values clsoftmax.h documents for it (scikit-learn's, max_iter aside).
for d in '--solver NAME .*default lbfgs' '--max-iter N .*' '--tol F .*' '--n-iter-no-change N .*default 5\)' \
    '--lbfgs-memory N .*default 10\)' '--C F .*' '--batch-size N .*' '--momentum F .*default 0\.9\)' \
    '--init NAME .*default zeros\)'; do
    check "train --help: /$d/" grep -Eq -- "^  $d" "$T/train-help"
done
check "train --help: max-iter default 1000" grep -Eq '^ +(at most N|momentum, adam).*\(default 1000\)' "$T/train-help"
check "train --help: tol default 0.0001" grep -Eq '\(default 0\.0001\)' "$T/train-help"
check "train --help: C default 1" grep -Eq '\(default 1\)$' "$T/train-help"
check "train --help: batch-size default 256" grep -Eq 'batch \(default 256\)' "$T/train-help"
check "train --help: seed default 1" grep -Eq '\(default 1; with --resume' "$T/train-help"
check "train --help: the solvers' learning rates" grep -Eq 'default 0\.1 with' "$T/train-help"
check "train --help: tol for lbfgs and newton" grep -q 'lbfgs, newton: max |dJ/dtheta| <= F' "$T/train-help"
check "train --help: tol for the first-order solvers" grep -q 'n-iter-no-change epochs' "$T/train-help"
check "train --help: lambda from C" grep -q 'lambda = 1 / (C \* sum of' "$T/train-help"
check "train --help: --optimizer is a synonym" grep -q -- '--optimizer NAME is a synonym' "$T/train-help"

run
check "no arguments: exit 2" test "$rc" -eq 2
fails "unknown command" 2 "unknown command 'frobnicate'" frobnicate
check "unknown command: hint to --help" grep -q "clsoftmax --help" "$T/err"
fails "unknown option" 2 "unknown option '--bogus'" train --bogus a b
check "unknown option: hint to train --help" grep -q "clsoftmax train --help" "$T/err"
fails "unknown short option" 2 "unknown option '-x'" eval -x a b
fails "missing option value" 2 "'--epochs' needs a value" train a b --epochs
fails "value given to a flag" 2 "'--quiet' takes no value" train --quiet=yes a b
fails "--lr not a number" 2 "^ERROR: --lr: 'abc' is not a number" train --lr abc a b
fails "--lr=abc form" 2 "--lr: 'abc' is not a number" train --lr=abc a b
fails "--lr trailing junk" 2 "--lr: '0.1x' is not a number" train --lr 0.1x a b
fails "--lr empty" 2 "--lr: '' is not a number" train --lr '' a b
fails "--lr leading space" 2 "is not a number" train --lr ' 0.1' a b
fails "--lr zero" 2 "--lr: '0' is out of range" train --lr 0 a b
fails "--lr negative" 2 "--lr: '-1' is out of range" train --lr -1 a b
fails "--lr nan" 2 "--lr: 'nan' is not a finite number" train --lr nan a b
fails "--lr inf" 2 "--lr: 'inf' is not a finite number" train --lr inf a b
fails "--epochs zero" 2 "--epochs: '0' is out of range" train --epochs 0 a b
fails "--epochs fraction" 2 "--epochs: '1.5' is not an integer" train --epochs 1.5 a b
fails "--epochs overflow" 2 "--epochs: '99999999999999999999' is out of range" train --epochs 99999999999999999999 a b
fails "--batch-size negative" 2 "--batch-size" train --batch-size -5 a b
fails "--l2 negative" 2 "--l2: '-0.1' is out of range" train --l2 -0.1 a b
fails "--momentum 1" 2 "--momentum: '1' is out of range" train --momentum 1 a b
fails "--seed negative" 2 "--seed" train --seed -3 a b
fails "--seed text" 2 "--seed: 'x' is not a number" train --seed x a b
fails "--validation-split 0" 2 "--validation-split: '0' is out of range" train --validation-split 0 a b
fails "--validation-split 1" 2 "--validation-split: '1' is out of range" train --validation-split 1 a b
fails "--early-stopping 0" 2 "--early-stopping: '0' is out of range" train --early-stopping 0 --validation-split 0.2 a b
fails "--optimizer unknown" 2 "--optimizer: 'rmsprop' is not one of: sgd, momentum, adam, lbfgs" train --optimizer rmsprop a b
fails "--solver unknown" 2 "--solver: 'bfgs' is not one of: sgd, momentum, adam, lbfgs, newton" train --solver bfgs a b
# ---- solver options: which belong to which solver, the penalty, weights
fails "--C with --l2" 2 "--C and --l2 both set the penalty" train --C 2 --l2 0.1 a b
fails "--l2 with --C" 2 "--C and --l2 both set the penalty" train --l2 0 --C 1 a b
fails "--C 0" 2 "--C: '0' is out of range \(must be > 0\)" train --C 0 a b
fails "--C negative" 2 "--C: '-1' is out of range" train --C -1 a b
fails "--C inf" 2 "--C: 'inf' is not a finite number" train --C inf a b
fails "--epochs with lbfgs (the default)" 2 "--epochs counts epochs of sgd, momentum and adam; lbfgs counts iterations: use --max-iter" train --epochs 5 a b
fails "--epochs with --solver lbfgs" 2 "use --max-iter" train --solver lbfgs --epochs 5 a b
fails "--epochs and --max-iter" 2 "--epochs and --max-iter are the same option" train --solver adam --epochs 5 --max-iter 5 a b
for o in "lr 0.1" "batch-size 8" "momentum 0.5" "n-iter-no-change 3" no-shuffle; do
    fails "--$o with lbfgs" 2 "--${o%% *} applies to --solver sgd, momentum and adam, not to lbfgs" train --$o a b
done
fails "--lr before --solver lbfgs" 2 "--lr applies to --solver sgd, momentum and adam" train --lr 0.1 --solver lbfgs a b
fails "--lbfgs-memory with adam" 2 "--lbfgs-memory applies to --solver lbfgs only" train --solver adam --lbfgs-memory 5 a b
fails "--tol -1" 2 "--tol: '-1' is out of range \(must be >= 0\)" train --tol -1 a b
fails "--tol nan" 2 "--tol: 'nan' is not a finite number" train --tol nan a b
fails "--max-iter 0" 2 "--max-iter: '0' is out of range" train --max-iter 0 a b
fails "--max-iter fraction" 2 "--max-iter: '2.5' is not an integer" train --max-iter 2.5 a b
fails "--lbfgs-memory 0" 2 "--lbfgs-memory: '0' is out of range \(must be 1 to 1000\)" train --lbfgs-memory 0 a b
fails "--lbfgs-memory 1001" 2 "--lbfgs-memory: '1001' is out of range" train --lbfgs-memory 1001 a b
fails "--n-iter-no-change 0" 2 "--n-iter-no-change: '0' is out of range" train --solver sgd --n-iter-no-change 0 a b
fails "--class-weight 'balanced,'" 2 "--class-weight: 'balanced,' is not 'balanced' or a list LABEL:WEIGHT" train --class-weight balanced, a b
fails "--class-weight Balanced" 2 "--class-weight: 'Balanced' is not 'balanced'" train --class-weight Balanced a b
fails "--class-weight ''" 2 "--class-weight: '' is not 'balanced'" train --class-weight '' a b
fails "--class-weight '1:'" 2 "--class-weight: label 1 has no weight" train --class-weight 1: a b
fails "--class-weight '1:-2'" 2 "--class-weight \(weight of label 1\): '-2' is out of range \(must be >= 0\)" train --class-weight 1:-2 a b
fails "--class-weight '1:nan'" 2 "--class-weight \(weight of label 1\): 'nan' is not a finite number" train --class-weight 1:nan a b
fails "--class-weight '1:inf'" 2 "'inf' is not a finite number" train --class-weight 1:inf a b
fails "--class-weight '1:2x'" 2 "'2x' is not a number" train --class-weight 1:2x a b
fails "--class-weight ':2'" 2 "':2' has an entry without a label" train --class-weight :2 a b
fails "--class-weight '1:2,,3:1'" 2 "'1:2,,3:1' has an empty entry" train --class-weight 1:2,,3:1 a b
fails "--class-weight '1:2,'" 2 "'1:2,' has an empty entry" train --class-weight 1:2, a b
fails "--class-weight duplicate label" 2 "--class-weight: label -1 is given twice" train --class-weight -1:2,1:1,-1:3 a b
fails "--class-weight '1'" 2 "'1' is not 'balanced' or a list" train --class-weight 1 a b
fails "--init unknown" 2 "--init: 'ones' is not one of: zeros, normal" train --init ones a b
fails "--format unknown" 2 "--format: 'xml' is not one of" train --format xml a b
fails "--label-column text" 2 "--label-column: 'first' is not a number" train --label-column first a b
fails "--label-column negative" 2 "--label-column: '-2' is out of range" train --label-column -2 a b
fails "train without arguments" 2 "missing DATA and MODEL" train
fails "train without MODEL" 2 "missing MODEL" train data.csv
fails "train extra argument" 2 "unexpected argument 'c'" train a b c
fails "validation and split exclude each other" 2 "exclude each other" train --validation v.csv --validation-split 0.1 a b
fails "early stopping needs validation" 2 "--early-stopping needs --validation" train --early-stopping 3 a b
fails "predict without MODEL" 2 "missing MODEL" predict data.csv
fails "predict extra argument" 2 "unexpected argument 'd'" predict a b c d
fails "eval extra argument" 2 "unexpected argument 'c'" eval a b c
fails "eval unknown option" 2 "unknown option '--proba'" eval --proba a b
fails "gradcheck bad --l2" 2 "--l2: 'x' is not a number" gradcheck --l2 x
fails "gradcheck --C with --l2" 2 "--C and --l2 both set the penalty" gradcheck --C 1 --l2 0.1
fails "gradcheck --C 0" 2 "--C: '0' is out of range" gradcheck --C 0
fails "gradcheck extra argument" 2 "unexpected argument 'c'" gradcheck a b c
fails "devices extra argument" 2 "unexpected argument 'x'" devices x
# usage errors are found before any file is touched
check "usage error leaves no model file" test ! -e b

# the man page documents every subcommand, the environment and exit status
MAN="$SRCDIR/src/cli/clsoftmax.1"
check "man page exists" test -f "$MAN"
for w in devices train predict eval gradcheck ENVIRONMENT CLSOFTMAX_DEVICE CLSOFTMAX_KERNEL_DIR \
    "EXIT STATUS"; do
    check "man page mentions $w" grep -q "$w" "$MAN"
done
for o in solver max\\\\-iter epochs tol n\\\\-iter\\\\-no\\\\-change lbfgs\\\\-memory C class\\\\-weight \
    lr batch\\\\-size l2 optimizer momentum init seed no\\\\-shuffle standardize \
    double validation validation\\\\-split early\\\\-stopping history resume quiet proba \
    label\\\\-column labels format; do
    check "man page documents --$o" grep -q -- "\\\\-\\\\-$o" "$MAN"
done
# --help is where the options are; the man page and the README must not
# drift from it: every option of every command's --help is in the man page,
# every command has its man section and a row in the README's table.
for c in devices train predict eval show gradcheck calibrate cv; do
    run "$c" --help
    cp "$T/out" "$T/help-$c"
    for o in $(grep -oE '^  (-[a-zA-Z], )?--[a-zA-Z][a-zA-Z0-9-]*' "$T/help-$c" | sed 's/.*--//'); do
        m=$(printf '%s' "$o" | sed 's/-/\\\\-/g')
        check "man page documents $c --$o" grep -q -- "\\\\-\\\\-$m" "$MAN"
    done
    check "man page has a section for $c" grep -q "^\\.SS \"clsoftmax $c" "$MAN"
    check "README's command table lists $c" grep -q "^| \`clsoftmax $c" "$SRCDIR/README.md"
done
# Every command's --help and the man page agree on the defaults: every
# "(default X)" of a --help option line is found in the man page next to
# that option.
for c in train predict eval show gradcheck calibrate cv; do
    awk '/^  (-[a-zA-Z], )?--[a-zA-Z]/ { opt = $1; if (opt ~ /^-[a-zA-Z],$/) opt = $2 }
         /\(default [^);]*[);]/ && opt != "" { s = $0; sub(/.*\(default /, "", s); sub(/[;)].*/, "", s); print opt "\t" s }' \
        "$T/help-$c"
done | grep -v -- '--format\|--label-column\|--labels' | sort -u > "$T/help-defaults"
check "the --help texts have defaults to compare ($(wc -l < "$T/help-defaults"))" test "$(wc -l < "$T/help-defaults")" -ge 15
while IFS="$(printf '\t')" read -r opt def; do
    mopt=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
    mdef=$(printf '%s' "$def" | sed 's/-/\\\\-/g')
    # the man page paragraph of the option: from its .BI/.B line to the next .TP
    para=$(awk -v o="$mopt" 'index($0, o) == 1 || index($0, ".BI " o " ") == 1 || index($0, ".B " o) == 1 || index($0, ".BR " o " ") == 1 { p = 1; next } /^\.(TP|SS|SH)/ { p = 0 } p' "$MAN")
    if printf '%s\n' "$para" | tr '\n' ' ' | grep -qF -- "default $mdef"; then
        pass "man page agrees: $opt default $def"
    else
        fail "man page agrees: $opt default $def" "man page paragraph of $opt lacks 'default $mdef'"
    fi
done < "$T/help-defaults"

done_testing
