/*
 * symbolize.h — PCs to function, file and line, from the ELF symbols and
 * DWARF line tables of the executable and every shared object (elfutils'
 * libdwfl), for reports.
 */
#ifndef MAPRT_SYMBOLIZE_H
#define MAPRT_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mr_symbol {
    const char *func;    /* function name, NULL if no symbol covers the PC */
    uintptr_t funcoff;   /* PC - function entry */
    const char *file;    /* absolute source path, NULL without line info */
    int line;
    const char *module;  /* path of the executable or shared object */
    uintptr_t modoff;    /* PC - module load address */
    bool runtime;        /* a frame of libmaprt itself */
    bool system;         /* a frame of the C library, the loader or a tool (mr_system_module) */
    bool root;           /* a thread's entry or the C start-up: stacks end here */
} mr_symbol;

/* Describes pc.  A return address (exact == false) is looked up at pc-1,
 * the call instruction, as symbolisers do.  Returns false if pc lies in
 * no known module.  Names point into storage that lives as long as the
 * process. */
bool mr_symbolize(uintptr_t pc, bool exact, mr_symbol *out);
/* As mr_symbolize for the return address of the call that runs a
 * function's deferred calls at its return: the line it returns at. */
bool mr_symbolize_return(uintptr_t pc, mr_symbol *out);

/* The entry address of the function containing the return address pc
 * (looked up at pc-1).  False if no symbol covers it.  Thread-safe, and
 * cached: meant for checks made again and again at the same call sites. */
bool mr_function_entry(uintptr_t pc, uintptr_t *entry);

/* Whether the module at path (a file name as the loader or libdwfl gives
 * it) is one whose frames are the system's: the C library, the loader,
 * libmaprace.so, ThreadSanitizer's runtime.  A string test only: safe in
 * a signal handler. */
bool mr_system_module(const char *path);

/* The function name without a symbol version ("@@GLIBC_2.34") or a gcc
 * clone suffix (".constprop.0", ".cold"), into buf. */
const char *mr_symbol_name(const char *name, char *buf, size_t n);

#endif /* MAPRT_SYMBOLIZE_H */
