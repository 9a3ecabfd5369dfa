#!/bin/sh
# What the model remembers of its training data (metadata data_format,
# data_label_column, data_header, data_delimiter, data_storage): predict and
# eval read a test file the same way without the options repeated, options
# given win, and a failed read names the option to change. Also: predict on
# data without labels (--no-labels, or detected with one note), string
# labels (names in, the same names out, classes in byte order), the format
# of a file whose name does not tell (by content), the confusion-matrix
# cut-off, predict --quiet.
. "$(dirname "$0")/lib.sh"
need_device

THREE=$DATA/three.csv   # 60 x 3 features, ';', label last (1..3), no header
SVM=$DATA/three.svm     # the same in libsvm

# same_output NAME ARGS1 -- ARGS2: stdout of both runs identical (and both exit 0)
same_output() {
    name=$1
    shift
    a=""
    while [ "$1" != "--" ]; do a="$a $1"; shift; done
    shift
    # shellcheck disable=SC2086
    "$BIN" $a >"$T/o1" 2>"$T/err"
    r1=$?
    "$BIN" "$@" >"$T/o2" 2>>"$T/err"
    r2=$?
    if [ "$r1" -ne 0 ] || [ "$r2" -ne 0 ]; then
        fail "$name" "exit $r1 / $r2"
    elif ! cmp -s "$T/o1" "$T/o2"; then
        fail "$name" "outputs differ"
    elif [ ! -s "$T/o1" ]; then
        fail "$name" "no output"
    else
        pass "$name"
    fi
}

# same_tensors NAME MODEL1 MODEL2: both exist, with the same tensor bytes
# (kept in $T/a.bin and $T/b.bin)
same_tensors() {
    tensors "$2" >"$T/a.bin" 2>/dev/null
    tensors "$3" >"$T/b.bin" 2>/dev/null
    if [ -s "$T/a.bin" ] && cmp -s "$T/a.bin" "$T/b.bin"; then pass "$1"; else fail "$1" "$2 and $3 differ"; fi
}

# ---- label column last
runs "train --label-column last" train -q --label-column last "$THREE" "$T/last.st"
check "metadata data_format csv" test "$(meta data_format "$T/last.st")" = csv
check "metadata data_label_column last" test "$(meta data_label_column "$T/last.st")" = last
check "metadata data_header auto (detected on each file)" test "$(meta data_header "$T/last.st")" = auto
check "metadata data_delimiter auto" test "$(meta data_delimiter "$T/last.st")" = auto
check "metadata data_storage auto" test "$(meta data_storage "$T/last.st")" = auto
check "integer labels: no label_names" eval '! has_meta label_names "$T/last.st"'
same_output "predict without repeating --label-column" \
    predict --label-column last "$THREE" "$T/last.st" -- predict "$THREE" "$T/last.st"
check "predict: 60 labels" test "$(wc -l <"$T/o2")" -eq 60
check "predict says how it read the file" grep -q "three.csv: 60 samples, 3 features, read as csv (label column last (from the model))" "$T/err"
same_output "eval without repeating --label-column" \
    eval --label-column last "$THREE" "$T/last.st" -- eval "$THREE" "$T/last.st"
fails "an override wins (--label-column 0), and the error names the option" 1 \
    "three.csv:1: label '-0.047' in column 0: not an integer; --label-column N \(counted from 0\) or 'last' picks the label column.*read with label column 0 \(--label-column\); override with --format, --label-column N\|last" \
    predict --label-column 0 "$THREE" "$T/last.st"
fails "eval: the override wins too" 1 "label column 0 \(--label-column\)" \
    eval --label-column 0 "$THREE" "$T/last.st"
# a model that remembers nothing of the label column (label column 0 by
# default): the error says where the setting came from
runs "train with label column 0 (the default)" train -q "$DATA/pm1.csv" "$T/first.st"
check "metadata data_label_column 0" test "$(meta data_label_column "$T/first.st")" = 0

# ---- a header the detection cannot see (numeric column names)
{ echo "1;2;3;4"; cat "$THREE"; } >"$T/hdr.csv"
runs "train --header --label-column last" train -q --header --label-column last "$T/hdr.csv" "$T/hdr.st"
check "metadata data_header true" test "$(meta data_header "$T/hdr.st")" = true
run predict "$T/hdr.csv" "$T/hdr.st"
check "predict skips the remembered header: 60 labels" test "$(wc -l <"$T/out")" -eq 60

same_tensors "header model's weights equal the headerless model's" "$T/hdr.st" "$T/last.st"
same_output "eval with the remembered header" eval "$THREE" "$T/last.st" -- eval "$T/hdr.csv" "$T/hdr.st"
run predict --no-header "$T/hdr.csv" "$T/hdr.st"
check "--no-header overrides: the header line is read as data (61 labels)" test "$(wc -l <"$T/out")" -eq 61

# ---- delimiter ';' given
tr ';' ',' <"$THREE" >"$T/comma.csv"
runs "train --delimiter ';'" train -q --delimiter ';' --label-column last "$THREE" "$T/semi.st"
check "metadata data_delimiter ;" test "$(meta data_delimiter "$T/semi.st")" = ";"
same_output "predict with the remembered ';'" predict "$THREE" "$T/last.st" -- predict "$THREE" "$T/semi.st"
same_output "eval with the remembered ';'" eval "$THREE" "$T/last.st" -- eval "$THREE" "$T/semi.st"
fails "a ',' file against the remembered ';' names --delimiter" 1 \
    "comma.csv:1: .*delimiter ; \(from the model\).*--delimiter" predict "$T/comma.csv" "$T/semi.st"
same_output "--delimiter , overrides the remembered ';'" \
    predict "$THREE" "$T/last.st" -- predict --delimiter , "$T/comma.csv" "$T/semi.st"
fails "--delimiter: a bad value is a usage error" 2 "--delimiter: '\|' is not one of" \
    predict --delimiter '|' "$THREE" "$T/semi.st"

# ---- sparse storage
runs "train --sparse" train -q --sparse --label-column last "$THREE" "$T/sp.st"
check "metadata data_storage sparse" test "$(meta data_storage "$T/sp.st")" = sparse
run predict "$THREE" "$T/sp.st"
check "predict reads sparse as the model was trained" grep -q "storage sparse (from the model)" "$T/err"
run predict --dense "$THREE" "$T/sp.st"
check "--dense overrides" grep -q "storage dense (--dense)" "$T/err"
same_output "sparse model: eval without options equals eval with them" \
    eval --sparse --label-column last "$THREE" "$T/sp.st" -- eval "$THREE" "$T/sp.st"

# ---- libsvm
runs "train libsvm" train -q "$SVM" "$T/svm.st"
check "metadata data_format libsvm" test "$(meta data_format "$T/svm.st")" = libsvm
check "libsvm: no CSV keys" eval '! has_meta data_label_column "$T/svm.st"'

# ---- data without labels
cut -d';' -f1-3 "$THREE" >"$T/nolab.csv"
run predict "$THREE" "$T/last.st"
cp "$T/out" "$T/labelled.pred"
run predict "$T/nolab.csv" "$T/last.st"
check "predict detects data without labels" test "$rc" -eq 0
check "... and warns once on stderr" test "$(grep -c "^WARNING: .*nolab.csv: 3 columns, the model's 3 features: read as data without labels; if a column is missing instead" "$T/err")" -eq 1
check "... with the predictions of the labelled file" cmp -s "$T/out" "$T/labelled.pred"
run predict --no-labels "$T/nolab.csv" "$T/last.st"
check "--no-labels: the same predictions" cmp -s "$T/out" "$T/labelled.pred"
check "--no-labels: no detection note" test "$(grep -c 'without labels' "$T/err")" -eq 0
run predict --quiet "$T/nolab.csv" "$T/last.st"
check "predict --quiet: the same predictions" cmp -s "$T/out" "$T/labelled.pred"
check "predict --quiet: the warning alone on stderr" \
    sh -c "test \"\$(wc -l < '$T/err')\" -eq 1 && grep -q '^WARNING: ' '$T/err'"
run predict -q -q "$T/nolab.csv" "$T/last.st"
check "predict -q -q: nothing on stderr" test ! -s "$T/err"
run predict --silent "$T/nolab.csv" "$T/last.st"
check "predict --silent: nothing on stderr" test ! -s "$T/err"
check "predict --silent: the same predictions" cmp -s "$T/out" "$T/labelled.pred"
run predict -q "$THREE" "$T/last.st"
check "predict -q: nothing on stderr" test ! -s "$T/err"
fails "--no-labels on labelled data: the feature count says so" 1 \
    "the data has 4 features but the model .*last.st has 3; read with .*--no-labels" \
    predict --no-labels "$THREE" "$T/last.st"
cut -d' ' -f2- "$SVM" >"$T/nolab.svm"
run predict "$SVM" "$T/svm.st"
cp "$T/out" "$T/svm.pred"
run predict "$T/nolab.svm" "$T/svm.st"
check "libsvm without labels: detected" grep -q "nolab.svm: the first line starts with INDEX:VALUE: read as data without labels" "$T/err"
check "libsvm without labels: the same predictions" cmp -s "$T/out" "$T/svm.pred"
fails "eval needs labels" 1 "nolab.csv" eval "$T/nolab.csv" "$T/last.st"
runs "train IDX" train -q "$DATA/tiny-images-idx3-ubyte.gz" "$T/idx.st"
check "metadata data_format idx" test "$(meta data_format "$T/idx.st")" = idx
run predict "$DATA/tiny-images-idx3-ubyte.gz" "$T/idx.st"
cp "$T/out" "$T/idx.pred"
cp "$DATA/tiny-images-idx3-ubyte.gz" "$T/alone-images-idx3-ubyte.gz"
run predict "$T/alone-images-idx3-ubyte.gz" "$T/idx.st"
check "IDX images without a labels file: detected" grep -q "alone-images-idx3-ubyte.gz: no labels file: read as data without labels" "$T/err"
check "IDX without labels: the same predictions" cmp -s "$T/out" "$T/idx.pred"
fails "eval on IDX images without labels: no labels file" 1 "no labels file" \
    eval "$T/alone-images-idx3-ubyte.gz" "$T/idx.st"

# ---- string labels: 1, 2, 3 -> alpha, beta, gamma (the same order)
{ echo "a;b;c;species"; awk -F';' 'BEGIN { n[1] = "alpha"; n[2] = "beta"; n[3] = "gamma" }
    { print $1 ";" $2 ";" $3 ";" n[$4] }' "$THREE"; } >"$T/named.csv"
runs "train on string labels" train -q --label-column last "$T/named.csv" "$T/named.st"
runs "... and after 2 iterations" train -q --max-iter 2 --tol 0 --label-column last "$T/named.csv" "$T/named-2.st"
check "metadata label_type str" test "$(meta label_type "$T/named.st")" = str
st_header "$T/named.st" >"$T/hdr.json"
check "metadata label_names, a JSON array in class order" \
    grep -Fq '"label_names":"[\"alpha\",\"beta\",\"gamma\"]"' "$T/hdr.json"
same_tensors "the named model's weights equal the integer model's" "$T/named.st" "$T/last.st"
run predict "$T/named.csv" "$T/named.st"
awk '{ print ($1 == 1 ? "alpha" : $1 == 2 ? "beta" : "gamma") }' "$T/labelled.pred" >"$T/named.want"
check "predict prints the names (those of the integer model's predictions)" cmp -s "$T/out" "$T/named.want"
run predict --proba "$T/named.csv" "$T/named.st"
check "predict --proba heads the columns with the names" test "$(head -n 1 "$T/out")" = "alpha,beta,gamma"
run eval "$T/named.csv" "$T/named.st"
check "eval: confusion matrix headed by the names" grep -Eq '^ +alpha +beta +gamma$' "$T/out"
check "eval: rows named" test "$(grep -Ec '^ *(alpha|beta|gamma)( +[0-9]+){3}$' "$T/out")" -eq 3
acc_named=$(eval_field accuracy)
run eval "$THREE" "$T/last.st"
check "eval: the accuracy of the integer model ($acc_named)" test "$acc_named" = "$(eval_field accuracy)"
# names that sort in another order than the integers: 1 -> virginica, 2 -> setosa, 3 -> versicolor
awk -F';' 'BEGIN { n[1] = "virginica"; n[2] = "setosa"; n[3] = "versicolor" }
    { print $1 ";" $2 ";" $3 ";" n[$4] }' "$THREE" >"$T/iris.csv"
runs "train on names in another order" train -q --label-column last "$T/iris.csv" "$T/iris.st"
run predict --proba "$T/iris.csv" "$T/iris.st"
check "classes in byte order of the names" test "$(head -n 1 "$T/out")" = "setosa,versicolor,virginica"
run predict "$T/iris.csv" "$T/iris.st"
awk '{ print ($1 == 1 ? "virginica" : $1 == 2 ? "setosa" : "versicolor") }' "$T/labelled.pred" >"$T/iris.want"
check "predictions map back to the integer model's" cmp -s "$T/out" "$T/iris.want"
runs "resume a named model on its data" train -q --resume "$T/iris.st" "$T/iris.csv" "$T/iris2.st"
check "the resumed model keeps the names" test "$(meta label_type "$T/iris2.st")" = str
{ cat "$T/iris.csv"; echo "0.1;0.2;0;daisy"; } >"$T/daisy.csv"
runs "gradcheck on string labels" gradcheck --label-column last "$T/iris.csv"
runs "--class-weight balanced with names" train -q --class-weight balanced --label-column last "$T/iris.csv" "$T/cw.st"
# --class-weight LABEL:W names the classes: the integer model with the same
# weights on the same classes (alpha, beta, gamma are 1, 2, 3 in order)
runs "--class-weight with names" train -q --label-column last --class-weight beta:3,gamma:0.5 "$T/named.csv" "$T/cwn.st"
runs "--class-weight with the integers" train -q --label-column last --class-weight 2:3,3:0.5 "$THREE" "$T/cwi.st"
same_tensors "... the same weights, bit for bit" "$T/cwn.st" "$T/cwi.st"
tensors "$T/named.st" >"$T/w4"
check "... which differ from the unweighted model's" eval '[ -s "$T/w4" ] && ! cmp -s "$T/a.bin" "$T/w4"'
check "metadata class_weight is the option text" test "$(meta class_weight "$T/cwn.st")" = beta:3,gamma:0.5
runs "integer classes by value: +2:3,3:0.5" train -q --label-column last --class-weight +2:3,3:0.5 "$THREE" "$T/cwp.st"
same_tensors "... is 2:3,3:0.5" "$T/cwp.st" "$T/cwi.st"
fails "--class-weight: a name that is no class" 2 \
    "--class-weight: label daisy is not a class of the training data \(classes: setosa, versicolor, virginica\)" \
    train -q --label-column last --class-weight setosa:1,daisy:2 "$T/iris.csv" "$T/cw.st"
fails "--class-weight: an integer against names" 2 \
    "--class-weight: label 1 is not a class of the training data \(classes: setosa, versicolor, virginica\)" \
    train -q --label-column last --class-weight 1:2 "$T/iris.csv" "$T/cw.st"
fails "--class-weight: a name against integers" 2 \
    "--class-weight: label a is not a class of the training data \(classes: 1, 2, 3\)" \
    train -q --label-column last --class-weight a:2 "$THREE" "$T/cw.st"
fails "--class-weight: a fraction against integers" 2 \
    "--class-weight: label 1.5 is not a class of the training data \(classes: 1, 2, 3\)" \
    train -q --label-column last --class-weight 1.5:2 "$THREE" "$T/cw.st"
fails "--class-weight: one class given twice" 2 "--class-weight: labels 2 and \+2 are the same class" \
    train -q --label-column last --class-weight 2:1,+2:3 "$THREE" "$T/cw.st"
fails "--class-weight: names of a resumed model" 2 \
    "--class-weight: label daisy is not a class of the model .*iris.st \(classes: setosa" \
    train -q --resume "$T/iris.st" --class-weight daisy:2 "$T/iris.csv" "$T/cw.st"
runs "--class-weight names a resumed model's classes" train -q --resume "$T/iris.st" --class-weight virginica:2 "$T/iris.csv" "$T/cw.st"
# a model short of the optimum: at it the gradient is at the finite differences' floor
runs "a named model after 2 iterations" train -q --max-iter 2 --tol 0 --label-column last "$T/iris.csv" "$T/iris-2.st"
runs "gradcheck on string labels with the named model" gradcheck --label-column last "$T/iris.csv" "$T/iris-2.st"
fails "gradcheck: a name the model does not know" 1 "sample 61 has label daisy, which the model .*iris.st does not know" \
    gradcheck --label-column last "$T/daisy.csv" "$T/iris.st"
# label sets that do not match: eval counts the samples of a class the
# model never saw as errors (liblinear's rule), with a warning
runs "eval: a name the model does not know" eval "$T/daisy.csv" "$T/iris.st"
check "... is an error, with a warning naming it" \
    grep -q "^WARNING: .*daisy.csv: 1 of 61 samples have a label the model never saw (daisy): counted as errors; the loss is over the other 60" "$T/err"
check "... a row of the matrix and of the report" \
    sh -c "grep -Eq '^ *daisy +0 +0 +1\$' '$T/out' && grep -Eq '^ *daisy +0\\.0000 +0\\.0000 +0\\.0000 +1\$' '$T/out'"
runs "eval: names against an integer model" eval "$T/iris.csv" "$T/last.st"
check "... every sample an error" test "$(eval_field accuracy)" = "0.000000"
check "... warned" grep -q "60 of 60 samples have a label the model never saw (setosa, versicolor, virginica)" "$T/err"
runs "eval: integers against a named model" eval "$THREE" "$T/iris.st"
check "... warned" grep -q "60 of 60 samples have a label the model never saw (1, 2, 3)" "$T/err"
fails "resume: a name the model does not know" 1 "sample 61 has label daisy, which the model .*iris.st does not know" \
    train -q --resume "$T/iris.st" "$T/daisy.csv" "$T/x.st"
fails "a fractional label is still an error, with the option to change" 1 \
    "iris.csv:1: label '-0.047' in column 0: not an integer.*--label-column" eval --label-column 0 "$T/iris.csv" "$T/iris.st"

# ---- gradcheck DATA MODEL reads DATA as the model remembers (label column last)
runs "an integer model after 2 iterations" train -q --max-iter 2 --tol 0 --label-column last "$THREE" "$T/last-2.st"
same_output "gradcheck without repeating --label-column" \
    gradcheck --label-column last "$THREE" "$T/last-2.st" -- gradcheck "$THREE" "$T/last-2.st"
fails "gradcheck: an override wins (--label-column 0), and the error names the option" 1 \
    "three.csv:1: label '-0.047' in column 0: not an integer.*label column 0 \(--label-column\).*--label-column N" \
    gradcheck --label-column 0 "$THREE" "$T/last-2.st"
runs "gradcheck: --delimiter given wins too" gradcheck --delimiter ';' "$THREE" "$T/last-2.st"
fails "gradcheck: a wrong --delimiter given wins over the detection" 1 "three.csv:1: .*--delimiter" \
    gradcheck --delimiter tab "$THREE" "$T/last-2.st"

# ---- label_type float (the Python package's fractional classes, names by
# repr): the named model with its names replaced by numbers, as Python
# writes them. float_model SRC DST rewrites the safetensors header.
float_model() {
    rewrite_header "$1" "$2" 's/"label_names":"\[[^]]*\]"/"label_names":"[\\"0.5\\",\\"1.25\\",\\"2.0\\"]"/;
        s/"label_type":"str"/"label_type":"float"/'
}
float_model "$T/named.st" "$T/float.st"
check "a float model: label_type float" test "$(meta label_type "$T/float.st")" = float
st_header "$T/float.st" >"$T/hdr.json"
check "a float model: label_names of numbers" grep -Fq '"label_names":"[\"0.5\",\"1.25\",\"2.0\"]"' "$T/hdr.json"
# the labels as other texts of those numbers: 1 -> 0.50 or 5e-1, 2 -> 1.250, 3 -> 2
awk -F';' '{ l = $4 == 1 ? (NR % 2 ? "0.50" : "5e-1") : $4 == 2 ? "1.250" : "2"
             print $1 ";" $2 ";" $3 ";" l }' "$THREE" >"$T/float.csv"
run predict "$T/float.csv" "$T/float.st"
awk '{ print ($1 == 1 ? "0.5" : $1 == 2 ? "1.25" : "2.0") }' "$T/labelled.pred" >"$T/float.want"
check "predict prints the float names (the integer model's predictions)" cmp -s "$T/out" "$T/float.want"
runs "eval: fractional labels matched by value" eval "$T/float.csv" "$T/float.st"
check "eval: the accuracy of the named model ($acc_named)" test "$(eval_field accuracy)" = "$acc_named"
loss_float=$(eval_field loss)
run eval "$T/named.csv" "$T/named.st"
check "eval: the loss of the named model ($loss_float)" test "$(eval_field loss)" = "$loss_float"
{ cat "$T/float.csv"; echo "0.1;0.2;0;0.75"; } >"$T/float-bad.csv"
runs "eval: a number the float model does not know" eval "$T/float-bad.csv" "$T/float.st"
check "... is an error, with a warning" grep -q "float-bad.csv: 1 of 61 samples have a label the model never saw (0.75)" "$T/err"
fails "gradcheck: a number the float model does not know" 1 \
    "float-bad.csv: sample 61 has label 0.75, which the model .*float.st does not know \(classes: 0.5, 1.25, 2.0\)" \
    gradcheck "$T/float-bad.csv" "$T/float.st"
fails "without label_names a fractional label stays an error, with the hint" 1 \
    "float.csv:1: label '0.50' in column 3: not an integer.*--label-column" eval "$T/float.csv" "$T/last.st"
fails "so it does for a str model" 1 "float.csv:1: label '0.50' in column 3: not an integer" \
    eval "$T/float.csv" "$T/named.st"
float_model "$T/named-2.st" "$T/float-2.st"
same_output "gradcheck: the float model is the named one" \
    gradcheck "$T/named.csv" "$T/named-2.st" -- gradcheck "$T/float.csv" "$T/float-2.st"
runs "resume the float model" train -q --resume "$T/float.st" --class-weight 1.250:3 "$T/float.csv" "$T/float-r.st"
check "the resumed model stays float" test "$(meta label_type "$T/float-r.st")" = float
runs "resume the named model alike" train -q --resume "$T/named.st" --class-weight beta:3 "$T/named.csv" "$T/named-r.st"
same_tensors "... the same weights: --class-weight 1.250 is the class 1.25" "$T/float-r.st" "$T/named-r.st"
fails "--class-weight: a number the float model does not know" 2 \
    "--class-weight: label 0.75 is not a class of the model .*float.st \(classes: 0.5, 1.25, 2.0\)" \
    train -q --resume "$T/float.st" --class-weight 0.75:3 "$T/float.csv" "$T/x.st"

# ---- format by content
cp "$SVM" "$T/three"
cp "$SVM" "$T/three.txt"
runs "train an extension-less libsvm file" train -q "$T/three" "$T/noext.st"
check "read as libsvm" test "$(meta data_format "$T/noext.st")" = libsvm
same_tensors "... the model of three.svm" "$T/noext.st" "$T/svm.st"
runs "train a .txt libsvm file" train -q "$T/three.txt" "$T/txt.st"
same_tensors "... the model of three.svm" "$T/txt.st" "$T/svm.st"
same_output "eval an extension-less libsvm file" eval "$SVM" "$T/svm.st" -- eval "$T/three" "$T/svm.st"
{ head -n 1 "$SVM"; echo "1,2,3"; } >"$T/odd"
fails "a failed guess is named, with --format" 1 \
    "odd:2: .*\(read as libsvm, guessed from the content; if that is wrong, pass --format csv\|libsvm\|idx\)" \
    train "$T/odd" "$T/x.st"
cp "$SVM" "$T/wrong.csv"
fails "a guess by name is named too" 1 "wrong.csv:1: .*guessed from the file name.*--format" \
    train "$T/wrong.csv" "$T/x.st"
printf 'hello\n' >"$T/prose"
fails "nothing to guess from" 1 "prose: cannot tell the format .*--format csv\|libsvm\|idx" \
    train "$T/prose" "$T/x.st"

# ---- the confusion matrix: up to 30 classes
awk 'BEGIN { for (i = 0; i < 62; i++) { c = i % 31; printf "%d,%d,%d\n", c, c % 6, int(c / 6) } }' >"$T/c31.csv"
awk -F, '$1 < 30' "$T/c31.csv" >"$T/c30.csv"
runs "train 31 classes" train -q --max-iter 3 --tol 0 "$T/c31.csv" "$T/c31.st"
runs "eval 31 classes" eval "$T/c31.csv" "$T/c31.st"
check "the matrix is omitted, saying how to get it" grep -q '^confusion matrix omitted: 31 classes (more than 30); --confusion prints it$' "$T/out"
check "... and no row of it is printed" test "$(grep -Ec '^ *[0-9]+( +[0-9]+){31}$' "$T/out")" -eq 0
check "... the report is" test "$(grep -Ec '^ *[0-9]+( +[0-9]\.[0-9]{4}){3} +[0-9]+$' "$T/out")" -eq 31
runs "eval --confusion 31 classes" eval --confusion "$T/c31.csv" "$T/c31.st"
check "--confusion: header and 31 rows" test "$(grep -Ec '^ *[0-9]+( +[0-9]+){31}$' "$T/out")" -eq 31
total=$(awk '/^confusion matrix/ { m = 1; next } m == 1 { m = 2; next } m == 2 { for (i = 2; i <= NF; i++) s += $i } END { print s }' "$T/out")
check "--confusion: the matrix counts the 62 samples ($total)" test "$total" -eq 62
runs "train 30 classes" train -q --max-iter 3 --tol 0 "$T/c30.csv" "$T/c30.st"
runs "eval 30 classes" eval "$T/c30.csv" "$T/c30.st"
check "30 classes: the matrix is printed" test "$(grep -Ec '^ *[0-9]+( +[0-9]+){30}$' "$T/out")" -eq 30

done_testing
