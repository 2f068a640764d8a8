#!/usr/bin/env python3
"""Make the benchmark streams.

    make-bench-streams.py OUTDIR [--ram-mib N] [--blob-mib N]

ram.mig: a RAM-heavy stream made by real QEMU: a guest with --ram-mib of RAM
whose first --blob-mib hold a blob that mixes random bytes and text-like
data (so pages are non-zero and not all alike), loaded with
-device loader and migrated paused to `exec:cat > FILE`.

tiny.mig: a stream with ~150,000 tiny records: the RAM section of a real
QEMU stream with 150,000 extra SECTION_PART records that hold only an EOS,
as QEMU writes when a live section has nothing to send in an iteration
(e.g. with the dirty-bitmaps capability and a fast loop).
"""
import argparse
import os
import random
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'qemu'))

import importlib.util  # noqa: E402

from qmp import QemuProcess, find_binary, wait_migration  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    'make_fixtures', os.path.join(HERE, '..', 'qemu', 'make-fixtures.py'))
_mf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mf)


def make_blob(path, mib):
    """Alternating 64 KiB chunks of random and text-like bytes."""
    rnd = random.Random(1234)
    words = [b'migration', b'stream', b'qemu', b'vmstate', b'section',
             b'page', b'device', b'field', b'ber', b'legacy', b'\n']
    chunk = 64 * 1024
    with open(path, 'wb') as f:
        for i in range(mib * 1024 * 1024 // chunk):
            if i % 2 == 0:
                f.write(rnd.randbytes(chunk))
            else:
                out = bytearray()
                while len(out) < chunk:
                    out += rnd.choice(words) + b' '
                f.write(bytes(out[:chunk]))


def make_ram_stream(outdir, ram_mib, blob_mib):
    blob = os.path.join(outdir, 'blob-%d.bin' % blob_mib)
    if not os.path.exists(blob) or os.path.getsize(blob) != blob_mib << 20:
        make_blob(blob, blob_mib)
    out = os.path.join(outdir, 'ram-%d.mig' % ram_mib)
    args = ['-nodefaults', '-display', 'none', '-S', '-accel', 'tcg',
            '-machine', 'pc', '-m', str(ram_mib),
            '-device', 'loader,file=%s,addr=0x100000,force-raw=on' % blob]
    with QemuProcess(find_binary('qemu-system-x86_64'), args, outdir,
                     name='bench') as q:
        q.qmp.execute('migrate-set-parameters', {'max-bandwidth': 8 << 30})
        q.qmp.execute('migrate', {'uri': 'exec:cat > %s' % out})
        info = wait_migration(q.qmp, timeout=600)
        if info.get('status') != 'completed':
            sys.exit('migration failed: %r' % info)
        _mf.wait_children_gone(q.proc.pid)
        q.quit()
    os.unlink(blob)
    return out


def make_tiny_stream(outdir, base, parts):
    data = open(base, 'rb').read()
    i = data.index(b'\x03ram')
    # START header: type(1) id(4) idstr(4) instance(4) version(4)
    sid = data[i - 4:i]
    end = data.index(struct.pack('>Q', 0x10) + b'\x7e' + sid, i)
    cut = end + 8 + 5
    part = b'\x02' + sid + struct.pack('>Q', 0x10) + b'\x7e' + sid
    out = os.path.join(outdir, 'tiny.mig')
    with open(out, 'wb') as f:
        f.write(data[:cut])
        f.write(part * parts)
        f.write(data[cut:])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('outdir')
    ap.add_argument('--ram-mib', type=int, default=1024)
    ap.add_argument('--blob-mib', type=int, default=600)
    ap.add_argument('--tiny-parts', type=int, default=150000)
    ap.add_argument('--tiny-base', default=os.path.join(
        HERE, '..', 'fixtures', 'streams', 'pc-bare.mig'))
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    print(make_ram_stream(a.outdir, a.ram_mib, a.blob_mib))
    print(make_tiny_stream(a.outdir, a.tiny_base, a.tiny_parts))


if __name__ == '__main__':
    main()
