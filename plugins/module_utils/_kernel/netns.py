# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Named network namespaces on the host: where their names live (/run/netns bind mounts), how
one is made and entered in-process, and which processes hold one."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ctypes
import os

NETNS_RUN_DIR = '/run/netns'
CLONE_NEWNET = 0x40000000
MNT_DETACH = 2


def netns_path(name):
    return os.path.join(NETNS_RUN_DIR, name)


HOSTS_DIR = '/etc/netns'      # ip netns exec puts /etc/netns/NAME/FILE over /etc/FILE


def hosts_path(namespace):
    return '%s/%s/hosts' % (HOSTS_DIR, namespace)


def resolv_path(namespace):
    return '%s/%s/resolv.conf' % (HOSTS_DIR, namespace)


def mount_points():
    """Every mount point of this process's mount namespace."""
    points = set()
    with open('/proc/self/mountinfo') as mountinfo:
        for line in mountinfo:
            point = line.split(' ')[4]
            if '\\' in point:      # spaces and the like are escaped as octal
                point = point.encode('utf-8').decode('unicode_escape')
            points.add(point)
    return points


def is_mounted(path):
    """True when ``path`` is a mount point (a named namespace is a bind mount of nsfs)."""
    return path in mount_points()


def netns_exists(name, mounts=None):
    """A named namespace exists when its file under /run/netns is a mount point; a stale
    file left by an interrupted tool names nothing."""
    return netns_path(name) in (mount_points() if mounts is None else mounts)


def namespace_id(path):
    """The inode of a network namespace: what ``readlink /proc/PID/ns/net`` shows as net:[ID]."""
    return os.stat(path).st_ino


_LIBC = []


def _libc():
    if not _LIBC:
        _LIBC.append(ctypes.CDLL(None, use_errno=True))
    return _LIBC[0]


def remove_netns(name):
    """Remove the name of a namespace (detach its bind mount, delete the file); the kernel ends the
    namespace when nothing else holds it. Without pyroute2, which a removal-only run need not load."""
    path = netns_path(name)
    _libc().umount2(os.fsencode(path), MNT_DETACH)     # fails only where nothing is mounted: a stale name
    os.unlink(path)


def _setns(fd):
    if _libc().setns(fd, CLONE_NEWNET) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))


def in_namespace(path, action):
    """Run ``action()`` with this thread in the network namespace at ``path`` (None: where it
    is, for an action that moves it), then come back. A netlink socket stays in the namespace it
    was opened in, so sockets are opened this way: ten times cheaper than pyroute2's NetNS, which
    starts a helper process per namespace, and without loading pyroute2 at all (importing it
    costs a third of a second, more than a run that finds nothing to change)."""
    home = os.open('/proc/thread-self/ns/net', os.O_RDONLY)
    try:
        if path is not None:
            target = os.open(path, os.O_RDONLY)
            try:
                _setns(target)
            finally:
                os.close(target)
        try:
            return action()
        finally:
            _setns(home)
    finally:
        os.close(home)


def create_netns(name):
    """Like ``ip netns add``: a new network namespace bind-mounted at /run/netns/NAME, made
    in this process (unshare, then pyroute2 mounts it) rather than in a forked helper."""
    from pyroute2 import netns as pyroute2_netns     # only a change needs pyroute2 (see in_namespace)

    def unshare_and_name():
        if _libc().unshare(CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), 'unshare failed')
        pyroute2_netns.attach(name, os.getpid())
    in_namespace(None, unshare_and_name)


def _parent(pid):
    with open('/proc/%s/stat' % pid) as stat:
        return int(stat.read().rsplit(')', 1)[1].split()[1])


def _process_namespaces():
    """(pid, network namespace id) of every process but this one (one pass over /proc)."""
    for entry in os.listdir('/proc'):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                yield int(entry), os.stat('/proc/%s/ns/net' % entry).st_ino
            except OSError:
                continue        # the process ended, or is not ours to read


def namespace_pids(ns_id):
    """Processes whose network namespace is ``ns_id`` (like ``ip netns pids``), sorted;
    this module and its children (pyroute2 0.7 keeps a helper inside) do not count."""
    pids = []
    for pid, found in _process_namespaces():
        try:
            if found == ns_id and _parent(pid) != os.getpid():
                pids.append(pid)
        except (OSError, ValueError, IndexError):
            continue        # the process ended
    return sorted(pids)


def held_namespace_ids():
    """Ids of the network namespaces that processes other than this one are in."""
    return set(found for _pid, found in _process_namespaces())


def kernel_reason(error):
    code = getattr(error, 'code', None) or getattr(error, 'errno', None)
    if isinstance(code, int) and code > 0:
        return os.strerror(code)
    return str(error)
