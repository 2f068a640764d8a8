/* Inflating COMPRESS_PAGE payloads (zpage.h). */
#include "core/zpage.h"

#include <zlib.h>

bool mc_zpage_inflate(const uint8_t *data, size_t len, uint8_t *page,
                      size_t page_size, mc_error **errp)
{
    z_stream zs = {0};
    if (inflateInit(&zs) != Z_OK) {
        mc_error_set(errp, MC_ERR_INTERNAL, MC_NO_OFFSET, NULL,
                     "zlib inflateInit failed");
        return false;
    }
    zs.next_in = (Bytef *)data;
    zs.avail_in = (uInt)len;
    zs.next_out = page;
    zs.avail_out = (uInt)page_size;
    int rc = inflate(&zs, Z_FINISH);
    size_t got = page_size - zs.avail_out;
    bool ok = rc == Z_STREAM_END && got == page_size && zs.avail_in == 0;
    inflateEnd(&zs);
    if (!ok) {
        mc_error_data(errp, MC_NO_OFFSET, NULL,
                      "compressed page does not inflate to one page (%s, "
                      "%zu of %zu bytes)",
                      rc == Z_STREAM_END ? "ended early or has bytes after it"
                                         : zs.msg ? zs.msg : "bad zlib data",
                      got, page_size);
        return false;
    }
    return true;
}
