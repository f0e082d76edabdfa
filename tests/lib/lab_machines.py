"""What the Molecule scenarios on lab machines share (machines, trixie, evpn): a real reboot,
waited for until the machine is back with a given unit active."""

import time

BOOT_ID = 'cat /proc/sys/kernel/random/boot_id'


def reboot(host, reconnect, ready_unit, timeout=90):
    """Reboot the lab machine of Testinfra ``host`` for real; returns a new connection to it
    (``reconnect()``) once it booted again and ``ready_unit`` is active."""
    boot_id = host.check_output(BOOT_ID)
    host.run('systemd-run --on-active=1 systemctl reboot')     # the SSH session ends first
    deadline = time.time() + timeout
    while time.time() < deadline:
        time.sleep(1)
        try:
            probe = reconnect()
            if probe.run(BOOT_ID).stdout.strip() not in ('', boot_id) and \
                    probe.run('systemctl is-active %s' % ready_unit).stdout.strip() == 'active':
                break
        except Exception:       # noqa: BLE001 - the machine is down for a moment
            continue
    host = reconnect()
    assert host.check_output(BOOT_ID) != boot_id, 'the machine did not reboot within %d s' % timeout
    return host
