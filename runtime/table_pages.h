/* table_pages.h — large bucket arrays' memory (table_pages.c): huge-page
 * mappings of their own, the last ones freed kept for the next table of
 * the same size.  Used by the default allocation hook (hooks.c). */
#ifndef MAPRT_TABLE_PAGES_H
#define MAPRT_TABLE_PAGES_H

#include <stddef.h>

/* Tables from this size up are mapped here. */
enum { MR_TABLE_PAGES_MIN = 2u << 20 };

/* Zeroed memory of size bytes, 2 MiB aligned, or NULL. */
void *mr_table_pages_alloc(size_t size);
/* Frees what mr_table_pages_alloc returned, with the same size. */
void mr_table_pages_free(void *p, size_t size);

#endif
