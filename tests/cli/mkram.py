#!/usr/bin/env python3
"""Write a small legacy stream with a hand-made RAM section (for tests).

    mkram.py OUT CASE

A QEVM v3 stream without configuration section or footers (as
pc-i440fx-2.0 writes them): one "ram" START section with a MEM_SIZE record
for blocks pc.ram (64 KiB) and vga.vram (8 KiB), the records of CASE and
EOS, an END section with EOS only, then EOF.  Cases:
  good            PAGE, ZERO fill 0x5a, XBZRLE on the PAGE, COMPRESS_PAGE
  xbzrle-unsent   an XBZRLE record for a page never sent
  inflate-short   a COMPRESS_PAGE that inflates to 4095 bytes
  inflate-long    a COMPRESS_PAGE that inflates to 4097 bytes
  outside-block   a PAGE at 64 KiB in the 64 KiB block
  unknown-block   a PAGE for a block MEM_SIZE did not announce
"""
import struct
import sys
import zlib

PS = 4096
MEM_SIZE, ZERO, PAGE, EOS, CONT, XBZRLE, COMPRESS = 4, 2, 8, 0x10, 0x20, 0x40, 0x100
BLOCKS = [(b'pc.ram', 64 << 10), (b'vga.vram', 8 << 10)]


def rec(addr, flags, block=None):
    out = struct.pack('>Q', addr | flags | (0 if block else CONT))
    if block:
        out += bytes([len(block)]) + block
    return out


def page_bytes(seed):
    return bytes((i * seed + 7) & 0xff for i in range(PS))


def records(case):
    r = b''
    if case == 'good':
        r += rec(0x1000, PAGE, b'pc.ram') + page_bytes(3)
        r += rec(0x2000, ZERO) + b'\x5a'
        # XBZRLE on 0x1000: zero run 16, literal "hello"
        delta = bytes([16, 5]) + b'hello'
        r += rec(0x1000, XBZRLE) + b'\x01' + struct.pack('>H', len(delta)) + delta
        z = zlib.compress(page_bytes(5), 1)
        r += rec(0x1000, COMPRESS, b'vga.vram') + struct.pack('>I', len(z)) + z
    elif case == 'xbzrle-unsent':
        r += rec(0x1000, PAGE, b'pc.ram') + page_bytes(3)
        delta = bytes([16, 5]) + b'hello'
        r += rec(0x3000, XBZRLE) + b'\x01' + struct.pack('>H', len(delta)) + delta
    elif case in ('inflate-short', 'inflate-long'):
        n = PS - 1 if case == 'inflate-short' else PS + 1
        z = zlib.compress(bytes(n), 1)
        r += rec(0x1000, COMPRESS, b'pc.ram') + struct.pack('>I', len(z)) + z
    elif case == 'outside-block':
        r += rec(64 << 10, PAGE, b'pc.ram') + page_bytes(3)
    elif case == 'unknown-block':
        r += rec(0x1000, PAGE, b'pc.ram') + page_bytes(3)
        r += rec(0x0, PAGE, b'nosuch') + page_bytes(3)
    else:
        raise SystemExit('unknown case ' + case)
    return r


def main():
    out, case = sys.argv[1], sys.argv[2]
    total = sum(n for _, n in BLOCKS)
    s = b'QEVM' + struct.pack('>I', 3)
    s += b'\x01' + struct.pack('>I', 1) + b'\x03ram' + struct.pack('>II', 0, 4)
    s += rec(total, MEM_SIZE, None)[:8]
    s = s[:-8] + struct.pack('>Q', total | MEM_SIZE)
    for name, n in BLOCKS:
        s += bytes([len(name)]) + name + struct.pack('>Q', n)
    s += records(case)
    s += struct.pack('>Q', EOS)
    s += b'\x03' + struct.pack('>I', 1) + struct.pack('>Q', EOS)
    s += b'\x00'
    with open(out, 'wb') as f:
        f.write(s)


if __name__ == '__main__':
    main()
