/*
 * Error paths: the "section/field" location a reader keeps while it walks
 * a stream, e.g. "full 0000:00:02.0/e1000 (id 7)/mac_reg[3]".  A path is a
 * caller-owned NUL-terminated buffer; push appends and returns the old
 * length, pop truncates back to it.  Text past the buffer is dropped.
 */
#ifndef MC_CORE_PATH_H
#define MC_CORE_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

size_t mc_path_push(char *path, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Append a, at most smax bytes of str (if any), num in decimal (if has_num)
 * and z, without printf: for paths built once per field or record. */
size_t mc_path_add(char *path, size_t cap, const char *a, const char *str,
                   size_t smax, bool has_num, uint64_t num, const char *z);

static inline void mc_path_pop(char *path, size_t old)
{
    path[old] = 0;
}

#endif
