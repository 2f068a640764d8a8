/* Small helpers: allocation that never returns NULL (see
 * mc_set_oom_handler), big-endian access. */
#ifndef MC_CORE_UTIL_H
#define MC_CORE_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* What an allocation failure of mc_malloc, mc_calloc, mc_realloc or
 * mc_strdup does: call the handler set at start-up (which must not return:
 * the CLI's prints one line and exits 4), or without one print a line and
 * abort. */
typedef void (*mc_oom_handler)(size_t n);
void mc_set_oom_handler(mc_oom_handler handler);

void *mc_malloc(size_t n);
void *mc_calloc(size_t n, size_t size);
void *mc_realloc(void *p, size_t n);
char *mc_strdup(const char *s);
char *mc_strndup(const char *s, size_t n);

static inline uint16_t mc_be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}
static inline uint32_t mc_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}
static inline uint64_t mc_be64(const uint8_t *p)
{
    return (uint64_t)mc_be32(p) << 32 | mc_be32(p + 4);
}
static inline void mc_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void mc_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void mc_put_be64(uint8_t *p, uint64_t v)
{
    mc_put_be32(p, (uint32_t)(v >> 32));
    mc_put_be32(p + 4, (uint32_t)v);
}

/* Read/write an unsigned big-endian integer of 1, 2, 4 or 8 bytes. */
uint64_t mc_get_be(const uint8_t *p, unsigned width);
void mc_put_be(uint8_t *p, unsigned width, uint64_t v);

#endif
