#!/bin/sh
# Command-line contract that needs no device: --version, --help, usage
# errors (exit 2 with a hint), strict number parsing, the man page.
. "$(dirname "$0")/lib.sh"

runs "--version exits 0" --version
check "--version prints the version" grep -Eq '^clsoftmax [0-9]+\.[0-9]+\.[0-9]+' "$T/out"
runs "--help exits 0" --help
for c in devices train predict eval gradcheck; do
    check "--help lists $c" grep -q "^  $c" "$T/out"
done
for c in devices train predict eval gradcheck; do
    runs "$c --help exits 0" "$c" --help
    check "$c --help starts with Usage" grep -q "^Usage: clsoftmax $c" "$T/out"
done
run help train
check "help train == train --help" grep -q "^Usage: clsoftmax train" "$T/out"

# train --help shows every option and its default
run train --help
cp "$T/out" "$T/train-help"
for o in epochs lr batch-size l2 optimizer momentum init seed no-shuffle standardize double \
    validation validation-split early-stopping history resume quiet format label-column \
    header no-header labels; do
    check "train --help documents --$o" grep -q -- "--$o" "$T/train-help"
done
check "train --help shows the epochs default" grep -Eq -- '--epochs N .*default [0-9]+' "$T/train-help"
check "train --help shows the batch default" grep -Eq -- '--batch-size N .*default [0-9]+' "$T/train-help"
check "train --help shows the optimizer default" grep -Eq -- '--optimizer .*default (sgd|momentum|adam)' "$T/train-help"

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
fails "--optimizer unknown" 2 "--optimizer: 'rmsprop' is not one of: sgd, momentum, adam" train --optimizer rmsprop a b
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
for o in epochs lr batch\\\\-size l2 optimizer momentum init seed no\\\\-shuffle standardize \
    double validation validation\\\\-split early\\\\-stopping history resume quiet proba \
    label\\\\-column labels format; do
    check "man page documents --$o" grep -q -- "\\\\-\\\\-$o" "$MAN"
done

done_testing
