#!/bin/sh
# What is never lost (README): outputs that never destroy inputs or special
# files, checked before any work; interrupted training that keeps its work
# and resumes as if uninterrupted; corrupt or endless input that is an
# error, never a truncation or a hang; model files checked on load.
. "$(dirname "$0")/lib.sh"
need_device

# every run within 2 minutes: a hang (a FIFO waited on) fails a check, not
# the suite
run() {
    timeout 120 "$BIN" "$@" >"$T/out" 2>"$T/err"
    rc=$?
}

CSV="$DATA/three.csv"
L="--label-column last"
# unchanged NAME FILE COPY: FILE still has the bytes of COPY
unchanged() { check "$1" cmp -s "$2" "$3"; }

# ---------------------------------------------------------------- outputs
cp "$CSV" "$T/d.csv"
cp "$CSV" "$T/keep.csv"
runs "a model to predict with" train -q $L "$T/d.csv" "$T/m.st"
cp "$T/m.st" "$T/m-keep.st"
fails "predict DATA MODEL MODEL is refused" 1 \
    "m.st: the predictions would overwrite an input of the command" \
    predict -q "$T/d.csv" "$T/m.st" "$T/m.st"
unchanged "  ... the model is intact" "$T/m.st" "$T/m-keep.st"
fails "train DATA DATA is refused" 1 "d.csv: the model would overwrite an input" \
    train -q $L "$T/d.csv" "$T/d.csv"
unchanged "  ... the data is intact" "$T/d.csv" "$T/keep.csv"
ln "$T/d.csv" "$T/hard.csv"
fails "a hard link to the data as the model is refused" 1 \
    "hard.csv: the model is the same file as the input .*d.csv \(a link to it\)" \
    train -q $L "$T/d.csv" "$T/hard.csv"
ln -s "$T/d.csv" "$T/sym.csv"
fails "a symbolic link to the data as --history is refused" 1 \
    "sym.csv: the history file \(--history\) is the same file as the input" \
    train -q $L --history "$T/sym.csv" "$T/d.csv" "$T/m2.st"
fails "--plot over the data is refused" 1 "the picture \(--plot\) would overwrite an input" \
    train -q $L --plot "$T/d.csv" "$T/d.csv" "$T/m2.st"
fails "--validation as the model is refused" 1 "the model would overwrite an input" \
    train -q $L --validation "$T/keep.csv" "$T/d.csv" "$T/keep.csv"
unchanged "  ... every input is intact" "$T/d.csv" "$T/keep.csv"
unchanged "  ... and its link" "$T/keep.csv" "$T/hard.csv"
fails "--history and the model the same file is refused" 1 \
    "the history file \(--history\) and the model are the same file" \
    train -q $L --history "$T/m2.st" "$T/d.csv" "$T/m2.st"
check "  ... nothing written" test ! -e "$T/m2.st"
fails "eval --plot over the model is refused" 1 "the picture \(--plot\) would overwrite" \
    eval -q $L --plot "$T/m.st" "$T/d.csv" "$T/m.st"
unchanged "  ... the model is intact" "$T/m.st" "$T/m-keep.st"
cp "$DATA/tiny-images-idx3-ubyte.gz" "$DATA/tiny-labels-idx1-ubyte.gz" "$T/"
fails "the IDX labels file (found by name) as the model is refused" 1 \
    "tiny-labels-idx1-ubyte.gz: the model would overwrite an input" \
    train -q "$T/tiny-images-idx3-ubyte.gz" "$T/tiny-labels-idx1-ubyte.gz"
runs "train --resume M DATA M continues the model in place" \
    train -q $L --resume "$T/m.st" "$T/d.csv" "$T/m.st"

# standard input ('-'): no output may be the file it reads, it is one
# input at most, and DATA '-' is not predict's OUTPUT '-'
fails "train - DATA < DATA (the model over standard input's file) is refused" 1 \
    "d.csv: the model is the file standard input \('-'\) reads" \
    train -q $L - "$T/d.csv" < "$T/d.csv"
unchanged "  ... the data is intact" "$T/d.csv" "$T/keep.csv"
cp "$T/m.st" "$T/m-keep.st"
fails "predict - MODEL FILE < FILE is refused" 1 \
    "keep.csv: the predictions is the file standard input \('-'\) reads" \
    predict -q - "$T/m.st" "$T/keep.csv" < "$T/keep.csv"
unchanged "  ... the data is intact" "$T/d.csv" "$T/keep.csv"
"$BIN" predict -q - "$T/m.st" - < "$T/d.csv" > "$T/p-stdin" 2>"$T/err"
check "predict - MODEL - reads standard input, writes standard output: 60 lines" \
    test "$(wc -l < "$T/p-stdin")" -eq 60
fails "standard input for DATA and --weights is refused" 1 \
    "standard input \('-'\) can be read only once" \
    train -q $L --weights - - "$T/w.st" < "$T/d.csv"
check "  ... no model" test ! -e "$T/w.st"
awk 'END { for (i = 0; i < NR; i++) print 1 }' "$T/d.csv" > "$T/w.txt"
cp "$T/w.txt" "$T/w-keep.txt"
fails "the --weights file as the model is refused" 1 "w.txt: the model would overwrite an input" \
    train -q $L --weights "$T/w.txt" "$T/d.csv" "$T/w.txt"
unchanged "  ... the weights are intact" "$T/w.txt" "$T/w-keep.txt"

# special files: a FIFO, a character device (a mknod copy of /dev/null as
# root; the real /dev/null otherwise, which only root could have replaced)
mkfifo "$T/fifo"
fails "a FIFO as the model is refused" 1 \
    "cannot write the model: .*fifo: is a named pipe \(FIFO\), not a regular file: refusing to replace it" \
    train -q $L "$T/d.csv" "$T/fifo"
check "  ... and stays a FIFO" test -p "$T/fifo"
if mknod "$T/null" c 1 3 2>/dev/null; then null="$T/null"; else null=/dev/null; fi
fails "a character device ($null) as the model is refused" 1 \
    "is a character device, not a regular file: refusing to replace it" \
    train -q $L "$T/d.csv" "$null"
check "  ... and stays a character device" test -c "$null"
mkdir "$T/dir.st"
fails "a directory as the model is refused" 1 "dir.st: is a directory" \
    train -q $L "$T/d.csv" "$T/dir.st"
# before any work: the first line of stderr, nothing read or trained
fails "a model in a missing directory fails before training" 1 \
    "cannot write the model: .*/no/such/m.st: cannot write there: no directory" \
    train $L "$T/d.csv" "$T/no/such/m.st"
check "  ... before reading the data" test "$(wc -l < "$T/err")" -eq 1
fails "predictions in a missing directory fail before predicting" 1 \
    "cannot write the predictions: .*/no/p.txt: cannot write there: no directory" \
    predict "$T/d.csv" "$T/m.st" "$T/no/p.txt"

# predictions may go through pipes and devices, and replace files whole
runs "predict to /dev/null" predict -q "$T/d.csv" "$T/m.st" "$null"
check "  ... still a device" test -c "$null"
"$BIN" predict -q "$T/d.csv" "$T/m.st" - > "$T/p-dash" 2>"$T/err"
check "predict to -: 60 lines" test "$(wc -l < "$T/p-dash")" -eq 60
"$BIN" predict -q "$T/d.csv" "$T/m.st" /dev/stdout | cat > "$T/p-pipe"
check "predict to /dev/stdout, a pipe: 60 lines" test "$(wc -l < "$T/p-pipe")" -eq 60
cat "$T/fifo" > "$T/p-fifo" &
reader=$!
runs "predict into a FIFO with a reader" predict -q "$T/d.csv" "$T/m.st" "$T/fifo"
wait "$reader"
check "  ... the reader got 60 lines" test "$(wc -l < "$T/p-fifo")" -eq 60
runs "predict to a file" predict -q "$T/d.csv" "$T/m.st" "$T/p.txt"
cp "$T/p.txt" "$T/p-keep.txt"
fails "a failed predict (no model) ..." 1 "cannot open" \
    predict -q "$T/d.csv" "$T/none.st" "$T/p.txt"
unchanged "  ... leaves the old predictions whole" "$T/p.txt" "$T/p-keep.txt"
check "  ... and no temporary" test "$(ls "$T" | grep -c '^p.txt.tmp')" -eq 0

# ------------------------------------------------- Ctrl-C keeps the work
# signal_during SIGNALS ROWS ARGS...: runs `train ARGS` in the foreground
# (a background job of sh would ignore SIGINT) with --history $T/h.csv,
# and once the history has ROWS rows stops it (SIGSTOP), sends each of
# SIGNALS (so that two arrive together) and lets it go on; sets $rc.
signal_during() {
    sigs=$1 rows=$2
    shift 2
    rm -f "$T/h.csv" "$T/pid"
    signal_when "$T/pid" "$T/h.csv" "$rows" "$sigs"
    sh -c 'echo $$ > "$1"; shift; exec "$@"' sh "$T/pid" "$BIN" train --history "$T/h.csv" "$@" \
        >"$T/out" 2>"$T/err"
    rc=$?
    wait "$watcher"
}

for sig in INT TERM HUP; do
    case $sig in INT) code=130 ;; TERM) code=143 ;; HUP) code=129 ;; esac
    rm -f "$T/int.st"
    signal_during "$sig" 3 --solver sgd --tol 0 --max-iter 100000000 $L "$T/d.csv" "$T/int.st"
    check "SIG$sig during sgd: exit $code" test "$rc" -eq "$code"
    check "  ... the model of the last epoch is saved" test -s "$T/int.st"
    check "  ... marked as interrupted" test "$(meta interrupted "$T/int.st")" = "SIG$sig"
    check "  ... and not converged" test "$(meta converged "$T/int.st")" = false
    check "  ... stop: interrupted by SIG$sig" test "$(meta stop "$T/int.st")" = "interrupted by SIG$sig"
    check "  ... stderr says so and how to go on" \
        grep -q "interrupted by SIG$sig: saved the model of epoch [0-9]* (not converged) to $T/int.st; continue it with --resume" "$T/err"
    last=$(tail -n 1 "$T/h.csv" | cut -d, -f1)
    check "  ... at the epoch the history ends with ($last)" test "$(meta total_iter "$T/int.st")" = "$last"
done
# streamed data (CLSOFTMAX_MAX_ALLOC below its size): the same rule
rm -f "$T/int.st"
export CLSOFTMAX_MAX_ALLOC=512
signal_during TERM 3 -v --solver sgd --tol 0 --max-iter 100000000 $L "$T/d.csv" "$T/int.st"
unset CLSOFTMAX_MAX_ALLOC
check "SIGTERM during a streamed run: exit 143, the model saved" \
    test "$rc" -eq 143 -a "$(meta interrupted "$T/int.st")" = SIGTERM
check "  ... the data did stream" grep -q "streams through the device" "$T/err"
run predict -q "$T/d.csv" "$T/int.st"
check "the interrupted model predicts" test "$rc" -eq 0 -a "$(wc -l < "$T/out")" -eq 60

rm -f "$T/int2.st"
signal_during "INT TERM" 3 --solver sgd --tol 0 --max-iter 100000000 $L "$T/d.csv" "$T/int2.st"
# both arrive together: whichever the process notes first, the other ends it
check "a second signal ends it at once, by the signal" test "$rc" -eq 130 -o "$rc" -eq 143
check "  ... writing nothing" test ! -e "$T/int2.st"
check "  ... and saying nothing of a save" sh -c "! grep -q 'saved the model' '$T/err'"
check "  ... and leaving no temporary" test "$(ls "$T" | grep -c '^int2.st')" -eq 0

# L-BFGS interrupted and resumed equals the run without interruption, bit
# for bit: its history of pairs is in the model file
IMG="$SRCDIR/examples/data/train-images-idx3-ubyte.gz"
runs "lbfgs, 300 iterations" train -q --tol 0 --max-iter 300 "$IMG" "$T/whole.st"
signal_during INT 3 --tol 0 --max-iter 300 "$IMG" "$T/part.st"
check "lbfgs interrupted: exit 130" test "$rc" -eq 130
j=$(meta total_iter "$T/part.st")
check "  ... after $j iterations, with its history" has_meta solver_lbfgs "$T/part.st"
runs "  ... resumed for the other $((300 - j))" \
    train -q --tol 0 --max-iter $((300 - j)) --resume "$T/part.st" "$IMG" "$T/rest.st"
check "  ... 300 in all" test "$(meta total_iter "$T/rest.st")" = 300
tensors "$T/whole.st" > "$T/whole.bin"
tensors "$T/rest.st" > "$T/rest.bin"
check "  ... the weights of the uninterrupted run, bit for bit" cmp -s "$T/whole.bin" "$T/rest.bin"
check "  ... and no interruption in its metadata" test -z "$(meta interrupted "$T/rest.st")"

# ------------------------------------ corrupt or endless input is an error
head -n 30 "$T/d.csv" | gzip -n > "$T/a.gz"
tail -n 30 "$T/d.csv" | gzip -n > "$T/b.gz"
cat "$T/a.gz" "$T/b.gz" > "$T/two.csv.gz"
runs "a .gz of two members" train -q $L "$T/two.csv.gz" "$T/two.st"
check "  ... reads both (60 samples)" sh -c "'$BIN' train $L --max-iter 1 '$T/two.csv.gz' '$T/two.st' 2>&1 | grep -q ': 60 samples'"
# the second member's magic hit, as `cat a.gz b.gz` with b damaged
cp "$T/b.gz" "$T/bad.gz"
printf '\000' | dd of="$T/bad.gz" bs=1 seek=1 conv=notrunc 2>/dev/null
cat "$T/a.gz" "$T/bad.gz" > "$T/bad2.csv.gz"
fails "a damaged second gzip member is an error, not the end of the data" 1 \
    "bad2.csv.gz:31: corrupt gzip data: the bytes after gzip member 1 .* are not a gzip member" \
    train -q $L "$T/bad2.csv.gz" "$T/bad2.st"
check "  ... no model" test ! -e "$T/bad2.st"
# its data hit: zlib's CRC check
cp "$T/b.gz" "$T/bad.gz"
size=$(wc -c < "$T/bad.gz")
printf 'x' | dd of="$T/bad.gz" bs=1 seek=$((size - 12)) conv=notrunc 2>/dev/null
cat "$T/a.gz" "$T/bad.gz" > "$T/bad3.csv.gz"
fails "a corrupt second gzip member is an error naming it" 1 \
    "bad3.csv.gz:[0-9]+: corrupt or truncated gzip data .* in gzip member 2" \
    train -q $L "$T/bad3.csv.gz" "$T/bad3.st"
# a line without an end: 70 MB of digits, 70 KB gzipped
{ head -n 1 "$T/d.csv"; head -c 70000000 /dev/zero | tr '\0' 7; echo; } | gzip -1 > "$T/long.csv.gz"
fails "a line over 64 MiB is an error naming it" 1 \
    "long.csv.gz:2: line longer than 67108864 bytes \(64 MiB\), the limit of a line" \
    train -q $L "$T/long.csv.gz" "$T/long.st"

# a quoted field never closed: the cap holds for the lines it joins
{ head -n 1 "$T/d.csv"; printf '1;2;3;"'; yes 77777777 | head -c 70000000; } | gzip -1 \
    > "$T/quote.csv.gz"
fails "a CSV record over 64 MiB (a quote never closed) is an error naming its line" 1 \
    "quote.csv.gz:2: record of lines 2 to [0-9]+ longer than 67108864 bytes \(64 MiB\)" \
    train -q $L "$T/quote.csv.gz" "$T/quote.st"

# ------------------------------------------------- model files checked on load
# with_names SRC DST NAMES TYPE: SRC with its label_names replaced by NAMES
# (the JSON array as it stands escaped in the header) and label_type TYPE
with_names() {
    st_header "$1" | sed "s/\"label_names\":\"\\[[^]]*\\]\"/\"label_names\":\"$3\"/;
        s/\"label_type\":\"str\"/\"label_type\":\"$4\"/" | tr -d '\n' >"$T/nhdr"
    n=$(wc -c <"$T/nhdr")
    { i=0; while [ $i -lt 8 ]; do
          printf "\\$(printf %03o $((n % 256)))"; n=$((n / 256)); i=$((i + 1)); done
      cat "$T/nhdr"; tensors "$1"; } >"$2"
}
awk -F';' '{ n = $4 == 1 ? "ant" : $4 == 2 ? "bee" : "cat"; print $1 ";" $2 ";" $3 ";" n }' \
    "$CSV" >"$T/named.csv"
runs "a model of named classes" train -q $L "$T/named.csv" "$T/named.st"
with_names "$T/named.st" "$T/nl.st" '[\\"ant\\",\\"b\\\\nee\\",\\"cat\\"]' str
fails "a class name with a newline is refused on load, naming the field" 1 \
    "nl.st: __metadata__ label_names entry 2 holds a control character" \
    predict -q "$T/named.csv" "$T/nl.st"
check "  ... printing no prediction" test ! -s "$T/out"
with_names "$T/named.st" "$T/dup.st" '[\\"ant\\",\\"bee\\",\\"ant\\"]' str
fails "two classes of one name are refused on load" 1 \
    "dup.st: __metadata__ label_names the name 'ant' is given to two classes" \
    eval -q "$T/named.csv" "$T/dup.st"
with_names "$T/named.st" "$T/num.st" '[\\"0.5\\",\\"1.25\\",\\"0.50\\"]' float
fails "fractional classes of one value are refused" 1 \
    "num.st: metadata label_names: classes 1 and 3 \('0.5' and '0.50'\) are the same number" \
    eval -q "$T/named.csv" "$T/num.st"
with_names "$T/named.st" "$T/ok.st" '[\\"ant\\",\\"b e e\\",\\"cat\\"]' str
runs "printable names with spaces load" predict -q "$T/named.csv" "$T/ok.st"
check "  ... one line a sample" test "$(wc -l < "$T/out")" -eq 60

# ------------------------------------------ nothing hangs, nothing grows
# data through pipes: a FIFO is opened once and read whole, its format
# from its name or, gzipped or not, from its content (the guess peeks at
# what the reader then reads); a writer that is never read from gives up
runs "the model of a file" train -q $L "$T/d.csv" "$T/file.st"
params "$T/file.st" > "$T/file.params"
# same_params NAME MODEL: MODEL's weights and bias are those of file.st
same_params() { params "$2" > "$T/p.params"; check "$1" cmp -s "$T/p.params" "$T/file.params"; }
mkfifo "$T/x.csv" "$T/xgz"
timeout 120 sh -c 'cat "$1" > "$2"' sh "$T/d.csv" "$T/x.csv" &
writer=$!
runs "a FIFO named x.csv as DATA" train -q $L "$T/x.csv" "$T/x.st"
wait "$writer"
same_params "  ... the model of the file" "$T/x.st"
timeout 120 sh -c 'gzip -c "$1" > "$2"' sh "$T/d.csv" "$T/xgz" &
writer=$!
runs "a FIFO of gzip data, its name telling nothing" train -q $L "$T/xgz" "$T/xgz.st"
wait "$writer"
same_params "  ... the model of the file" "$T/xgz.st"
cat "$T/d.csv" | run train -q $L - "$T/pipe.st"
check "DATA - from a pipe" test "$rc" -eq 0
same_params "  ... the model of the file" "$T/pipe.st"
gzip -c "$T/d.csv" | run train -q $L - "$T/pipegz.st"
check "DATA - gzipped, from a pipe" test "$rc" -eq 0
same_params "  ... the model of the file" "$T/pipegz.st"
KD="${CLSOFTMAX_KERNEL_DIR:-$SRCDIR/kernels}"
mkdir "$T/kfifo" "$T/kzero" "$T/cache" "$T/wcache"
cp "$KD"/*.cl "$KD"/*.h "$T/kfifo/"
cp "$KD"/*.cl "$KD"/*.h "$T/kzero/"
rm "$T/kfifo/vec.cl" "$T/kzero/vec.cl"
mkfifo "$T/kfifo/vec.cl"
ln -s /dev/zero "$T/kzero/vec.cl"
export CLSOFTMAX_KERNEL_DIR="$T/kfifo"
fails "a FIFO as a kernel file is refused, not waited on" 1 \
    "kfifo/vec.cl: kernel source is a named pipe \(FIFO\), not a regular file" \
    train -q $L "$T/d.csv" "$T/k.st"
export CLSOFTMAX_KERNEL_DIR="$T/kzero"
fails "a link to /dev/zero as a kernel file is refused, not read" 1 \
    "kzero/vec.cl: kernel source is a character device, not a regular file" \
    train -q $L "$T/d.csv" "$T/k.st"
export CLSOFTMAX_KERNEL_DIR="$KD"
export CLSOFTMAX_CL_OPTIONS=-DREAL=double
fails "CLSOFTMAX_CL_OPTIONS may not redefine the kernels' macros" 1 \
    "-DREAL would redefine REAL, a macro of the kernels" \
    train -q $L "$T/d.csv" "$T/k.st"
unset CLSOFTMAX_CL_OPTIONS
check "  ... no model written" test ! -e "$T/k.st"

mkfifo "$T/cache/calibration.json"
export CLSOFTMAX_CACHE_DIR="$T/cache" CLSOFTMAX_CALIBRATE=always
fails "calibrate --show of a FIFO cache fails at once" 1 \
    "calibration.json: calibration cache is a named pipe \(FIFO\), not a regular file" \
    calibrate --show
runs "train beside a FIFO cache: measured, not waited on" train -q $L "$T/d.csv" "$T/k.st"
check "  ... with a warning" grep -q "^WARNING: calibration cache ignored: .*named pipe" "$T/err"
chmod 777 "$T/wcache"
export CLSOFTMAX_CACHE_DIR="$T/wcache"
runs "train with a cache directory others can write" train -q $L "$T/d.csv" "$T/k.st"
check "  ... does not use it, and says so" \
    grep -q "^WARNING: calibration cache not used: .*wcache is writable by other users" "$T/err"
check "  ... nothing written there" test -z "$(ls -A "$T/wcache")"
unset CLSOFTMAX_CACHE_DIR CLSOFTMAX_CALIBRATE

done_testing
