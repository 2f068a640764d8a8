#!/usr/bin/env python3
"""Read (or damage) the MappedRamHeaders of a mapped-ram file, on its own.

    mapped-ram-headers.py FILE
        one line per RAM block: idstr bitmap_offset pages_offset bits_set
    mapped-ram-headers.py FILE OUT BLOCK FIELD VALUE
        write FILE to OUT with one header field of BLOCK (version,
        page_size, bitmap_offset, pages_offset) set to VALUE, or with FIELD
        "bit": bit VALUE of BLOCK's bitmap set

An independent reading of the layout (QEMU migration/ram.c): the RAM
section's MEM_SIZE entries, each followed by its 28-byte header, the next
entry at pages_offset + used_length; bitmaps of 64-bit words.
"""
import struct
import sys


def blocks(d):
    p = d.index(b'\x03ram') + 4 + 8      # START "ram": idstr, instance, version
    total = struct.unpack('>Q', d[p:p + 8])[0] & ~0xfff
    p += 8
    while total:
        n = d[p]
        name = d[p + 1:p + 1 + n].decode()
        p += 1 + n
        used = struct.unpack('>Q', d[p:p + 8])[0]
        p += 8
        ver, ps, bo, po = struct.unpack('>IQQQ', d[p:p + 28])
        yield name, p, used, ver, ps, bo, po
        p = po + used
        total -= used


def main():
    d = bytearray(open(sys.argv[1], 'rb').read())
    if len(sys.argv) == 2:
        for name, _, used, _, ps, bo, po in blocks(d):
            bm = d[bo:bo + (used // ps + 63) // 64 * 8]
            print(name, bo, po, sum(bin(x).count('1') for x in bm))
        return 0
    out, block, field, value = sys.argv[2:6]
    v = int(value, 0)
    for name, at, _, _, _, bo, _ in blocks(d):
        if name != block:
            continue
        if field == 'bit':
            d[bo + v // 8] |= 1 << (v % 8)
        else:
            off = {'version': 0, 'page_size': 4, 'bitmap_offset': 12,
                   'pages_offset': 20}[field]
            struct.pack_into('>I' if field == 'version' else '>Q', d,
                             at + off, v)
        break
    else:
        print('no block %s' % block)
        return 1
    open(out, 'wb').write(d)
    return 0


if __name__ == '__main__':
    sys.exit(main())
