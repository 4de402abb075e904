/*
 * rt.c — finding libmaprt, or loading it when a program that never linked
 * it turns out to need it (it uses GLib's or glibc's hash tables).
 */
#include "rt.h"

#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

maprace_runtime maprace_rt;
bool maprace_tsan;

#define FIND(field, name) maprace_rt.field = (__typeof__(maprace_rt.field))dlsym(RTLD_DEFAULT, name)

bool maprace_runtime_find(void)
{
    FIND(goid, "mr_goid");
    FIND(describe_pc, "mr_describe_pc");
    FIND(claim_failed, "mr_table_claim_failed");
    FIND(claim_lost, "mr_table_claim_lost");
    FIND(read_failed, "mr_table_read_failed");
    FIND(thread_prepare, "mr_thread_prepare");
    FIND(thread_abandon, "mr_thread_abandon");
    FIND(thread_begin, "mr_thread_begin");
    FIND(goid_of_thread, "mr_goid_of_thread");
    FIND(tsan_enabled, "mr_tsan_enabled");
    FIND(tsan_table, "mr_tsan_table");
    maprace_tsan = maprace_rt.tsan_enabled != NULL && maprace_rt.tsan_table != NULL && maprace_rt.tsan_enabled();
    Dl_info info;
    if (maprace_rt.goid != NULL && dladdr((void *)maprace_rt.goid, &info) != 0)
        maprace_rt.base = info.dli_fbase;
    return maprace_rt.goid && maprace_rt.describe_pc && maprace_rt.claim_failed && maprace_rt.claim_lost &&
           maprace_rt.read_failed && maprace_rt.thread_prepare && maprace_rt.thread_abandon &&
           maprace_rt.thread_begin;
}

bool maprace_in_runtime(const void *pc)
{
    Dl_info info;
    return maprace_rt.base != NULL && dladdr(pc, &info) != 0 && info.dli_fbase == maprace_rt.base;
}

enum { SONAME_MAX = 64 };
#define RUNTIME_SONAME "libmaprt.so.0"

static bool try_load(const char *path)
{
    /* RTLD_GLOBAL: libmaprt's calls to its hooks then find this
     * library's definitions first, as in a program linked with it. */
    return dlopen(path, RTLD_NOW | RTLD_GLOBAL) != NULL;
}

bool maprace_runtime_load(char *err, size_t errlen)
{
    if (maprace_runtime_find())
        return true;
    char path[PATH_MAX + SONAME_MAX];
    const char *env = getenv("MAPRACE_RUNTIME");
    if (env != NULL && env[0] != '\0') {
        if (!try_load(env)) {
            snprintf(err, errlen, "cannot load MAPRACE_RUNTIME=%s: %s", env, dlerror());
            return false;
        }
        return maprace_runtime_find();
    }
    Dl_info self;
    if (dladdr((void *)maprace_runtime_load, &self) != 0 && self.dli_fname != NULL) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", self.dli_fname);
        char *d = dirname(dir);
        snprintf(path, sizeof path, "%s/" RUNTIME_SONAME, d); /* installed side by side */
        if (try_load(path))
            return maprace_runtime_find();
        snprintf(path, sizeof path, "%s/../../runtime/.libs/" RUNTIME_SONAME, d); /* a build tree */
        if (try_load(path))
            return maprace_runtime_find();
    }
    if (try_load(RUNTIME_SONAME))
        return maprace_runtime_find();
    snprintf(err, errlen, "cannot load %s (set MAPRACE_RUNTIME to its path): %s", RUNTIME_SONAME, dlerror());
    return false;
}
