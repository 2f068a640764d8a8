/*
 * A streaming JSON emitter over a sink: members and elements are written
 * as they come, pretty-printed with two spaces per level.  Strings may
 * hold any bytes: control characters are escaped, valid UTF-8 is copied,
 * and every other byte is written as \u00XX.
 *
 * The first output error is kept in err and nothing more is written
 * after it (the calls return nothing); the owner reports err at the end of
 * its callback (visit/json.c jv_done) and sets failed.
 */
#ifndef MC_VISIT_JSON_EMIT_H
#define MC_VISIT_JSON_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/io.h"
#include "core/stream.h"
#include "core/visitor.h"

typedef struct mc_json_emitter {
    mc_sink *out;
    mc_error *err;    /* first output error, reported by the owner */
    bool failed;      /* an error was reported: write nothing more */
    /* one flag byte per open JSON object/array */
    uint8_t *lev;
    size_t nlev, lev_cap;
} mc_json_emitter;

/* Free what the emitter holds (not the sink). */
void mc_jemit_release(mc_json_emitter *e);

/* Raw bytes; a string with its quotes and escapes. */
void mc_jemit_write(mc_json_emitter *e, const void *p, size_t n);
void mc_jemit_puts(mc_json_emitter *e, const char *s);
void mc_jemit_string(mc_json_emitter *e, const uint8_t *s, size_t n);
void mc_jemit_cstring(mc_json_emitter *e, const char *s);
/* Start a member (key non-NULL, in an object) or element (in an array). */
void mc_jemit_member(mc_json_emitter *e, const char *key);
/* Open an object or array as a member or element; close the innermost. */
void mc_jemit_open(mc_json_emitter *e, const char *key, bool array);
void mc_jemit_close(mc_json_emitter *e);
/* Members (or elements, key NULL) of each kind of value. */
void mc_jemit_kstr(mc_json_emitter *e, const char *key, const char *s);
void mc_jemit_kstrn(mc_json_emitter *e, const char *key, const uint8_t *s,
                    size_t n);
void mc_jemit_ku64(mc_json_emitter *e, const char *key, uint64_t v);
void mc_jemit_kbool(mc_json_emitter *e, const char *key, bool v);
void mc_jemit_khex(mc_json_emitter *e, const char *key, const uint8_t *p,
                   size_t n);
/* A scalar of a wire type: bools as true/false, the rest as integers. */
int mc_jemit_format_scalar(char *buf, size_t size, mc_wire_type wt,
                           uint64_t raw);
void mc_jemit_kscalar(mc_json_emitter *e, const char *key, mc_wire_type wt,
                      uint64_t raw);

#endif
