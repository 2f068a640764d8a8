#!/bin/sh
# Regenerate the built-in descriptor tables (src/desc/tables-qemu-7.2-x86.json)
# from the committed QEMU 7.2 x86 fixtures that carry a vmdesc.
#   tests/qemu/make-tables.sh MIGCONV_BINARY
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
s=$top/tests/fixtures/streams
exec "${1:?migconv binary}" tables -f -o "$top/src/desc/tables-qemu-7.2-x86.json" \
    "$s/pc-bare.mig" "$s/q35-bare.mig" "$s/q35-devices.mig" "$s/pc-ran.mig" \
    "$s/pc-kvm.mig" "$s/pc-1.4.mig" "$s/pc-2.3.mig" "$s/pc-loader.mig" \
    "$s/pc-xbzrle.mig" "$s/pc-compress.mig" "$s/pc-postcopy.mig" \
    "$s/q35-ignore-shared.mig"
