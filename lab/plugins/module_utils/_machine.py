# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lab machines: lab hosts that are real Debian systems, for what namespace hosts cannot show
(a reboot, systemd units, packages, files of their own).

A machine is a systemd-nspawn container booted from a Debian image built once (``make
lab-image``, debootstrap) and shared read-only, under an overlay whose upper layer is the host's
own and survives its reboots. Its supervisor - a shell tagged like every lab process - runs in
the underlay switch's network namespace and in a mount namespace of its own (where the overlay
is mounted, so the machine's mount table never sees it), and starts systemd-nspawn again
whenever the machine reboots (exit status 133). ``--private-network --network-veth
--network-bridge=br0`` gives every boot a fresh network namespace whose ``host0`` is a port of
the switch; a unit in the upper layer puts the host's underlay address on it. Nothing runs in,
or is added to, the machine's own namespaces but the supervisor's process itself.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import signal
import subprocess
import time

from ansible_collections.netplumb.container.plugins.module_utils._errors import InvalidInput, KernelError

# the Makefile's lab images, by Debian release
IMAGES = {'bookworm': '/var/cache/netplumb-lab/debian-12-frr', 'trixie': '/var/cache/netplumb-lab/debian-13-frr'}
IMAGE = IMAGES['bookworm']
READY = '.netplumb-lab-image'      # written last by the image build: a half-built image is not used
REBOOT = 133                       # systemd-nspawn's exit status when the machine reboots

_SUPERVISE = r'''
set -u
mount -t overlay netplumb-machine -o "lowerdir=$1,upperdir=$2/upper,workdir=$2/work" "$2/root"
while :; do
  systemd-nspawn --quiet --directory="$2/root" --machine="$3" --hostname="$3" --register=no --keep-unit \
    --private-network --network-veth --network-bridge=br0 --capability=all --console=pipe --boot \
    </dev/null >>"$2/console.log" 2>&1
  status=$?
  [ "$status" -eq 133 ] || exit "$status"
done
'''

UNDERLAY_UNIT = '''# netplumb lab: the host's underlay address on host0, the port of the lab's switch
[Unit]
Description=netplumb lab underlay address
DefaultDependencies=no
Before=network-pre.target sshd.service ssh.service
Wants=network-pre.target

[Service]
Type=oneshot
RemainAfterExit=yes
EnvironmentFile=/etc/netplumb-lab/underlay
ExecStart=/usr/sbin/ip link set host0 name eth0
ExecStart=/usr/sbin/ip addr add ${ADDRESS} dev eth0
ExecStart=/usr/sbin/ip link set eth0 up
ExecStart=/bin/sh -c 'test -z "${GATEWAY}" || ip route add default via ${GATEWAY}'

[Install]
WantedBy=sysinit.target
'''


def image_ready(image=IMAGE):
    return os.path.exists(os.path.join(image, READY))


def check_image(image=IMAGE):
    if not image_ready(image):
        raise InvalidInput('kind machine: no lab image at %s - build it with "make lab-image" (debootstrap, once; '
                           '"make lab-image-trixie" for Debian 13)' % image)
    for tool in ('systemd-nspawn',):
        if not shutil.which(tool):
            raise InvalidInput('kind machine: %s is missing - install systemd-container' % tool)


def prepare(directory, name, address, gateway, authorized_key):
    """The host's upper layer before its first boot: hostname, root's SSH key, the underlay."""
    upper = os.path.join(directory, 'upper')
    for sub in ('upper', 'work', 'root'):
        os.makedirs(os.path.join(directory, sub), 0o755, exist_ok=True)
    files = {
        'etc/hostname': name + '\n',
        'etc/netplumb-lab/underlay': 'ADDRESS=%s\nGATEWAY=%s\n' % (address, gateway or ''),
        'etc/systemd/system/netplumb-lab-underlay.service': UNDERLAY_UNIT,
        'root/.ssh/authorized_keys': authorized_key,
        # Debian 13's systemd (257) under the machine's nspawn (Debian 12's 252) never hears that a
        # login session's scope or the root user manager emptied at shutdown, and waited their full
        # stop timeouts (90 s, 2 min) on every reboot, with nothing left to wait for. (Not named
        # netplumb-*.conf: a drop-in of that name is the collection's, which removes those it did not write.)
        'etc/systemd/system.conf.d/lab-machine.conf': '[Manager]\nDefaultTimeoutStopSec=10s\n',
        'etc/systemd/system/user@.service.d/lab-machine.conf': '[Service]\nTimeoutStopSec=10s\n',
    }
    for path, text in files.items():
        target = os.path.join(upper, path)
        os.makedirs(os.path.dirname(target), 0o700 if path.startswith('root/') else 0o755, exist_ok=True)
        with open(target, 'w') as handle:
            handle.write(text)
    wants = os.path.join(upper, 'etc/systemd/system/sysinit.target.wants')
    os.makedirs(wants, 0o755, exist_ok=True)
    link = os.path.join(wants, 'netplumb-lab-underlay.service')
    if not os.path.lexists(link):
        os.symlink('../netplumb-lab-underlay.service', link)


def set_gateway(directory, address, gateway):
    """The default route a machine takes at its next boot (the outside world came or went)."""
    with open(os.path.join(directory, 'upper', 'etc/netplumb-lab/underlay'), 'w') as handle:
        handle.write('ADDRESS=%s\nGATEWAY=%s\n' % (address, gateway or ''))


def start(directory, name, switch_pid, tag, image=IMAGE):
    """Start the supervisor; returns its PID. The machine boots in the background."""
    argv = ['nsenter', '--net=/proc/%d/ns/net' % switch_pid, '--',
            'unshare', '--mount', '--propagation', 'private', '--',
            'sh', '-c', _SUPERVISE, 'netplumb-machine', image, directory, name]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, env=dict(os.environ, NETPLUMB_VHOST=tag))
    return proc.pid


def wait_ssh(switch_pid, address, timeout=60):
    """Until the machine's sshd answers on its underlay address (it has booted)."""
    deadline = time.time() + timeout
    ip = address.split('/')[0]
    while time.time() < deadline:
        probe = subprocess.run(['nsenter', '--net=/proc/%d/ns/net' % switch_pid, '--', 'nc', '-z', '-w', '1', ip, '22'],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        if probe.returncode == 0:
            return
        time.sleep(0.2)
    raise KernelError('lab machine at %s' % ip, 'boot', 'sshd did not answer within %ds' % timeout)


def children(pid):
    try:
        with open('/proc/%d/task/%d/children' % (pid, pid)) as handle:
            return [int(p) for p in handle.read().split()]
    except (IOError, OSError, ValueError):
        return []


def stop(supervisor, directory):
    """Stop the machine and its supervisor: killing the container's init ends every process of its
    PID namespace, systemd-nspawn then exits and so does the supervisor (the overlay's mount
    namespace goes with it). Only the processes the supervisor started are signalled, by PID."""
    deadline = time.time() + 15
    while os.path.exists('/proc/%d' % supervisor) and time.time() < deadline:
        for nspawn in children(supervisor):
            for init in children(nspawn):
                _kill(init)
            _kill(nspawn)
        _kill(supervisor)
        time.sleep(0.05)
        _reap(supervisor)
    if os.path.exists('/proc/%d' % supervisor) and not zombie(supervisor):
        raise KernelError('lab machine', 'stop supervisor %d' % supervisor, 'it did not end within 15s')
    if directory and os.path.isdir(directory):
        shutil.rmtree(directory)


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def _reap(pid):
    try:
        os.waitpid(pid, os.WNOHANG)
    except OSError:
        pass


def zombie(pid):
    """Whether ``pid`` has ended and waits to be reaped (False when there is no such process)."""
    try:
        with open('/proc/%d/stat' % pid) as stat:
            return stat.read().rsplit(')', 1)[1].split()[0] == 'Z'
    except OSError:
        return False
