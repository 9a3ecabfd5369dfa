#!/bin/sh
# Data as users have it: one table of 60 samples (4 features, 3 classes
# named setosa, versicolor, virginica) written as pandas, R and NumPy write
# it, each writer next to the call it stands for. Every dialect must give
# the model of the plain CSV, bit for bit (the same doubles in, the same
# deterministic training), with the header's names kept; standard input,
# the header rule, the errors that say what to do, the warnings -q keeps,
# progress in a pipe and -qv. Where Python has pandas and NumPy
# (Debian: python3-pandas python3-numpy), their own writers must produce
# the same bytes as these (R is not installed: its dialects are written from
# its documented behaviour: write.csv quotes text and names, writes 7 for
# 7.0, row names first unless row.names = FALSE; write.table separates by
# blanks and gives the row names no header field).
. "$(dirname "$0")/lib.sh"
need_device

# ---- the table: features with one decimal, from a fixed LCG
awk 'BEGIN {
    s = 20; split("setosa versicolor virginica", name, " ")
    for (i = 0; i < 60; i++) {
        c = i % 3; line = ""
        for (j = 0; j < 4; j++) {
            s = (s * 1103515245 + 12345) % 2147483648
            line = line sprintf("%.1f ", 1 + c * (j % 3 + 1) + int(s / 2147483648 * 25) / 10)
        }
        print line name[c + 1]
    }
}' >"$T/table"
NAMES="sepal_length sepal_width petal_length petal_width"

# pd.DataFrame(X).assign(y=names).to_csv("pd.csv", index=False): a header
# of the column numbers and y, floats as repr writes them
{ echo "0,1,2,3,y"; awk '{ print $1 "," $2 "," $3 "," $4 "," $5 }' "$T/table"; } >"$T/pd.csv"
# The reference: a CSV without a header, read with --no-header
awk '{ print $1 "," $2 "," $3 "," $4 "," $5 }' "$T/table" >"$T/plain.csv"
# df.to_csv("qa.csv", index=False, quoting=csv.QUOTE_ALL), with named columns
{ echo "$NAMES species" | awk '{ for (i = 1; i <= NF; i++) printf "%s\"%s\"", (i > 1 ? "," : ""), $i; print "" }'
  awk '{ printf "\"%s\",\"%s\",\"%s\",\"%s\",\"%s\"\n", $1, $2, $3, $4, $5 }' "$T/table"; } >"$T/qa.csv"
# df.to_csv("pdi.csv"): the index written first, its header field empty
{ echo ",0,1,2,3,y"; awk '{ print NR - 1 "," $1 "," $2 "," $3 "," $4 "," $5 }' "$T/table"; } >"$T/pdi.csv"
# df.to_csv("excel.csv", index=False, encoding="utf-8-sig", lineterminator="\r\n")
{ printf '\357\273\277'; echo "$NAMES species" | tr ' ' ','
  awk '{ print $1 "," $2 "," $3 "," $4 "," $5 }' "$T/table"; } | sed 's/$/\r/' >"$T/excel.csv"
# R: write.csv(df, "r.csv", row.names = FALSE): names and text quoted, 7 for 7.0
r_number() { sed 's/\.0\([ ,]\)/\1/g; s/\.0$//'; }
{ echo "$NAMES species" | awk '{ for (i = 1; i <= NF; i++) printf "%s\"%s\"", (i > 1 ? "," : ""), $i; print "" }'
  awk '{ print $1 "," $2 "," $3 "," $4 ",\"" $5 "\"" }' "$T/table" | r_number; } >"$T/r.csv"
# write.csv(df, "rn.csv"): row names "1".."60" first, under an empty name
{ echo "$NAMES species" | awk '{ printf "\"\""; for (i = 1; i <= NF; i++) printf ",\"%s\"", $i; print "" }'
  awk '{ print "\"" NR "\"," $1 "," $2 "," $3 "," $4 ",\"" $5 "\"" }' "$T/table" | r_number; } >"$T/rn.csv"
# write.table(df, "iris.txt"): blanks, and a header one name short
{ echo "$NAMES species" | awk '{ for (i = 1; i <= NF; i++) printf "%s\"%s\"", (i > 1 ? " " : ""), $i; print "" }'
  awk '{ print "\"" NR "\" " $1 " " $2 " " $3 " " $4 " \"" $5 "\"" }' "$T/table" | r_number; } >"$T/iris.txt"
# NumPy: np.savetxt("np", np.column_stack([X, y])) with y the class index:
# %.18e, blanks, no header, and a file name that says nothing
awk 'BEGIN { c["setosa"] = 0; c["versicolor"] = 1; c["virginica"] = 2 }
     { printf "%.18e %.18e %.18e %.18e %.18e\n", $1, $2, $3, $4, c[$5] }' "$T/table" >"$T/np"
awk 'BEGIN { c["setosa"] = 0; c["versicolor"] = 1; c["virginica"] = 2 }
     { print $1 "," $2 "," $3 "," $4 "," c[$5] }' "$T/table" >"$T/plain-int.csv"
# np.savetxt("nph.txt", ..., fmt="%g", delimiter="\t", header="a b c d y")
awk 'BEGIN { c["setosa"] = 0; c["versicolor"] = 1; c["virginica"] = 2; print "# a b c d y" }
     { printf "%g\t%g\t%g\t%g\t%g\n", $1, $2, $3, $4, c[$5] }' "$T/table" >"$T/nph.txt"

# ---- the writers themselves, where Python has them
if [ -n "${PYTHON:-}" ] && [ "$PYTHON" != ":" ] && "$PYTHON" -c 'import pandas, numpy' 2>/dev/null; then
    "$PYTHON" - "$T" <<'EOF'
import csv, sys
import numpy as np
import pandas as pd
t = sys.argv[1]
rows = [line.split() for line in open(t + "/table")]
X = np.array([[float(v) for v in r[:4]] for r in rows])
names = [r[4] for r in rows]
y = np.array([["setosa", "versicolor", "virginica"].index(n) for n in names], dtype=float)
cols = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
pd.DataFrame(X).assign(y=names).to_csv(t + "/py-pd.csv", index=False)
df = pd.DataFrame(X, columns=cols).assign(species=names)
df.to_csv(t + "/py-qa.csv", index=False, quoting=csv.QUOTE_ALL)
pd.DataFrame(X).assign(y=names).to_csv(t + "/py-pdi.csv")
df.to_csv(t + "/py-excel.csv", index=False, encoding="utf-8-sig", lineterminator="\r\n")
np.savetxt(t + "/py-np", np.column_stack([X, y]))
np.savetxt(t + "/py-nph.txt", np.column_stack([X, y]), fmt="%g", delimiter="\t",
           header="a b c d y")
EOF
    for f in pd.csv qa.csv pdi.csv excel.csv np nph.txt; do
        check "the writer's own bytes: $f" cmp "$T/py-$f" "$T/$f"
    done
else
    skip "the writers' own bytes (pandas, NumPy)" "$PYTHON cannot import pandas and numpy (Debian: python3-pandas)"
fi

# ---- the reference model, then every dialect gives the same tensors
runs "train the plain CSV" train -q --no-header --label-column last "$T/plain.csv" "$T/plain.st"
runs "train the plain CSV, integer classes" train -q --no-header --label-column last \
    "$T/plain-int.csv" "$T/plain-int.st"
# meta_json KEY MODEL: a metadata value as the JSON header holds it (with
# its quotes escaped: the JSON arrays of names)
meta_json() {
    st_header "$2" | grep -o "\"$1\":\"\([^\"\\]\|\\\\.\)*\"" | head -n 1 | sed 's/^"[^"]*":"//; s/"$//'
}
same_model() { # NAME MODEL REFERENCE
    if [ -s "$2" ] && [ "$(tensors "$2" | od -An -tx1)" = "$(tensors "$3" | od -An -tx1)" ]; then
        pass "$1"
    else
        fail "$1" "$2 and $3 differ"
    fi
}

runs "pandas' default header" train --label-column last "$T/pd.csv" "$T/pd.st"
check "... is a header: 60 samples, 3 classes" \
    grep -q 'pd.csv: 60 samples, 4 features, 3 classes (setosa, versicolor, virginica)$' "$T/err"
same_model "... the model of the plain CSV" "$T/pd.st" "$T/plain.st"
check "... its names kept" test "$(meta_json feature_names "$T/pd.st")" = '[\"0\",\"1\",\"2\",\"3\"]'
check "... and the label's" test "$(meta label_name "$T/pd.st")" = y
run predict -q "$T/pd.csv" "$T/pd.st"
check "predict -q: one line per sample, none for the header" test "$(wc -l <"$T/out")" -eq 60
sed 's/setosa/0/; s/versicolor/1/; s/virginica/2/' "$T/pd.csv" >"$T/pdn.csv"
runs "pandas' header over integer classes" train -q --label-column last "$T/pdn.csv" "$T/pdn.st"
same_model "... the model of the plain CSV" "$T/pdn.st" "$T/plain-int.st"
run show "$T/pdn.st"
check "... classes 0 1 2" grep -q '^classes: 0 1 2  (column .y.)$' "$T/out"

runs "QUOTE_ALL" train --label-column last "$T/qa.csv" "$T/qa.st"
same_model "... the model of the plain CSV" "$T/qa.st" "$T/plain.st"
check "... class names unquoted" grep -q '3 classes (setosa, versicolor, virginica)$' "$T/err"
runs "R write.csv (row.names = FALSE)" train -q --label-column last "$T/r.csv" "$T/r.st"
same_model "... the model of the plain CSV" "$T/r.st" "$T/plain.st"
runs "... --class-weight by a name R quoted" train -q --label-column last --class-weight setosa:2 \
    "$T/r.csv" "$T/r-cw.st"
runs "R write.csv with row names" train --label-column last "$T/rn.csv" "$T/rn.st"
same_model "... the model of the plain CSV" "$T/rn.st" "$T/plain.st"
check "... which are left out, saying so" grep -q 'rn.csv: the first column holds row names' "$T/err"
runs "pandas' index" train -q --label-column last "$T/pdi.csv" "$T/pdi.st"
same_model "... the model of the plain CSV" "$T/pdi.st" "$T/plain.st"
runs "R write.table" train -q --label-column last "$T/iris.txt" "$T/table.st"
same_model "... the model of the plain CSV" "$T/table.st" "$T/plain.st"
check "... read as blank-separated" test "$(meta data_delimiter "$T/table.st")" = auto
runs "Excel's UTF-8 CSV (BOM, CRLF)" train -q --label-column last "$T/excel.csv" "$T/excel.st"
same_model "... the model of the plain CSV" "$T/excel.st" "$T/plain.st"
check "... names without the BOM" test "$(meta_json feature_names "$T/excel.st" | cut -c1-17)" = '[\"sepal_length\"'
runs "NumPy savetxt (no extension)" train -q --label-column last "$T/np" "$T/np.st"
same_model "... the model of the plain CSV" "$T/np.st" "$T/plain-int.st"
runs "savetxt with a header comment and tabs" train -q --label-column last "$T/nph.txt" "$T/nph.st"
same_model "... the model of the plain CSV" "$T/nph.st" "$T/plain-int.st"
check "... the comment names the columns" test "$(meta_json feature_names "$T/nph.st")" = '[\"a\",\"b\",\"c\",\"d\"]'

# ---- standard input: the format from the first block, or --format
runs "train from standard input" train -q --label-column last - "$T/stdin.st" <"$T/qa.csv"
same_model "... the model of the file" "$T/stdin.st" "$T/plain.st"
runs "savetxt on standard input, guessed" train -q --label-column last - "$T/stdin-np.st" <"$T/np"
same_model "... the model of the file" "$T/stdin-np.st" "$T/plain-int.st"
"$BIN" predict -q - "$T/qa.st" <"$T/qa.csv" >"$T/p-stdin" 2>"$T/err"
"$BIN" predict -q "$T/qa.csv" "$T/qa.st" >"$T/p-file" 2>>"$T/err"
check "predict from standard input" cmp -s "$T/p-stdin" "$T/p-file"
printf '1,x,2\n' >"$T/bad.csv"
"$BIN" train --no-header --label-column last - "$T/x.st" <"$T/bad.csv" >"$T/out" 2>"$T/err"
check "an error names <stdin>" grep -q '^ERROR: <stdin>:1: column 1: not a number' "$T/err"

# ---- quoted fields: a delimiter, a doubled quote and a line break inside
printf 'a,b,y\n1.5,2,"Iris ""setosa"", the first"\n2.5,1,"two, ""2"""\n0.5,3,"Iris ""setosa"", the first"\n' >"$T/q.csv"
runs "quoted labels" train --label-column last "$T/q.csv" "$T/q.st"
check "... 3 samples of 2 classes" grep -q 'q.csv: 3 samples, 2 features, 2 classes' "$T/err"
run predict --proba "$T/q.csv" "$T/q.st"
check "... names quoted back in the CSV of --proba" \
    test "$(head -n 1 "$T/out")" = '"Iris ""setosa"", the first","two, ""2"""'
# a line break inside quotes is read (check_csv), but a class name must be
# one line, as predict writes one a line (README, "What is never lost")
printf 'a,b,y\n1.5,2,one\n2.5,1,"two\nlines"\n0.5,3,one\n' >"$T/qn.csv"
fails "a class name holding a line break is refused before training" 1 \
    "qn.csv: the class 'two.x0alines' \(sample 2\) holds a control character .*--label-column" \
    train --label-column last "$T/qn.csv" "$T/qn.st"
check "... no model" test ! -e "$T/qn.st"

# ---- errors that say what to do; columns from 0 everywhere
fails "label column 0 holding floats: the option and the columns that could be" 1 \
    "plain.csv:1: label '[0-9.]+' in column 0: not an integer; --label-column N \(counted from 0\) or 'last' picks the label column; columns of integers or text: 4" \
    train --no-header "$T/plain.csv" "$T/x.st"
fails "... by name where there is a header" 1 \
    "qa.csv:2: label '[0-9.]+' in column 0 \('sepal_length'\): not an integer.*columns of integers or text: 4 \('species'\)" \
    train "$T/qa.csv" "$T/x.st"
printf '"a","b","y"\n1,NA,"x"\n2,3,"z"\n' >"$T/na.csv"
fails "R's NA: a missing value, and what to do" 1 \
    "na.csv:2: column 1 \('b'\): missing value 'NA': every value is needed \(drop or fill the missing values first" \
    train --label-column last "$T/na.csv" "$T/x.st"
run train --help
check "--help says columns count from 0" grep -q 'columns are counted from 0' "$T/out"

# ---- predict on k columns: a warning even with -q, unless the header says so
cut -d, -f2- "$T/plain-int.csv" >"$T/lost.csv"
run predict -q "$T/lost.csv" "$T/plain-int.st"
check "a file of k columns: predicted, exit 0" test "$rc" -eq 0
check "... with a WARNING even with -q" grep -q "^WARNING: .*lost.csv: 4 columns, the model's 4 features: read as data without labels" "$T/err"
run predict --silent "$T/lost.csv" "$T/plain-int.st"
check "--silent: no warning" test ! -s "$T/err"
cut -d, -f1-4 "$T/qa.csv" >"$T/nolab.csv"
run predict -q "$T/nolab.csv" "$T/qa.st"
check "k columns named as the model's features: no warning" test ! -s "$T/err"
check "... 60 predictions" test "$(wc -l <"$T/out")" -eq 60
awk -F, 'BEGIN { OFS = "," } { t = $1; $1 = $2; $2 = t; print }' "$T/qa.csv" >"$T/swapped.csv"
run eval -q "$T/swapped.csv" "$T/qa.st"
check "header names in another order: a WARNING" \
    grep -q "^WARNING: .*swapped.csv: the header's feature names differ from those .*qa.st was trained on: the same names in another order" "$T/err"

# ---- show: shape, classes, training, data format, weights by name
run show "$T/qa.st"
check "show exits 0" test "$rc" -eq 0
check "show: the shape" grep -q "qa.st: 3 classes, 4 features, float32$" "$T/out"
check "show: the classes and the label's column" \
    grep -q "^classes: setosa versicolor virginica  (column 'species')$" "$T/out"
check "show: how it was trained" grep -Eq '^training: lbfgs, (converged|did not converge) after [0-9]+ iterations' "$T/out"
check "show: C and tol" grep -q '^  options: C 1, lambda .*, tol 0.0001, max_iter 1000' "$T/out"
check "show: the data format" grep -q '^data format: data_format csv, data_label_column last' "$T/out"
check "show: weights by name, 4 per class" test "$(grep -Ec '^ +-?[0-9.e+-]+  (sepal|petal)_(length|width)$' "$T/out")" -eq 12
run show --all "$T/qa.st"
check "show --all: a header of the names" \
    test "$(head -n 1 "$T/out")" = "class,intercept,sepal_length,sepal_width,petal_length,petal_width"
check "show --all: a row per class" test "$(grep -c '^\(setosa\|versicolor\|virginica\),' "$T/out")" -eq 3
# the printed weights are the model's: predict by hand from them
awk -F, 'NR == FNR { if (FNR > 1) { for (j = 2; j <= 6; j++) w[FNR - 1, j - 1] = $j; c[FNR - 1] = $1 }; next }
    FNR > 1 { best = -1e300; for (k = 1; k <= 3; k++) { s = w[k, 1]; for (j = 1; j <= 4; j++) s += w[k, j + 1] * $j
              if (s > best) { best = s; arg = c[k] } } print arg }' "$T/out" "$T/pd.csv" >"$T/byhand"
run predict "$T/qa.csv" "$T/qa.st"
check "show --all: argmax of W x + b is predict's" cmp -s "$T/byhand" "$T/out"
run show --top 1 "$T/plain-int.st"
check "show without names: CSV columns" test "$(grep -Ec '^ +-?[0-9.e+-]+  column [0-3]$' "$T/out")" -eq 3

# ---- sample weights: a column, a file (liblinear -W), and --class-weight
awk -F, '{ w = $5 == "setosa" ? 2 : 1; print $1 "," $2 "," w "," $3 "," $4 "," $5 }' "$T/plain.csv" >"$T/w.csv"
cut -d, -f3 "$T/w.csv" >"$T/w.txt"
runs "--weight-column" train -q --no-header --label-column last --weight-column 2 "$T/w.csv" "$T/wc.st"
runs "--class-weight setosa:2" train -q --no-header --label-column last --class-weight setosa:2 \
    "$T/plain.csv" "$T/cw.st"
same_model "--weight-column of 2 for setosa is --class-weight setosa:2" "$T/wc.st" "$T/cw.st"
runs "--weights FILE" train -q --no-header --label-column last --weights "$T/w.txt" "$T/plain.csv" "$T/wf.st"
same_model "... the same weights from a file" "$T/wf.st" "$T/cw.st"
check "... said in the metadata" test "$(meta sample_weights "$T/wf.st")" = "--weights $T/w.txt"
awk -F, '{ print ($5 == "setosa") ? 4 : 1 }' "$T/plain.csv" >"$T/w4.txt"
runs "weights multiply" train -q --no-header --label-column last --weight-column 2 --class-weight setosa:2 \
    "$T/w.csv" "$T/w2.st"
runs "... against one file of the products" train -q --no-header --label-column last --weights "$T/w4.txt" \
    "$T/plain.csv" "$T/w4.st"
same_model "... the same model" "$T/w2.st" "$T/w4.st"
check "the weight column is remembered" test "$(meta data_weight_column "$T/wc.st")" = 2
run predict -q "$T/w.csv" "$T/wc.st"
check "predict reads past the weight column" test "$(wc -l <"$T/out")" -eq 60
head -n 5 "$T/w.txt" >"$T/w-short.txt"
fails "--weights: too few" 1 "w-short.txt: 5 weights for the data's 60 samples" \
    train -q --no-header --label-column last --weights "$T/w-short.txt" "$T/plain.csv" "$T/x.st"
printf '1\n-2\n' >"$T/w-neg.txt"
fails "--weights: a negative one" 1 "w-neg.txt:2: negative '-2': a weight is a finite number >= 0" \
    train -q --no-header --label-column last --weights "$T/w-neg.txt" "$T/plain.csv" "$T/x.st"

# ---- output in a pipe, and short options together
runs "-qv: short options combine" train -qv --no-header --label-column last "$T/plain.csv" "$T/x.st"
runs "sgd in a pipe" train --solver sgd --max-iter 30 --tol 0 --no-header --label-column last \
    "$T/plain.csv" "$T/x.st"
check "... a line every 3 epochs of 30" test "$(grep -c '^epoch ' "$T/err")" -eq 10
fails "an unknown flag in a cluster" 2 "unknown option '-x'" train -qx a b

done_testing
