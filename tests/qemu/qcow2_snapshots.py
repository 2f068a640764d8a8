#!/usr/bin/env python3
"""qcow2 internal snapshots made by real QEMU, read by migconv.

    qcow2_snapshots.py MIGCONV WORKDIR

For each qcow2 variant (compat 0.10 and 1.1, clusters of 512 B, 64 KiB and
2 MiB, extended L2, zstd compression type, an image grown by qemu-img
resize after its snapshots) QEMU takes two snapshots with savevm (the
guest runs between them).  For each snapshot, migconv extracts the vmstate
(legacy-to-ber --snapshot, then ber-to-legacy), and a fresh QEMU must load
it with -incoming and reach the same CPU state ("info registers") as
loadvm of that snapshot.  A damaged snapshot table is an error.
"""

import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from qmp import QemuProcess, find_binary, wait_migration  # noqa: E402

VARIANTS = [
    ('compat010', ['-o', 'compat=0.10'], None),
    ('v3-512', ['-o', 'cluster_size=512'], None),
    ('v3-64k', [], None),
    ('v3-2m', ['-o', 'cluster_size=2M'], None),
    ('extl2', ['-o', 'extended_l2=on,cluster_size=128k'], None),
    ('zstd', ['-o', 'compression_type=zstd'], None),
    ('resized', [], '+24M'),
]
MACHINE = ['-M', 'pc', '-m', '32', '-nodefaults', '-display', 'none',
           '-accel', 'tcg']


def hmp(vm, line):
    return vm.qmp.execute('human-monitor-command', {'command-line': line})


def regs(vm):
    # CPU state only: the TSC and timers move, the registers of a paused
    # guest do not.
    out = hmp(vm, 'info registers')
    return '\n'.join(ln for ln in out.splitlines() if not ln.startswith('TSC'))


def run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)


def main():
    migconv, work = sys.argv[1], sys.argv[2]
    qemu = find_binary('qemu-system-x86_64')
    failures = 0

    def check(ok, what, detail=''):
        nonlocal failures
        print('%s %s%s' % ('ok  ' if ok else 'FAIL', what,
                           (': ' + detail) if detail and not ok else ''))
        if not ok:
            failures += 1

    for name, opts, grow in VARIANTS:
        img = os.path.join(work, name + '.qcow2')
        subprocess.check_call(['qemu-img', 'create', '-q', '-f', 'qcow2'] +
                              opts + [img, '16M'])
        drive = ['-drive', 'file=%s,if=none,id=d0,format=qcow2' % img]
        with QemuProcess(qemu, MACHINE + drive, work, name='src') as vm:
            hmp(vm, 'savevm first')
            vm.qmp.execute('cont')
            time.sleep(0.5)
            vm.qmp.execute('stop')
            hmp(vm, 'savevm second')
            vm.quit()
        if grow:
            subprocess.check_call(['qemu-img', 'resize', '-q', img, grow])
        listing = run([migconv, 'snapshots', img])
        check(listing.returncode == 0 and 'first' in listing.stdout and
              'second' in listing.stdout, '%s: snapshots listed' % name,
              listing.stderr + listing.stdout)
        for snap in ('first', 'second'):
            ber = os.path.join(work, '%s-%s.ber' % (name, snap))
            mig = os.path.join(work, '%s-%s.mig' % (name, snap))
            r = run([migconv, 'legacy-to-ber', '-q', '--snapshot', snap, img, ber])
            check(r.returncode == 0, '%s/%s: legacy-to-ber --snapshot' % (name, snap), r.stderr)
            r = run([migconv, 'ber-to-legacy', '-q', ber, mig])
            check(r.returncode == 0, '%s/%s: ber-to-legacy' % (name, snap), r.stderr)
            if r.returncode:
                continue
            # -S on both sides: neither guest runs before its registers
            # are read (the first snapshot was taken while running).
            with QemuProcess(qemu, MACHINE + ['-S'] + drive, work, name='ref') as vm:
                hmp(vm, 'loadvm ' + snap)
                want = regs(vm)
                vm.quit()
            with QemuProcess(qemu, MACHINE + ['-S', '-incoming', 'defer'], work,
                             name='dst') as vm:
                vm.qmp.execute('migrate-incoming', {'uri': 'exec:cat ' + mig})
                info = wait_migration(vm.qmp, 60)
                status = info.get('status')
                check(status == 'completed',
                      '%s/%s: QEMU loads the extracted vmstate' % (name, snap),
                      str(info))
                got = regs(vm) if status == 'completed' else ''
                vm.quit()
            check(got == want, '%s/%s: same CPU state as loadvm' % (name, snap))
    # The two snapshots differ (the guest ran between them): a negative
    # control for the register comparison.
    with QemuProcess(qemu, MACHINE + ['-S', '-drive', 'file=%s,if=none,id=d0,format=qcow2'
                                      % os.path.join(work, 'v3-64k.qcow2')],
                     work, name='ref') as vm:
        hmp(vm, 'loadvm first')
        a = regs(vm)
        hmp(vm, 'loadvm second')
        b = regs(vm)
        vm.quit()
    check(a != b, 'negative control: the two snapshots have different CPU states')
    # A damaged snapshot table: nb_snapshots points past the table.
    src = os.path.join(work, 'v3-64k.qcow2')
    bad = os.path.join(work, 'bad.qcow2')
    data = bytearray(open(src, 'rb').read())
    data[60:64] = (3).to_bytes(4, 'big')
    open(bad, 'wb').write(data)
    out = os.path.join(work, 'bad.ber')
    r = run([migconv, 'legacy-to-ber', '-q', '--snapshot', 'first', bad, out])
    check(r.returncode == 1 and len(r.stderr.splitlines()) == 1 and
          'snapshot table' in r.stderr and not os.path.exists(out),
          'damaged snapshot table: one error line, no output', r.stderr)
    r = run([migconv, 'legacy-to-ber', '-q', src, out])
    check(r.returncode == 2 and '--snapshot' in r.stderr,
          'qcow2 without --snapshot: usage error', r.stderr)
    r = run([migconv, 'legacy-to-ber', '-q', '--snapshot', 'nope', src, out])
    check(r.returncode == 2 and 'no snapshot' in r.stderr,
          'unknown snapshot: usage error', r.stderr)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
