# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which firewall backend a host gets, and the kernel settings beside it.

``auto`` is nftables where the host has it (the ``nft`` command or libnftables' Python
binding), else iptables. Every backend has the same three parts: ``observe()`` (plain data),
a pure ``plan(wanted, gone, observed)`` and ``apply(payload)``. The firewall's sysctls are
read and set here too, in the module's namespace or a named one."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import shutil

from ansible_collections.netplumb.container.plugins.module_utils import _iptables, _nftables
from ansible_collections.netplumb.container.plugins.module_utils._errors import KernelError
from ansible_collections.netplumb.container.plugins.module_utils._netns import in_namespace, netns_path

BACKENDS = ['auto', 'nftables', 'iptables', 'iptables-nft', 'iptables-legacy']


def nft_available():
    return bool(shutil.which('nft')) or _nftables.binding_available()


def resolve_backend(name):
    if name != 'auto':
        return name
    return 'nftables' if nft_available() else 'iptables'


def backend(name, namespace=None):
    """The firewall of a namespace: an object with ``name``, ``EMPTY`` (what a host without our
    rules shows), ``observe()`` and ``apply(payload)``; plan with ``plan_for(name)``."""
    name = resolve_backend(name)
    if name == 'nftables':
        return _nftables.Nft(namespace)
    return _iptables.Iptables(namespace, name)


def plan_for(name):
    """The pure planner of a (resolved) backend name."""
    return _nftables.plan if name == 'nftables' else _iptables.plan


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
