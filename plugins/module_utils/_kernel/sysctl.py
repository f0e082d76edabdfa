# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel settings (/proc/sys) of the module's namespace or of a named one."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.netplumb.container.plugins.module_utils._errors import KernelError
from ansible_collections.netplumb.container.plugins.module_utils._kernel.netns import in_namespace, netns_path

SYSCTL_FORWARD = 'net.ipv4.ip_forward'
SYSCTL_FORWARD_V6 = 'net.ipv6.conf.all.forwarding'
SYSCTL_NEIGHBOURS = 'net.ipv4.neigh.default.gc_thresh3'     # one neighbour table for every namespace


class Sysctl(object):
    """/proc/sys of the module's namespace, or of a named one: entered (setns) to open the file,
    so no command line is ever built from a key - it holds an interface name, which may legally
    contain "$(", ";" or quotes."""

    def __init__(self, namespace=None):
        self.namespace = namespace

    @staticmethod
    def path(key):
        """'net.ipv4.conf.br-x.y.route_localnet' -> its file: an interface name may hold dots."""
        prefix = 'net.ipv4.conf.'
        if key.startswith(prefix):
            iface, _sep, leaf = key[len(prefix):].rpartition('.')
            return '/proc/sys/net/ipv4/conf/%s/%s' % (iface, leaf)
        return '/proc/sys/' + key.replace('.', '/')

    def _here(self, action):
        """``action()`` in the namespace: /proc/sys/net shows the opening thread's namespace."""
        if self.namespace is None:
            return action()
        return in_namespace(netns_path(self.namespace), action)

    def get(self, key):
        def read():
            with open(self.path(key)) as handle:
                return handle.read().strip()
        try:
            return self._here(read) or None
        except (IOError, OSError):
            return None

    def set(self, key, value):
        def write():
            with open(self.path(key), 'w') as handle:
                handle.write(value)
        try:
            self._here(write)
        except (IOError, OSError) as error:
            raise KernelError('sysctl %s' % key, 'set it to %s' % value, error.strerror)


def plan_sysctls(wanted, observed):
    """The one sysctl planner: (changes {key: value}, actions, before, after) that bring
    ``observed`` ({key: value or None}) to ``wanted``; the views list every wanted key."""
    changes, actions, before, after = {}, [], {}, {}
    for key, value in sorted(wanted.items()):
        before[key], after[key] = observed.get(key), value
        if observed.get(key) != value:
            changes[key] = value
            actions.append('set %s=%s' % (key, value))
    return changes, actions, before, after
