/*
 * symbolize.c — symbolisation with elfutils' libdwfl.
 *
 * Set up once, when the first report needs it: libdwfl reads the process's
 * own module list from /proc and finds ELF files and their debug info
 * (separate debug files included) by itself.  Set-up allocates and costs a
 * fraction of a millisecond; each lookup then costs microseconds.  It is
 * never done in a signal handler.
 */
#include "symbolize.h"

#include "forklock.h"
#include "maprt.h"
#include "maprt_hooks.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

static Dwfl *dwfl;
static Dwfl_Module *runtime_module;
static pthread_mutex_t setup_lock = PTHREAD_MUTEX_INITIALIZER;

static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};

static bool setup(void)
{
    pthread_mutex_lock(&setup_lock);
    if (dwfl == NULL) {
        Dwfl *d = dwfl_begin(&callbacks);
        if (d != NULL) {
            dwfl_report_begin(d);
            if (dwfl_linux_proc_report(d, getpid()) != 0 || dwfl_report_end(d, NULL, NULL) != 0) {
                dwfl_end(d);
                d = NULL;
            }
        }
        dwfl = d;
        if (dwfl != NULL)
            runtime_module = dwfl_addrmodule(dwfl, (Dwarf_Addr)(uintptr_t)&mr_makemap);
    }
    pthread_mutex_unlock(&setup_lock);
    return dwfl != NULL;
}

int mr_describe_pc(uintptr_t pc, int exact, mr_pcinfo *out)
{
    mr_symbol s;
    static __thread char name[256];
    memset(out, 0, sizeof *out);
    if (!mr_symbolize(pc, exact != 0, &s))
        return 0;
    out->function = mr_symbol_name(s.func, name, sizeof name);
    out->file = s.file;
    out->line = s.line;
    out->module = s.module;
    out->offset = s.func ? s.funcoff : s.modoff;
    out->runtime = s.runtime;
    out->system = s.system;
    out->root = s.root;
    return 1;
}

const char *mr_symbol_name(const char *name, char *buf, size_t n)
{
    if (name == NULL)
        return NULL;
    /* Drop a symbol version ("@@GLIBC_2.34") and the suffixes of gcc's
     * clones (".constprop.0", ".isra.0", ".part.0", ".cold"): C names have
     * no '.' of their own. */
    size_t len = strcspn(name, "@.");
    if (len >= n)
        len = n - 1;
    memcpy(buf, name, len);
    buf[len] = '\0';
    return buf;
}

/* Absolute source paths, made from a line table's relative name and its
 * compilation directory, kept for the life of the process. */
static char path_pool[65536];
static size_t path_used;
static pthread_mutex_t path_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *absolute_path(Dwarf_Die *cu, const char *file)
{
    if (file[0] == '/')
        return file;
    Dwarf_Attribute attr;
    const char *dir = cu && dwarf_attr(cu, DW_AT_comp_dir, &attr) ? dwarf_formstring(&attr) : NULL;
    if (dir == NULL)
        return file;
    size_t dl = strlen(dir), fl = strlen(file);
    const char *result = file;
    pthread_mutex_lock(&path_lock);
    /* The same few files come up again and again: reuse earlier joins. */
    for (size_t at = 0; at < path_used; at += strlen(path_pool + at) + 1) {
        const char *p = path_pool + at;
        if (strncmp(p, dir, dl) == 0 && p[dl] == '/' && strcmp(p + dl + 1, file) == 0) {
            result = p;
            goto out;
        }
    }
    if (path_used + dl + fl + 2 <= sizeof path_pool) {
        char *p = path_pool + path_used;
        memcpy(p, dir, dl);
        p[dl] = '/';
        memcpy(p + dl + 1, file, fl + 1);
        path_used += dl + fl + 2;
        result = p;
    }
out:
    pthread_mutex_unlock(&path_lock);
    return result;
}

/* Where a stack shown to a user ends: a thread's entry or the C
 * runtime's start-up, which Go does not show either. */
bool mr_system_module(const char *path)
{
    /* The C library's frames are to C what Go's runtime frames are to Go:
     * shown with GOTRACEBACK=system.  (libmaprace.so, the race detector,
     * wraps main, and ThreadSanitizer's runtime under maprace --hb wraps
     * threads: their frames are the tools', not the program's.) */
    const char *slash = path ? strrchr(path, '/') : NULL;
    const char *name = slash ? slash + 1 : path;
    return name != NULL && (strncmp(name, "libc.so", 7) == 0 || strncmp(name, "ld-linux", 8) == 0 ||
                            strncmp(name, "libmaprace.so", 13) == 0 || strncmp(name, "libtsan.so", 10) == 0);
}

static bool is_thread_root(const char *func)
{
    static const char *const roots[] = {"start_thread", "clone", "clone3", "__clone",
                                        "__libc_start_call_main", "__libc_start_main", "_start"};
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++)
        if (strcmp(func, roots[i]) == 0)
            return true;
    return false;
}

/* libdw is not safe for concurrent lookups in one Dwfl. */
static pthread_mutex_t lookup_lock = PTHREAD_MUTEX_INITIALIZER;

static bool symbolize_locked(uintptr_t pc, bool exact, bool lines, mr_symbol *out);

bool mr_symbolize(uintptr_t pc, bool exact, mr_symbol *out)
{
    pthread_mutex_lock(&lookup_lock);
    bool found = symbolize_locked(pc, exact, true, out);
    pthread_mutex_unlock(&lookup_lock);
    return found;
}

/* The line a function returns at, from the return address of the call
 * that runs its deferred calls (mr_frame_leave_).  Compilers give that
 * call the MR_FRAME line (gcc) or the closing brace's (clang); the code
 * from there to the function's end is its exit, whose last line is the
 * closing brace: the greatest line of the rows there (at -O0 the first
 * comes still on the call's line; instrumentation may add rows on the
 * function's first line).  The unit is found through its own ranges
 * (clang writes no .debug_aranges). */
static Dwarf_Die *unit_of(Dwfl_Module *mod, Dwarf_Addr addr, Dwarf_Addr *bias)
{
    for (Dwarf_Die *cu = dwfl_module_nextcu(mod, NULL, bias); cu != NULL; cu = dwfl_module_nextcu(mod, cu, bias))
        if (dwarf_haspc(cu, addr - *bias) == 1)
            return cu;
    return NULL;
}

bool mr_symbolize_return(uintptr_t pc, mr_symbol *out)
{
    pthread_mutex_lock(&lookup_lock);
    bool found = symbolize_locked(pc, false, true, out); /* the call's own line, pc - 1 */
    Dwfl_Module *mod = found && out->file != NULL ? dwfl_addrmodule(dwfl, pc) : NULL;
    Dwarf_Addr bias = 0;
    Dwarf_Die *cu = mod != NULL ? unit_of(mod, pc, &bias) : NULL;
    Dwarf_Lines *lines;
    size_t n;
    GElf_Off off = 0;
    GElf_Sym sym;
    if (cu != NULL && dwfl_module_addrinfo(mod, pc - 1, &off, &sym, NULL, NULL, NULL) != NULL &&
        dwarf_getsrclines(cu, &lines, &n) == 0) {
        /* Within the function: past its end is another function's line
         * (clang already gives the call the closing brace's line). */
        Dwarf_Addr rel = pc - bias, end = pc - 1 - off + sym.st_size - bias;
        for (size_t i = 0; i < n; i++) {
            Dwarf_Line *l = dwarf_onesrcline(lines, i);
            Dwarf_Addr a;
            int lineno;
            bool endseq;
            if (l == NULL || dwarf_lineaddr(l, &a) != 0 || a < rel || a >= end || dwarf_lineno(l, &lineno) != 0 ||
                dwarf_lineendsequence(l, &endseq) != 0 || endseq)
                continue;
            /* (the function's own file: an inlined header function's
             * lines are another file's) */
            const char *file = lineno > out->line ? dwarf_linesrc(l, NULL, NULL) : NULL;
            if (file != NULL && strcmp(absolute_path(cu, file), out->file) == 0)
                out->line = lineno;
        }
    }
    pthread_mutex_unlock(&lookup_lock);
    return found;
}

enum { ENTRY_CACHE = 256 };
static struct {
    uintptr_t pc, entry;
} entry_cache[ENTRY_CACHE];

bool mr_function_entry(uintptr_t pc, uintptr_t *entry)
{
    size_t slot = (pc >> 2) % ENTRY_CACHE;
    bool found = false;
    pthread_mutex_lock(&lookup_lock);
    if (entry_cache[slot].pc == pc) {
        *entry = entry_cache[slot].entry;
        found = true;
    } else {
        mr_symbol s;
        if (symbolize_locked(pc, false, false, &s) && s.func != NULL) {
            *entry = pc - s.funcoff;
            entry_cache[slot].pc = pc;
            entry_cache[slot].entry = *entry;
            found = true;
        }
    }
    pthread_mutex_unlock(&lookup_lock);
    return found;
}

MR_HELD_ACROSS_FORK(symbolize, pthread_mutex_lock(&lookup_lock), pthread_mutex_unlock(&lookup_lock))

/* The Dwfl lives as long as the process; at exit it is released so that
 * leak checkers see nothing of it. */
__attribute__((destructor)) static void release_dwfl(void)
{
    pthread_mutex_lock(&lookup_lock);
    if (dwfl != NULL)
        dwfl_end(dwfl);
    dwfl = NULL;
    runtime_module = NULL;
    memset(entry_cache, 0, sizeof entry_cache);
    pthread_mutex_unlock(&lookup_lock);
}

/* dwfl_module_getsrc finds an address's compilation unit through
 * .debug_aranges, which clang emits only with -gdwarf-aranges: without it,
 * the unit is found by walking the units' own address ranges, and the
 * line in that unit's line table. */
static void line_from_cus(Dwfl_Module *mod, Dwarf_Addr addr, mr_symbol *out)
{
    Dwarf_Addr bias = 0;
    for (Dwarf_Die *cu = dwfl_module_nextcu(mod, NULL, &bias); cu != NULL; cu = dwfl_module_nextcu(mod, cu, &bias)) {
        if (dwarf_haspc(cu, addr - bias) != 1)
            continue;
        Dwarf_Line *line = dwarf_getsrc_die(cu, addr - bias);
        int lineno = 0;
        const char *file = line != NULL ? dwarf_linesrc(line, NULL, NULL) : NULL;
        if (file != NULL && dwarf_lineno(line, &lineno) == 0) {
            out->file = absolute_path(cu, file);
            out->line = lineno;
        }
        return;
    }
}

static bool symbolize_locked(uintptr_t pc, bool exact, bool lines, mr_symbol *out)
{
    memset(out, 0, sizeof *out);
    if (!setup())
        return false;
    Dwarf_Addr addr = exact ? pc : pc - 1;
    Dwfl_Module *mod = dwfl_addrmodule(dwfl, addr);
    if (mod == NULL)
        return false;
    Dwarf_Addr base = 0;
    const char *modname = dwfl_module_info(mod, NULL, &base, NULL, NULL, NULL, NULL, NULL);
    out->module = modname;
    out->modoff = (uintptr_t)(pc - base);
    out->runtime = mod == runtime_module;
    out->system = mr_system_module(modname);

    GElf_Off off = 0;
    GElf_Sym sym;
    const char *name = dwfl_module_addrinfo(mod, addr, &off, &sym, NULL, NULL, NULL);
    if (name != NULL) {
        out->func = name;
        /* The offset of the PC as given (the return address), as Go's
         * "+0x4c" is. */
        out->funcoff = (uintptr_t)(off + (exact ? 0 : 1));
        /* Statically linked, libmaprt's functions are the executable's:
         * they are known by their prefix. */
        if (strncmp(name, "mr_", 3) == 0)
            out->runtime = true;
        /* WaitGroup.Wait and Mutex.Lock are the program's calls, shown
         * where it blocks in them, as Go shows its sync package's. */
        if (strcmp(name, "mr_wg_wait") == 0 || strcmp(name, "mr_mutex_lock") == 0)
            out->runtime = false;
        char plain[256];
        out->root = is_thread_root(mr_symbol_name(name, plain, sizeof plain));
    }
    Dwfl_Line *line = lines ? dwfl_module_getsrc(mod, addr) : NULL;
    if (line != NULL) {
        int lineno = 0;
        const char *file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
        if (file != NULL) {
            out->file = absolute_path(dwfl_linecu(line), file);
            out->line = lineno;
        }
    } else if (lines) {
        line_from_cus(mod, addr, out);
    }
    return true;
}
