/*
 * The BER format's identifier octets and limits, shared by the BER writer
 * and reader.  asn1/migconv.asn is the normative definition (IMPLICIT
 * TAGS); these are the bytes its types encode to.
 */
#ifndef MC_CORE_BER_H
#define MC_CORE_BER_H

#include <stdint.h>

enum {
    MC_BER_EOC = 0x00,
    MC_BER_BOOLEAN = 0x01,
    MC_BER_INTEGER = 0x02,
    MC_BER_OCTETS = 0x04,
    MC_BER_ENUM = 0x0a,
    MC_BER_UTF8 = 0x0c,
    MC_BER_SEQ = 0x30,
    MC_BER_STREAM = 0x60,          /* Stream [APPLICATION 0] */
    MC_BER_SECTION = 0x61,         /* Item.section [APPLICATION 1] */
    MC_BER_RAMSECTION = 0x62,      /* Item.ramSection [APPLICATION 2] */
    MC_BER_COMMAND = 0x63,         /* Item.command [APPLICATION 3] */
    MC_BER_PACKAGED = 0x64,        /* Item.packaged [APPLICATION 4] */
    MC_BER_EOF = 0x45,             /* Item.eof [APPLICATION 5] INTEGER */
    MC_BER_VMDESC = 0x46,          /* Item.vmdesc [APPLICATION 6] */
    MC_BER_VMDESC_DEFLATED = 0x67, /* Item.vmdescDeflated [APPLICATION 7] */
    MC_BER_CTX = 0x80,             /* [n] primitive: 0x80 | n */
    MC_BER_CTX_CONS = 0xa0,        /* [n] constructed: 0xa0 | n */
    MC_BER_FIELD_TYPE = 0x94,      /* Field.type [20] */
    MC_BER_VAL_BOOL = 0x88,        /* Value.bool [8]; u8..i64 are [0]..[7] */
    MC_BER_VAL_BYTES = 0x89,       /* Value.bytes [9] */
    MC_BER_VAL_STRUCT = 0xaa,      /* Value.struct [10] */
    MC_BER_VAL_ARRAY = 0xab,       /* Value.array [11] */
    MC_BER_VAL_PACKED = 0xac,      /* Value.packed [12] */
    MC_BER_RAM_MEMSIZE = 0xa0,     /* RamRecord.memSize [0] */
    MC_BER_RAM_ZERO = 0xa1,        /* RamRecord.zero [1] */
    MC_BER_RAM_PAGES = 0xa2,       /* RamRecord.pages [2] */
    MC_BER_RAM_XBZRLE = 0xa3,      /* RamRecord.xbzrle [3] */
    MC_BER_RAM_COMPRESSED = 0xa4,  /* RamRecord.compressed [4] */
    MC_BER_RAM_EOS = 0x85,         /* RamRecord.eos [5] */
    MC_BER_RAM_FLUSH = 0x86,       /* RamRecord.multifdFlush [6] */
    MC_BER_RAM_MAPPED_BLOCK = 0xa7, /* RamRecord.mappedBlock [7] */
    MC_BER_RAM_MAPPED_BYTES = 0xa8, /* RamRecord.mappedBytes [8] */
    MC_BER_RAM_MAPPED_ZEROS = 0xa9, /* RamRecord.mappedZeros [9] */
};

/* The records of a RAM section up to this size are written with definite
 * length, larger ones with indefinite length (and a reader insists). */
#define MC_BER_RAM_DEFINITE_MAX (64u << 10)
/* A page run holds at most this many pages ... */
#define MC_BER_RUN_MAX_PAGES 256u
/* ... and at most this many bytes (but always at least one page). */
#define MC_BER_RUN_MAX_BYTES (1u << 20)

/* Pages in one run of a RAM block for this page size: up to
 * MC_BER_RUN_MAX_PAGES, at most MC_BER_RUN_MAX_BYTES unless one page is
 * more. */
static inline uint32_t mc_ber_run_max_pages(uint32_t page_size)
{
    uint32_t maxp = MC_BER_RUN_MAX_BYTES / page_size;
    return maxp > MC_BER_RUN_MAX_PAGES ? MC_BER_RUN_MAX_PAGES
                                       : maxp ? maxp : 1;
}

#endif
