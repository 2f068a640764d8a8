#!/usr/bin/env python3
"""Write the seed corpus of the legacy fuzz target (tests/fuzz/corpus/legacy).

The committed QEMU fixtures are hundreds of KiB, mostly RAM pages; good
fuzz seeds are small and complete.  This script builds, byte by byte,
minimal but complete legacy streams (header, configuration, RAM START with
MEM_SIZE, a few ZERO/PAGE/XBZRLE/COMPRESS records, EOS and footers, FULL
device sections, commands, a package, EOF and a vmdesc JSON describing the
devices), and two kinds of pieces of the real fixtures: each fixture with
its RAM pages dropped (all its real device sections and vmdesc kept), when
that is small enough, and the truncated head of a few fixtures.

Usage: make-seeds.py [--fixtures DIR] [--migconv BINARY] [--tag TAG] [OUTDIR]
  OUTDIR defaults to tests/fuzz/corpus beside this script; the legacy seeds
  go to OUTDIR/legacy.  With --migconv, every seed that converts is also
  written as BER (OUTDIR/ber) and both, up to 16 KiB, go to
  OUTDIR/roundtrip.

Only the standard library is used.  The output is deterministic.
"""

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import zlib

# QEMU_VM_* section types (migration/savevm.c)
VM_EOF = 0x00
VM_START = 0x01
VM_PART = 0x02
VM_END = 0x03
VM_FULL = 0x04
VM_SUBSECTION = 0x05
VM_VMDESCRIPTION = 0x06
VM_CONFIGURATION = 0x07
VM_COMMAND = 0x08
VM_FOOTER = 0x7E

# MIG_CMD_*
CMD_OPEN_RETURN_PATH = 1
CMD_PING = 2
CMD_POSTCOPY_ADVISE = 3
CMD_POSTCOPY_LISTEN = 4
CMD_POSTCOPY_RUN = 5
CMD_PACKAGED = 7
CMD_SWITCHOVER_START = 11

# RAM_SAVE_FLAG_* (migration/ram.c)
RAM_ZERO = 0x02
RAM_MEM_SIZE = 0x04
RAM_PAGE = 0x08
RAM_EOS = 0x10
RAM_CONTINUE = 0x20
RAM_XBZRLE = 0x40
RAM_COMPRESS_PAGE = 0x100
RAM_MULTIFD_FLUSH = 0x200

MAX_SEED = 60 * 1024  # below the fuzzers' -max_len of 64 KiB
# corpus/roundtrip gets the seeds of both formats up to this size (the big
# ones are in corpus/legacy and corpus/ber, which a roundtrip run can be
# given as further corpus directories).
RT_MAX_SEED = 16 * 1024


class Buf:
    """Big-endian byte builder."""

    def __init__(self):
        self.b = bytearray()

    def u8(self, v):
        self.b += struct.pack(">B", v)
        return self

    def be16(self, v):
        self.b += struct.pack(">H", v)
        return self

    def be32(self, v):
        self.b += struct.pack(">I", v & 0xFFFFFFFF)
        return self

    def be64(self, v):
        self.b += struct.pack(">Q", v & 0xFFFFFFFFFFFFFFFF)
        return self

    def counted(self, s):
        s = s.encode() if isinstance(s, str) else s
        assert 0 < len(s) < 256
        self.u8(len(s))
        self.b += s
        return self

    def raw(self, data):
        self.b += data
        return self


# ---- VMState devices: wire bytes and vmdesc entries built together ----

SCALARS = {
    # type: (width, signed)
    "bool": (1, False), "uint8": (1, False), "int8": (1, True),
    "uint16": (2, False), "int16": (2, True),
    "uint32": (4, False), "int32": (4, True),
    "uint64": (8, False), "int64": (8, True),
    "int32 equal": (4, True), "uint32 equal": (4, False),
    "uint8 equal": (1, False), "uint16 equal": (2, False),
    "int64 equal": (8, True), "int32 le": (4, True),
    "timer": (8, True), "CPU_Double_U": (8, False),
}


def enc_scalar(typ, value):
    width, signed = SCALARS[typ]
    return (value & ((1 << (8 * width)) - 1)).to_bytes(width, "big")


class Vmsd:
    """A vmsd: fields in wire order, then subsections."""

    def __init__(self, name, version=1):
        self.name = name
        self.version = version
        self.fields = []  # (vmdesc entries, bytes)
        self.subs = []

    def scalar(self, name, typ, value):
        data = enc_scalar(typ, value)
        self.fields.append(([{"name": name, "type": typ,
                              "size": len(data)}], data))
        return self

    def array(self, name, typ, values):
        """A compressible array: one vmdesc entry with array_len."""
        data = b"".join(enc_scalar(typ, v) for v in values)
        width = SCALARS[typ][0]
        self.fields.append(([{"name": name, "array_len": len(values),
                              "type": typ, "size": width}], data))
        return self

    def indexed(self, name, typ, values):
        """An array described element by element ("index")."""
        entries, data = [], b""
        for i, v in enumerate(values):
            d = enc_scalar(typ, v)
            entries.append({"name": name, "index": i, "type": typ,
                            "size": len(d)})
            data += d
        self.fields.append((entries, data))
        return self

    def buffer(self, name, data, typ="buffer"):
        self.fields.append(([{"name": name, "type": typ,
                              "size": len(data)}], bytes(data)))
        return self

    def struct(self, name, sub):
        data = sub.wire()
        self.fields.append(([{"name": name, "type": "struct",
                              "struct": sub.desc(), "size": len(data)}],
                            data))
        return self

    def struct_array(self, name, subs):
        entries, data = [], b""
        for i, sub in enumerate(subs):
            d = sub.wire()
            entries.append({"name": name, "index": i, "type": "struct",
                            "struct": sub.desc(), "size": len(d)})
            data += d
        self.fields.append((entries, data))
        return self

    def subsection(self, sub):
        assert sub.name.startswith(self.name + "/")
        self.subs.append(sub)
        return self

    def wire(self):
        b = Buf()
        for _, data in self.fields:
            b.raw(data)
        for sub in self.subs:
            b.u8(VM_SUBSECTION).counted(sub.name).be32(sub.version)
            b.raw(sub.wire())
        return bytes(b.b)

    def desc(self):
        d = {"vmsd_name": self.name, "version": self.version,
             "fields": [e for entries, _ in self.fields for e in entries]}
        if self.subs:
            d["subsections"] = [s.desc() for s in self.subs]
        return d


class Device:
    def __init__(self, idstr, instance_id, vmsd, old_style=False):
        self.idstr = idstr
        self.instance_id = instance_id
        self.vmsd = vmsd
        self.old_style = old_style

    def vmdesc(self):
        if self.old_style:
            # vmstate_save_old_style: one opaque "data" buffer
            data = self.vmsd.wire()
            return {"name": self.idstr, "instance_id": self.instance_id,
                    "size": len(data),
                    "fields": [{"name": "data", "size": len(data),
                                "type": "buffer"}]}
        d = {"name": self.idstr, "instance_id": self.instance_id}
        d.update(self.vmsd.desc())
        return d


def timer_device():
    return Device("timer", 0, Vmsd("timer", 2)
                  .scalar("cpu_ticks_offset", "int64", 123456)
                  .buffer("unused", bytes(8), "unused_buffer")
                  .scalar("cpu_clock_offset", "int64", -42)
                  .subsection(Vmsd("timer/dirty")
                              .scalar("cpu_clock_offset", "int64", 7)))


def rich_device():
    """One device using every kind of field the vmdesc can describe."""
    regs = Vmsd("regs", 1).scalar("a", "uint32", 0xCAFE).scalar("b", "uint8", 1)
    elem0 = Vmsd("elem", 1).scalar("v", "uint16", 1)
    elem1 = Vmsd("elem", 1).scalar("v", "uint16", 2)
    m = (Vmsd("rich", 3)
         .scalar("on", "bool", 1)
         .scalar("weird_bool", "bool", 2)
         .scalar("s8", "int8", -1)
         .scalar("u16", "uint16", 0x1234)
         .scalar("i16", "int16", -2)
         .scalar("i32", "int32", -3)
         .scalar("magic", "uint32 equal", 0x5A5A5A5A)
         .scalar("le", "int32 le", 5)
         .scalar("u64", "uint64", 0xFFFFFFFFFFFFFFFF)
         .scalar("t", "timer", -1)
         .scalar("d", "CPU_Double_U", 0x400921FB54442D18)
         .array("arr", "uint8", [1, 2, 3, 4])
         .array("words", "uint32", [10, 20])
         .array("flags", "bool", [0, 1, 1])
         .indexed("e", "uint16", [7, 8])
         .struct("regs", regs)
         .struct_array("elems", [elem0, elem1])
         .buffer("buf", b"abcd")
         .buffer("cfg", bytes(range(16)), "pci config")
         .buffer("nil", b"0", "nullptr")
         .subsection(Vmsd("rich/extra", 1).scalar("x", "uint32", 0xDEADBEEF))
         .subsection(Vmsd("rich/more", 2).array("m", "uint16", [1, 2])))
    return Device("0000:00:02.0/rich", 0, m)


def cpu_like_device(instance):
    m = (Vmsd("cpu", 12)
         .array("env.regs", "uint64", list(range(4)))
         .scalar("env.eip", "uint64", 0xFFF0)
         .scalar("env.eflags", "uint64", 2)
         .subsection(Vmsd("cpu/async_pf_msr", 1)
                     .scalar("env.async_pf_en_msr", "uint64", 0)))
    return Device("cpu", instance, m)


def old_style_device():
    # A save_state handler (e.g. slirp): opaque bytes in the vmdesc
    return Device("slirp", 0, Vmsd(None).buffer("data", b"\x00\x01" * 6),
                  old_style=True)


# ---- streams ----

class Stream:
    def __init__(self, page_size=4096, footers=True):
        self.b = Buf()
        self.page_size = page_size
        self.footers = footers
        self.devices = []  # in section order, for the vmdesc
        self.next_id = 0
        self.b.be32(0x5145564D).be32(3)

    def configuration(self, machine=b"pc-i440fx-7.2", page_bits=None,
                      caps=(), uuid=None):
        b = self.b
        b.u8(VM_CONFIGURATION).be32(len(machine)).raw(machine)
        if page_bits is not None:
            b.u8(VM_SUBSECTION).counted("configuration/target-page-bits")
            b.be32(1).be32(page_bits)
        if caps:
            b.u8(VM_SUBSECTION).counted("configuration/capabilities")
            b.be32(1).be32(len(caps))
            for c in caps:
                b.counted(c)
        if uuid is not None:
            b.u8(VM_SUBSECTION).counted("configuration/uuid").be32(1)
            b.raw(uuid)
        return self

    def footer(self, sid):
        if self.footers:
            self.b.u8(VM_FOOTER).be32(sid)

    def ram_start(self, blocks, addrs=False):
        """blocks: [(name, used_length)]"""
        sid = self.next_id
        self.next_id += 1
        self.ram_id = sid
        b = self.b
        b.u8(VM_START).be32(sid).counted("ram").be32(0).be32(4)
        total = sum(n for _, n in blocks)
        b.be64(total | RAM_MEM_SIZE)
        for i, (name, used) in enumerate(blocks):
            b.counted(name).be64(used)
            if addrs:
                b.be64(0x100000000 * i)
        b.be64(RAM_EOS)
        self.footer(sid)
        return self

    def ram_part(self, records, end=False):
        """records: list of (kind, offset, block or None, payload)"""
        b = self.b
        b.u8(VM_END if end else VM_PART).be32(self.ram_id)
        for kind, offset, block, payload in records:
            cont = 0 if block else RAM_CONTINUE
            if kind == "zero":
                b.be64(offset | RAM_ZERO | cont)
                if block:
                    b.counted(block)
                b.u8(payload or 0)
            elif kind == "page":
                assert len(payload) == self.page_size
                b.be64(offset | RAM_PAGE | cont)
                if block:
                    b.counted(block)
                b.raw(payload)
            elif kind == "xbzrle":
                b.be64(offset | RAM_XBZRLE | cont)
                if block:
                    b.counted(block)
                b.u8(1).be16(len(payload)).raw(payload)
            elif kind == "compress":
                b.be64(offset | RAM_COMPRESS_PAGE | cont)
                if block:
                    b.counted(block)
                b.be32(len(payload)).raw(payload)
            elif kind == "flush":
                b.be64(RAM_MULTIFD_FLUSH)
            else:
                raise ValueError(kind)
        b.be64(RAM_EOS)
        self.footer(self.ram_id)
        return self

    def full(self, dev, into=None):
        b = into or self.b
        sid = self.next_id
        self.next_id += 1
        b.u8(VM_FULL).be32(sid).counted(dev.idstr).be32(dev.instance_id)
        b.be32(dev.vmsd.version if not dev.old_style else 1)
        b.raw(dev.vmsd.wire())
        if self.footers:
            b.u8(VM_FOOTER).be32(sid)
        self.devices.append(dev)
        return self

    def command(self, cmd, data=b"", into=None):
        b = into or self.b
        b.u8(VM_COMMAND).be16(cmd).be16(len(data)).raw(data)
        return self

    def packaged(self, inner):
        self.command(CMD_PACKAGED, struct.pack(">I", len(inner)))
        self.b.raw(inner)
        return self

    def eof(self, vmdesc=True, extra=None):
        self.b.u8(VM_EOF)
        if vmdesc:
            d = {"page_size": self.page_size,
                 "devices": [dev.vmdesc() for dev in self.devices]}
            if extra:
                d.update(extra)
            js = json.dumps(d, separators=(",", ":")).encode()
            self.b.u8(VM_VMDESCRIPTION).be32(len(js)).raw(js)
        return bytes(self.b.b)


def page(seed, size=4096):
    return bytes((seed * 131 + i * 7) & 0xFF for i in range(size))


def xbzrle_delta():
    # uleb128 zero run, uleb128 data run + bytes (migration/xbzrle.c)
    return bytes([0x10, 0x04]) + b"WXYZ" + bytes([0x20, 0x02]) + b"\x01\x02"


def seeds():
    out = {}

    # 1. The basic precopy shape QEMU 7.2 writes.
    s = Stream()
    s.configuration()
    s.ram_start([("pc.ram", 0x10000), ("/rom@etc/acpi/tables", 0x2000)])
    s.ram_part([("zero", 0x0, "pc.ram", 0), ("zero", 0x1000, None, 0),
                ("page", 0x2000, None, page(1)),
                ("page", 0x0, "/rom@etc/acpi/tables", page(2))])
    s.ram_part([], end=True)
    s.full(timer_device())
    s.full(cpu_like_device(0))
    out["basic.mig"] = s.eof()

    # 2. 1 KiB target pages (configuration/target-page-bits = 10).
    s = Stream(page_size=1024)
    s.configuration(machine=b"virt-7.2", page_bits=10)
    s.ram_start([("mach-virt.ram", 0x2000)])
    s.ram_part([("page", 0x0, "mach-virt.ram", page(3, 1024)),
                ("zero", 0x400, None, 0), ("page", 0x800, None, page(4, 1024))])
    s.ram_part([], end=True)
    s.full(timer_device())
    out["pagebits10.mig"] = s.eof()

    # 3. Every kind of field, subsections, structs, index arrays.
    s = Stream()
    s.configuration()
    s.ram_start([("pc.ram", 0x4000)])
    s.ram_part([("zero", 0x0, "pc.ram", 0)])
    s.ram_part([], end=True)
    s.full(rich_device())
    s.full(old_style_device())
    s.full(cpu_like_device(0))
    s.full(cpu_like_device(1))
    out["rich-devices.mig"] = s.eof()

    # 4. An old machine type: no configuration, no footers.
    s = Stream(footers=False)
    s.ram_start([("pc.ram", 0x4000)])
    s.ram_part([("zero", 0x0, "pc.ram", 0), ("page", 0x1000, None, page(5))])
    s.ram_part([], end=True)
    s.full(timer_device())
    s.full(rich_device())
    out["old-no-footers.mig"] = s.eof()

    # 5. x-ignore-shared (block addresses in MEM_SIZE) and a uuid.
    s = Stream()
    s.configuration(machine=b"pc-q35-7.2", caps=["x-ignore-shared"],
                    uuid=bytes(range(16)))
    s.ram_start([("pc.ram", 0x4000), ("pc.bios", 0x1000)], addrs=True)
    s.ram_part([("zero", 0x0, "pc.bios", 0)])
    s.ram_part([], end=True)
    s.full(timer_device())
    out["ignore-shared.mig"] = s.eof()

    # 6. XBZRLE, compressed pages, MULTIFD_FLUSH, several PARTs.
    s = Stream()
    s.configuration()
    s.ram_start([("pc.ram", 0x8000)])
    s.ram_part([("page", 0x0, "pc.ram", page(6)),
                ("xbzrle", 0x0, None, xbzrle_delta()),
                ("compress", 0x1000, None, zlib.compress(page(7)))])
    s.ram_part([("zero", 0x2000, "pc.ram", 0), ("flush", 0, None, None),
                ("xbzrle", 0x2000, "pc.ram", xbzrle_delta())])
    s.ram_part([("flush", 0, None, None)], end=True)
    s.full(timer_device())
    out["xbzrle-compress.mig"] = s.eof()

    # 7. Commands and a postcopy-style package holding device state.
    s = Stream()
    s.configuration()
    s.command(CMD_OPEN_RETURN_PATH)
    s.command(CMD_PING, struct.pack(">I", 1))
    s.command(CMD_POSTCOPY_ADVISE, struct.pack(">QQ", 0x1000, 0x1000))
    s.ram_start([("pc.ram", 0x4000)])
    s.ram_part([("zero", 0x0, "pc.ram", 0)])
    inner = Buf()
    s.command(CMD_POSTCOPY_LISTEN, into=inner)
    s.full(timer_device(), into=inner)
    s.command(CMD_POSTCOPY_RUN, into=inner)
    inner.u8(VM_EOF)
    s.packaged(bytes(inner.b))
    s.ram_part([("page", 0x1000, "pc.ram", page(8))], end=True)
    s.command(CMD_SWITCHOVER_START)
    out["postcopy-package.mig"] = s.eof()

    # 8. A vmdesc that does not match the bytes: carried opaque.
    s = Stream()
    s.configuration()
    s.ram_start([("pc.ram", 0x1000)])
    s.ram_part([], end=True)
    dev = timer_device()
    s.full(dev)
    s.devices[-1] = Device("timer", 0, Vmsd("timer", 2)
                           .scalar("cpu_ticks_offset", "int32", 0))
    out["vmdesc-mismatch.mig"] = s.eof()

    # 9. RAM only, no device: EOF and no vmdesc at all.
    s = Stream()
    s.configuration()
    s.ram_start([("pc.ram", 0x2000)])
    s.ram_part([("zero", 0x0, "pc.ram", 0), ("zero", 0x1000, None, 0)],
               end=True)
    out["ram-only-no-vmdesc.mig"] = s.eof(vmdesc=False)

    # 10. The smallest stream there is: header and EOF.
    out["empty.mig"] = Stream().eof(vmdesc=False)
    return out


# ---- pieces of the real fixtures ----

def slim_fixture(data, keep_records=3):
    """Split a fixture into (prefix, tail): the prefix is the header,
    configuration, commands and RAM sections with their pages dropped
    (MEM_SIZE, EOS and a few small records per section are kept), the tail
    every byte from the first non-RAM item on (device state, EOF, vmdesc),
    verbatim.  None if the stream has a shape this does not follow."""
    pos = 8
    out = Buf().raw(data[:8])
    page_size = 4096
    ram_ids = set()
    ignore_shared = False
    last_block = None
    kept_total = 0  # RAM records kept, over all sections

    def counted(p):
        n = data[p]
        return data[p + 1:p + 1 + n], p + 1 + n

    if data[pos] == VM_CONFIGURATION:
        # configuration: be32 len + name, subsections
        p = pos + 1
        (n,) = struct.unpack_from(">I", data, p)
        p += 4 + n
        while data[p] == VM_SUBSECTION:
            name, q = counted(p + 1)
            q += 4
            if name == b"configuration/target-page-bits":
                (bits,) = struct.unpack_from(">I", data, q)
                page_size = 1 << bits
                q += 4
            elif name == b"configuration/capabilities":
                (count,) = struct.unpack_from(">I", data, q)
                q += 4
                for _ in range(count):
                    cap, q = counted(q)
                    ignore_shared |= cap == b"x-ignore-shared"
            elif name == b"configuration/uuid":
                q += 16
            else:
                return None
            p = q
        out.raw(data[pos:p])
        pos = p
    mask = page_size - 1
    while True:
        t = data[pos]
        if t == VM_COMMAND:
            cmd, n = struct.unpack_from(">HH", data, pos + 1)
            if cmd == CMD_PACKAGED:
                break
            if cmd == CMD_POSTCOPY_ADVISE and n == 16:
                # per-block page sizes in MEM_SIZE: not followed here
                (summary,) = struct.unpack_from(">Q", data, pos + 5)
                if summary != page_size:
                    return None
            out.raw(data[pos:pos + 5 + n])
            pos += 5 + n
            continue
        if t == VM_START:
            (sid,) = struct.unpack_from(">I", data, pos + 1)
            idstr, p = counted(pos + 5)
            if idstr != b"ram":
                break
            ram_ids.add(sid)
            p += 8
        elif t in (VM_PART, VM_END):
            (sid,) = struct.unpack_from(">I", data, pos + 1)
            if sid not in ram_ids:
                break
            p = pos + 5
        else:
            break
        sect = Buf().raw(data[pos:p])
        kept = 0
        dropped_since_named = True  # the block named before is not kept
        while True:
            (hdr,) = struct.unpack_from(">Q", data, p)
            flags, addr = hdr & mask, hdr & ~mask
            cont = flags & RAM_CONTINUE
            kind = flags & ~RAM_CONTINUE
            start = p
            p += 8
            if kind == RAM_MEM_SIZE:
                left = addr
                while left:
                    _, p = counted(p)
                    (used,) = struct.unpack_from(">Q", data, p)
                    p += 8
                    if ignore_shared:
                        p += 8
                    left -= used
                sect.raw(data[start:p])
                continue
            if kind in (RAM_EOS, RAM_MULTIFD_FLUSH):
                sect.raw(data[start:p])
                if kind == RAM_EOS:
                    break
                continue
            if kind not in (RAM_ZERO, RAM_PAGE, RAM_XBZRLE, RAM_COMPRESS_PAGE):
                return None
            block = None
            if not cont:
                block, p = counted(p)
                last_block = block
            body = p
            if kind == RAM_ZERO:
                p += 1
            elif kind == RAM_PAGE:
                p += page_size
            elif kind == RAM_XBZRLE:
                (n,) = struct.unpack_from(">H", data, p + 1)
                p += 3 + n
            else:
                (n,) = struct.unpack_from(">I", data, p)
                p += 4 + n
            if kept >= keep_records or kept_total >= 4 * keep_records or \
                    (kind == RAM_PAGE and kept >= 1):
                dropped_since_named = True
                continue
            kept += 1
            kept_total += 1
            if cont and dropped_since_named:
                # the named record before it was dropped: name the block
                sect.be64(hdr & ~RAM_CONTINUE).counted(last_block)
                sect.raw(data[body:p])
            else:
                sect.raw(data[start:p])
            dropped_since_named = False
        if data[p] == VM_FOOTER:
            sect.raw(data[p:p + 5])
            p += 5
        out.raw(sect.b)
        pos = p
    return bytes(out.b), data[pos:]


VALID_NEXT = (VM_EOF, VM_START, VM_PART, VM_END, VM_FULL, VM_COMMAND)
LIVE = object()  # split_tail's idstr of an iterative section


def split_tail(tail):
    """Split the device part of a stream with footers into its items:
    ([(idstr, instance_id, bytes) or (None, None, bytes) for commands],
    vmdesc dict).  Sections are delimited by their footer (the first
    0x7e + id followed by a plausible next byte).  None if that fails."""
    items = []
    pos = 0
    while pos < len(tail):
        t = tail[pos]
        if t == VM_FULL:
            sid, = struct.unpack_from(">I", tail, pos + 1)
            n = tail[pos + 5]
            idstr = tail[pos + 6:pos + 6 + n].decode()
            inst, = struct.unpack_from(">I", tail, pos + 6 + n)
            footer = bytes([VM_FOOTER]) + struct.pack(">I", sid)
            q = pos + 14 + n
            while True:
                q = tail.find(footer, q)
                if q < 0:
                    return None
                if q + 5 < len(tail) and tail[q + 5] in VALID_NEXT:
                    break
                q += 1
            items.append((idstr, inst, tail[pos:q + 5]))
            pos = q + 5
        elif t in (VM_START, VM_PART, VM_END):
            # an iterative section after the RAM part (the POWER hash
            # table, s390 storage attributes, RAM pages sent after them):
            # delimited by its footer like a FULL one, left out of the
            # groups (its device-specific body is not slimmed here)
            sid, = struct.unpack_from(">I", tail, pos + 1)
            q = pos + 5
            if t == VM_START:
                q += 1 + tail[q] + 8
            footer = bytes([VM_FOOTER]) + struct.pack(">I", sid)
            while True:
                q = tail.find(footer, q)
                if q < 0:
                    return None
                if q + 5 < len(tail) and tail[q + 5] in VALID_NEXT:
                    break
                q += 1
            items.append((LIVE, None, tail[pos:q + 5]))
            pos = q + 5
        elif t == VM_COMMAND:
            cmd, n = struct.unpack_from(">HH", tail, pos + 1)
            if cmd == CMD_PACKAGED:
                return None
            items.append((None, None, tail[pos:pos + 5 + n]))
            pos += 5 + n
        elif t == VM_EOF:
            if pos + 1 == len(tail):
                return items, None  # no vmdesc (old machine, suppress-vmdesc)
            if pos + 6 > len(tail) or tail[pos + 1] != VM_VMDESCRIPTION:
                return None
            n, = struct.unpack_from(">I", tail, pos + 2)
            if pos + 6 + n != len(tail):
                return None
            return items, json.loads(tail[pos + 6:])
        else:
            return None
    return None


def device_groups(prefix, tail, limit, max_groups, big=()):
    """Streams made of prefix + a group of the tail's device sections +
    EOF + a vmdesc listing just those devices (at most limit bytes each).
    A section too big for a group gets a stream of its own if its idstr
    is in big and the stream stays below MAX_SEED."""
    split = split_tail(tail)
    if split is None:
        return []
    items, vmdesc = split
    entries = vmdesc.get("devices", []) if vmdesc is not None else []
    used = [False] * len(entries)

    def entry_for(idstr, inst):
        for i, e in enumerate(entries):
            if not used[i] and e.get("name") == idstr and \
                    e.get("instance_id") == inst:
                used[i] = True
                return e
        return None

    def finish(sections, devs):
        if vmdesc is None:
            return prefix + b"".join(sections) + bytes([VM_EOF])
        d = dict(vmdesc)
        d["devices"] = devs
        js = json.dumps(d, separators=(",", ":")).encode()
        return prefix + b"".join(sections) + bytes([VM_EOF, VM_VMDESCRIPTION]) \
            + struct.pack(">I", len(js)) + js

    out = []
    sections, devs = [], []
    for idstr, inst, raw in items:
        if idstr is LIVE:
            continue
        dev = entry_for(idstr, inst) if idstr is not None and vmdesc else None
        if idstr is not None and vmdesc is not None and dev is None:
            return out
        size = len(raw) + (len(json.dumps(dev)) if dev else 0)
        if len(prefix) + size > limit:
            if idstr in big:
                alone = finish([raw], [dev] if dev else [])
                if len(alone) <= MAX_SEED:
                    out.append(alone)
            continue
        have = len(finish(sections, devs))
        if sections and have + size > limit:
            out.append(finish(sections, devs))
            sections, devs = [], []
            if len(out) == max_groups:
                return out
        sections.append(raw)
        if dev:
            devs.append(dev)
    if sections and len(out) < max_groups:
        out.append(finish(sections, devs))
    return out


# Bytes of device sections (and their vmdesc entries) in each fixture's
# seed: q35-devices has the most device types and gets all of them, in
# groups; pc-bare, pc-kvm and the q35 ones a group of 16 KiB; the rest
# (the same devices as pc-bare) a small group, as what differs there is
# the RAM part.
GROUP_LIMIT = {"pc-bare": 16384, "pc-kvm": 16384, "q35-bare": 16384,
               "q35-ignore-shared": 16384}
BIG_SECTIONS = ("0000:00:01.0/virtio-net", "0000:00:1f.0/ICH9LPC",
                "hda-audio")
# s390x-ccw-virtio: its virtio-ccw devices (the transport state decoded by
# legacy/virtio.c) come after the CPUs, past a small group.
CCW_SECTIONS = ("/fe.0.0000/virtio-balloon", "/fe.0.0001/virtio-rng")


HEADS = ("pc-bare", "q35-ignore-shared", "pc-xbzrle", "pc-block",
         "pc-dirty-bitmap", "pc-postcopy-switched", "ppc64-pseries",
         "s390x-ccw")


def fixture_kind(stem):
    """The fixture a stream of another QEMU version stands for: the
    version directories (tests/fixtures/qemu-V) name the machine type they
    pin, "pc-5.2-bare" for pc-bare, "q35-5.2-devices" for q35-devices."""
    parts = stem.split("-")
    if len(parts) > 2 and parts[1].replace(".", "").isdigit():
        del parts[1]
    return "-".join(parts)


def convert(migconv, src, dst, no_names):
    cmd = [migconv, "legacy-to-ber", "-q", "-f"]
    if no_names:
        cmd.append("--no-names")
    r = subprocess.run(cmd + [src, dst], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    return r.returncode == 0


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixtures",
                    default=os.path.join(here, "..", "fixtures", "streams"))
    ap.add_argument("--migconv", metavar="BINARY",
                    help="also write corpus/ber (each valid seed converted "
                    "with BINARY legacy-to-ber, the synthetic ones also with "
                    "--no-names) and corpus/roundtrip (both, up to 16 KiB)")
    ap.add_argument("--tag", default="",
                    help="name the fixture seeds real-TAG-NAME (fixtures of "
                    "another QEMU version, e.g. --tag qemu-11.1)")
    ap.add_argument("outdir", nargs="?",
                    default=os.path.join(here, "corpus"))
    args = ap.parse_args()
    legacy_dir = os.path.join(args.outdir, "legacy")
    os.makedirs(legacy_dir, exist_ok=True)

    files = seeds()
    names = sorted(f for f in os.listdir(args.fixtures) if f.endswith(".mig"))
    for name in names:
        with open(os.path.join(args.fixtures, name), "rb") as f:
            data = f.read()
        base = "real-" + (args.tag + "-" if args.tag else "") + name[:-4]
        kind = fixture_kind(name[:-4])
        split = slim_fixture(data)
        if split is None:
            print("make-seeds: %s: unexpected shape, skipped" % name,
                  file=sys.stderr)
            continue
        prefix, tail = split
        if len(prefix) + len(tail) <= MAX_SEED:
            files[base + "-slim.mig"] = prefix + tail
            if len(prefix) + len(tail) <= RT_MAX_SEED:
                continue
            # its BER can be too big for a seed: section-sized slices too
        # Too big whole: the RAM part with groups of its real devices.
        if kind == "q35-devices":
            groups = device_groups(prefix, tail, len(prefix) + 16384, 64,
                                   big=BIG_SECTIONS)
        elif kind == "s390x-ccw-virtio":
            groups = device_groups(prefix, tail, len(prefix) + 16384, 8,
                                   big=CCW_SECTIONS)
        else:
            limit = len(prefix) + GROUP_LIMIT.get(kind, 4096)
            groups = device_groups(prefix, tail, limit, 1)
        for i, g in enumerate(groups):
            files["%s-dev%02d.mig" % (base, i)] = g
        if not groups:
            print("make-seeds: %s: no device section groups (no footers?)"
                  % name, file=sys.stderr)
    # Heads: the start of streams whose live sections (block migration,
    # dirty bitmaps, the POWER hash table, s390 storage attributes, a
    # postcopy package) this script cannot slim.
    for name in names:
        if fixture_kind(name[:-4]) in HEADS:
            with open(os.path.join(args.fixtures, name), "rb") as f:
                files["real-" + (args.tag + "-" if args.tag else "") +
                      name[:-4] + "-head.mig"] = f.read(12 * 1024)

    for name, data in sorted(files.items()):
        assert len(data) <= MAX_SEED, name
        with open(os.path.join(legacy_dir, name), "wb") as f:
            f.write(data)
    print("make-seeds: wrote %d legacy seeds (%d bytes) to %s" %
          (len(files), sum(len(d) for d in files.values()), legacy_dir))
    if not args.migconv:
        return

    ber_dir = os.path.join(args.outdir, "ber")
    rt_dir = os.path.join(args.outdir, "roundtrip")
    os.makedirs(ber_dir, exist_ok=True)
    os.makedirs(rt_dir, exist_ok=True)
    n_ber = 0
    for name, data in sorted(files.items()):
        src = os.path.join(legacy_dir, name)
        stem = name[:-4]
        variants = [(stem + ".ber", False)]
        if not name.startswith("real-") or name == "real-pc-bare-dev00.mig":
            variants.append((stem + "-nonames.ber", True))
        for out, no_names in variants:
            dst = os.path.join(ber_dir, out)
            if not convert(args.migconv, src, dst, no_names):
                continue
            if os.path.getsize(dst) > MAX_SEED:
                os.unlink(dst)  # libFuzzer would only see its head
                continue
            n_ber += 1
            if os.path.getsize(dst) <= RT_MAX_SEED:
                shutil.copyfile(dst, os.path.join(rt_dir, out))
        if not name.endswith("-head.mig") and len(data) <= RT_MAX_SEED:
            shutil.copyfile(src, os.path.join(rt_dir, name))
    print("make-seeds: wrote %d BER seeds to %s, and both to %s" %
          (n_ber, ber_dir, rt_dir))


if __name__ == "__main__":
    main()
