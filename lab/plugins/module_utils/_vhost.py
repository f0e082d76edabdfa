# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Virtual hosts on one Linux machine, for tests and demos (a lab of them: ``_lab``).

A virtual host is a network, mount and UTS namespace kept alive by a holder process,
with private tmpfs mounts on /run (so /run/netns is its own) and on the collection's
state directory, its own /etc/resolv.conf (naming no name server) and its own hostname. Nothing is added to the machine's own network
namespace. Every process started for a virtual host carries the environment tag
NETPLUMB_VHOST=<lab>/<host>, so destroy finds them all, also after a half-failed create;
processes are found by that tag and by their namespaces, never by a name pattern.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import signal
import subprocess
import time

from ansible_collections.netplumb.container.plugins.module_utils._errors import KernelError
from ansible_collections.netplumb.lab.plugins.module_utils import _machine

TAG = 'NETPLUMB_VHOST'
STATE_DIR = '/var/lib/netplumb'          # the collection's state directory: private to each host
HOSTS_DIR = '/etc/netns'                  # per-namespace /etc files (ip netns exec): private to each host

_HOST_SETUP = r'''
set -e
mount -t tmpfs -o mode=755 netplumb-vhost /run
mkdir -p /run/netns /run/sshd "$2"
mount -t tmpfs -o mode=700 netplumb-state "$2"
mount -t tmpfs -o mode=755 netplumb-etc-netns "$3"
# no name server: nothing inside ever asks the machine's resolvers (a test that needs one writes
# a nameserver line here, into this host's own copy)
target=$(readlink -f /etc/resolv.conf)
case "$target" in
  /run/*) mkdir -p "${target%/*}"; printf '# netplumb lab host: no name server\n' > "$target" ;;
  *) printf '# netplumb lab host: no name server\n' > /run/netplumb-lab-resolv.conf
     mount --bind /run/netplumb-lab-resolv.conf "$target" ;;
esac
hostname "$1"
ip link set lo up
echo ready
exec sleep infinity
'''

_NET_ONLY_SETUP = r'''
set -e
ip link set lo up
echo ready
exec sleep infinity
'''


def _ns_id(pid, kind):
    try:
        return os.stat('/proc/%s/ns/%s' % (pid, kind)).st_ino
    except OSError:
        return None


def start_time(pid):
    """Clock ticks since boot when ``pid`` started (with the PID, it names one process for good)."""
    try:
        with open('/proc/%d/stat' % pid) as handle:
            return int(handle.read().rsplit(')', 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def same_processes(records):
    """The PIDs of ``records`` ({pid, start}) whose process still runs (not a later one with the PID)."""
    return [r['pid'] for r in records if r and r.get('start') is not None and start_time(r['pid']) == r['start']]


def _tag_of(pid):
    try:
        with open('/proc/%s/environ' % pid, 'rb') as environ:
            for item in environ.read().split(b'\0'):
                if item.startswith(TAG.encode() + b'='):
                    return item.split(b'=', 1)[1].decode('utf-8', 'replace')
    except OSError:
        pass
    return None


def tagged_processes(prefix):
    """PIDs whose tag equals ``prefix`` or starts with ``prefix/``."""
    found = []
    for entry in os.listdir('/proc'):
        if entry.isdigit() and int(entry) != os.getpid():
            tag = _tag_of(entry)
            if tag is not None and (tag == prefix or tag.startswith(prefix + '/')):
                found.append(int(entry))
    return found


def _machine_namespaces():
    return set(filter(None, (_ns_id(os.getpid(), kind) for kind in ('net', 'mnt', 'uts'))))


def processes_in(ids):
    """PIDs whose network or mount namespace is one of ``ids`` (never the machine's own)."""
    ids = set(ids) - _machine_namespaces()
    return [int(entry) for entry in os.listdir('/proc')
            if entry.isdigit() and int(entry) != os.getpid()
            and (_ns_id(entry, 'net') in ids or _ns_id(entry, 'mnt') in ids)]


def lab_processes(prefix):
    """Tagged processes and every process sharing a namespace with one of them: sshd
    drops its environment, so its tag is gone, but it lives in a tagged host's namespaces."""
    tagged = tagged_processes(prefix)
    ids = set(_ns_id(pid, kind) for pid in tagged for kind in ('net', 'mnt'))
    return sorted(set(tagged) | set(processes_in(ids)))


def kill_and_wait(pids, what, timeout=10):
    deadline = time.time() + timeout
    pids = list(pids)
    while pids:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.02)
        pids = [p for p in pids if os.path.exists('/proc/%d' % p) and not _machine.zombie(p)]
        if pids and time.time() > deadline:
            raise KernelError(what, 'stop processes %s' % pids, 'they did not end within %ds' % timeout)


class VirtualHost(object):
    """One virtual host (``kind='host'``) or a bare network namespace holder
    (``kind='net'``: the underlay switch, the outside world)."""

    def __init__(self, name, pid, tag=None):
        self.name = name
        self.pid = pid
        self.tag = tag or name

    @classmethod
    def create(cls, name, tag=None, kind='host'):
        tag = tag or name
        if kind == 'host':
            argv = ['unshare', '--net', '--mount', '--uts', '--propagation', 'private',
                    '--', 'sh', '-c', _HOST_SETUP, 'vhost-setup', name, STATE_DIR, HOSTS_DIR]
            for mount_point, mode in ((STATE_DIR, 0o700), (HOSTS_DIR, 0o755)):
                if not os.path.isdir(mount_point):
                    os.makedirs(mount_point, mode)      # where the host's private copy is mounted
        else:
            argv = ['unshare', '--net', '--', 'sh', '-c', _NET_ONLY_SETUP]
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True, env=dict(os.environ, **{TAG: tag}))
        line = proc.stdout.readline().decode().strip()
        if line != 'ready':
            proc.kill()
            proc.wait()
            raise KernelError('virtual host %s' % name, 'start', proc.stderr.read().decode().strip() or 'no reason given')
        proc.stdout.close()
        proc.stderr.close()
        host = cls(name, proc.pid, tag)
        host._proc = proc
        return host

    def alive(self):
        return _tag_of(self.pid) == self.tag

    def env(self, extra=None):
        env = dict(os.environ, **{TAG: self.tag})
        env.update(extra or {})
        return env

    def command(self, argv, net_only=False):
        spaces = ['--net'] if net_only else ['--net', '--mount', '--uts']
        return ['nsenter', '-t', str(self.pid)] + spaces + ['--'] + list(argv)

    def run(self, argv, check=True, env=None, timeout=300, **kwargs):
        """Run ``argv`` inside; returns CompletedProcess with text output."""
        return subprocess.run(self.command(argv), check=check, env=self.env(env), timeout=timeout,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, **kwargs)

    def spawn(self, argv, env=None):
        """Start a long-running process inside; destroy() stops it."""
        return subprocess.Popen(self.command(argv), env=self.env(env), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def namespace_ids(self):
        """Ids of the holder's namespaces and of every named namespace inside."""
        ids = set(filter(None, (_ns_id(self.pid, kind) for kind in ('net', 'mnt', 'uts'))))
        netns_dir = '/proc/%d/root/run/netns' % self.pid
        try:
            names = os.listdir(netns_dir)
        except OSError:
            names = []
        for name in names:
            try:
                ids.add(os.stat(os.path.join(netns_dir, name)).st_ino)
            except OSError:
                pass
        return ids

    def processes(self, ids=None):
        """PIDs other than the holder that live in this host's namespaces or carry its tag."""
        if ids is None:
            ids = self.namespace_ids() if self.alive() else set()
        found = set(tagged_processes(self.tag)) | set(processes_in(ids))
        found.discard(self.pid)
        return sorted(found)

    def destroy(self, timeout=10):
        """Stop every process inside, then the holder; the namespaces go with them."""
        ids = self.namespace_ids() if self.alive() else set()
        kill_and_wait(self.processes(ids), 'virtual host %s' % self.name, timeout)
        if self.alive():
            kill_and_wait([self.pid], 'virtual host %s' % self.name, timeout)
        proc = getattr(self, '_proc', None)
        if proc is not None:
            proc.wait()
