#!/usr/bin/env python3
"""Edit a legacy stream with a vmdesc, keeping the vmdesc consistent, to
make streams an older QEMU cannot load (tests/qemu/test_retarget.sh):

  edit-stream.py IN OUT rename-subsection OLD NEW
      rename subsection OLD to NEW (same length) in the stream and vmdesc
  edit-stream.py IN OUT add-field IDSTR NAME
      add a uint8 field NAME (value 0) after the fields of the FULL section
      IDSTR (instance 0), before its subsections, and to its vmdesc entry
  edit-stream.py IN OUT set-version IDSTR V
  edit-stream.py IN OUT set-instance IDSTR N
      give the FULL section IDSTR (instance 0) version_id V, or instance
      id N (also in its vmdesc entry)

Prints the byte offset of the change.

  edit-stream.py --same A B
      exit 0 when A and B have the same bytes before the vmdesc and the
      same vmdesc JSON (however it is formatted), else 1
"""
import json
import struct
import sys

VM_SECTION_FULL = 0x04
VM_EOF = 0x00
VM_VMDESCRIPTION = 0x06


def vmdesc_span(d):
    """(start of the QEMU_VM_VMDESCRIPTION byte, the JSON) at the end."""
    for at in range(len(d) - 5, 0, -1):
        if d[at] == VM_VMDESCRIPTION and d[at - 1] == VM_EOF:
            (n,) = struct.unpack(">I", d[at + 1:at + 5])
            if at + 5 + n == len(d):
                return at, json.loads(d[at + 5:])
    sys.exit("no vmdesc at the end of the stream")


def main():
    if sys.argv[1] == "--same":
        a, b = (open(p, "rb").read() for p in sys.argv[2:4])
        (aat, ad), (bat, bd) = vmdesc_span(a), vmdesc_span(b)
        sys.exit(0 if a[:aat] == b[:bat] and ad == bd else 1)
    src, dst, op = sys.argv[1:4]
    d = open(src, "rb").read()
    at, desc = vmdesc_span(d)
    body = d[:at]
    if op == "rename-subsection":
        old, new = sys.argv[4].encode(), sys.argv[5].encode()
        assert len(old) == len(new), "NEW must be as long as OLD"
        key = bytes([len(old)]) + old
        assert body.count(key) == 1, "OLD must occur once"
        where = body.index(key)
        body = body.replace(key, bytes([len(new)]) + new)
        text = json.dumps(desc, separators=(",", ":")).replace(
            '"%s"' % old.decode(), '"%s"' % new.decode())
        desc = json.loads(text)
    elif op == "add-field":
        idstr, name = sys.argv[4].encode(), sys.argv[5]
        dev = [x for x in desc["devices"]
               if x["name"] == idstr.decode() and x["instance_id"] == 0][0]
        head = bytes([len(idstr)]) + idstr + struct.pack(">I", 0)
        hat = body.index(head)
        assert body[hat - 5] == VM_SECTION_FULL
        start = hat + len(head) + 4          # after version_id
        fields = sum(f["size"] * f.get("array_len", 1) for f in dev["fields"])
        where = start + fields
        body = body[:where] + b"\0" + body[where:]
        dev["fields"].append({"name": name, "type": "uint8", "size": 1})
    elif op in ("set-version", "set-instance"):
        idstr, n = sys.argv[4].encode(), int(sys.argv[5])
        head = bytes([len(idstr)]) + idstr + struct.pack(">I", 0)
        assert body.count(head) == 1, "IDSTR instance 0 must occur once"
        hat = body.index(head)
        assert body[hat - 5] == VM_SECTION_FULL
        where = hat - 5
        inst_at = hat + 1 + len(idstr)
        if op == "set-version":
            body = body[:inst_at + 4] + struct.pack(">I", n) + body[inst_at + 8:]
        else:
            body = body[:inst_at] + struct.pack(">I", n) + body[inst_at + 4:]
            for x in desc["devices"]:
                if x["name"] == idstr.decode() and x["instance_id"] == 0:
                    x["instance_id"] = n
    else:
        sys.exit("unknown operation " + op)
    j = json.dumps(desc, separators=(",", ":")).encode()
    open(dst, "wb").write(body + bytes([VM_VMDESCRIPTION]) +
                          struct.pack(">I", len(j)) + j)
    print(where)


if __name__ == "__main__":
    main()
