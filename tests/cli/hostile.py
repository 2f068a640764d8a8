#!/usr/bin/env python3
"""Hostile inputs for tests/cli/test_reliability.sh, made from a fixture.

  hostile.py legacy-vmdesc IN.mig OUT.mig KIND SIZE
      IN with its vmdesc JSON replaced by SIZE bytes of KIND
  hostile.py ber-vmdesc IN.ber OUT.ber KIND SIZE
      IN (BER from migconv) with its vmdesc item replaced by a deflated
      vmdesc (vmdescDeflated) of SIZE bytes of KIND
  hostile.py json KIND SIZE OUT
      SIZE bytes of KIND alone

KIND: empty-objects  {"page_size":4096,"devices":[{},{},...]}
      zeros          [0,0,0,...]
      deep           [[[[...]]]] (SIZE levels)
      devices        real-looking devices: IN's own vmdesc devices repeated
                     under new names (legacy-vmdesc only)
"""
import json
import struct
import sys
import zlib

VM_EOF = 0x00
VM_VMDESCRIPTION = 0x06


def fill(head, unit, tail, size):
    n = max(0, (size - len(head) - len(tail)) // len(unit))
    body = unit * n
    if body.endswith(b","):
        body = body[:-1]
    return head + body + tail


def make_json(kind, size, old=None):
    if kind == "empty-objects":
        return fill(b'{"page_size":4096,"devices":[', b"{},", b"]}", size)
    if kind == "zeros":
        return fill(b"[", b"0,", b"]", size)
    if kind == "deep":
        return b"[" * size + b"]" * size
    if kind == "devices":
        d = json.loads(old)
        head = b'{"page_size":%d,"devices":[' % d.get("page_size", 4096)
        parts, n, i = [], len(head) + 2, 0
        while n < size:
            for dev in d["devices"]:
                c = dict(dev)
                c["name"] = "%s-%d" % (dev["name"], i)
                p = json.dumps(c, separators=(",", ":")).encode()
                parts.append(p)
                n += len(p) + 1
            i += 1
        return head + b",".join(parts) + b"]}"
    sys.exit("unknown kind " + kind)


def vmdesc_at(data):
    """Offset of the QEMU_VM_VMDESCRIPTION byte of a legacy stream."""
    for i in range(len(data) - 6, 0, -1):
        if (data[i] == VM_VMDESCRIPTION and data[i - 1] == VM_EOF and
                data[i + 5:i + 6] == b"{" and
                struct.unpack(">I", data[i + 1:i + 5])[0] == len(data) - i - 5):
            return i
    sys.exit("no vmdesc")


def ber_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def ber_int(n):
    b = n.to_bytes(n.bit_length() // 8 + 1, "big")
    return b"\x02" + ber_len(len(b)) + b


def main():
    cmd = sys.argv[1]
    if cmd == "json":
        kind, size, out = sys.argv[2], int(sys.argv[3]), sys.argv[4]
        open(out, "wb").write(make_json(kind, size))
        return
    src, out, kind, size = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
    data = open(src, "rb").read()
    if cmd == "legacy-vmdesc":
        i = vmdesc_at(data)
        j = make_json(kind, size, data[i + 5:])
        open(out, "wb").write(data[:i + 1] + struct.pack(">I", len(j)) + j)
    elif cmd == "ber-vmdesc":
        # The stream ends: eof (45 01 00), the vmdesc item (46 or 67 with a
        # definite length), end-of-contents of the items and the stream.
        i = data.rfind(b"\x45\x01\x00") + 3
        if i < 3 or data[i] not in (0x46, 0x67):
            sys.exit("not migconv BER with an eof item and a vmdesc")
        n = data[i + 1]
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(data[i + 2:i + 2 + k], "big")
            end = i + 2 + k + n
        else:
            end = i + 2 + n
        j = make_json(kind, size)
        z = zlib.compress(j, 9)
        body = ber_int(len(j)) + b"\x04" + ber_len(len(z)) + z
        item = b"\x67" + ber_len(len(body)) + body
        open(out, "wb").write(data[:i] + item + data[end:])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
