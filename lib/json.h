/*
 * json.h — a small JSON reader for maprace-report: one document (a log
 * line) at a time into a tree allocated from one arena.
 */
#ifndef MAPRACE_JSON_H
#define MAPRACE_JSON_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { J_NULL, J_BOOL, J_NUMBER, J_STRING, J_ARRAY, J_OBJECT } jtype;

typedef struct jnode {
    jtype type;
    const char *key;        /* member name, inside an object */
    const char *str;        /* J_STRING */
    double num;             /* J_NUMBER */
    bool b;                 /* J_BOOL */
    struct jnode *child;    /* first element / member */
    struct jnode *next;     /* next sibling */
} jnode;

typedef struct jdoc {
    char *arena;
    size_t cap, used;
    char error[128];        /* why parsing failed */
    size_t error_at;        /* byte offset */
} jdoc;

/* Parses text; NULL on error (doc->error says why).  The tree lives in
 * doc's arena until jdoc_free. */
jnode *json_parse(jdoc *doc, const char *text);
void jdoc_free(jdoc *doc);

/* Member of an object, or NULL. */
const jnode *jget(const jnode *obj, const char *key);
/* The string / number of a member, or a default. */
const char *jstr(const jnode *obj, const char *key, const char *dflt);
double jnum(const jnode *obj, const char *key, double dflt);
bool jbool(const jnode *obj, const char *key, bool dflt);

#endif /* MAPRACE_JSON_H */
