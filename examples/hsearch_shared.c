/*
 * hsearch_shared — two threads fill one glibc hsearch_r table without a
 * lock.
 *
 * hsearch_r is glibc's reentrant hash table: reentrant means each table
 * is its own, not that one table may be used by two threads at once.
 * Here two loader threads enter their words into one shared table.  Run
 * plainly, entries are lost or the table is corrupted without a word; under
 *
 *     maprace ./hsearch_shared
 *
 * the first overlap ends the program with Go's
 *
 *     fatal error: concurrent map writes
 *
 * naming both loaders' hsearch_r lines and the hcreate_r line.  Exit
 * status 2.  With the argument "locked" a mutex orders the loaders and
 * every word is found.
 */
#include <pthread.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { WORDS = 100000 };

static struct hsearch_data words;  /* shared by both loaders */
static pthread_mutex_t words_lock = PTHREAD_MUTEX_INITIALIZER;
static int locked;                 /* without it: the bug */
static char names[2][WORDS][16];
static pthread_barrier_t start;    /* the loaders begin together */

static void *loader(void *arg)
{
    int id = (int)(long)arg;
    pthread_barrier_wait(&start);
    for (int i = 0; i < WORDS; i++) {
        snprintf(names[id][i], sizeof names[id][i], "w%d-%d", id, i);
        ENTRY item = {names[id][i], NULL}, *found;
        if (locked)
            pthread_mutex_lock(&words_lock);
        hsearch_r(item, ENTER, &found, &words);
        if (locked)
            pthread_mutex_unlock(&words_lock);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    locked = argc > 1 && strcmp(argv[1], "locked") == 0;
    printf("hsearch_shared: two loaders fill one hsearch_r table%s...\n", locked ? " under a mutex" : "");
    fflush(stdout);
    if (hcreate_r(4 * WORDS, &words) == 0) {
        perror("hcreate_r");
        return 1;
    }
    /* Started apart, on a busy machine the first loader could be done
     * before the second one ran at all: then nothing overlaps, and there
     * is nothing to catch in that run. */
    pthread_barrier_init(&start, NULL, 2);
    pthread_t a, b;
    pthread_create(&a, NULL, loader, (void *)0L);
    pthread_create(&b, NULL, loader, (void *)1L);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    int found = 0;
    for (int id = 0; id < 2; id++)
        for (int i = 0; i < WORDS; i++) {
            ENTRY item = {names[id][i], NULL}, *e;
            found += hsearch_r(item, FIND, &e, &words) != 0;
        }
    printf("hsearch_shared: %d of %d words found%s\n", found, 2 * WORDS,
           found == 2 * WORDS ? ", every one" : ": words were lost");
    hdestroy_r(&words);
    return found == 2 * WORDS ? 0 : 1;
}
