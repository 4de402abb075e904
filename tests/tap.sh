# tests/tap.sh: what the test scripts share, sourced first by each:
#     . "$(dirname "$0")/tap.sh"
# Where the build and the sources are, a scratch folder removed on exit,
# and TAP lines numbered in order.
top="${top_builddir:-.}"
srcdir="${srcdir:-$top}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0

# plan N: the TAP plan.  skip_all REASON: every planned test skipped, and
# the script ends.
plan() { planned=$1; echo "1..$1"; }
skip_all() { local i; for i in $(seq 1 "$planned"); do echo "ok $i # SKIP $1"; done; exit 0; }

# result STATUS DESCRIPTION [FILE...]: the next test, ok when STATUS is 0;
# when it is not, each FILE's first 40 lines follow as TAP diagnostics
# (after a line naming the file when there are several).
result() {
    n=$((n + 1))
    if [ "$1" = 0 ]; then
        echo "ok $n - $2"
        return 0
    fi
    echo "not ok $n - $2"
    shift 2
    local f
    for f in "$@"; do
        [ -f "$f" ] || continue
        [ $# -gt 1 ] && echo "# -- $(basename "$f"):"
        sed 's/^/# /' "$f" | head -40
    done
    return 0
}

# marker_line FILE TAG: the number of FILE's line marked LINE(TAG).
marker_line() { grep -n "LINE($2)" "$1" | head -1 | cut -d: -f1; }
