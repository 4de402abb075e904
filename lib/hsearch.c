/*
 * hsearch.c — glibc's hsearch_r tables (and the one hsearch table),
 * watched in unmodified programs.
 *
 * A table is named by its struct hsearch_data; hcreate/hsearch/hdestroy
 * share one process-wide table, named by a tag of our own.  ENTER is a
 * write (as Go's m[k] = v is, whether or not the key was there), FIND a
 * read.  glibc's hsearch calls hsearch_r internally without the PLT, so
 * each call is seen once.
 */
#include "interpose.h"

#include <search.h>

static const char HSEARCH_R[] = "hsearch_r table";
static const char HSEARCH[] = "hsearch table";
static const char the_hsearch_table; /* the process-wide table's name */

static void made(const void *table, const char *type, void *callsite)
{
    if (tables_depth == 1 && (maprace_active() || maprace_watch()))
        tables_made(table, type, (uintptr_t)callsite);
}

int hcreate_r(size_t nel, struct hsearch_data *htab)
{
    REAL(hcreate_r);
    tables_depth++;
    int ok = real(nel, htab);
    if (ok)
        made(htab, HSEARCH_R, __builtin_return_address(0));
    tables_depth--;
    return ok;
}

int hsearch_r(ENTRY item, ACTION action, ENTRY **retval, struct hsearch_data *htab)
{
    REAL(hsearch_r);
    int ok;
    if (action == ENTER)
        INTERPOSE_WRITE(htab, HSEARCH_R, ok = real(item, action, retval, htab));
    else
        INTERPOSE_READ(htab, HSEARCH_R, MR_TABLE_READ, ok = real(item, action, retval, htab));
    return ok;
}

void hdestroy_r(struct hsearch_data *htab)
{
    REAL(hdestroy_r);
    bool watched = false;
    INTERPOSE_WRITE(htab, HSEARCH_R, (watched = e_ != NULL, real(htab)));
    if (watched)
        tables_gone(htab);
}

int hcreate(size_t nel)
{
    REAL(hcreate);
    tables_depth++;
    int ok = real(nel);
    if (ok)
        made(&the_hsearch_table, HSEARCH, __builtin_return_address(0));
    tables_depth--;
    return ok;
}

ENTRY *hsearch(ENTRY item, ACTION action)
{
    REAL(hsearch);
    ENTRY *r;
    if (action == ENTER)
        INTERPOSE_WRITE(&the_hsearch_table, HSEARCH, r = real(item, action));
    else
        INTERPOSE_READ(&the_hsearch_table, HSEARCH, MR_TABLE_READ, r = real(item, action));
    return r;
}

void hdestroy(void)
{
    REAL(hdestroy);
    bool watched = false;
    INTERPOSE_WRITE(&the_hsearch_table, HSEARCH, (watched = e_ != NULL, real()));
    if (watched)
        tables_gone(&the_hsearch_table);
}
