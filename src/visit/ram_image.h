/*
 * Guest RAM images on disk, fed with RAM records in stream order.
 *
 * One sparse file per RAM block, sized to the block's used length when a
 * MEM_SIZE record announces it; every ZERO, PAGE, XBZRLE and COMPRESS_PAGE
 * record is applied with pwrite() at its page's offset (the last record of
 * a page wins; runs of consecutive pages, up to 1 MiB, go out in one
 * pwrite), an XBZRLE delta reads the page's previous content back from
 * the file, so no guest RAM is held in memory.  A ZERO page with fill 0 is
 * written only over a page that holds data (elsewhere the hole reads as
 * zeros).  Memory: two page sets per block (core/page.h: one bit per page
 * seen), one page buffer and the 1 MiB run buffer.
 *
 * The files are either named files in a directory (extract) or unnamed
 * temporary files (normalize keeps the pages it may need for XBZRLE), where
 * pages read from a seekable input are noted by their input offset
 * instead of being copied (opts.src_fd).
 */
#ifndef MC_VISIT_RAM_IMAGE_H
#define MC_VISIT_RAM_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/visitor.h"

typedef struct mc_ram_image_opts {
    int dirfd;             /* named files here (mc_ram_image_file_name) */
    const char *tmpdir;    /* dirfd < 0: unnamed files in this directory */
    const char *only;      /* track only this block (NULL: all) */
    int only_fd;           /* with only: its image goes here (-1: dirfd) */
    /* Unnamed files only (dirfd < 0): the input, a regular file read
     * through src from its offset 0 (-1: none).  A PAGE record whose bytes
     * lie in src's buffer is then not copied: the image notes the input
     * offset of its bytes (8 bytes per page, in an unnamed file of its own
     * behind a 64 KiB cache) and reads the page back from src_fd when it
     * is needed (XBZRLE, mc_ram_image_read). */
    int src_fd;
    const struct mc_src *src;
} mc_ram_image_opts;

typedef struct mc_ram_image mc_ram_image;

mc_ram_image *mc_ram_image_new(uint32_t page_size,
                               const mc_ram_image_opts *opts);
/* Closes the files it opened (errors ignored: see mc_ram_image_close). */
void mc_ram_image_free(mc_ram_image *img);

/*
 * Apply one RAM record.  MEM_SIZE: creates the images of new blocks (a
 * block announced again must keep its length).  ZERO/PAGE/XBZRLE/COMPRESS:
 * errors for a block never announced, a continuation before any block, a
 * page outside its block, an XBZRLE record for a page never sent, and
 * whatever core/page.h reports.  *page (if not NULL) is set to the page's
 * new content (valid until the next call), or NULL for records that do not
 * produce one (ZERO, blocks not tracked, other kinds).  offset is the
 * record's input offset, for messages.
 */
bool mc_ram_image_apply(mc_ram_image *img, const mc_ram_record *rec,
                        uint64_t offset, const uint8_t **page,
                        mc_error **errp);

/* Read a tracked page's current content (holes read as zeros). */
bool mc_ram_image_read(mc_ram_image *img, size_t block, uint64_t page_offset,
                       uint8_t *out, mc_error **errp);

size_t mc_ram_image_count(const mc_ram_image *img);
typedef struct mc_ram_image_block {
    const char *idstr;
    const char *file;      /* the image's name in dirfd, or NULL */
    bool tracked;
    uint64_t used_length;
    uint64_t pages_sent;   /* distinct pages */
} mc_ram_image_block;
void mc_ram_image_block_info(const mc_ram_image *img, size_t i,
                             mc_ram_image_block *out);
/* Whether page index idx of block i was sent. */
bool mc_ram_image_sent(const mc_ram_image *img, size_t i, uint64_t idx);

/* Write what is queued and close the named files, reporting write errors.
 * Must be called before the files are used by others. */
bool mc_ram_image_close(mc_ram_image *img, mc_error **errp);

/* The file name of a block's image: the idstr with every byte outside
 * [A-Za-z0-9._@+-], and a leading '.', written as %XX (lower-case hex),
 * then ".ram".  "pc.ram" -> "pc.ram.ram", "/rom@etc/acpi/tables" ->
 * "%2from@etc%2facpi%2ftables.ram".  Reversible, never "." or "..", never
 * a path separator.  cap of MC_RAM_IMAGE_NAME_MAX always suffices. */
#define MC_RAM_IMAGE_NAME_MAX (3 * 255 + 8)
void mc_ram_image_file_name(const char *idstr, char *out, size_t cap);

#endif
