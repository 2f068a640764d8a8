#!/usr/bin/env python3
"""Load a stream into a paused QEMU and save its guest memory (pmemsave).

    load-mapped-ram.py QEMU_BINARY STREAM OUT [--mapped-ram] [--multifd N]
                       [--machine M]

The guest of make-mapped-ram.py (pc machine M, 32 MiB, no devices) is
started with `-incoming defer`; with --mapped-ram the mapped-ram (and with
--multifd N the multifd) capability is set and STREAM is loaded with
`migrate-incoming file:STREAM`, else with `exec:cat STREAM`.  Then guest
memory 0 .. 32 MiB is written to OUT with QMP pmemsave (pc.ram except
640 KiB - 1 MiB, which pmemsave reads through VGA and ROM).  STREAM and OUT
must be absolute paths the binary sees under the same names.

Exit status: 0 saved, 1 QEMU rejected the stream, 2 trouble.
"""
import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from accept import error_lines                     # noqa: E402
from qmp import (MigrationTimeout, QMPError, QemuExited,  # noqa: E402
                 QemuProcess, wait_migration)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('binary')
    ap.add_argument('stream')
    ap.add_argument('out')
    ap.add_argument('--mapped-ram', action='store_true')
    ap.add_argument('--multifd', type=int, default=0)
    ap.add_argument('--machine', default='pc-i440fx-5.2')
    ap.add_argument('--timeout', type=float, default=60.0)
    o = ap.parse_args()
    wd = tempfile.mkdtemp(prefix='mcld-', dir='/tmp')
    try:
        argv = ['-nodefaults', '-display', 'none', '-S', '-accel', 'tcg',
                '-machine', o.machine, '-m', '32', '-incoming', 'defer']
        with QemuProcess(o.binary, argv, wd, name='dest') as vm:
            if o.mapped_ram:
                caps = [{'capability': 'mapped-ram', 'state': True}]
                if o.multifd:
                    caps.append({'capability': 'multifd', 'state': True})
                vm.qmp.execute('migrate-set-capabilities',
                               {'capabilities': caps})
                if o.multifd:
                    vm.qmp.execute('migrate-set-parameters',
                                   {'multifd-channels': o.multifd})
                uri = 'file:' + o.stream
            else:
                uri = 'exec:cat ' + shlex.quote(o.stream)
            try:
                vm.qmp.execute('migrate-incoming', {'uri': uri})
                info = wait_migration(vm.qmp, o.timeout)
            except QemuExited:
                try:
                    vm.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
                print('rejected: %s' % error_lines(vm.log_text()))
                return 1
            if info.get('status') != 'completed':
                print('rejected: %s' % (info.get('error-desc') or
                                        info.get('status')))
                return 1
            vm.qmp.execute('pmemsave', {'val': 0, 'size': 32 << 20,
                                        'filename': o.out})
            vm.quit()
    except (MigrationTimeout, QMPError, OSError) as err:
        print('error: %s' % err)
        return 2
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    print('saved')
    return 0


if __name__ == '__main__':
    sys.exit(main())
