# Helpers for the libvirt tests: start virtlogd and libvirtd when none runs
# (no systemd here), switch save_image_format in qemu.conf, and stop only
# what was started.  Sourced by test_libvirt.sh.
QEMU_CONF=/etc/libvirt/qemu.conf
LV_STARTED_LOGD=
LV_STARTED_D=
LV_CONF_BACKUP=

lv_can_run() {
    command -v virsh >/dev/null && command -v libvirtd >/dev/null &&
        command -v virtlogd >/dev/null && [ "$(id -u)" = 0 ] && [ -w "$QEMU_CONF" ]
}

lv_start() {
    if ! pgrep --ns $$ -x virtlogd >/dev/null; then
        virtlogd -d 9>&- && LV_STARTED_LOGD=1
    fi
    # 9>&-: the daemons must not inherit the test's lock, or one left
    # behind by a killed run would hold it for ever
    libvirtd -d 9>&-
    LV_STARTED_D=1
    for _ in $(seq 100); do
        virsh -q version >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "libvirtd did not come up" >&2
    return 1
}

lv_stop_daemon() {
    local pid
    pid=$(pgrep --ns $$ -x libvirtd || true)
    [ -n "$pid" ] || return 0
    kill $pid
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
}

# libvirtd reads save_image_format at start: set it and restart.
lv_set_format() {
    [ -n "$LV_CONF_BACKUP" ] || { LV_CONF_BACKUP=$(mktemp); cp -p "$QEMU_CONF" "$LV_CONF_BACKUP"; }
    cp -p "$LV_CONF_BACKUP" "$QEMU_CONF"
    echo "save_image_format = \"$1\"" >> "$QEMU_CONF"
    lv_stop_daemon
    lv_start
}

lv_cleanup() {
    virsh -q destroy mc-tiny >/dev/null 2>&1 || true
    virsh -q managedsave-remove mc-tiny >/dev/null 2>&1 || true
    virsh -q undefine mc-tiny >/dev/null 2>&1 || true
    [ -z "$LV_STARTED_D" ] || lv_stop_daemon
    if [ -n "$LV_CONF_BACKUP" ]; then
        cp -p "$LV_CONF_BACKUP" "$QEMU_CONF"
        rm -f "$LV_CONF_BACKUP"
    fi
    if [ -n "$LV_STARTED_LOGD" ]; then
        pid=$(pgrep --ns $$ -x virtlogd || true)
        [ -z "$pid" ] || kill "$pid"
    fi
}

lv_domain_xml() {
    cat <<XML
<domain type='qemu'>
  <name>mc-tiny</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
XML
}

lv_wait_state() {
    for _ in $(seq 100); do
        [ "$(virsh -q domstate mc-tiny 2>/dev/null)" = "$1" ] && return 0
        sleep 0.1
    done
    echo "domain state is '$(virsh -q domstate mc-tiny 2>&1)', expected '$1'" >&2
    return 1
}
