#!/bin/sh
# What is never lost (README): outputs that never destroy inputs or special
# files, checked before any work; interrupted training that keeps its work
# and resumes as if uninterrupted; corrupt or endless input that is an
# error, never a truncation or a hang; model files checked on load.
. "$(dirname "$0")/lib.sh"
need_device

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
done_testing
