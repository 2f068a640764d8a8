#!/usr/bin/env python3
"""Feed a migration stream to a real QEMU and report whether it loads.

    accept.py [--expect-reject] [--timeout S] [--keep-work] [--qemu-version V]
              FIXTURE_NAME STREAM_FILE

Starts QEMU with FIXTURE_NAME's command line from fixtures.py plus
`-incoming defer`, sets the destination capabilities/parameters, then
`migrate-incoming exec:cat STREAM_FILE` and polls query-migrate.
With --qemu-version V the destination is QEMU V from its Debian chroot
(tests/qemu/roots.sh); the stream is copied into the work dir under /tmp,
which the chroot shares.

Exit status:
  0   accepted ("accepted"); with --expect-reject: rejected as expected
  1   rejected ("rejected: <reason>"); with --expect-reject: accepted
  2   timeout or trouble running QEMU
  77  skipped: QEMU binary missing or /dev/kvm needed but not usable
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
from qmp import (MigrationTimeout, QMPError, QemuExited,  # noqa: E402
                 QemuProcess, find_binary, wait_migration)

EXIT_OK, EXIT_FAIL, EXIT_ERROR, EXIT_SKIP = 0, 1, 2, 77


def error_lines(log):
    """QEMU's error messages, joined: the first says why, the last what."""
    lines = [ln.strip() for ln in log.splitlines() if ln.strip()]
    prefix = 'qemu-system-'
    errs = [ln.split(': ', 1)[1] if ln.startswith(prefix) and ': ' in ln else ln
            for ln in lines if ln.startswith(prefix) and 'warning:' not in ln]
    return '; '.join(errs[-4:]) if errs else (lines[-1] if lines else 'QEMU exited')


def load(fx, stream, workdir, timeout):
    """Return None if QEMU accepted STREAM, else the reason it rejected it.

    Raises MigrationTimeout if the load neither completes nor fails in
    time, and QMPError for trouble unrelated to the stream (QEMU not
    starting, a capability it does not know ...).
    """
    binary = find_binary(fx.binary)
    argv = fixtures.command_line(fx, workdir, incoming=True)
    with QemuProcess(binary, argv, workdir, name='dest') as vm:
        qmp = vm.qmp
        if fx.dest_caps:
            qmp.execute('migrate-set-capabilities', {'capabilities': [
                {'capability': k, 'state': v} for k, v in fx.dest_caps.items()]})
        if fx.dest_params:
            qmp.execute('migrate-set-parameters', fx.dest_params)
        # exec: runs its command through /bin/sh -c: quote the path
        uri = 'exec:cat ' + shlex.quote(os.path.abspath(stream))
        try:
            qmp.execute('migrate-incoming', {'uri': uri})
            info = wait_migration(qmp, timeout)
        except QemuExited:
            # QEMU 7.2 exits as soon as an incoming migration fails, often
            # before query-migrate can say 'failed': the reason is in its log
            try:
                vm.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            return error_lines(vm.log_text())
        status = info.get('status')
        if status == 'completed':
            vm.quit()
            return None
        return info.get('error-desc') or error_lines(vm.log_text()) or status


def main():
    ap = argparse.ArgumentParser(
        description='Load a migration stream into real QEMU.',
        epilog='exit: 0 accepted, 1 rejected (inverted by --expect-reject), '
               '2 timeout/error, 77 skipped')
    ap.add_argument('fixture', metavar='FIXTURE_NAME',
                    choices=sorted(fixtures.BY_NAME),
                    help='one of: ' + ', '.join(fx.name for fx in fixtures.FIXTURES))
    ap.add_argument('stream', metavar='STREAM_FILE')
    ap.add_argument('--expect-reject', action='store_true',
                    help='succeed only if QEMU rejects the stream')
    ap.add_argument('--timeout', type=float, default=60.0,
                    help='seconds to wait for the load (default %(default)s)')
    ap.add_argument('--keep-work', action='store_true',
                    help='keep the work dir (generated files, QEMU log)')
    ap.add_argument('--qemu-version', metavar='V',
                    help='load into QEMU V (5.2, 7.2, 10.0, 11.1) run from its '
                         'chroot (tests/qemu/roots.sh)')
    opts = ap.parse_args()

    fx = fixtures.BY_NAME[opts.fixture]
    if not os.path.isfile(opts.stream):
        print('error: no such stream file: %s' % opts.stream, file=sys.stderr)
        return EXIT_ERROR

    workdir = tempfile.mkdtemp(prefix='mcacc-', dir='/tmp')
    try:
        if opts.qemu_version:
            bindir = os.path.join(workdir, 'bin')
            r = subprocess.run([os.path.join(HERE, 'roots.sh'), 'bin',
                                opts.qemu_version, bindir],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if r.returncode != 0:
                print('error: QEMU %s: %s' % (opts.qemu_version,
                                              r.stderr.decode().strip()))
                return EXIT_ERROR
            os.environ['PATH'] = bindir + os.pathsep + os.environ['PATH']
            stream = os.path.join(workdir, 'stream.mig')
            shutil.copyfile(opts.stream, stream)
            opts.stream = stream
        reason = fixtures.skip_reason(fx)
        if reason:
            print('skipped: %s' % reason)
            return EXIT_SKIP
        try:
            rejection = load(fx, opts.stream, workdir, opts.timeout)
        except MigrationTimeout as err:
            print('timeout: %s' % err)
            return EXIT_ERROR
        except (QMPError, OSError) as err:
            print('error: %s' % err)
            log = os.path.join(workdir, 'dest.log')
            if '--- qemu output ---' not in str(err) and os.path.exists(log):
                with open(log, errors='replace') as f:
                    print(f.read()[-2000:].rstrip())
            return EXIT_ERROR
    finally:
        if opts.keep_work:
            print('work dir kept: %s' % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    if rejection is None:
        print('accepted')
        return EXIT_FAIL if opts.expect_reject else EXIT_OK
    print('rejected: %s' % rejection)
    return EXIT_OK if opts.expect_reject else EXIT_FAIL


if __name__ == '__main__':
    sys.exit(main())
