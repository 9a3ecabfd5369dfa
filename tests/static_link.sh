#!/bin/sh
# A program links against the static library with nothing but what
# `pkg-config --static --cflags --libs clsoftmax` says. The library and its
# headers are copied into a scratch prefix, as `make install` of a
# --disable-shared build would lay them out, with the build's clsoftmax.pc
# pointed at it: a missing Requires.private or Libs.private shows up as an
# undefined reference here.
. "$(dirname "$0")/cli/lib.sh"

B="${CSM_BUILDDIR:-.}"
A="$B/src/.libs/libclsoftmax.a"
CC="${CC:-cc}"
# The build's own compiler flags travel with its objects (a sanitizer build's
# objects need the sanitizer runtime at link time); pkg-config adds the rest.
BUILD_CFLAGS="${CSM_BUILD_CFLAGS:-}"
BUILD_LDFLAGS="${CSM_BUILD_LDFLAGS:-}"
PKG_CONFIG="${PKG_CONFIG:-pkg-config}"
if [ ! -f "$A" ]; then
    echo "1..0 # SKIP no static library at $A (--disable-static?)"
    exit 0
fi
if ! command -v "$PKG_CONFIG" >/dev/null 2>&1; then
    echo "1..0 # SKIP $PKG_CONFIG not found"
    exit 0
fi

P="$T/prefix"
mkdir -p "$P/lib" "$P/include" "$T/pc"
cp "$A" "$P/lib/"
cp "$SRCDIR/include/clsoftmax.h" "$B/include/clsoftmax_version.h" "$P/include/"
sed -e "s|^prefix=.*|prefix=$P|" -e "s|^exec_prefix=.*|exec_prefix=$P|" \
    -e "s|^libdir=.*|libdir=$P/lib|" -e "s|^includedir=.*|includedir=$P/include|" \
    "$B/clsoftmax.pc" >"$T/pc/clsoftmax.pc"

if flags=$(PKG_CONFIG_PATH="$T/pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" \
    "$PKG_CONFIG" --static --cflags --libs clsoftmax 2>"$T/err"); then
    pass "pkg-config --static --cflags --libs clsoftmax: $flags"
else
    fail "pkg-config --static --cflags --libs clsoftmax"
    done_testing
fi

# Takes the address of csm_train and csm_model_save so that the linker
# pulls in every part of the library (solvers, CLBlast, jansson), not just
# the version string.
cat >"$T/prog.c" <<'EOF'
#include <stdio.h>
#include <string.h>

#include <clsoftmax.h>

int main(void)
{
    csm_status (*volatile train)(csm_model *, const csm_dataset *, const csm_train_options *,
                                 csm_train_result *) = csm_train;
    csm_status (*volatile save)(csm_model *, const char *) = csm_model_save;
    csm_train_options o;
    if (csm_train_options_init(&o, sizeof o) != CSM_OK || !train || !save)
        return 1;
    printf("%s\n", csm_version());
    return strcmp(csm_version(), CSM_VERSION_STRING) != 0;
}
EOF
# word splitting of $flags is intended
# shellcheck disable=SC2086
if "$CC" $BUILD_CFLAGS -o "$T/prog" "$T/prog.c" $flags $BUILD_LDFLAGS >"$T/out" 2>"$T/err"; then
    pass "a program links against libclsoftmax.a with those flags"
else
    fail "a program links against libclsoftmax.a with those flags" \
        "$CC $BUILD_CFLAGS -o prog prog.c $flags $BUILD_LDFLAGS"
    done_testing
fi
: >"$T/err"
if out=$("$T/prog" 2>"$T/err") && [ "$out" = "$(sed -n 's/^Version: //p' "$B/clsoftmax.pc")" ]; then
    pass "the statically linked program runs (clsoftmax $out)"
else
    fail "the statically linked program runs" "output: $out"
fi
if command -v readelf >/dev/null 2>&1; then
    if readelf -d "$T/prog" | grep -q 'NEEDED.*libclsoftmax'; then
        fail "the program does not need libclsoftmax.so" "$(readelf -d "$T/prog" | grep NEEDED)"
    else
        pass "the program does not need libclsoftmax.so"
    fi
fi

done_testing
