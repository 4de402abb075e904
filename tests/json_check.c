/*
 * json_check — validates that each line of a file is one JSON object
 * (RFC 8259 syntax), and prints the number of lines.  Exits 1 naming the
 * first bad line and column.  For the race-log tests.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *p;

static void ws(void)
{
    while (*p == ' ' || *p == '\t' || *p == '\r')
        p++;
}

static bool value(int depth);

static bool string(void)
{
    if (*p != '"')
        return false;
    for (p++; *p != '"'; p++) {
        if ((unsigned char)*p < 0x20 || *p == '\0')
            return false;
        if (*p == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!isxdigit((unsigned char)p[i]))
                        return false;
                p += 4;
            } else if (!strchr("\"\\/bfnrt", *p) || *p == '\0') {
                return false;
            }
        }
    }
    p++;
    return true;
}

static bool number(void)
{
    const char *s = p;
    if (*p == '-')
        p++;
    if (!isdigit((unsigned char)*p))
        return false;
    if (*p == '0')
        p++;
    else
        while (isdigit((unsigned char)*p))
            p++;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return p > s;
}

static bool literal(const char *w)
{
    size_t n = strlen(w);
    if (strncmp(p, w, n) != 0)
        return false;
    p += n;
    return true;
}

static bool container(char open, char close, bool keyed, int depth)
{
    p++;
    ws();
    if (*p == close) {
        p++;
        return true;
    }
    for (;;) {
        ws();
        if (keyed) {
            if (!string())
                return false;
            ws();
            if (*p++ != ':')
                return false;
        }
        if (!value(depth + 1))
            return false;
        ws();
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == close) {
            p++;
            return true;
        }
        return false;
    }
    (void)open;
}

static bool value(int depth)
{
    if (depth > 64)
        return false;
    ws();
    switch (*p) {
    case '{': return container('{', '}', true, depth);
    case '[': return container('[', ']', false, depth);
    case '"': return string();
    case 't': return literal("true");
    case 'f': return literal("false");
    case 'n': return literal("null");
    default: return number();
    }
}

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
    static char line[1 << 20];
    int n = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        n++;
        p = line;
        ws();
        bool good = *p == '{' && value(0);
        ws();
        if (!good || (*p != '\n' && *p != '\0')) {
            printf("%s:%d:%d: not a JSON object\n", argv[1], n, (int)(p - line) + 1);
            return 1;
        }
    }
    printf("%d\n", n);
    return 0;
}
