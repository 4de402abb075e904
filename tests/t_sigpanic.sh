#!/bin/bash
# Faults in a program that uses libmaprt, reported as Go reports them: a
# nil dereference or a division by zero in the program's code is a panic
# (deferred calls run, recover stops it, exit 2, Go's [signal ...] line);
# a fault far from nil is "unexpected fault address" + "fatal error:
# fault"; a fault inside the C library is "unexpected signal during
# runtime execution" with the library's frames; the program's own handler
# and a SIGSEGV sent by raise() are left alone.  And GOTRACEBACK=system's
# fp/sp/pc on every frame line.
. "$(dirname "$0")/tap.sh"
bin="$top/tests/sigpanic"
src="$srcdir/tests/sigpanic.c"
# Under the sanitizers, their own fault handlers would come first.
[ -n "${MAPRACE_SANITIZED:-}" ] && export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0:handle_sigbus=0:handle_sigfpe=0"
plan 10
check() { result "$1" "$2" "$work/out" "$work/err"; } # (what the last run printed)
line() { marker_line "$src" "$1"; }
run() { "$bin" "$@" >"$work/out" 2>"$work/err"; status=$?; }
# (Under ASan the wild address is in its shadow gap, code=0x2, and its
# strlen interceptor stands between strlen and the caller.)
# Line K of stderr, and whether stderr's lines K.. are exactly the arguments
# (each an extended regular expression matched whole).
lines_from() {
    local k=$1; shift
    for re in "$@"; do
        sed -n "${k}p" "$work/err" | grep -qxE -- "$re" || { echo "# line $k does not match: $re"; return 1; }
        k=$((k + 1))
    done
}
hex='0x[0-9a-f]+'
here=".*/tests/sigpanic\.c"

run nil
[ $status = 2 ] && grep -qx "deferred: goroutine's cleanup" "$work/out" &&
    lines_from 1 "panic: runtime error: invalid memory address or nil pointer dereference" \
        "\[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=$hex\]" "" \
        "goroutine [0-9]+ \[running\]:" "nil_write\(\.\.\.\)" "	$here:$(line nil) \+$hex" \
        "nil_goroutine\(\.\.\.\)" "	$here:[0-9]+ \+$hex" "created by main in goroutine 1" "	$here:$(line go) \+$hex"
check $? "a nil dereference in a goroutine: Go's panic and [signal] lines, the faulting line, its deferred call ran, exit 2 (status $status)"

run recover
[ $status = 0 ] && [ ! -s "$work/err" ] &&
    [ "$(cat "$work/out")" = "recovered: runtime error: invalid memory address or nil pointer dereference
recovering() returned -1
goes on
deferred: main's cleanup" ]
check $? "recover() in a deferred call stops the fault's panic; the function returns its MR_FRAME value and the program goes on (status $status)"

run divide
[ $status = 2 ] && [ "$(cat "$work/out")" = "deferred: main's cleanup" ] &&
    lines_from 1 "panic: runtime error: integer divide by zero" \
        "\[signal SIGFPE: floating-point exception code=0x1 addr=$hex pc=$hex\]" "" "goroutine 1 \[running\]:" \
        "divide\(\.\.\.\)" "	$here:$(line divide) \+$hex" "main\(\.\.\.\)"
check $? "an integer division by zero: Go's panic, [signal SIGFPE ...], main's deferred call ran (status $status)"

run far
[ $status = 2 ] && [ ! -s "$work/out" ] &&
    lines_from 1 "unexpected fault address 0xdead0000" "fatal error: fault" \
        "\[signal SIGSEGV: segmentation violation code=0x[12] addr=0xdead0000 pc=$hex\]" "" "goroutine 1 \[running\]:" \
        "far_write\(\.\.\.\)" "	$here:$(line far) \+$hex fp=$hex sp=$hex pc=$hex"
check $? "a fault far from nil: Go's fatal error \"fault\" (a throw: frames with fp/sp/pc), no deferred call runs (status $status)"

run bus
[ $status = 2 ] && [ ! -s "$work/out" ] &&
    lines_from 1 "unexpected fault address $hex" "fatal error: fault" "\[signal SIGBUS: bus error code=0x2 addr=$hex pc=$hex\]" "" \
        "goroutine 1 \[running\]:" "bus_read\(\.\.\.\)" "	$here:$(line bus) \+$hex fp=$hex sp=$hex pc=$hex"
check $? "a mapped file read past its end: [signal SIGBUS: bus error code=0x2 ...] (status $status)"

run libc
[ $status = 2 ] && [ ! -s "$work/out" ] &&
    lines_from 1 "fatal error: unexpected signal during runtime execution" \
        "\[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=$hex\]" "" "goroutine 1 \[running\]:" \
        "__strlen[a-z0-9_]*\(\.\.\.\)" "	.* \+$hex fp=$hex sp=$hex pc=$hex" &&
    grep -A1 "^libc_fault(...)$" "$work/err" | grep -qE "^	$here:$(line libc) \+$hex fp=$hex sp=$hex pc=$hex$"
check $? "a fault inside the C library: a fatal error with the library's frames, never a panic (status $status)"

run handler
[ $status = 7 ] && [ "$(cat "$work/err")" = "the program's own handler" ]
check $? "the program's own SIGSEGV handler gets its fault (status $status)"

{ run kill; } 2>/dev/null
[ $status = 139 ] && [ ! -s "$work/err" ]
check $? "raise(SIGSEGV) is not a fault: the default action (status $status)"

GOTRACEBACK=none "$bin" nil >"$work/out" 2>"$work/err"
status=$?
[ $status = 2 ] && [ "$(wc -l <"$work/err")" = 2 ] &&
    lines_from 1 "panic: runtime error: invalid memory address or nil pointer dereference" "\[signal SIGSEGV: .*\]"
check $? "GOTRACEBACK=none: the panic and signal lines only (status $status)"

# GOTRACEBACK=system: each frame's line ends with fp= sp= pc= as Go's do;
# a frame's sp is the fp of the frame it called, and fp is above sp; the
# runtime's frames are shown.  On the fault's panic and on a nested panic
# (examples/nested_panic: libmaprt's frames between the user's).
check_bounds() {
    local frames=0 lastfp=0 prev="" l in=""
    while IFS= read -r l; do
        [[ $l == "goroutine "* ]] && in=1
        if [ -n "$in" ] && [[ $l == $'\t'* ]]; then
            if [[ $prev == "created by "* ]]; then :
            elif [[ $l =~ \ \+0x[0-9a-f]+\ fp=0x([0-9a-f]+)\ sp=0x([0-9a-f]+)\ pc=0x[0-9a-f]+$ ]]; then
                local fp=$((16#${BASH_REMATCH[1]})) sp=$((16#${BASH_REMATCH[2]}))
                [ $fp -ge $sp ] || { echo "# fp below sp: $l"; return 1; }
                [ $frames = 0 ] || [ $sp = $lastfp ] || { echo "# sp is not the fp of the frame it called: $l"; return 1; }
                lastfp=$fp frames=$((frames + 1))
            else
                echo "# no fp/sp/pc: $l"; return 1
            fi
        fi
        prev=$l
    done <"$work/err"
    [ $frames -ge 4 ] || { echo "# only $frames frames"; return 1; }
}
GOTRACEBACK=system "$bin" divide >"$work/out" 2>"$work/err"
status=$?
[ $status = 2 ] && check_bounds && grep -q "^divide(...)$" "$work/err" &&
    GOTRACEBACK=system "$top/examples/nested_panic" >"$work/out" 2>"$work/err" ; status2=$?
[ $status = 2 ] && [ $status2 = 2 ] && check_bounds && grep -q "^mr_panic_str(...)$" "$work/err" &&
    grep -q "^panic_second(...)$" "$work/err"
check $? "GOTRACEBACK=system: fp/sp/pc after every frame, consistent from frame to frame, the runtime's frames shown (status $status, $status2)"
