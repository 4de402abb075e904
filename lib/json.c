/*
 * json.c — a recursive-descent JSON parser (RFC 8259), building a tree in
 * an arena.  Strings are unescaped (\uXXXX to UTF-8).
 */
#include "json.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
    jdoc *doc;
    const char *s, *p;
    bool failed;
} parser;

static void fail(parser *ps, const char *why)
{
    if (!ps->failed) {
        ps->failed = true;
        snprintf(ps->doc->error, sizeof ps->doc->error, "%s", why);
        ps->doc->error_at = (size_t)(ps->p - ps->s);
    }
}

static void *alloc(parser *ps, size_t n)
{
    jdoc *d = ps->doc;
    n = (n + 7) & ~(size_t)7;
    if (d->used + n > d->cap) {
        /* Nodes point into the arena: it never moves, so a document is
         * limited to what was reserved up front. */
        fail(ps, "document too large");
        return NULL;
    }
    void *p = d->arena + d->used;
    d->used += n;
    memset(p, 0, n);
    return p;
}

static void ws(parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
        ps->p++;
}

static jnode *value(parser *ps, int depth);

static void put_utf8(char **o, unsigned cp)
{
    if (cp < 0x80) {
        *(*o)++ = (char)cp;
    } else if (cp < 0x800) {
        *(*o)++ = (char)(0xc0 | cp >> 6);
        *(*o)++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *(*o)++ = (char)(0xe0 | cp >> 12);
        *(*o)++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *(*o)++ = (char)(0x80 | (cp & 0x3f));
    }
}

static const char *string(parser *ps)
{
    if (*ps->p != '"') {
        fail(ps, "expected a string");
        return NULL;
    }
    const char *start = ++ps->p;
    size_t len = 0;
    for (const char *q = start; *q != '"'; q++, len++) {
        if (*q == '\0' || (unsigned char)*q < 0x20) {
            ps->p = q;
            fail(ps, "unterminated string");
            return NULL;
        }
        if (*q == '\\')
            q++;
    }
    char *out = alloc(ps, len * 3 + 1), *o = out;
    if (out == NULL)
        return NULL;
    while (*ps->p != '"') {
        char c = *ps->p++;
        if (c != '\\') {
            *o++ = c;
            continue;
        }
        c = *ps->p++;
        switch (c) {
        case '"': case '\\': case '/': *o++ = c; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            unsigned cp = 0;
            for (int i = 0; i < 4; i++) {
                char h = *ps->p++;
                if (!isxdigit((unsigned char)h)) {
                    fail(ps, "bad \\u escape");
                    return NULL;
                }
                cp = cp * 16 + (unsigned)(isdigit((unsigned char)h) ? h - '0' : (tolower(h) - 'a' + 10));
            }
            put_utf8(&o, cp);
            break;
        }
        default: fail(ps, "bad escape"); return NULL;
        }
    }
    ps->p++;
    *o = '\0';
    return out;
}

static jnode *node(parser *ps, jtype t)
{
    jnode *n = alloc(ps, sizeof *n);
    if (n)
        n->type = t;
    return n;
}

static jnode *container(parser *ps, bool object, int depth)
{
    jnode *n = node(ps, object ? J_OBJECT : J_ARRAY), **tail;
    if (n == NULL)
        return NULL;
    tail = &n->child;
    ps->p++;
    ws(ps);
    if (*ps->p == (object ? '}' : ']')) {
        ps->p++;
        return n;
    }
    for (;;) {
        ws(ps);
        const char *key = NULL;
        if (object) {
            key = string(ps);
            if (key == NULL)
                return NULL;
            ws(ps);
            if (*ps->p++ != ':') {
                fail(ps, "expected ':'");
                return NULL;
            }
        }
        jnode *v = value(ps, depth + 1);
        if (v == NULL)
            return NULL;
        v->key = key;
        *tail = v;
        tail = &v->next;
        ws(ps);
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == (object ? '}' : ']')) {
            ps->p++;
            return n;
        }
        fail(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
        return NULL;
    }
}

static jnode *value(parser *ps, int depth)
{
    if (depth > 64) {
        fail(ps, "nested too deeply");
        return NULL;
    }
    ws(ps);
    char c = *ps->p;
    if (c == '{' || c == '[')
        return container(ps, c == '{', depth);
    if (c == '"') {
        jnode *n = node(ps, J_STRING);
        if (n && (n->str = string(ps)) == NULL)
            return NULL;
        return n;
    }
    if (strncmp(ps->p, "true", 4) == 0 || strncmp(ps->p, "false", 5) == 0) {
        jnode *n = node(ps, J_BOOL);
        if (n)
            n->b = c == 't';
        ps->p += c == 't' ? 4 : 5;
        return n;
    }
    if (strncmp(ps->p, "null", 4) == 0) {
        ps->p += 4;
        return node(ps, J_NULL);
    }
    if (c == '-' || isdigit((unsigned char)c)) {
        char *end;
        double d = strtod(ps->p, &end);
        if (end == ps->p) {
            fail(ps, "bad number");
            return NULL;
        }
        ps->p = end;
        jnode *n = node(ps, J_NUMBER);
        if (n)
            n->num = d;
        return n;
    }
    fail(ps, c == '\0' ? "unexpected end of line" : "unexpected character");
    return NULL;
}

jnode *json_parse(jdoc *doc, const char *text)
{
    size_t need = strlen(text) * 4 + 4096 * sizeof(jnode);
    if (doc->cap < need) {
        free(doc->arena);
        doc->arena = malloc(need);
        doc->cap = doc->arena ? need : 0;
    }
    doc->used = 0;
    doc->error[0] = '\0';
    parser ps = {doc, text, text, false};
    if (doc->arena == NULL) {
        fail(&ps, "out of memory");
        return NULL;
    }
    jnode *root = value(&ps, 0);
    ws(&ps);
    if (root != NULL && *ps.p != '\0')
        fail(&ps, "text after the document");
    return ps.failed ? NULL : root;
}

void jdoc_free(jdoc *doc)
{
    free(doc->arena);
    doc->arena = NULL;
    doc->cap = doc->used = 0;
}

const jnode *jget(const jnode *obj, const char *key)
{
    if (obj == NULL || obj->type != J_OBJECT)
        return NULL;
    for (const jnode *c = obj->child; c != NULL; c = c->next)
        if (c->key && strcmp(c->key, key) == 0)
            return c;
    return NULL;
}

const char *jstr(const jnode *obj, const char *key, const char *dflt)
{
    const jnode *n = jget(obj, key);
    return n && n->type == J_STRING ? n->str : dflt;
}

double jnum(const jnode *obj, const char *key, double dflt)
{
    const jnode *n = jget(obj, key);
    return n && n->type == J_NUMBER ? n->num : dflt;
}

bool jbool(const jnode *obj, const char *key, bool dflt)
{
    const jnode *n = jget(obj, key);
    return n && n->type == J_BOOL ? n->b : dflt;
}
