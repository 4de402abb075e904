#!/bin/sh
# Valgrind runs leak_child: every map kind created, filled, grown during
# iteration, cleared and freed must leave no leak and no invalid access.
echo "1..1"
if [ -z "$VALGRIND" ]; then
    echo "ok 1 # SKIP valgrind not installed"
    exit 0
fi
bin="${top_builddir:-.}/tests/leak_child"
log=$(mktemp)
"$VALGRIND" --quiet --error-exitcode=9 --leak-check=full --show-leak-kinds=definite,indirect,possible \
    --errors-for-leak-kinds=definite,indirect,possible "$bin" >"$log" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q "leak_child: done" "$log"; then
    echo "ok 1 - valgrind: no leak and no invalid access in create/fill/iterate/clear/free"
else
    echo "not ok 1 - valgrind exited $rc"
    sed 's/^/# /' "$log"
fi
rm -f "$log"
