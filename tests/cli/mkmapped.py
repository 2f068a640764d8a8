#!/usr/bin/env python3
"""Write a small hand-made mapped-ram file (for tests).

    mkmapped.py OUT [CASE]

A QEVM v3 stream with a configuration section listing the mapped-ram
capability and a "ram" START section whose MEM_SIZE record lists pc.ram
(64 KiB) and vga.vram (8 KiB), each entry followed by its MappedRamHeader,
the bitmap right after it and the pages at the next 64 KiB boundary (QEMU
uses 1 MiB; any page-aligned place is valid), then EOS, an END section with
EOS, and EOF.  pc.ram: page 1 data (bit set), page 2 all zero (bit set),
page 3 stale data (bit clear: QEMU does not load it); vga.vram: page 0
data.  Also writes OUT.want-pc.ram and OUT.want-vga.vram, the memory QEMU
would load.  Cases: good, bad-bit (bit 16 of pc.ram's bitmap: past its 16
pages), past-end (vga.vram's pages past the end of the file).
"""
import struct
import sys

PS = 4096
ALIGN = 64 << 10


def page_bytes(seed):
    return bytes((i * seed + 7) & 0xff for i in range(PS))


def main():
    out = sys.argv[1]
    case = sys.argv[2] if len(sys.argv) > 2 else 'good'
    blocks = [(b'pc.ram', 64 << 10, {1: page_bytes(3), 2: bytes(PS)},
               {3: page_bytes(9)}),
              (b'vga.vram', 8 << 10, {0: page_bytes(5)}, {})]
    s = bytearray(b'QEVM' + struct.pack('>I', 3))
    m = b'pc-i440fx-7.2'
    s += b'\x07' + struct.pack('>I', len(m)) + m
    sub = b'configuration/capabilities'
    s += b'\x05' + bytes([len(sub)]) + sub + struct.pack('>I', 1)
    s += struct.pack('>I', 1) + b'\x0amapped-ram'
    s += b'\x01' + struct.pack('>I', 1) + b'\x03ram' + struct.pack('>II', 0, 4)
    total = sum(b[1] for b in blocks)
    s += struct.pack('>Q', total | 4)
    for name, used, present, stale in blocks:
        s += bytes([len(name)]) + name + struct.pack('>Q', used)
        hdr_at = len(s)
        bo = hdr_at + 28
        pages = used // PS
        bsize = (pages + 63) // 64 * 8
        po = (bo + bsize + ALIGN - 1) // ALIGN * ALIGN
        bm = bytearray(bsize)
        for i in present:
            bm[i // 8] |= 1 << (i % 8)
        if case == 'bad-bit' and name == b'pc.ram':
            bm[2] |= 1
        s += struct.pack('>IQQQ', 1, PS, bo, po)
        s += bm
        s += bytes(po - len(s))
        region = bytearray(used)
        for i, d in list(present.items()) + list(stale.items()):
            region[i * PS:(i + 1) * PS] = d
        if case == 'past-end' and name == b'vga.vram':
            struct.pack_into('>Q', s, hdr_at + 20, po + (16 << 20))
        s += region
    s += struct.pack('>Q', 0x10)
    s += b'\x03' + struct.pack('>I', 1) + struct.pack('>Q', 0x10)
    s += b'\x00'
    open(out, 'wb').write(s)
    for name, used, present, _ in blocks:
        mem = bytearray(used)
        for i, d in present.items():
            mem[i * PS:(i + 1) * PS] = d
        open('%s.want-%s' % (out, name.decode()), 'wb').write(mem)


if __name__ == '__main__':
    main()
