#!/bin/sh
# train --plot and eval --plot: the SVG is well-formed XML and holds what
# the run printed: one point per iteration (L-BFGS) or epoch (SGD, with
# validation), the printed losses and accuracies, and eval's confusion
# matrix cell by cell with the class labels. Bad places to write fail with
# ERROR before any work, and a failed write exits non-zero. A picture is
# replaced as a model is: old mode kept, stale temporaries removed, pipes
# written through.
. "$(dirname "$0")/lib.sh"
need_device

if command -v xmllint >/dev/null 2>&1; then have_xmllint=1; else have_xmllint=0; fi
# well_formed NAME FILE
well_formed() {
    if [ "$have_xmllint" -eq 0 ]; then
        skip "$1" "xmllint is not installed (Debian: libxml2-utils)"
    elif xmllint --noout "$2" 2>"$T/xmllint"; then
        pass "$1"
    else
        fail "$1" "xmllint: $(head -n 3 "$T/xmllint")"
    fi
}

# series_attr FILE NAME ATTR: the values of data-ATTR of series NAME, one a line.
series_attr() {
    grep -o "data-series=\"$2\" data-x=\"[^\"]*\" data-y=\"[^\"]*\"" "$1" |
        sed "s/.* data-$3=\"\\([^\"]*\\)\".*/\\1/" | tr ' ' '\n' | sed '/^$/d'
}
# polyline_points FILE NAME: the number of points of the series' polylines.
polyline_points() {
    awk -v s="data-series=\"$2\"" '
        index($0, s) { inside = 1; next }
        inside && /^<\/g>/ { inside = 0 }
        inside && /^<polyline/ { sub(/.*points="/, ""); sub(/".*/, ""); n += split($0, a, " ") }
        END { print n + 0 }' "$1"
}
# matrix_counts: eval's printed confusion matrix (labels 1..3), row-major, one a line.
matrix_counts() {
    grep -E '^ *[123]( +[0-9]+){3}$' "$T/out" | awk '{ for (i = 2; i <= NF; i++) print $i }'
}
# same_numbers A B TOL: files A and B hold as many numbers, pairwise within TOL.
same_numbers() {
    [ "$(wc -l < "$1")" -eq "$(wc -l < "$2")" ] || return 1
    paste -d ' ' "$1" "$2" | awk -v t="$3" '
        { d = $1 - $2; if (d < 0) d = -d; if (d > t) { print "# " NR ": " $1 " vs " $2; bad = 1 } }
        END { exit bad }'
}

# ---- L-BFGS: one point per iteration
# -v: every iteration printed, to compare with the picture
runs "train --plot (lbfgs)" train -v --plot "$T/lbfgs.svg" --label-column last "$DATA/three.csv" "$T/lbfgs.st"
check "lbfgs: picture written" test -s "$T/lbfgs.svg"
check "lbfgs: the model is written too" test -s "$T/lbfgs.st"
well_formed "lbfgs: well-formed XML" "$T/lbfgs.svg"
sed -n 's/^iteration [0-9]*\/[0-9]*  loss \([^ ]*\)  accuracy \([^ ]*\) .*/\1 \2/p' "$T/err" > "$T/printed"
iters=$(wc -l < "$T/printed")
check "lbfgs: iterations printed ($iters)" test "$iters" -ge 3
check "lbfgs: stderr names the picture" grep -q "wrote $T/lbfgs.svg ($iters iterations drawn)" "$T/err"
series_attr "$T/lbfgs.svg" loss x > "$T/x"
seq 1 "$iters" > "$T/want-x"
check "lbfgs: x = 1..$iters" cmp -s "$T/x" "$T/want-x"
check "lbfgs: loss polyline has $iters points ($(polyline_points "$T/lbfgs.svg" loss))" \
    test "$(polyline_points "$T/lbfgs.svg" loss)" -eq "$iters"
check "lbfgs: accuracy polyline has $iters points" \
    test "$(polyline_points "$T/lbfgs.svg" accuracy)" -eq "$iters"
# the data are %.17g, the printed loss %.9f and accuracy %.4f
series_attr "$T/lbfgs.svg" loss y > "$T/y"
cut -d ' ' -f 1 "$T/printed" > "$T/want"
check "lbfgs: loss values = printed losses" same_numbers "$T/y" "$T/want" 5.1e-10
series_attr "$T/lbfgs.svg" accuracy y > "$T/y"
cut -d ' ' -f 2 "$T/printed" > "$T/want"
check "lbfgs: accuracy values = printed accuracies" same_numbers "$T/y" "$T/want" 5.1e-5
check "lbfgs: no validation series data" test "$(series_attr "$T/lbfgs.svg" val_loss y | wc -l)" -eq 0
check "lbfgs: x axis titled iteration" grep -q '>iteration</text>' "$T/lbfgs.svg"
check "lbfgs: axes titled loss and accuracy" \
    sh -c "grep -q '>loss</text>' '$T/lbfgs.svg' && grep -q '>accuracy</text>' '$T/lbfgs.svg'"
check "lbfgs: no temporary file left" test "$(ls "$T" | grep -c 'lbfgs\.svg\.')" -eq 0

# ---- SGD with validation and early stopping: one point per epoch, four series
runs "train --plot (sgd, validation)" train --plot "$T/sgd.svg" --solver sgd --epochs 12 --tol 0 \
    --lr 0.5 --batch-size 8 --validation-split 0.25 --early-stopping 20 --label-column last \
    "$DATA/three.csv" "$T/sgd.st"
well_formed "sgd: well-formed XML" "$T/sgd.svg"
sed -n 's/^epoch [0-9]*\/12  loss \([^ ]*\)  accuracy \([^ ]*\)  val_loss \([^ ]*\)  val_acc \([^ ]*\) .*/\1 \2 \3 \4/p' \
    "$T/err" > "$T/printed"
check "sgd: 12 epochs printed with validation" test "$(wc -l < "$T/printed")" -eq 12
col=1
for s in loss accuracy val_loss val_accuracy; do
    series_attr "$T/sgd.svg" $s y > "$T/y"
    cut -d ' ' -f $col "$T/printed" > "$T/want"
    # printed: loss %.6f, accuracy and the validation figures %.4f
    tol=5.1e-5
    [ $s = loss ] && tol=5.1e-7
    check "sgd: $s has 12 points" test "$(polyline_points "$T/sgd.svg" $s)" -eq 12
    check "sgd: $s values = printed" same_numbers "$T/y" "$T/want" $tol
    col=$((col + 1))
done
series_attr "$T/sgd.svg" val_loss x > "$T/x"
seq 1 12 > "$T/want-x"
check "sgd: x = epochs 1..12" cmp -s "$T/x" "$T/want-x"
check "sgd: x axis titled epoch" grep -q '>epoch</text>' "$T/sgd.svg"
check "sgd: legend names validation" grep -q '>validation</text>' "$T/sgd.svg"
best=$(sed -n 's/^keeping the best epoch \([0-9]*\) .*/\1/p' "$T/err")
check "sgd: the epoch kept ($best) is marked" grep -q ">kept: epoch $best</text>" "$T/sgd.svg"

# ---- eval: the confusion matrix as a heatmap
runs "eval --plot" eval --plot "$T/conf.svg" --label-column last "$DATA/three.csv" "$T/sgd.st"
well_formed "eval: well-formed XML" "$T/conf.svg"
check "eval: 3 x 3 cells" test "$(grep -c 'class="cell' "$T/conf.svg")" -eq 9
matrix_counts > "$T/want"
grep -o 'data-true="[0-9]*" data-predicted="[0-9]*" data-count="[0-9]*"' "$T/conf.svg" |
    sed 's/.*data-count="\([0-9]*\)"/\1/' > "$T/cells"
check "eval: cell counts = printed matrix (row-major)" cmp -s "$T/cells" "$T/want"
grep -o 'data-true="[0-9]*" data-predicted="[0-9]*"' "$T/conf.svg" |
    sed 's/data-true="\([0-9]*\)" data-predicted="\([0-9]*\)"/\1 \2/' > "$T/order"
printf '%s\n' "0 0" "0 1" "0 2" "1 0" "1 1" "1 2" "2 0" "2 1" "2 2" > "$T/want-order"
check "eval: cells in row-major order (rows true)" cmp -s "$T/order" "$T/want-order"
for l in 1 2 3; do
    check "eval: label $l on both axes" \
        test "$(grep -c "class=\"label-[a-z]*\">$l</text>" "$T/conf.svg")" -eq 2
done
check "eval: axis titles" sh -c "grep -q '>true</text>' '$T/conf.svg' && grep -q '>predicted</text>' '$T/conf.svg'"
check "eval: colour scale" grep -q 'linearGradient' "$T/conf.svg"
check "eval: the scale's gradient fills a rect with no class (a class's CSS fill: none would win)" grep -q 'fill="url(#scale)"/>' "$T/conf.svg"
check "eval: accuracy in the subtitle" grep -q "accuracy $(eval_field accuracy | cut -c1-6)" "$T/conf.svg"
check "eval: stdout unchanged by --plot" sh -c "'$BIN' eval --label-column last '$DATA/three.csv' '$T/sgd.st' | cmp -s - '$T/out'"
runs "eval --plot replaces an existing picture" eval --plot "$T/conf.svg" --label-column last "$DATA/three.csv" "$T/lbfgs.st"
grep -o 'data-count="[0-9]*"' "$T/conf.svg" | sed 's/[^0-9]//g' > "$T/cells"
matrix_counts > "$T/want"
check "eval: the new picture has the new counts" cmp -s "$T/cells" "$T/want"

# ---- a picture is replaced as the library replaces a model (the same
# src/replace_file.c): the old picture's permissions kept, a temporary that
# a killed run left removed (named as check_model_file's tests name them),
# a pipe written through and left a pipe
chmod 640 "$T/conf.svg"
runs "eval --plot over a picture of mode 640" \
    eval --plot "$T/conf.svg" --label-column last "$DATA/three.csv" "$T/lbfgs.st"
check "  ... keeps mode 640" test "$(stat -c %a "$T/conf.svg")" = 640
host=$(printf %s "$(uname -n)" | tr -c 'A-Za-z0-9-' '_' | cut -c1-32)
dead=$(sh -c 'echo $$')
stale="$T/lbfgs.svg.tmp.$host.$dead.aB3xYz"
echo "half a picture" > "$stale"
runs "train -v --plot beside the temporary of a killed run" \
    train -v --plot "$T/lbfgs.svg" --label-column last "$DATA/three.csv" "$T/lbfgs2.st"
check "  ... removes it" test ! -e "$stale"
check "  ... and says so under -v" grep -qF "removed $stale, left by process $dead" "$T/err"
mkfifo "$T/pipe"
cat "$T/pipe" > "$T/piped.svg" &
reader=$!
# a writer held open here, so that the reader ends even if eval never opens the pipe
exec 3<>"$T/pipe"
runs "eval --plot into a named pipe" \
    eval --plot "$T/pipe" --label-column last "$DATA/three.csv" "$T/lbfgs.st"
exec 3>&-
wait "$reader"
check "  ... leaves it a pipe" test -p "$T/pipe"
check "  ... the picture came through it" cmp -s "$T/piped.svg" "$T/conf.svg"

# ---- string labels: the model's label_names metadata (a JSON array) names
# the classes. The model is the L-BFGS one with that key added to its
# header (8-byte little-endian length, the JSON, the tensors unchanged).
hdr=$(st_header "$T/lbfgs.st" | sed 's/ *$//')
names='"label_names":"[\\"setosa\\",\\"versi \& color\\",\\"<virginica> with a very long name\\"]",'
hdr=$(printf '%s' "$hdr" | sed "s/\"__metadata__\":{/\"__metadata__\":{$names/")
len=$(printf '%s' "$hdr" | wc -c)
while [ $((len % 8)) -ne 0 ]; do hdr="$hdr "; len=$((len + 1)); done
{
    printf "\\$(printf %03o $((len & 255)))\\$(printf %03o $((len >> 8 & 255)))\\000\\000\\000\\000\\000\\000"
    printf '%s' "$hdr"
    tensors "$T/lbfgs.st"
} > "$T/names.st"
check "string labels: the model carries label_names" has_meta label_names "$T/names.st"
# the data names its classes too: labels are matched to label_names by text
awk -F';' 'BEGIN { n[1] = "setosa"; n[2] = "versi & color"; n[3] = "<virginica> with a very long name" }
    { print $1 ";" $2 ";" $3 ";" n[$4] }' "$DATA/three.csv" > "$T/names.csv"
runs "eval --plot with label_names" eval --plot "$T/names.svg" --label-column last "$T/names.csv" "$T/names.st"
well_formed "string labels: well-formed XML" "$T/names.svg"
check "string labels: setosa on both axes" test "$(grep -c 'class="label-[a-z]*">setosa</text>' "$T/names.svg")" -eq 2
check "string labels: escaped" test "$(grep -c 'class="label-[a-z]*">versi &amp; color</text>' "$T/names.svg")" -eq 2
check "string labels: a long name ends in an ellipsis" \
    test "$(grep -c 'class="label-[a-z]*">&lt;virginica&gt; with a…</text>' "$T/names.svg")" -eq 2
check "string labels: ... with the whole name as its tooltip" \
    test "$(grep -c '<title>&lt;virginica&gt; with a very long name</title>' "$T/names.svg")" -eq 2

# ---- where it cannot write: an error before any work, or at the write
fails "train --plot into a missing directory" 1 "cannot write there: no directory" \
    train --plot "$T/nodir/x.svg" --label-column last "$DATA/three.csv" "$T/nodir.st"
check "  ... before training: no model written" test ! -e "$T/nodir.st"
mkdir "$T/adir"
fails "eval --plot onto a directory" 1 "is a directory" \
    eval --plot "$T/adir" --label-column last "$DATA/three.csv" "$T/lbfgs.st"
check "  ... before evaluating: nothing on stdout" test ! -s "$T/out"
if [ -w /dev/full ]; then
    fails "train --plot /dev/full: write error" 1 "/dev/full: write error" \
        train -q --plot /dev/full --label-column last "$DATA/three.csv" "$T/full.st"
    fails "eval --plot /dev/full: write error" 1 "/dev/full: write error" \
        eval --plot /dev/full --label-column last "$DATA/three.csv" "$T/lbfgs.st"
else
    skip "train --plot /dev/full: write error" "no writable /dev/full here"
    skip "eval --plot /dev/full: write error" "no writable /dev/full here"
fi
fails "train --plot without a file" 2 "plot" train --label-column last "$DATA/three.csv" "$T/x.st" --plot

# ---- documented
run train --help
check "train --help shows --plot" grep -q -- '--plot FILE.svg' "$T/out"
run eval --help
check "eval --help shows --plot" grep -q -- '--plot FILE.svg' "$T/out"
check "the man page documents --plot of train and eval" \
    test "$(grep -c '^\.BI \\-\\-plot " FILE.svg"' "$SRCDIR/src/cli/clsoftmax.1")" -eq 2

done_testing
