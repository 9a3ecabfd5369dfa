#!/bin/sh
# clsoftmax devices: lists devices with selectors, marks the one in use,
# and every selector it prints picks that device; a selector matching no
# device is an error (exit 1) everywhere.
. "$(dirname "$0")/lib.sh"
need_device

unset CLSOFTMAX_DEVICE
runs "devices exits 0" devices
check "one device is marked" test "$(grep -c '^\* ' "$T/out")" -eq 1
check "selectors are listed" grep -q '^ *selectors: [0-9][0-9]*:[0-9][0-9]*' "$T/out"
check "the unset variable is explained" grep -q 'CLSOFTMAX_DEVICE unset' "$T/out"
cp "$T/out" "$T/devices"

# Every selector of every device picks that device.
ndev=$(grep -c 'selectors:' "$T/devices")
i=0
grep 'selectors:' "$T/devices" | sed 's/^ *selectors: //' > "$T/sels"
while IFS= read -r line; do
    i=$((i + 1))
    index=$(printf '%s\n' "$line" | sed 's/,.*//')
    printf '%s\n' "$line" | tr ',' '\n' | sed 's/^ *//' > "$T/one"
    while IFS= read -r sel; do
        CLSOFTMAX_DEVICE=$sel "$BIN" devices >"$T/out" 2>"$T/err"
        rc=$?
        marked=$(sed -n 's/^\* *\([0-9][0-9]*:[0-9][0-9]*\) .*/\1/p' "$T/out")
        if [ "$rc" -eq 0 ] && [ "$marked" = "$index" ]; then
            pass "selector '$sel' picks device $index"
        else
            fail "selector '$sel' picks device $index" "exit $rc, marked '$marked'"
        fi
    done < "$T/one"
done < "$T/sels"
check "every device had selectors ($ndev)" test "$i" -eq "$ndev"

CLSOFTMAX_DEVICE=no-such-device-xyz
export CLSOFTMAX_DEVICE
fails "unknown selector: devices exits 1" 1 "CLSOFTMAX_DEVICE='no-such-device-xyz' matches no device" devices
check "unknown selector: devices still lists them" grep -q 'selectors:' "$T/out"
check "unknown selector: nothing marked" test "$(grep -c '^\* ' "$T/out")" -eq 0
fails "unknown selector: train exits 1" 1 "ERROR: .*(device|selector)" train "$DATA/pm1.csv" "$T/m.st"
check "unknown selector: no model written" test ! -e "$T/m.st"
fails "unknown selector: eval exits 1" 1 "ERROR: " eval "$DATA/pm1.csv" "$T/m.st"
fails "unknown selector: gradcheck exits 1" 1 "ERROR: " gradcheck
CLSOFTMAX_DEVICE=99:99
fails "out-of-range index selector" 1 "ERROR: " devices
fails "out-of-range index selector: predict" 1 "ERROR: " predict "$DATA/pm1.csv" "$T/m.st"
unset CLSOFTMAX_DEVICE

done_testing
