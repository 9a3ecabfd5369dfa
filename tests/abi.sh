#!/bin/sh
# The shared library's interface is exactly what clsoftmax.h declares with
# CSM_API: nothing internal is exported (it would become ABI that callers
# can bind to), and nothing declared is missing.
. "$(dirname "$0")/cli/lib.sh"

HEADER="$SRCDIR/include/clsoftmax.h"
SO="${CSM_BUILDDIR:-.}/src/.libs/libclsoftmax.so"
if [ ! -f "$SO" ]; then
    echo "1..0 # SKIP no shared library at $SO (--disable-shared, or not an ELF platform)"
    exit 0
fi
if ! command -v nm >/dev/null 2>&1; then
    echo "1..0 # SKIP nm not found"
    exit 0
fi

sed -n 's/^CSM_API.*[ *]\(csm_[A-Za-z0-9_]*\)(.*/\1/p' "$HEADER" | sort -u >"$T/declared"
nm -D --defined-only "$SO" | awk 'NF >= 3 { print $3 }' | sed 's/@.*//' | sort -u >"$T/exported"

if [ "$(wc -l <"$T/declared")" -ge 40 ]; then
    pass "clsoftmax.h declares $(wc -l <"$T/declared" | tr -d ' ') CSM_API functions"
else
    fail "clsoftmax.h declares the CSM_API functions" "only $(wc -l <"$T/declared") found in $HEADER"
fi
extra=$(comm -13 "$T/declared" "$T/exported" | tr '\n' ' ')
if [ -z "$extra" ]; then
    pass "libclsoftmax.so exports nothing that clsoftmax.h does not declare"
else
    fail "libclsoftmax.so exports nothing that clsoftmax.h does not declare" "exported: $extra"
fi
missing=$(comm -23 "$T/declared" "$T/exported" | tr '\n' ' ')
if [ -z "$missing" ]; then
    pass "libclsoftmax.so exports every CSM_API function"
else
    fail "libclsoftmax.so exports every CSM_API function" "missing: $missing"
fi
undeclared=$(grep -E '^[a-z].*\bcsm_[a-z0-9_]+\(' "$HEADER" | grep -v '^CSM_API' | grep -v '^typedef')
if [ -z "$undeclared" ]; then
    pass "every function declaration in clsoftmax.h carries CSM_API"
else
    fail "every function declaration in clsoftmax.h carries CSM_API" "$undeclared"
fi

done_testing
