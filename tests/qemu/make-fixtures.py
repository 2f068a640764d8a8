#!/usr/bin/env python3
"""Produce real QEMU migration streams described in fixtures.py.

    make-fixtures.py [--qemu-version V] [--out DIR] [--only NAME...] [--list]
                     [--keep-work]

For every fixture: start QEMU paused (-S), set capabilities/parameters, do
the fixture's preparation, `migrate` to `exec:cat > FILE` (or the postcopy
sink), poll query-migrate until `completed`, check the result, quit.
Writes DIR/NAME.mig and DIR/manifest.json (default DIR: tests/fixtures/streams).
With --qemu-version V (5.2, 7.2, 10.0, 11.1) the QEMU of that version runs
(from its Debian chroot, made and mounted by tests/qemu/roots.sh, through
wrappers first in PATH), the fixtures are fixtures.VERSIONED[V] and the
default DIR is tests/fixtures/qemu-V.
Exit status: 0 if every selected fixture was produced or skipped, 1 otherwise.
"""

import argparse
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import fixtures                                   # noqa: E402
from qmp import (QMPError, QemuProcess, find_binary,  # noqa: E402
                 qemu_version, wait_migration)

REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_OUT = os.path.join(REPO, 'tests', 'fixtures', 'streams')
SINK = os.path.join(HERE, 'postcopy_sink.py')


class FixtureError(Exception):
    pass


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def set_caps(qmp, caps):
    if caps:
        qmp.execute('migrate-set-capabilities', {'capabilities': [
            {'capability': k, 'state': v} for k, v in caps.items()]})


def read_guest_u32(qmp, addr):
    """A 32-bit word of guest physical memory, read through HMP `xp`."""
    out = qmp.execute('human-monitor-command',
                      {'command-line': 'xp /1wx 0x%x' % addr})
    # "0000000000010800: 0x01010101"
    return int(out.split()[-1], 16)


def wait_guest_writes(qmp, addr, timeout):
    """Wait until the guest keeps changing the word at ADDR (its loop runs)."""
    deadline = time.monotonic() + timeout
    prev = read_guest_u32(qmp, addr)
    while time.monotonic() < deadline:
        time.sleep(0.1)
        cur = read_guest_u32(qmp, addr)
        if cur != prev:
            return
        prev = cur
    raise FixtureError('guest program did not start writing 0x%x in %.0f s'
                       % (addr, timeout))


def run_step(qmp, step):
    kind = step[0]
    if kind == 'cont':
        qmp.execute('cont')
    elif kind == 'sleep':
        time.sleep(step[1])
    elif kind == 'wait-guest-writes':
        wait_guest_writes(qmp, step[1], step[2])
    elif kind == 'qmp':
        qmp.execute(step[1], step[2] if len(step) > 2 else None)
    else:
        raise ValueError('unknown step %r' % (step,))


def source_params(fx):
    """Migration parameters set on the source before `migrate`."""
    params = {} if fx.throttled else {'max-bandwidth': fixtures.FAST_BANDWIDTH}
    params.update(fx.params)
    return params


def migration_uri(fx, path):
    if fx.sink == 'cat':
        return 'exec:cat > ' + shlex.quote(path)
    if fx.sink == 'postcopy':
        return 'exec:' + ' '.join(shlex.quote(a)
                                  for a in (sys.executable, SINK, path))
    raise ValueError('%s: unknown sink %r' % (fx.name, fx.sink))


def wait_children_gone(pid, timeout=15.0):
    """Wait until QEMU has reaped its exec: helper (stream fully written).

    'completed' is reported before QEMU closes the channel; the helper may
    still be draining the pipe into the file at that moment.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = ''
        try:
            for tid in os.listdir('/proc/%d/task' % pid):
                with open('/proc/%d/task/%s/children' % (pid, tid)) as f:
                    children += f.read().strip()
        except OSError:
            return              # no /proc or QEMU gone: nothing to wait for
        if not children:
            return
        time.sleep(0.05)
    raise FixtureError('exec: helper still running %.0f s after completion'
                       % timeout)


def produce(fx, binary, argv, partial, workdir):
    """Run the source QEMU and migrate it into PARTIAL; return query-migrate."""
    with QemuProcess(binary, argv, workdir, name=fx.name) as vm:
        try:
            qmp = vm.qmp
            set_caps(qmp, fx.caps)
            params = source_params(fx)
            if params:
                qmp.execute('migrate-set-parameters', params)
            for step in fx.before:
                run_step(qmp, step)

            pending = list(fx.during)

            def on_poll(info, elapsed):
                while pending and pending[0].ready(info, elapsed):
                    trig = pending.pop(0)
                    qmp.execute(trig.command, trig.arguments)

            args = {'uri': migration_uri(fx, partial)}
            args.update(fx.migrate_args)        # e.g. blk: true
            qmp.execute('migrate', args)
            info = wait_migration(qmp, fx.timeout, poll=0.02, on_poll=on_poll)
            if info.get('status') != 'completed':
                raise FixtureError('migration %s: %s' % (
                    info.get('status'), info.get('error-desc', '?')))
            if pending:
                raise FixtureError('migration completed before the throttle '
                                   'was lifted: nothing was re-sent')
            if fx.check is not None:
                err = fx.check(info)
                if err:
                    raise FixtureError(err)
            wait_children_gone(vm.proc.pid)
            vm.quit()
        except (QMPError, FixtureError) as err:
            log = vm.log_text()
            raise FixtureError('%s%s' % (err, ('\n--- qemu output ---\n' + log)
                                         if log else '')) from None
    return info


def make_one(fx, out_dir, workdir):
    """Produce OUT_DIR/NAME.mig; return (manifest entry, seconds taken)."""
    binary = find_binary(fx.binary)
    argv = fixtures.command_line(fx, workdir)
    final = os.path.join(out_dir, fx.name + '.mig')
    # exec: commands of a chrooted QEMU see only /tmp: write into the work dir
    partial = os.path.join(workdir, '.%s.mig.partial' % fx.name)
    start = time.monotonic()
    try:
        info = produce(fx, binary, argv, partial, workdir)
        size = os.path.getsize(partial)
        with open(partial, 'rb') as f:
            if f.read(8) != b'QEVM\x00\x00\x00\x03':
                raise FixtureError('stream does not start with QEVM v3')
        shutil.move(partial, final)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    elapsed = time.monotonic() - start
    # the work dir is temporary: record its path as {workdir}
    argv = [a.replace(os.path.abspath(workdir), '{workdir}') for a in argv]
    entry = {
        'name': fx.name,
        'description': fx.description,
        'file': os.path.basename(final),
        'size': size,
        'sha256': sha256_file(final),
        'qemu_binary': fx.binary,
        'qemu_version': qemu_version(binary),
        'argv': [fx.binary] + argv,
        'generated_files': {
            name: sha256_file(os.path.join(workdir, name))
            for name in fixtures.generated_file_names(fx)},
        'capabilities': fx.caps,
        'parameters': source_params(fx),
        'before_migrate': [list(step) for step in fx.before],
        'during_migrate': [
            {'command': t.command, 'arguments': t.arguments,
             'after_seconds': t.after,
             'condition': getattr(t.when, 'description', None)}
            for t in fx.during],
        'dest_capabilities': fx.dest_caps,
        **({'migrate_arguments': fx.migrate_args} if fx.migrate_args else {}),
        'dest_parameters': fx.dest_params,
        'migration': migration_summary(info),
    }
    return entry, elapsed


def migration_summary(info):
    """The parts of the source's final query-migrate worth recording."""
    ram = info.get('ram', {})
    out = {k: info[k] for k in ('total-time', 'downtime') if k in info}
    out['ram'] = {k: ram[k] for k in ('transferred', 'normal', 'duplicate',
                                      'skipped', 'dirty-sync-count')
                  if k in ram}
    if 'xbzrle-cache' in info:
        x = info['xbzrle-cache']
        out['xbzrle-cache'] = {k: x[k] for k in ('pages', 'bytes', 'cache-miss',
                                                 'overflow') if k in x}
    if 'compression' in info:
        c = info['compression']
        out['compression'] = {k: c[k] for k in ('pages', 'compressed-size',
                                                'busy') if k in c}
    return out


def use_version(version, workdir):
    """Put wrappers running QEMU VERSION (its chroot) first in PATH.

    The work dir is under /tmp, which roots.sh bind-mounts into the chroot,
    so the same absolute paths work inside and outside.
    """
    bindir = os.path.join(workdir, 'bin')
    subprocess.run([os.path.join(HERE, 'roots.sh'), 'bin', version, bindir],
                   check=True, stdout=subprocess.DEVNULL)
    os.environ['PATH'] = bindir + os.pathsep + os.environ.get('PATH', '')


def load_manifest(path):
    try:
        with open(path) as f:
            data = json.load(f)
        return {e['name']: e for e in data.get('fixtures', [])}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def write_manifest(path, entries):
    order = [fx.name for fx in fixtures.FIXTURES]
    items = sorted(entries.values(),
                   key=lambda e: order.index(e['name']) if e['name'] in order
                   else len(order))
    data = {
        'about': 'Real QEMU migration streams made by tests/qemu/make-fixtures.py; '
                 'tests/qemu/accept.py [--qemu-version V] NAME FILE loads one '
                 'back into QEMU. '
                 'In argv, {workdir} stands for the temporary work dir in which '
                 'fixtures.py generated the files listed in generated_files '
                 '(same bytes everywhere); -qmp is left out.',
        'fixtures': items,
    }
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=2, sort_keys=False)
        f.write('\n')
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--out', default=DEFAULT_OUT,
                    help='output directory (default: %(default)s)')
    ap.add_argument('--only', nargs='+', metavar='NAME',
                    help='produce only these fixtures')
    ap.add_argument('--list', action='store_true',
                    help='list the fixtures and exit')
    ap.add_argument('--keep-work', action='store_true',
                    help='keep the temporary work dir (QEMU logs, blobs)')
    ap.add_argument('--qemu-version', metavar='V', choices=sorted(fixtures.VERSIONED),
                    help='run QEMU V from its chroot (tests/qemu/roots.sh) and '
                         'make its fixture set')
    opts = ap.parse_args()
    if opts.qemu_version and opts.out == DEFAULT_OUT:
        opts.out = os.path.join(REPO, 'tests', 'fixtures',
                                'qemu-' + opts.qemu_version)
    pool = fixtures.FIXTURES
    if opts.qemu_version:
        pool = [fixtures.BY_NAME[n] for n in fixtures.VERSIONED[opts.qemu_version]]

    if opts.list:
        for fx in pool:
            print('%-18s %s' % (fx.name, fx.description))
        return 0

    selected = pool
    if opts.only:
        unknown = [n for n in opts.only if n not in [fx.name for fx in pool]]
        if unknown:
            ap.error('unknown fixture(s): %s' % ', '.join(unknown))
        selected = [fx for fx in pool if fx.name in opts.only]

    out_dir = os.path.abspath(opts.out)
    os.makedirs(out_dir, exist_ok=True)
    manifest_path = os.path.join(out_dir, 'manifest.json')
    # keep entries of fixtures not remade now (if their file is still there)
    entries = {n: e for n, e in load_manifest(manifest_path).items()
               if os.path.exists(os.path.join(out_dir, e.get('file', '')))}

    # short path: the QMP unix socket lives in here
    workdir = tempfile.mkdtemp(prefix='mcfx-', dir='/tmp')
    if opts.qemu_version:
        use_version(opts.qemu_version, workdir)
    t0 = time.monotonic()
    made, skipped, failed = [], [], []
    try:
        for fx in selected:
            reason = fixtures.skip_reason(fx)
            if reason:
                print('%-18s SKIPPED (%s)' % (fx.name, reason), flush=True)
                skipped.append(fx.name)
                continue
            print('%-18s ...' % fx.name, end=' ', flush=True)
            try:
                entry, secs = make_one(fx, out_dir, workdir)
            except (FixtureError, QMPError, OSError) as err:
                print('FAILED\n  %s' % str(err).replace('\n', '\n  '), flush=True)
                failed.append(fx.name)
                continue
            entries[fx.name] = entry
            made.append(fx.name)
            print('%9d bytes  %5.1f s' % (entry['size'], secs), flush=True)
    finally:
        if entries:
            write_manifest(manifest_path, entries)
        if opts.keep_work:
            print('work dir kept: %s' % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    total = sum(e['size'] for e in entries.values())
    print('\n%d made, %d skipped, %d failed in %.1f s; manifest lists %d '
          'streams, %.2f MB in all (%s)'
          % (len(made), len(skipped), len(failed), time.monotonic() - t0,
             len(entries), total / 1e6, manifest_path))
    if failed:
        print('FAILED: ' + ' '.join(failed))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
