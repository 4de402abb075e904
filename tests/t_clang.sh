#!/bin/bash
# Binaries built with clang (which writes no .debug_aranges unless asked)
# are reported with file and line: a PIE executable and a shared library,
# at -O0 and -O2.  SKIP without clang.
. "$(dirname "$0")/tap.sh"
clang=${CLANG:-}
plan 4
[ -n "$clang" ] && command -v "$clang" >/dev/null || skip_all "clang is not installed (configure looks for it)"
[ -z "$MAPRACE_SANITIZED" ] || skip_all "a sanitizer build (libmaprt needs gcc's ASan runtime)"
rt="$(cd "$top/runtime/.libs" && pwd)"
solib_line=$(grep -n "mr_mapassign" "$srcdir/tests/solib.c" | head -1 | cut -d: -f1)
for opt in -O0 -O2; do
    cflags="-g $opt -I$srcdir/runtime -I$top"
    "$clang" $cflags -fPIC -shared -o "$work/libsolib$opt.so" "$srcdir/tests/solib.c" -L"$rt" -lmaprt &&
        "$clang" $cflags -fPIE -pie -o "$work/solib_child$opt" "$srcdir/tests/solib_child.c" \
            "$work/libsolib$opt.so" -L"$rt" -lmaprt -lpthread -Wl,-rpath,"$rt" -Wl,-rpath,"$work" ||
        { result 1 "clang $opt: the shared-library race builds"; continue; }
    timeout 60 "$work/solib_child$opt" >/dev/null 2>"$work/err"
    status=$?
    [ "$status" = 2 ] && grep -q "^solib_write_forever(...)$" "$work/err" &&
        grep -q "/tests/solib.c:$solib_line +0x" "$work/err" && grep -q "/tests/solib_child.c:[0-9]* +0x" "$work/err"
    result $? "clang $opt, PIE and shared library: the frames name solib.c:$solib_line and solib_child.c (exit $status)" "$work/err"
    "$clang" $cflags -fPIE -pie -o "$work/iterate_write$opt" "$srcdir/examples/iterate_write.c" -L"$rt" -lmaprt -lpthread \
        -Wl,-rpath,"$rt"
    timeout 60 "$work/iterate_write$opt" >/dev/null 2>"$work/err"
    status=$?
    [ "$status" = 2 ] && grep -q "/examples/iterate_write.c:[0-9]* +0x" "$work/err" && ! grep -q "iterate_write$opt +0x" "$work/err"
    result $? "clang $opt, the iterate_write example: every frame with file and line (exit $status)" "$work/err"
done
