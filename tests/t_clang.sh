#!/bin/bash
# Binaries built with clang (which writes no .debug_aranges unless asked)
# are reported with file and line: a PIE executable and a shared library,
# at -O0 and -O2.  SKIP without clang.
top="${top_builddir:-.}"
srcdir="${srcdir:-$top}"
clang=${CLANG:-}
echo "1..4"
if [ -z "$clang" ] || ! command -v "$clang" >/dev/null; then
    for i in 1 2 3 4; do echo "ok $i # SKIP clang is not installed (configure looks for it)"; done
    exit 0
fi
if [ -n "$MAPRACE_SANITIZED" ]; then
    for i in 1 2 3 4; do echo "ok $i # SKIP a sanitizer build (libmaprt needs gcc's ASan runtime)"; done
    exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rt="$(cd "$top/runtime/.libs" && pwd)"
n=0
report() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; [ -n "$3" ] && sed 's/^/# /' "$3" | head -30; fi; }
solib_line=$(grep -n "mr_mapassign" "$srcdir/tests/solib.c" | head -1 | cut -d: -f1)
for opt in -O0 -O2; do
    cflags="-g $opt -I$srcdir/runtime -I$top"
    "$clang" $cflags -fPIC -shared -o "$work/libsolib$opt.so" "$srcdir/tests/solib.c" -L"$rt" -lmaprt &&
        "$clang" $cflags -fPIE -pie -o "$work/solib_child$opt" "$srcdir/tests/solib_child.c" \
            "$work/libsolib$opt.so" -L"$rt" -lmaprt -lpthread -Wl,-rpath,"$rt" -Wl,-rpath,"$work" ||
        { report 1 "clang $opt: the shared-library race builds"; continue; }
    timeout 60 "$work/solib_child$opt" >/dev/null 2>"$work/err"
    status=$?
    [ "$status" = 2 ] && grep -q "^solib_write_forever(...)$" "$work/err" &&
        grep -q "/tests/solib.c:$solib_line +0x" "$work/err" && grep -q "/tests/solib_child.c:[0-9]* +0x" "$work/err"
    report $? "clang $opt, PIE and shared library: the frames name solib.c:$solib_line and solib_child.c (exit $status)" "$work/err"
    "$clang" $cflags -fPIE -pie -o "$work/iterate_write$opt" "$srcdir/examples/iterate_write.c" -L"$rt" -lmaprt -lpthread \
        -Wl,-rpath,"$rt"
    timeout 60 "$work/iterate_write$opt" >/dev/null 2>"$work/err"
    status=$?
    [ "$status" = 2 ] && grep -q "/examples/iterate_write.c:[0-9]* +0x" "$work/err" && ! grep -q "iterate_write$opt +0x" "$work/err"
    report $? "clang $opt, the iterate_write example: every frame with file and line (exit $status)" "$work/err"
done
