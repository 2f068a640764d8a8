#!/usr/bin/env python3
"""Load a migration stream into a paused QEMU and save its guest memory.

    pmemsave.py [--no-dest-caps] [--timeout S] FIXTURE_NAME STREAM_FILE OUT

Starts QEMU with FIXTURE_NAME's command line from fixtures.py plus
`-incoming defer` (the guest stays paused), sets the fixture's destination
capabilities (unless --no-dest-caps: for normalized streams, which must
load without them), loads STREAM_FILE with migrate-incoming, then writes
guest physical memory 0 .. the fixture's RAM size to OUT with QMP
pmemsave.  On x86 pc machines that is pc.ram except the 640 KiB - 1 MiB
window, which pmemsave reads through VGA and ROM.

Exit status: 0 saved, 1 QEMU rejected the stream, 2 trouble, 77 skipped.
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

import fixtures                                   # noqa: E402
from accept import error_lines                    # noqa: E402
from qmp import (MigrationTimeout, QMPError, QemuExited,  # noqa: E402
                 QemuProcess, find_binary, wait_migration)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('fixture', choices=sorted(fixtures.BY_NAME))
    ap.add_argument('stream')
    ap.add_argument('out')
    ap.add_argument('--no-dest-caps', action='store_true')
    ap.add_argument('--timeout', type=float, default=60.0)
    opts = ap.parse_args()
    fx = fixtures.BY_NAME[opts.fixture]
    reason = fixtures.skip_reason(fx)
    if reason:
        print('skipped: %s' % reason)
        return 77
    workdir = tempfile.mkdtemp(prefix='mcpmem-')
    try:
        binary = find_binary(fx.binary)
        argv = fixtures.command_line(fx, workdir, incoming=True)
        with QemuProcess(binary, argv, workdir, name='dest') as vm:
            qmp = vm.qmp
            if fx.dest_caps and not opts.no_dest_caps:
                qmp.execute('migrate-set-capabilities', {'capabilities': [
                    {'capability': k, 'state': v}
                    for k, v in fx.dest_caps.items()]})
            if fx.dest_params and not opts.no_dest_caps:
                qmp.execute('migrate-set-parameters', fx.dest_params)
            uri = 'exec:cat ' + shlex.quote(os.path.abspath(opts.stream))
            try:
                qmp.execute('migrate-incoming', {'uri': uri})
                info = wait_migration(qmp, opts.timeout)
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
            qmp.execute('pmemsave', {'val': 0, 'size': fx.memory << 20,
                                     'filename': os.path.abspath(opts.out)})
            vm.quit()
    except (MigrationTimeout, QMPError, OSError) as err:
        print('error: %s' % err)
        return 2
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print('saved')
    return 0


if __name__ == '__main__':
    sys.exit(main())
