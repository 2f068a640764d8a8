"""The table of real QEMU migration-stream fixtures.

Each entry says how make-fixtures.py produces NAME.mig with a real QEMU and
how accept.py starts a destination QEMU that must load it back:

  * the QEMU binary and its command line (machine, memory, devices ...);
  * migration capabilities and parameters to set on the source;
  * what to do before `migrate` (e.g. let the guest run for a while) and
    while the migration runs (e.g. lift a bandwidth throttle);
  * how the stream is written (`exec:cat > FILE`, or the postcopy sink);
  * a check on the final query-migrate answer (the stream must really
    contain what the fixture is for);
  * the capabilities/parameters the DESTINATION needs to accept it.

Files that appear on a command line (loader blob, boot disk, RAM backing
file) are generated here, deterministically (fixed seeds, fixed text), into
a work directory, so the same command line can be rebuilt anywhere.
"""

import fcntl
import os
import random
import string
import subprocess
from dataclasses import dataclass, field

X86 = 'qemu-system-x86_64'

# Enough to never be the bottleneck (QEMU 7.2's default is 128 MiB/s).
FAST_BANDWIDTH = 8 << 30

FIXED_UUID = '6d69676e-6f63-4000-8000-000000000001'


# ---------------------------------------------------------------------------
# Generated files
# ---------------------------------------------------------------------------

_WORDS = ('migration stream section device state vmstate field subsection '
          'version instance page block ram zero compressed xbzrle footer '
          'header magic configuration machine the a of to and in is for '
          'with that by on from qemu guest host memory register timer '
          'queue buffer descriptor ring virtio bus slot irq').split()


def _text_like(rng, size):
    """Deterministic English-ish text (compresses well, not all zero)."""
    out = []
    total = 0
    line_no = 0
    while total < size:
        line_no += 1
        words = [rng.choice(_WORDS) for _ in range(rng.randint(4, 14))]
        line = '%06d: %s.\n' % (line_no, ' '.join(words).capitalize())
        out.append(line)
        total += len(line)
    return ''.join(out).encode('ascii')[:size]


def make_loader_blob(path):
    """1 MiB blob for `-device loader`: random, text-like and zero parts.

    Random pages are incompressible PAGE records, text pages compress well
    (COMPRESS_PAGE / zlib), zero pages stay ZERO records.
    """
    rng = random.Random(0x6D6967)          # fixed seed: same bytes everywhere
    kib = 1024
    parts = [
        rng.randbytes(192 * kib),          # incompressible
        _text_like(rng, 512 * kib),        # compressible
        bytes(64 * kib),                   # zero pages inside the blob
        rng.randbytes(64 * kib),
        _text_like(rng, 192 * kib),
    ]
    data = b''.join(parts)
    assert len(data) == 1024 * kib
    _write(path, data)


# Boot sector for the xbzrle fixture, hand-assembled 16-bit real mode code.
# SeaBIOS loads it at 0:7C00 and jumps to it.  It rewrites 16 pages
# (0x10000..0x1FFFF) forever: 1 KiB at offset 0 and one word at 0x800 of
# each page get a counter that changes every round, so every dirty-bitmap
# sync finds those pages dirty again; from the third pass on they go out
# as XBZRLE records with two runs (about 1 KiB each, big enough that the
# bandwidth limit spaces the passes out).  Under TCG a store through a TLB
# entry that is already marked dirty does not re-mark the page after the
# migration bitmap sync cleared it; INVLPG before the stores drops the TLB
# entry, so the next store takes the slow path and dirties the page again.
_BOOT_CODE = bytes([
    0xFA,                               # 7C00 cli
    0xFC,                               # 7C01 cld
    0x31, 0xC0,                         # 7C02 xor  ax, ax
    0x8E, 0xD8,                         # 7C04 mov  ds, ax
    0x31, 0xD2,                         # 7C06 xor  dx, dx          ; counter
    0xBB, 0x00, 0x10,                   # 7C08 mov  bx, 0x1000      ; outer:
    0x8E, 0xC3,                         # 7C0B mov  es, bx          ; inner:
    0x26, 0x0F, 0x01, 0x3E, 0x00, 0x00,  # 7C0D invlpg [es:0x0000]
    0x89, 0xD0,                         # 7C13 mov  ax, dx
    0x31, 0xFF,                         # 7C15 xor  di, di
    0xB9, 0x00, 0x02,                   # 7C17 mov  cx, 0x0200      ; 512 words
    0xF3, 0xAB,                         # 7C1A rep  stosw           ; es:0..3FF
    0x26, 0x89, 0x16, 0x00, 0x08,       # 7C1C mov  [es:0x0800], dx
    0x81, 0xC3, 0x00, 0x01,             # 7C21 add  bx, 0x0100      ; +4 KiB
    0x81, 0xFB, 0x00, 0x20,             # 7C25 cmp  bx, 0x2000
    0x72, 0xE0,                         # 7C29 jb   inner (7C0B)
    0x81, 0xC2, 0x01, 0x01,             # 7C2B add  dx, 0x0101
    0xEB, 0xD7,                         # 7C2F jmp  outer (7C08)
])


def make_boot_disk(path):
    """64 KiB raw disk image whose first sector is the program above."""
    sector = bytearray(512)
    sector[:len(_BOOT_CODE)] = _BOOT_CODE
    sector[510:512] = b'\x55\xAA'          # boot signature
    _write(path, bytes(sector) + bytes(64 * 1024 - 512))


def make_shared_ram(path):
    """Empty (sparse) 64 MiB file backing guest RAM for x-ignore-shared."""
    with open(path, 'wb') as f:
        f.truncate(64 << 20)


def make_block_disk(path):
    """3.5 MiB raw disk for block migration: data in its second MiB only.

    Block migration sends the disk in 1 MiB chunks (the last one shorter);
    with the zero-blocks capability the all-zero chunks go out as
    ZERO_BLOCK records without data, so only the second chunk carries its
    1 MiB (32 KiB random, 96 KiB of text, the rest zero).  Random bytes
    come first: dumpasn1 takes data that starts with text for a string and
    then reports the random bytes after it as an error.
    """
    rng = random.Random(0x626C6B)          # fixed seed: same bytes everywhere
    mib = 1 << 20
    chunk = rng.randbytes(32 << 10) + _text_like(rng, 96 << 10)
    data = b''.join([bytes(mib), chunk, bytes(mib - len(chunk)), bytes(mib),
                     bytes(mib // 2)])
    _write(path, data)


def make_bitmap_disk(path):
    """8 MiB qcow2 image for dirty bitmaps, made by qemu-img.

    preallocation=metadata: every cluster is allocated, so the zero writes
    that dirty the bitmaps (see pc-dirty-bitmap) leave the file unchanged.
    """
    tmp = path + '.tmp'
    if os.path.exists(tmp):
        os.unlink(tmp)
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2',
                    '-o', 'preallocation=metadata', tmp, '8M'],
                   check=True, stdin=subprocess.DEVNULL)
    os.replace(tmp, path)


def _write(path, data):
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(data)
    os.replace(tmp, path)


# placeholder name -> (file name in the work dir, generator)
GENERATED_FILES = {
    'loader_blob': ('loader-blob.bin', make_loader_blob),
    'boot_disk': ('xbzrle-boot.img', make_boot_disk),
    'shared_ram': ('shared-ram.bin', make_shared_ram),
    'block_disk': ('block-disk.img', make_block_disk),
    'bitmap_disk': ('bitmap-disk.qcow2', make_bitmap_disk),
}


# ---------------------------------------------------------------------------
# Checks on the final query-migrate answer of the source
# ---------------------------------------------------------------------------

def check_xbzrle_pages(info):
    pages = info.get('xbzrle-cache', {}).get('pages', 0)
    if pages <= 0:
        return 'no page was sent as XBZRLE (xbzrle-cache pages = %r)' % pages
    return None


def check_compressed_pages(info):
    pages = info.get('compression', {}).get('pages', 0)
    if pages <= 0:
        return 'no page was sent compressed (compression pages = %r)' % pages
    return None


def check_normal_pages(info):
    pages = info.get('ram', {}).get('normal', 0)
    if pages < 256:
        return 'expected the loader blob as normal pages, got %r' % pages
    return None


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Trigger:
    """A QMP command sent once while the migration runs.

    It fires at the first query-migrate poll at least `after` seconds into
    the migration for which when(info) (if given) is true.
    """
    after: float
    command: str
    arguments: dict
    when: object = None

    def ready(self, info, elapsed):
        return elapsed >= self.after and (self.when is None or self.when(info))


def xbzrle_pages_at_least(n):
    def cond(info):
        return info.get('xbzrle-cache', {}).get('pages', 0) >= n
    cond.description = 'xbzrle-cache pages >= %d' % n
    return cond


@dataclass(frozen=True)
class Fixture:
    name: str
    description: str
    machine: str                        # -machine value
    binary: str = X86
    memory: int = 32                    # -m, MiB
    smp: int = 1
    accel: str = 'tcg'
    args: tuple = ()                    # more arguments; {placeholders}
    caps: dict = field(default_factory=dict)     # source capabilities
    params: dict = field(default_factory=dict)   # source parameters
    # steps before `migrate`: ('cont',), ('sleep', S), ('qmp', CMD, ARGS),
    # ('wait-guest-writes', ADDR, TIMEOUT): until the guest changes ADDR
    before: tuple = ()
    during: tuple = ()                  # Trigger entries
    throttled: bool = False             # do not raise max-bandwidth
    sink: str = 'cat'                   # 'cat' or 'postcopy' (see postcopy_sink.py)
    check: object = None                # f(query-migrate info) -> error or None
    dest_caps: dict = field(default_factory=dict)
    dest_params: dict = field(default_factory=dict)
    needs_kvm: bool = False
    timeout: float = 60.0               # migration timeout, seconds
    migrate_args: dict = field(default_factory=dict)  # more `migrate` arguments


RAN = (('cont',), ('sleep', 1.0))

LOADER = ('-device', 'loader,file={loader_blob},addr=0x100000,force-raw=on')

Q35_DEVICES = (
    # NICs: romfile= keeps their iPXE option ROMs (~200 KiB each) out of RAM
    '-netdev', 'user,id=n0',
    '-device', 'virtio-net-pci,netdev=n0,romfile=',
    '-netdev', 'user,id=n1',
    '-device', 'e1000,netdev=n1,romfile=',
    '-netdev', 'user,id=n2',
    '-device', 'e1000e,netdev=n2,romfile=',
    '-device', 'ahci,id=ahci0',
    '-device', 'ide-cd,bus=ahci0.0',                 # empty CD drive
    '-device', 'qemu-xhci,id=xhci0',
    '-device', 'usb-tablet,bus=xhci0.0',
    '-device', 'virtio-serial-pci',
    '-device', 'virtio-balloon-pci',
    '-device', 'virtio-scsi-pci',
    '-audiodev', 'none,id=snd0',
    '-device', 'intel-hda',
    '-device', 'hda-duplex,audiodev=snd0',
    # small video memory: 64+64+16 MiB by default, all of it in the stream
    '-device', 'qxl-vga,ram_size_mb=4,vram_size_mb=4,vgamem_mb=4',
    '-chardev', 'null,id=ser0',
    '-device', 'isa-serial,chardev=ser0',
)

VIRTIO_RAN = (
    '-device', 'virtio-scsi-pci',
    '-netdev', 'user,id=n0',
    '-device', 'virtio-net-pci,netdev=n0,romfile=',
)

FIXTURES = [
    Fixture('pc-bare', 'pc (i440fx 7.2), paused from the start',
            machine='pc'),
    Fixture('q35-bare', 'q35 (7.2), paused from the start',
            machine='q35'),
    Fixture('q35-devices', 'q35 with many PCI/USB/audio/video devices, 2 CPUs',
            machine='q35', memory=64, smp=2, args=Q35_DEVICES),
    Fixture('pc-ran', 'pc after SeaBIOS ran for 1 s',
            machine='pc', before=RAN),
    Fixture('pc-loader', 'pc with a 1 MiB blob in RAM at 1 MiB',
            machine='pc', args=LOADER, check=check_normal_pages),
    Fixture('pc-1.4', 'pc-i440fx-1.4: vmdesc, no footers, no configuration',
            machine='pc-i440fx-1.4'),
    Fixture('pc-2.0', 'pc-i440fx-2.0: no vmdesc, no footers, no configuration',
            machine='pc-i440fx-2.0'),
    Fixture('pc-2.3', 'pc-i440fx-2.3: vmdesc, no footers, no configuration',
            machine='pc-i440fx-2.3'),
    Fixture('pc-suppress', 'pc with suppress-vmdesc=on: footers, no vmdesc',
            machine='pc,suppress-vmdesc=on', before=RAN),
    Fixture('q35-devices-suppress',
            'q35-devices with suppress-vmdesc=on: many devices, no vmdesc',
            machine='q35,suppress-vmdesc=on', memory=64, smp=2,
            args=Q35_DEVICES),
    # SeaBIOS drives virtio-blk for booting: its queue has ring addresses
    # and requests done, the device status DRIVER_OK, virtio/started
    Fixture('q35-virtio-ran',
            'q35 with virtio-blk, -scsi and -net after SeaBIOS ran 1 s',
            machine='q35', memory=64, smp=2,
            args=('-blockdev', 'driver=null-co,node-name=disk0,size=1048576,'
                               'read-zeroes=on',
                  '-device', 'virtio-blk-pci,drive=disk0') + VIRTIO_RAN,
            before=RAN),
    # the same devices as q35-devices, after SeaBIOS ran, without a vmdesc:
    # virtio-net has a virtio/disabled subsection q35-devices lacks, so the
    # size of its virtio field comes from its bytes, not from the tables
    Fixture('q35-virtio-ran-suppress',
            'q35 with the virtio devices of q35-devices after SeaBIOS ran 1 s, '
            'no vmdesc',
            machine='q35,suppress-vmdesc=on', memory=64, smp=2,
            args=VIRTIO_RAN + ('-device', 'virtio-serial-pci',
                               '-device', 'virtio-balloon-pci'),
            before=RAN),
    Fixture('q35-ignore-shared',
            'q35 with RAM in a shared file: x-ignore-shared + validate-uuid',
            machine='q35,memory-backend=mem0', memory=64,
            args=('-object', 'memory-backend-file,id=mem0,size=64M,'
                             'mem-path={shared_ram},share=on',
                  '-uuid', FIXED_UUID),
            caps={'x-ignore-shared': True, 'validate-uuid': True},
            dest_caps={'x-ignore-shared': True, 'validate-uuid': True}),
    Fixture('pc-xbzrle',
            'pc, guest rewriting 16 pages; throttled so pages are re-sent '
            'as XBZRLE, then released to converge',
            machine='pc', args=('-drive', 'file={boot_disk},format=raw,if=ide'),
            caps={'xbzrle': True},
            # 1 MiB/s and 1 ms downtime: cannot converge while the guest
            # keeps dirtying its pages, so RAM is sent pass after pass
            params={'max-bandwidth': 1 << 20, 'downtime-limit': 1},
            throttled=True,
            # let SeaBIOS boot the program: wait until it rewrites 0x10800
            before=(('cont',), ('wait-guest-writes', 0x10800, 30.0)),
            # lift the throttle once ~8 passes over the 16 pages went out
            # as XBZRLE (waiting longer only adds near-identical passes)
            during=(Trigger(0.0, 'migrate-set-parameters',
                            {'max-bandwidth': FAST_BANDWIDTH,
                             'downtime-limit': 2000},
                            when=xbzrle_pages_at_least(128)),),
            # (the destination decodes XBZRLE pages without the capability)
            check=check_xbzrle_pages),
    Fixture('pc-compress', 'pc with the loader blob, compress (1 thread, level 1)',
            machine='pc', args=LOADER,
            caps={'compress': True},
            params={'compress-threads': 1, 'compress-level': 1},
            check=check_compressed_pages,
            dest_caps={'compress': True}),
    Fixture('pc-postcopy',
            'pc with postcopy-ram enabled, finished as precopy '
            '(return path answered by postcopy_sink.py)',
            machine='pc', caps={'postcopy-ram': True}, sink='postcopy',
            dest_caps={'postcopy-ram': True}),
    # arch-capabilities=off: on AMD hosts under some hypervisors KVM lists
    # MSR_IA32_ARCH_CAPABILITIES (0x10a) for -cpu host but refuses to set it,
    # and QEMU 7.2 aborts at the first CPU reset ("failed to set MSR 0x10a").
    # Turning the feature off avoids that write on every host.  The stream
    # holds host-specific CPU state: load it back on a similar host.
    Fixture('pc-kvm', 'pc under KVM with -cpu host, ran 1 s',
            machine='pc', accel='kvm',
            args=('-cpu', 'host,arch-capabilities=off'), before=RAN,
            needs_kvm=True),
]

BY_NAME = {fx.name: fx for fx in FIXTURES}


# ---------------------------------------------------------------------------
# Command lines
# ---------------------------------------------------------------------------

def _placeholders(arg):
    return [name for _, name, _, _ in string.Formatter().parse(arg) if name]


def prepare_files(fx, workdir):
    """Generate the files FX's command line refers to; return name -> path."""
    paths = {}
    for arg in fx.args:
        for name in _placeholders(arg):
            if name not in GENERATED_FILES:
                raise KeyError('%s: unknown placeholder {%s}' % (fx.name, name))
            if name in paths:
                continue
            fname, generate = GENERATED_FILES[name]
            path = os.path.join(os.path.abspath(workdir), fname)
            generate(path)
            paths[name] = path
    return paths


def command_line(fx, workdir, incoming=False):
    """QEMU arguments (without the binary and -qmp) for FX.

    The guest starts paused (-S); with incoming=True `-incoming defer` is
    added so the destination waits for migrate-incoming.
    """
    os.makedirs(workdir, exist_ok=True)
    # QEMU option values separate sub-options with ',': a literal comma in a
    # path is written ',,'
    paths = {k: v.replace(',', ',,')
             for k, v in prepare_files(fx, workdir).items()}
    argv = ['-nodefaults', '-display', 'none', '-S',
            '-accel', fx.accel,
            '-machine', fx.machine,
            '-m', str(fx.memory),
            '-smp', str(fx.smp)]
    argv += [arg.format(**paths) for arg in fx.args]
    if incoming:
        argv += ['-incoming', 'defer']
    return argv


def generated_file_names(fx):
    """Names (in the work dir) of the files FX's command line uses."""
    names = []
    for arg in fx.args:
        for ph in _placeholders(arg):
            fname = GENERATED_FILES[ph][0]
            if fname not in names:
                names.append(fname)
    return names


def kvm_usable():
    """True when /dev/kvm can be opened and answers KVM_GET_API_VERSION."""
    try:
        fd = os.open('/dev/kvm', os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        KVM_GET_API_VERSION = 0xAE00
        return fcntl.ioctl(fd, KVM_GET_API_VERSION) == 12
    except OSError:
        return False
    finally:
        os.close(fd)


def skip_reason(fx):
    """Why FX cannot be run on this machine, or None."""
    from qmp import find_binary        # local import: keep this module standalone
    if find_binary(fx.binary) is None:
        return '%s not found' % fx.binary
    if fx.needs_kvm and not kvm_usable():
        return '/dev/kvm is not usable'
    return None


# ---------------------------------------------------------------------------
# Live sections other than RAM (x86 pc): block migration, dirty bitmaps, and
# a postcopy migration that really switched to postcopy.
# ---------------------------------------------------------------------------

def check_postcopy_switched(info):
    """The migration must have run in postcopy mode for a while."""
    ram = info.get('ram', {})
    if ram.get('postcopy-bytes', 0) <= 0:
        return ('the migration never switched to postcopy (ram postcopy-bytes '
                '= %r)' % ram.get('postcopy-bytes'))
    return None


# Zero writes through HMP qemu-io: they dirty the bitmaps that record
# writes without changing the (metadata-preallocated) image.
def _qemu_io(cmd):
    return ('qmp', 'human-monitor-command',
            {'command-line': 'qemu-io disk0 "%s"' % cmd})


FIXTURES += [
    # blk: true with zero-blocks: 3 all-zero chunks go out as ZERO_BLOCK
    # records, the one with data as a 1 MiB DEVICE_BLOCK, with PROGRESS
    # records between.  Throttled (2 MiB/s) so that the iterations are
    # spaced by the rate limit instead of spinning out thousands of
    # near-empty PARTs.  The destination takes the data into its own copy
    # of the same drive (blk_by_name("disk0")), so it must be attached.
    Fixture('pc-block',
            'pc, paused, block migration (blk: true, zero-blocks) of a '
            '3.5 MiB raw drive with 1 MiB of data',
            machine='pc',
            # a guest device: the destination writes through the drive's
            # BlockBackend, which has no write permission without one
            args=('-drive', 'file={block_disk},format=raw,if=none,id=disk0',
                  '-device', 'ide-hd,drive=disk0,bus=ide.0'),
            caps={'zero-blocks': True},
            params={'max-bandwidth': 2 << 20},
            throttled=True,
            migrate_args={'blk': True}),
    # Two bitmaps on the qcow2 node of drive disk0: bitmap0 (granularity
    # 512, persistent, recording) sees writes in its first 4 MiB, so its
    # END holds one BITS chunk with data and one with ZEROES; bitmap1
    # (64 KiB, disabled, added after the writes) is all ZEROES.  The first
    # START record names node and bitmap, the second only the bitmap.  With
    # the guest paused an iteration can add a dirty-bitmap PART holding
    # only EOS (dirty_bitmap_is_active_iterate), unless the rate limit
    # stops the iteration at RAM; the throttle keeps iterations few.  The
    # destination needs dirty-bitmaps and a drive disk0.
    Fixture('pc-dirty-bitmap',
            'pc, paused, dirty-bitmaps capability with two bitmaps on a '
            'qcow2 drive (one dirtied by writes, one disabled)',
            machine='pc',
            args=('-drive', 'file={bitmap_disk},format=qcow2,if=none,id=disk0'),
            caps={'dirty-bitmaps': True},
            params={'max-bandwidth': 1 << 20},
            throttled=True,
            before=(('qmp', 'block-dirty-bitmap-add',
                     {'node': 'disk0', 'name': 'bitmap0', 'granularity': 512,
                      'persistent': True}),
                    _qemu_io('write -P 0 0 64k'),
                    _qemu_io('write -P 0 3m 4k'),
                    ('qmp', 'block-dirty-bitmap-add',
                     {'node': 'disk0', 'name': 'bitmap1',
                      'granularity': 65536, 'disabled': True})),
            dest_caps={'dirty-bitmaps': True}),
    # postcopy-ram, throttled to 256 KiB/s so the first RAM pass is not
    # done when migrate-start-postcopy arrives: the stream then has
    # POSTCOPY_RAM_DISCARD commands for the pages not sent yet, a PACKAGED
    # command holding LISTEN, the device sections, PING and RUN, the rest
    # of RAM after the package (postcopy is not rate limited), and no
    # vmdesc.  postcopy_sink.py answers the return path (it sends SHUT when
    # the source has been idle for 3 s, since there is no vmdesc to wait for).
    Fixture('pc-postcopy-switched',
            'pc, paused, postcopy-ram; throttled, then migrate-start-postcopy '
            'while the first RAM pass runs',
            machine='pc',
            caps={'postcopy-ram': True},
            params={'max-bandwidth': 256 << 10},
            throttled=True,
            during=(Trigger(0.3, 'migrate-start-postcopy', {}),),
            sink='postcopy',
            check=check_postcopy_switched,
            dest_caps={'postcopy-ram': True}),
]

BY_NAME = {fx.name: fx for fx in FIXTURES}


# ---------------------------------------------------------------------------
# Other architectures (Debian's qemu-system-arm, -ppc and -misc; see
# .ci/deps).  Small guests, each showing what is particular to its target:
# a configuration with target-page-bits (aarch64), the live spapr/htab
# section (ppc64), s390-storage_attributes, the old-style s390-skeys and a
# vmdesc that mis-describes s390_css (s390x), machines without PCI (riscv64
# virt with virtio-mmio, x86 microvm).
# ---------------------------------------------------------------------------

AARCH64 = 'qemu-system-aarch64'
PPC64 = 'qemu-system-ppc64'
S390X = 'qemu-system-s390x'
RISCV64 = 'qemu-system-riscv64'


def _ppc_li(rd, imm):                  # addi rd,0,imm
    return (14 << 26) | (rd << 21) | (imm & 0xFFFF)


def _ppc_lis(rd, imm):                 # addis rd,0,imm
    return (15 << 26) | (rd << 21) | (imm & 0xFFFF)


def _ppc_ori(ra, rs, imm):
    return (24 << 26) | (rs << 21) | (ra << 16) | (imm & 0xFFFF)


_PPC_SC1 = 0x44000022                  # sc 1: hypercall (r3 = number)


def _ppc_h_enter(ptex, pteh, rpn_hi):
    """H_ENTER(flags 0, ptex, pteh, ptel): a valid 4 KiB HPTE in ptex's group.

    ptel = RPN | R | C | M (WIMG=0010, as h_enter demands for RAM) | PP 2.
    """
    return [_ppc_li(3, 0x08), _ppc_li(4, 0), _ppc_li(5, ptex),
            _ppc_li(6, pteh), _ppc_lis(7, rpn_hi), _ppc_ori(7, 7, 0x0192),
            _PPC_SC1]


def make_ppc64_firmware(path):
    """Tiny pseries firmware (-bios) that fills the hash page table.

    spapr starts the CPU at 0x100 in real mode, without SLOF (whose ~1 MB
    image would be in the stream).  The program enters three HPTEs (two
    adjacent at 0x20, one at 0x400: two chunks in the first pass), then
    enters and removes one at 0x800 forever, so the final pass finds it
    dirty (a chunk of one valid or one invalid HPTE).
    """
    code = []
    code += _ppc_h_enter(0x20, 0x1081, 0x10)
    code += _ppc_h_enter(0x20, 0x1101, 0x11)
    code += _ppc_h_enter(0x400, 0x1181, 0x12)
    loop = len(code)
    code += _ppc_h_enter(0x800, 0x1201, 0x13)
    # H_REMOVE(flags 0, ptex 0x800, avpn 0)
    code += [_ppc_li(3, 0x04), _ppc_li(4, 0), _ppc_li(5, 0x800),
             _ppc_li(6, 0), _PPC_SC1]
    code.append(0x48000000 | (((loop - len(code)) * 4) & 0x03FFFFFC))  # b loop
    image = bytes(0x100) + b''.join(w.to_bytes(4, 'big') for w in code)
    _write(path, image + bytes(-len(image) % 0x100))


def make_s390x_kernel(path):
    """Raw s390x "kernel" (-kernel) that sets a storage key on every page.

    QEMU loads a non-ELF kernel at 0 and starts it at the address of the
    short IPL PSW at offset 0 (here 0x2000, after the lowcore), in 64-bit
    mode with DAT off.  SSKE makes TCG enable storage keys, so s390-skeys
    carries a range of 8192 keys instead of EOS alone.
    """
    image = bytearray(0x2000)
    image[0:8] = bytes.fromhex('0008000080002000')   # short PSW -> 0x2000
    image += bytes.fromhex(
        'a7190006'        # 2000 lghi %r1,0x06     key: R and C set
        'a7290000'        # 2004 lghi %r2,0        page address
        'b22b0012'        # 2008 sske %r1,%r2
        'a71b0010'        # 200c aghi %r1,0x10     next access key
        'a72b1000'        # 2010 aghi %r2,4096
        'c22c02000000'    # 2014 cgfi %r2,32 MiB
        'a744fff7'        # 201a jl   2008
        'a7f40000')       # 201e j    .            spin
    _write(path, bytes(image) + bytes(-len(image) % 0x100))


GENERATED_FILES.update({
    'ppc64_firmware': ('ppc64-firmware.bin', make_ppc64_firmware),
    's390x_kernel': ('s390x-kernel.bin', make_s390x_kernel),
})

SHORT_RUN = (('cont',), ('sleep', 0.5))

FIXTURES += [
    Fixture('aarch64-virt', 'aarch64 virt (7.2), cortex-a57, paused: '
            'configuration with target-page-bits',
            machine='virt', binary=AARCH64,
            args=('-cpu', 'cortex-a57')),
    # pseries RAM comes in multiples of 256 MiB and the RMA must be at
    # least 80 MiB.  The PHB's default 1 GiB DMA window would add a 2 MiB
    # TCE table to the stream, 16 MiB adds 32 KiB.
    Fixture('ppc64-pseries',
            'ppc64 pseries (7.2) with a tiny firmware that fills the hash '
            'page table: spapr/htab chunks',
            machine='pseries', binary=PPC64, memory=256,
            args=('-bios', '{ppc64_firmware}',
                  '-global', 'spapr-pci-host-bridge.dma_win_size=0x1000000'),
            before=SHORT_RUN),
    Fixture('s390x-ccw',
            's390x s390-ccw-virtio (7.2), a tiny kernel set storage keys: '
            's390-skeys range, storage attributes, css',
            machine='s390-ccw-virtio', binary=S390X,
            args=('-kernel', '{s390x_kernel}'),
            before=SHORT_RUN),
    Fixture('riscv64-virt', 'riscv64 virt (7.2), paused',
            machine='virt', binary=RISCV64),
    Fixture('x86-microvm', 'x86 microvm with a virtio-mmio device, paused',
            machine='microvm',
            args=('-device', 'virtio-rng-device')),
]

BY_NAME = {fx.name: fx for fx in FIXTURES}


# ---------------------------------------------------------------------------
# Other QEMU versions: the same VMs saved by QEMU 5.2, 7.2, 10.0 and 11.1
# (Debian bullseye, bookworm, trixie, sid; tests/qemu/roots.sh makes the
# chroots).  make-fixtures.py --qemu-version V makes VERSIONED[V] into
# tests/fixtures/qemu-V.  The machine types pc-i440fx-5.2 and pc-q35-5.2
# exist in every one of them, so each stream can be offered to each other
# version with the same command line.  QEMU 10.0 and 11.1 there have no
# qxl-vga: the device set uses VGA.  The *-suppress fixtures are the
# streams without a vmdesc that the built-in tables of each version must
# parse; the others are what those tables are generated from.  About 6 MB
# per version.
# ---------------------------------------------------------------------------

Q35_52_DEVICES = tuple('VGA,vgamem_mb=4' if a.startswith('qxl-vga') else a
                       for a in Q35_DEVICES)


def _suppressed(fx):
    """FX with suppress-vmdesc=on: the same stream without its vmdesc."""
    from dataclasses import replace
    return replace(fx, name=fx.name + '-suppress',
                   description=fx.description + '; suppress-vmdesc=on (no vmdesc)',
                   machine=fx.machine + ',suppress-vmdesc=on')


_Q35_52 = Fixture('q35-5.2-devices',
                  'pc-q35-5.2 with virtio-net, e1000, e1000e (-netdev user), '
                  'ahci, xhci, virtio-serial/balloon/scsi, intel-hda, VGA, '
                  '2 CPUs; guest ran 1 s',
                  machine='pc-q35-5.2', memory=64, smp=2, args=Q35_52_DEVICES,
                  before=RAN)
_PC_52 = Fixture('pc-5.2-bare', 'pc-i440fx-5.2, paused from the start',
                 machine='pc-i440fx-5.2')
_PC_52_RAN = Fixture('pc-5.2-ran', 'pc-i440fx-5.2 after SeaBIOS ran for 1 s',
                     machine='pc-i440fx-5.2', before=RAN)
_TARGETS = [BY_NAME[n] for n in ('aarch64-virt', 'ppc64-pseries', 's390x-ccw',
                                 'riscv64-virt', 'x86-microvm')]

VERSION_FIXTURES = [_Q35_52, _suppressed(_Q35_52), _PC_52,
                    _suppressed(_PC_52_RAN)]
# QEMU 7.2 only (compress and block migration are gone since 9.1): the
# streams retarget must turn into something newer QEMUs load.
VERSION_FIXTURES += [
    Fixture('pc-5.2-compress',
            'pc-i440fx-5.2 with the loader blob, compress (1 thread, level 1)',
            machine='pc-i440fx-5.2', args=LOADER,
            caps={'compress': True},
            params={'compress-threads': 1, 'compress-level': 1},
            check=check_compressed_pages,
            dest_caps={'compress': True}),
    Fixture('pc-5.2-block',
            'pc-i440fx-5.2, paused, block migration (blk: true, zero-blocks)',
            machine='pc-i440fx-5.2',
            args=BY_NAME['pc-block'].args,
            caps={'zero-blocks': True},
            params={'max-bandwidth': 2 << 20},
            throttled=True,
            migrate_args={'blk': True}),
]
# Destinations only (never made): what a retargeted stream is loaded into.
VERSION_FIXTURES += [
    Fixture('pc-5.2-loader',
            'pc-i440fx-5.2 with the loader blob, no capabilities: the '
            'destination of pc-5.2-compress after retarget',
            machine='pc-i440fx-5.2', args=LOADER),
]
# Every version: virtio devices on the s390x channel subsystem, whose
# virtio field holds virtio-ccw's transport state (read/virtio.c)
VERSION_FIXTURES += [
    Fixture('s390x-ccw-virtio',
            's390x s390-ccw-virtio-5.2 (which every version has) with '
            'virtio-balloon-ccw and virtio-rng-ccw, paused',
            machine='s390-ccw-virtio-5.2', binary=S390X,
            args=('-device', 'virtio-balloon-ccw', '-device', 'virtio-rng-ccw')),
]
# (not in FIXTURES: make-fixtures.py without --qemu-version makes only the
# QEMU 7.2 set of tests/fixtures/streams)
BY_NAME.update({fx.name: fx for fx in VERSION_FIXTURES})

_COMMON = ['q35-5.2-devices', 'q35-5.2-devices-suppress', 'pc-5.2-bare',
           'pc-5.2-ran-suppress']
# (their streams without a vmdesc are these with the vmdesc cut off: the
# tests make them, which keeps the committed set small)
_TARGET_NAMES = [fx.name for fx in _TARGETS]
# version -> fixture names made for it (7.2's other fixtures are in streams/)
VERSIONED = {
    '5.2': _COMMON + _TARGET_NAMES + ['s390x-ccw-virtio'],
    '7.2': _COMMON + ['pc-5.2-compress', 'pc-5.2-block', 's390x-ccw-virtio'],
    '10.0': _COMMON + _TARGET_NAMES + ['s390x-ccw-virtio'],
    '11.1': _COMMON + _TARGET_NAMES + ['s390x-ccw-virtio'],
}
