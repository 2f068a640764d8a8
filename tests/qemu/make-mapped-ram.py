#!/usr/bin/env python3
"""Make a mapped-ram migration file with a real QEMU (>= 9.0).

    make-mapped-ram.py QEMU_BINARY OUT [--multifd N] [--machine M] [--plain]

A paused pc guest (32 MiB, the loader blob of fixtures.py at 1 MiB) saved
with `migrate-set-capabilities mapped-ram=on` (and multifd with N
channels) and `migrate file:OUT`; with --plain, without mapped-ram: an
ordinary sequential stream of the same guest.  OUT must be an absolute path that the
QEMU binary sees under the same name (a chroot with /tmp bound).
"""
import argparse
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import fixtures                                    # noqa: E402
from qmp import QemuProcess, wait_migration        # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('binary')
    ap.add_argument('out')
    ap.add_argument('--multifd', type=int, default=0)
    ap.add_argument('--machine', default='pc-i440fx-5.2')
    ap.add_argument('--plain', action='store_true')
    o = ap.parse_args()
    wd = tempfile.mkdtemp(prefix='mcmr-', dir='/tmp')
    try:
        blob = os.path.join(wd, 'blob')
        fixtures.make_loader_blob(blob)
        argv = ['-nodefaults', '-display', 'none', '-S', '-accel', 'tcg',
                '-machine', o.machine, '-m', '32',
                '-device', 'loader,file=%s,addr=0x100000,force-raw=on' % blob]
        with QemuProcess(o.binary, argv, wd, name='src') as vm:
            caps = [{'capability': 'mapped-ram', 'state': not o.plain}]
            if o.multifd:
                caps.append({'capability': 'multifd', 'state': True})
            vm.qmp.execute('migrate-set-capabilities', {'capabilities': caps})
            if o.multifd:
                vm.qmp.execute('migrate-set-parameters',
                               {'multifd-channels': o.multifd})
            vm.qmp.execute('migrate', {'uri': 'file:' + o.out})
            status = wait_migration(vm.qmp, 60).get('status')
            vm.quit()
        if status != 'completed':
            print('migration %s' % status)
            return 1
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
