#!/usr/bin/env python3
"""exec: migration target that stores the stream and answers the return path.

Usage (as a QEMU migration URI):
    exec:python3 postcopy_sink.py OUTFILE [IDLE_SECONDS]

With the postcopy-ram capability on, the source QEMU opens a return path on
the exec: command's stdout and, once it has written the whole precopy
stream, blocks until the destination sends MIG_RP_MSG_SHUT.  Only then does
it close the stream.  So "read stdin until EOF, then reply" deadlocks: the
EOF comes only after the reply.

How this sink knows the stream is complete: a precopy stream ends with
QEMU_VM_EOF (0x00) followed by the VM description, QEMU_VM_VMDESCRIPTION
(0x06), a be32 length and exactly that many bytes of JSON.  Nothing follows
it, and the source then goes quiet waiting for us.  Whenever the data
received so far ends in '}', the sink looks for `00 06 <be32 len> {` whose
JSON runs exactly to the end of the data and parses; then it sends SHUT.
Streams without a vmdesc (suppress-vmdesc=on, pc-i440fx-2.0..2.2) are
handled by a fallback: if nothing arrives for IDLE_SECONDS (default 3) the
source must be waiting, so SHUT is sent anyway.  With an unthrottled source
the stream never pauses that long before its end.

After SHUT the sink keeps storing input until the source closes it.
"""

import json
import os
import select
import struct
import sys
import time

# MIG_RP_MSG_SHUT (be16 1), length (be16 4), value (be32 0 = no error)
SHUT = struct.pack('>HHI', 1, 4, 0)

QEMU_VM_EOF = 0x00
QEMU_VM_VMDESCRIPTION = 0x06


def ends_with_vmdesc(buf):
    """True if BUF ends with QEMU_VM_EOF + a complete VM description."""
    if not buf.endswith(b'}'):
        return False
    marker = bytes([QEMU_VM_EOF, QEMU_VM_VMDESCRIPTION])
    pos = buf.rfind(marker)
    while pos >= 0:
        if pos + 7 <= len(buf):
            (length,) = struct.unpack_from('>I', buf, pos + 2)
            start = pos + 6
            if start + length == len(buf) and buf[start:start + 1] == b'{':
                try:
                    desc = json.loads(bytes(buf[start:]).decode('utf-8'))
                except ValueError:
                    desc = None
                if isinstance(desc, dict) and 'devices' in desc:
                    return True
        pos = buf.rfind(marker, 0, pos + 1)     # next candidate to the left
    return False


def send_shut():
    try:
        os.write(sys.stdout.fileno(), SHUT)
    except OSError:
        pass                # source gone: nothing to answer


def main(argv):
    if len(argv) not in (2, 3):
        sys.stderr.write('usage: postcopy_sink.py OUTFILE [IDLE_SECONDS]\n')
        return 2
    out_path = argv[1]
    idle = float(argv[2]) if len(argv) == 3 else 3.0
    stdin = sys.stdin.fileno()
    buf = bytearray()
    shut_sent = False
    last_data = time.monotonic()
    with open(out_path, 'wb') as out:
        while True:
            ready, _, _ = select.select([stdin], [], [], 0.1)
            if not ready:
                if (not shut_sent and buf
                        and time.monotonic() - last_data >= idle):
                    out.flush()
                    send_shut()
                    shut_sent = True
                continue
            chunk = os.read(stdin, 1 << 20)
            if not chunk:
                break       # source closed the stream: migration is over
            out.write(chunk)
            last_data = time.monotonic()
            if not shut_sent:
                buf += chunk
                if ends_with_vmdesc(buf):
                    out.flush()
                    send_shut()
                    shut_sent = True
                    buf = bytearray()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
