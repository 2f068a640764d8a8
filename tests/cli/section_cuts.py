#!/usr/bin/env python3
"""Cut points inside the same section of the legacy and the BER form of a
stream, for tests/cli/test_paths.sh.

usage: section_cuts.py LEGACY BER

Prints, for every section but the last, a line "LEGACY_OFF BER_OFF PATH"
when both forms have room for a cut in it: a byte offset
in the middle of the data of one section in each form, and the section's
name as core/path.h spells it ("full IDSTR (id N)").  The sections are
found by walking the BER (DER lengths) and, in the legacy form, by the
footer of the section before and the header of the section itself, which
must follow each other (the stream must have section footers).
"""
import struct
import sys

KINDS = {1: "start", 2: "part", 3: "end", 4: "full"}


def tl(b, i):
    """Tag, length (None: indefinite), offset of the contents."""
    tag = b[i]
    i += 1
    n = b[i]
    i += 1
    if n == 0x80:
        return tag, None, i
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(b[i:i + k], "big")
        i += k
    return tag, n, i


def skip(b, i):
    """Offset after the TLV at i."""
    tag, n, c = tl(b, i)
    if n is not None:
        return c + n
    while b[c] != 0 or b[c + 1] != 0:
        c = skip(b, c)
    return c + 2


def header(b, i):
    """The SectionHeader at i: (type, id, idstr)."""
    _, n, c = tl(b, i)
    end = c + n
    typ = sid = idstr = None
    while c < end:
        tag, m, v = tl(b, c)
        val = b[v:v + m]
        if tag == 0x02:
            typ = int.from_bytes(val, "big")
        elif tag == 0x80:
            sid = int.from_bytes(val, "big")
        elif tag == 0x81:
            idstr = val.decode()
        c = v + m
    return typ, sid, idstr


def ber_sections(b):
    """[(start, end, type, id, idstr)] of the top-level sections."""
    _, _, c = tl(b, 0)          # Stream
    c = skip(b, c)              # StreamHeader
    _, _, c = tl(b, c)          # items
    names = {}
    out = []
    while b[c] != 0 or b[c + 1] != 0:
        tag, n, v = tl(b, c)
        end = skip(b, c)
        if tag in (0x61, 0x62):
            typ, sid, idstr = header(b, v)
            if typ in (1, 4):
                names[sid] = idstr
            if typ in KINDS:
                out.append((c, end, typ, sid, names.get(sid)))
        c = end
    return out


def legacy_header(typ, sid, idstr):
    """The legacy section header up to the idstr (start/full: instance and
    version follow it)."""
    h = bytes([typ]) + struct.pack(">I", sid)
    if typ in (1, 4):
        h += bytes([len(idstr)]) + idstr.encode()
    return h


def main():
    leg = open(sys.argv[1], "rb").read()
    ber = open(sys.argv[2], "rb").read()
    secs = ber_sections(ber)
    # legacy: where each section's header starts and its data begins
    starts = []
    pos = 8
    prev = None
    for (_, _, typ, sid, idstr) in secs:
        h = legacy_header(typ, sid, idstr)
        pat = h if prev is None else b"\x7e" + struct.pack(">I", prev) + h
        at = leg.find(pat, pos)
        if at < 0:
            sys.exit("section %s %s (id %d) not found in the legacy form"
                     % (KINDS[typ], idstr, sid))
        if prev is not None:
            at += 5
        data = at + len(h) + (8 if typ in (1, 4) else 0)
        starts.append((at, data))
        pos = data
        prev = sid
    # sections with room for a cut inside the data in both forms
    for k in range(len(secs) - 1):
        b0, b1, typ, sid, idstr = secs[k]
        l0, l1 = starts[k][1], starts[k + 1][0] - 5   # data, its footer
        if l1 - l0 >= 16 and b1 - b0 >= 64:
            print("%d %d %s %s (id %d)" % ((l0 + l1) // 2, (b0 + b1) // 2,
                                           KINDS[typ], idstr, sid))


main()
