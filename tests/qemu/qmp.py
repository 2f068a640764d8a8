"""Minimal QMP client and QEMU process helper (Python 3 standard library only).

Used by make-fixtures.py and accept.py.  Everything here has a timeout: a
QEMU that stops answering is killed, never waited for forever.

    with QemuProcess('qemu-system-x86_64', ['-M', 'pc', '-S'], workdir) as vm:
        vm.qmp.execute('query-status')
        vm.quit()
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import time


class QMPError(Exception):
    """QEMU answered a command with an error, or the QMP link broke."""

    def __init__(self, message, error_class=None):
        super().__init__(message)
        self.error_class = error_class


class QemuExited(QMPError):
    """The QEMU process went away while we were talking to it."""


class MigrationTimeout(QMPError):
    """query-migrate did not reach a final state in time."""


class QMP:
    """A QMP connection over a unix socket.

    Replies are matched to requests by an increasing 'id'; asynchronous
    events received meanwhile are kept in self.events (oldest first).
    """

    def __init__(self, path, timeout=30.0, alive=None):
        self.path = path
        self.timeout = timeout
        self.events = []
        self.greeting = None
        self._sock = None
        self._buf = b''
        self._next_id = 0
        self._connect(alive)

    # -- connection ------------------------------------------------------

    def _connect(self, alive):
        """Connect with retries until the socket exists and accepts us.

        alive() (optional) is called between attempts; when it returns False
        the target process has died and waiting longer is pointless.
        """
        deadline = time.monotonic() + self.timeout
        last_err = None
        while True:
            if alive is not None and not alive():
                raise QemuExited('QEMU exited before its QMP socket came up')
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(max(0.1, deadline - time.monotonic()))
                sock.connect(self.path)
                self._sock = sock
                break
            except OSError as err:
                sock.close()
                last_err = err
            if time.monotonic() >= deadline:
                raise QMPError('cannot connect to QMP socket %s: %s'
                               % (self.path, last_err))
            time.sleep(0.05)
        # QEMU 5.2 can send an event (MIGRATION 'setup' of -incoming) on a
        # new connection before the greeting: keep it, wait for the greeting.
        while True:
            msg = self._read_message(deadline)
            if 'QMP' in msg:
                self.greeting = msg
                break
            if 'event' not in msg:
                raise QMPError('unexpected QMP greeting: %r' % (msg,))
            self.events.append(msg)
        self.execute('qmp_capabilities')

    def close(self):
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    # -- wire ------------------------------------------------------------

    def _read_message(self, deadline):
        """Return the next JSON object from the socket (one per line)."""
        while b'\n' not in self._buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise QMPError('timed out waiting for QMP data')
            self._sock.settimeout(remaining)
            try:
                chunk = self._sock.recv(65536)
            except socket.timeout:
                raise QMPError('timed out waiting for QMP data') from None
            except OSError as err:
                raise QemuExited('QMP connection lost: %s' % err) from None
            if not chunk:
                raise QemuExited('QMP connection closed by QEMU')
            self._buf += chunk
        line, self._buf = self._buf.split(b'\n', 1)
        line = line.strip()
        if not line:
            return self._read_message(deadline)
        try:
            return json.loads(line.decode('utf-8'))
        except ValueError as err:
            raise QMPError('bad QMP message %r: %s' % (line[:200], err)) from None

    def execute(self, command, arguments=None, timeout=None):
        """Run one QMP command; return its 'return' value or raise QMPError."""
        if self._sock is None:
            raise QMPError('QMP connection is closed')
        self._next_id += 1
        req_id = self._next_id
        msg = {'execute': command, 'id': req_id}
        if arguments:
            msg['arguments'] = arguments
        data = (json.dumps(msg) + '\n').encode('utf-8')
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        self._sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            self._sock.sendall(data)
        except OSError as err:
            raise QemuExited('QMP send failed: %s' % err) from None
        while True:
            reply = self._read_message(deadline)
            if 'event' in reply:
                self.events.append(reply)
                continue
            if reply.get('id') != req_id:
                continue            # stale reply of an earlier, timed-out call
            if 'error' in reply:
                err = reply['error']
                raise QMPError('%s: %s' % (command, err.get('desc', err)),
                               err.get('class'))
            return reply.get('return')


def _die_with_parent():
    """In the child before exec: get SIGKILL if our process dies (Linux).

    A QEMU started with -S waits forever; this keeps one from outliving a
    killed test run.  Best effort: silently skipped where unsupported.
    """
    try:
        import ctypes
        PR_SET_PDEATHSIG = 1
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:          # noqa: BLE001 - never fail the exec for this
        pass


class QemuProcess:
    """A QEMU child process with a QMP socket, killed on any way out.

    The constructor starts QEMU and connects; use it as a context manager so
    that an exception anywhere still terminates the process.  QEMU's stdout
    and stderr go to WORKDIR/NAME.log (see self.log_text()).
    """

    def __init__(self, binary, args, workdir, name='qemu', timeout=30.0):
        self.binary = binary
        self.workdir = workdir
        self.name = name
        # unix socket paths are limited to ~107 bytes: keep it short
        self.sock_path = os.path.join(workdir, name + '.qmp')
        if len(self.sock_path.encode()) > 100:
            raise ValueError('work dir path too long for a unix socket: %s'
                             % workdir)
        self.log_path = os.path.join(workdir, name + '.log')
        try:
            os.unlink(self.sock_path)
        except FileNotFoundError:
            pass
        self.argv = [binary] + list(args) + [
            '-qmp', 'unix:%s,server=on,wait=off' % self.sock_path]
        self._log = open(self.log_path, 'wb')
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True,
                                     preexec_fn=_die_with_parent)
        self.qmp = None
        try:
            self.qmp = QMP(self.sock_path, timeout=timeout,
                           alive=lambda: self.proc.poll() is None)
        except QMPError as err:
            self.kill()
            log = self.log_text()
            raise type(err)('%s%s' % (err, '\n--- qemu output ---\n' + log
                                      if log else '')) from None
        except BaseException:
            self.kill()
            raise

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.kill()
        return False

    def alive(self):
        return self.proc.poll() is None

    def log_text(self, limit=4000):
        """QEMU's own output so far (its error messages land here)."""
        try:
            if not self._log.closed:
                self._log.flush()
            with open(self.log_path, 'rb') as f:
                data = f.read()
        except OSError:
            return ''
        return data[-limit:].decode('utf-8', 'replace').strip()

    def quit(self, timeout=15.0):
        """Ask QEMU to quit; kill it if it does not exit in time."""
        try:
            if self.qmp is not None and self.alive():
                try:
                    self.qmp.execute('quit', timeout=timeout)
                except QemuExited:
                    pass            # it quit before answering: fine
            self.proc.wait(timeout=timeout)
        except (QMPError, subprocess.TimeoutExpired):
            pass
        finally:
            self.kill()

    def kill(self):
        """Kill QEMU (and anything it spawned, e.g. exec: helpers) for sure."""
        if self.qmp is not None:
            self.qmp.close()
        if self.proc.poll() is None:
            # QEMU runs in its own session: signal its whole process group so
            # an exec: migration helper does not outlive it.
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if not self._log.closed:
            self._log.close()
        try:
            os.unlink(self.sock_path)
        except OSError:
            pass


def wait_migration(qmp, timeout, poll=0.05, on_poll=None):
    """Poll query-migrate until 'completed' or 'failed'; return the last info.

    on_poll(info, elapsed) is called on every poll while the migration is
    in progress (used to change parameters mid-migration).  Raises
    MigrationTimeout on timeout.
    """
    start = time.monotonic()
    info = {}
    while True:
        info = qmp.execute('query-migrate')
        status = info.get('status')
        if status in ('completed', 'failed', 'cancelled'):
            return info
        elapsed = time.monotonic() - start
        if elapsed > timeout:
            raise MigrationTimeout('migration did not finish in %.0f s '
                                   '(status %r)' % (timeout, status))
        if on_poll is not None:
            on_poll(info, elapsed)
        time.sleep(poll)


def find_binary(name):
    """Full path of a QEMU binary, or None if it is not installed."""
    if os.sep in name:
        return name if os.access(name, os.X_OK) else None
    return shutil.which(name)


def qemu_version(binary):
    """First line of `BINARY --version`, e.g. 'QEMU emulator version 7.2.22 (...)'."""
    out = subprocess.run([binary, '--version'], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, timeout=30, check=False)
    return out.stdout.decode('utf-8', 'replace').splitlines()[0].strip()
