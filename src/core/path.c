#include "core/path.h"
#include "core/stream.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

size_t mc_path_push(char *path, size_t cap, const char *fmt, ...)
{
    size_t old = strlen(path);
    if (old < cap - 1) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(path + old, cap - old, fmt, ap);
        va_end(ap);
    }
    return old;
}

size_t mc_path_add(char *path, size_t cap, const char *a, const char *str,
                   size_t smax, bool has_num, uint64_t num, const char *z)
{
    size_t old = strlen(path), n = old, end = cap - 1;
    for (; *a && n < end; a++) {
        path[n++] = *a;
    }
    for (size_t i = 0; str && str[i] && i < smax && n < end; i++) {
        path[n++] = str[i];
    }
    if (has_num) {
        char d[24];
        int k = 0;
        do {
            d[k++] = (char)('0' + num % 10);
            num /= 10;
        } while (num);
        while (k > 0 && n < end) {
            path[n++] = d[--k];
        }
    }
    for (; *z && n < end; z++) {
        path[n++] = *z;
    }
    path[n] = 0;
    return old;
}

size_t mc_path_push_section(char *path, size_t cap, unsigned type,
                            const char *idstr, uint32_t id)
{
    size_t old = strlen(path);
    const char *sep = old ? "/" : "";
    if (type == MC_VM_CONFIGURATION) {
        mc_path_add(path, cap, sep, "configuration", 13, false, 0, "");
        return old;
    }
    mc_path_add(path, cap, sep, mc_section_type_name(type), 16, false, 0,
                " ");
    if (idstr) {
        mc_path_add(path, cap, "", idstr, 255, false, 0, " ");
    }
    mc_path_add(path, cap, "(id ", NULL, 0, true, id, ")");
    return old;
}
