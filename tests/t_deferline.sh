#!/bin/bash
# The traceback of a deferred call shows its function where Go does: at the
# line it returns from (closing brace, or the return statement taken), and
# with Go's "panic(...)" frame between a deferred call a panic runs and the
# function that panicked — with gcc at -O0, -O1 and -O2 and, when
# installed, clang at -O0 and -O2.
. "$(dirname "$0")/tap.sh"
src="$srcdir/tests/defer_line.c"
cc=${CC:-gcc}
compilers="$cc:-O0 $cc:-O1 $cc:-O2"
[ -n "${CLANG:-}" ] && command -v "$CLANG" >/dev/null && [ -z "$MAPRACE_SANITIZED" ] && compilers="$compilers $CLANG:-O0 $CLANG:-O2"
echo "1..4"
rt="$(cd "$top/runtime/.libs" && pwd)"
line() { marker_line "$src" "$1"; }
falls=$(line falls_end) first=$(line first_panic) boom=$(line boom)
# (A plain early return is shown at the function's closing brace:
# compilers merge a function's exits into one call of the cleanup, so which
# return statement was taken is not known; MR_RETURN names it, as Go does.)
early=$(line early_end)
ret=$(line mr_return) retlast=$(line mr_return_last) retvoid=$(line mr_return_void)
why_falls="" why_early="" why_panics="" why_returns=""
for c in $compilers; do
    comp=${c%%:*} opt=${c#*:}
    bin="$work/defer_line_$(basename "$comp")$opt"
    if ! $comp -g $opt -I"$srcdir/runtime" $SAN_FLAGS -o "$bin" "$src" -L"$rt" -lmaprt -lpthread -Wl,-rpath,"$rt" 2>"$work/cc"; then
        why_falls="$comp $opt: does not build"; break
    fi
    "$bin" falls >/dev/null 2>"$work/err"
    { [ $? = 2 ] && head -1 "$work/err" | grep -qx "panic: boom at the end" &&
        grep -A1 "^falls(...)$" "$work/err" | grep -q "defer_line.c:$falls +0x"; } ||
        { why_falls="$why_falls [$comp $opt: $(grep -A1 "^falls(...)$" "$work/err" | tail -1 | sed "s|.*defer_line|defer_line|")]"; cp "$work/err" "$work/err.falls"; }
    "$bin" early >/dev/null 2>"$work/err"
    { [ $? = 2 ] && grep -A1 "^early(...)$" "$work/err" | grep -q "defer_line.c:$early +0x"; } ||
        { why_early="$why_early [$comp $opt: $(grep -A1 "^early(...)$" "$work/err" | tail -1 | sed "s|.*defer_line|defer_line|")]"; cp "$work/err" "$work/err.early"; }
    for m in returns:returns:$ret returns-last:returns:$retlast returns-void:returns_void:$retvoid; do
        mode=${m%%:*} rest=${m#*:}
        fn=${rest%%:*} want=${rest#*:}
        "$bin" "$mode" >/dev/null 2>"$work/err"
        { [ $? = 2 ] && grep -A1 "^$fn(...)$" "$work/err" | grep -q "defer_line.c:$want +0x"; } ||
            { why_returns="$why_returns [$comp $opt $mode: $(grep -A1 "^$fn(...)$" "$work/err" | tail -1 | sed "s|.*defer_line|defer_line|"), want $want]"; cp "$work/err" "$work/err.returns"; }
    done
    "$bin" panics >/dev/null 2>"$work/err"
    { [ $? = 2 ] && head -2 "$work/err" | tr '\n' '|' | grep -q "^panic: first|	panic: second|$" &&
        tr '\n' '|' <"$work/err" | grep -qE "\|boom\(\.\.\.\)\|	[^|]*defer_line.c:$boom \+0x[0-9a-f]+\|panic\(\.\.\.\)\|	[^|]*/runtime/panic.c:[0-9]+ \+0x[0-9a-f]+\|panics\(\.\.\.\)\|	[^|]*defer_line.c:$first \+0x"; } ||
        { why_panics="$why_panics [$comp $opt]"; cp "$work/err" "$work/err.panics"; }
done
# verdict N WHY DESCRIPTION CASE: ok when WHY is empty, else not ok with
# WHY and the stderr of the failing run (err.CASE).
verdict() {
    if [ -z "$2" ]; then echo "ok $1 - $3"; else
        echo "not ok $1 - $3 $2"
        [ -f "$work/err.$4" ] && sed "s/^/# /" "$work/err.$4" | head -20
    fi
}
verdict 1 "$why_falls" "a deferred call at a function's end: the function shown at its closing brace ($compilers)" falls
verdict 2 "$why_early" "at an early return: the function shown at its closing brace, never at MR_FRAME" early
verdict 3 "$why_panics" "a deferred call run by a panic: then panic(...), then the panicking line" panics
verdict 4 "$why_returns" "at MR_RETURN (a value, the last statement, a void function): the function shown at the MR_RETURN taken" returns
exit 0
