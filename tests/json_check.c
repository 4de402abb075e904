/*
 * json_check — validates that each line of a file is one complete JSON
 * object ending in a newline, and prints the number of lines.  Exits 1
 * naming the first bad line.  For the race-log tests; the parser is
 * jansson, not the code under test.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: json_check FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (f == NULL) {
        perror(argv[1]);
        return 2;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int n = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        n++;
        json_error_t err;
        json_t *v = line[len - 1] == '\n' ? json_loadb(line, (size_t)len - 1, JSON_REJECT_DUPLICATES, &err) : NULL;
        if (!json_is_object(v)) {
            printf("%s:%d: not a JSON object line (%s)\n", argv[1], n, v == NULL && line[len - 1] == '\n' ? err.text : "no newline");
            return 1;
        }
        json_decref(v);
    }
    free(line);
    fclose(f);
    printf("%d\n", n);
    return 0;
}
