/* See fuzz_common.h. */
#define _GNU_SOURCE /* memfd_create */
#include "fuzz_common.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/error.h"
#include "core/io.h"
#include "desc/tables.h"
#include "format/readers.h"
#include "visit/visitors.h"

static void count_warning(void *opaque, const mc_error *w)
{
    if (!w || !w->msg) {
        abort();
    }
    /* Format it like the CLI would, to run that code too. */
    free(mc_error_format(w));
    (*(int *)opaque)++;
}

/* The built-in descriptor tables, loaded once: loading them on every input
 * (what a NULL mc_read_opts.tables does) would cost more than the rest of
 * the run.  They stay reachable, so leak checks do not count them. */
static struct mc_tables *builtin_tables(void)
{
    static struct mc_tables *tables;
    if (!tables) {
        mc_error *err = NULL;
        tables = mc_tables_new();
        if (!mc_tables_load_builtin(tables, &err)) {
            abort();
        }
    }
    return tables;
}

static mc_visitor *new_visitor(fz_writer writer, mc_sink *sink)
{
    switch (writer) {
    case FZ_WRITE_NULL:
        return mc_null_visitor_new();
    case FZ_WRITE_JSON:
    case FZ_WRITE_JSON_RAM: {
        mc_json_opts o = {.ram_records = writer == FZ_WRITE_JSON_RAM};
        return mc_json_visitor_new(sink, &o);
    }
    case FZ_WRITE_BER:
    case FZ_WRITE_BER_NONAMES: {
        mc_ber_writer_opts o = {.names = writer == FZ_WRITE_BER};
        return mc_ber_writer_new(sink, &o);
    }
    case FZ_WRITE_LEGACY:
        return mc_legacy_writer_new(sink);
    }
    abort();
}

/* A memfd holding the bytes, positioned at 0; -1 if that is impossible
 * (then the caller falls back to memory). */
static int make_fd(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-input", MFD_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    if (lseek(fd, 0, SEEK_SET) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The error contract (core/error.h): set exactly when the call failed,
 * with a message; hostile input is a data error, never an internal one. */
static void check_error(bool ok, mc_error *err)
{
    if (ok) {
        if (err) {
            abort();
        }
        return;
    }
    if (!err || !err->msg) {
        abort();
    }
    if (err->cls == MC_ERR_INTERNAL || err->cls == MC_ERR_USAGE) {
        abort();
    }
    free(mc_error_format(err));
    mc_error_free(err);
}

void fz_run(fz_reader reader, fz_writer writer, fz_input input,
            const uint8_t *data, size_t size, fz_result *res)
{
    memset(res, 0, sizeof(*res));
    mc_read_opts opts = {
        .tail_cap = FZ_TAIL_CAP,
        .validate = reader == FZ_READ_BER_VALIDATE,
        .warn = count_warning,
        .warn_opaque = &res->warnings,
        .tables = builtin_tables(),
    };
    mc_src src;
    int fd = input == FZ_INPUT_FD ? make_fd(data, size) : -1;
    if (fd >= 0) {
        mc_src_init_fd(&src, fd);
    } else {
        mc_src_init_mem(&src, data, size);
    }
    mc_sink sink;
    mc_sink_init_mem(&sink);
    mc_visitor *v = new_visitor(writer, &sink);
    mc_error *err = NULL;
    bool ok = reader == FZ_READ_LEGACY ? mc_legacy_read(&src, v, &opts, &err)
                                       : mc_ber_read(&src, v, &opts, &err);
    if (ok) {
        ok = mc_visitor_complete(v, &err);
    }
    check_error(ok, err);
    mc_visitor_free(v);
    mc_src_cleanup(&src);
    if (fd >= 0) {
        close(fd);
    }
    res->ok = ok;
    if (ok && writer != FZ_WRITE_NULL) {
        res->out = sink.buf;
        res->out_len = sink.len;
        sink.buf = NULL;
    }
    mc_sink_cleanup(&sink);
}

void fz_result_free(fz_result *res)
{
    free(res->out);
    memset(res, 0, sizeof(*res));
}

void fz_assert_same(const uint8_t *a, size_t alen, const uint8_t *b,
                    size_t blen)
{
    if (alen != blen || (alen && memcmp(a, b, alen) != 0)) {
        abort();
    }
}

void fz_assert_json(const uint8_t *p, size_t n)
{
    json_error_t jerr;
    json_t *j = json_loadb((const char *)p, n,
                           JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &jerr);
    if (!j) {
        abort();
    }
    json_decref(j);
}

bool fz_ber_names(const uint8_t *ber, size_t len)
{
    /* Stream ::= 60 80, then the StreamHeader SEQUENCE (six small values,
     * so a short definite length) ending with "names BOOLEAN": 01 01 vv. */
    if (len < 7 || ber[2] != 0x30 || ber[3] >= 0x80 || ber[3] < 3 ||
        (size_t)ber[3] + 4 > len) {
        abort(); /* an accepted stream without a DER header */
    }
    const uint8_t *end = ber + 4 + ber[3];
    if (end[-3] != 0x01 || end[-2] != 0x01) {
        abort();
    }
    return end[-1] != 0;
}
