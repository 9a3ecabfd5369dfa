# Helpers sourced by the tests/cli/*.sh tests. They print TAP: "ok N - name"
# or "not ok N - name" per check, and the plan "1..N" at the end.
#
# Environment (exported by `make check`): CSM_BUILDDIR (the build tree, for
# the binary), CSM_TEST_DATA (tests/data in the source tree).

BIN="${CSM_BUILDDIR:-.}/src/cli/clsoftmax"
DATA="${CSM_TEST_DATA:-tests/data}/cli"
SRCDIR="${CSM_TEST_DATA:-tests/data}/../.."

T=$(mktemp -d "${TMPDIR:-/tmp}/csm-cli.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT

tap_n=0
tap_failed=0

# pass NAME / fail NAME [DIAGNOSTIC...]
pass() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1"; }
fail() {
    tap_n=$((tap_n + 1))
    tap_failed=1
    echo "not ok $tap_n - $1"
    shift
    for d in "$@"; do echo "# $d"; done
    if [ -s "$T/err" ]; then sed -n '1,15s/^/#   stderr: /p' "$T/err"; fi
}
# skip NAME REASON: a check that cannot run here, reported as a TAP SKIP.
skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1 # SKIP $2"; }
# check NAME COMMAND...: ok when COMMAND succeeds.
check() {
    name=$1
    shift
    if "$@"; then pass "$name"; else fail "$name" "failed: $*"; fi
}

# run ARGS...: runs the tool; sets $rc, stdout in $T/out, stderr in $T/err.
run() {
    "$BIN" "$@" >"$T/out" 2>"$T/err"
    rc=$?
}

# runs NAME ARGS...: the tool must exit 0.
runs() {
    name=$1
    shift
    run "$@"
    if [ "$rc" -eq 0 ]; then pass "$name"; else fail "$name" "exit $rc: clsoftmax $*"; fi
}

# fails NAME CODE PATTERN ARGS...: the tool must exit CODE with a first
# stderr line "ERROR: ..." matching the grep -E PATTERN.
fails() {
    name=$1 code=$2 pattern=$3
    shift 3
    run "$@"
    first=$(head -n 1 "$T/err")
    if [ "$rc" -ne "$code" ]; then
        fail "$name" "exit $rc, expected $code: clsoftmax $*"
    elif ! printf '%s\n' "$first" | grep -q '^ERROR: '; then
        fail "$name" "stderr does not start with 'ERROR: '"
    elif ! grep -Eq -- "$pattern" "$T/err"; then
        fail "$name" "stderr does not match /$pattern/"
    else
        pass "$name"
    fi
}

# Skips the whole test unless the tool finds an OpenCL device.
need_device() {
    if ! "$BIN" devices >/dev/null 2>&1; then
        echo "1..0 # SKIP no OpenCL device"
        exit 0
    fi
}

# Field VALUE of the eval output ("loss X", "accuracy X").
eval_field() { sed -n "s/^$1 //p" "$T/out" | head -n 1; }

# The JSON header of a safetensors MODEL (its length is the first 8 bytes,
# little-endian; od reads them in the host's order, little-endian here).
st_header() {
    len=$(od -An -t u8 -N 8 "$1" | tr -d ' ')
    tail -c +9 "$1" | head -c "$len"
}
# rewrite_header SRC DST SED-SCRIPT: DST is the model SRC with its JSON
# header passed through sed (the length before it written anew), for
# models with metadata a user or another program could have left.
rewrite_header() {
    st_header "$1" | sed "$3" | tr -d '\n' >"$T/rewritten-header"
    n=$(wc -c <"$T/rewritten-header")
    { i=0; while [ $i -lt 8 ]; do
          printf "\\$(printf %03o $((n % 256)))"; n=$((n / 256)); i=$((i + 1)); done
      cat "$T/rewritten-header"; tensors "$1"; } >"$2"
}
# meta KEY MODEL: the metadata value (a string), empty when absent.
meta() { st_header "$2" | grep -o "\"$1\":\"[^\"]*\"" | head -n 1 | sed 's/^"[^"]*":"//; s/"$//'; }
has_meta() { st_header "$2" | grep -q "\"$1\":\""; }
# tensors MODEL: the tensor bytes (weights, bias and any solver state).
tensors() {
    len=$(od -An -t u8 -N 8 "$1" | tr -d ' ')
    tail -c +$((9 + len)) "$1"
}

# params MODEL: the bias and weight bytes alone (they come first in the
# data), without the solver state a model may carry after them
params() {
    es=4
    st_header "$1" | grep -q '"dtype":"F64"' && es=8
    c=$(meta n_classes "$1") f=$(meta n_features "$1")
    tensors "$1" | head -c $(((c + c * f) * es))
}

# signal_when PIDFILE HISTORY ROWS SIGNALS: in the background, once
# PIDFILE names a process and HISTORY has more than ROWS lines, stops that
# process (SIGSTOP), sends it each of SIGNALS (so that they arrive
# together) and lets it go on; gives up after 30 s. Sets $watcher.
signal_when() {
    (
        i=0
        while [ "$i" -lt 1500 ]; do
            if [ -s "$1" ] && [ -f "$2" ] && [ "$(wc -l < "$2")" -gt "$3" ]; then
                p=$(cat "$1")
                kill -STOP "$p"
                for s in $4; do kill "-$s" "$p"; done
                kill -CONT "$p"
                exit 0
            fi
            sleep 0.02
            i=$((i + 1))
        done
    ) &
    watcher=$!
}

# has_fp64: the device in use (marked * by `clsoftmax devices`) has float64
has_fp64() {
    "$BIN" devices 2>/dev/null | awk '/^\*/ { m = 1; next } /^[* ] *[0-9]/ { m = 0 } m' |
        grep -q 'fp64 yes'
}

# linear_csv SEED DELIM: 700 rows, 24 features in [-1, 1], 4 classes (a
# linear rule plus noise), from a fixed LCG, on stdout
linear_csv() {
    awk -v s="$1" -v sep="$2" 'BEGIN {
        for (i = 0; i < 700; i++) {
            line = ""; score = 0
            for (j = 0; j < 24; j++) {
                s = (s * 1103515245 + 12345) % 2147483648
                v = s / 2147483648 * 2 - 1
                score += (j % 4 + 1) * v
                line = line sprintf("%.5f%s", v, sep)
            }
            s = (s * 1103515245 + 12345) % 2147483648
            print line int((score + 12 + s / 2147483648 * 6) / 7.5) % 4
        }
    }'
}

# awk-based float comparison: ge A B -> A >= B.
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
close_to() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }

done_testing() {
    echo "1..$tap_n"
    exit 0
}
