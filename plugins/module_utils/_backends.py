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

import os
import shutil
import subprocess

from ansible_collections.netplumb.container.plugins.module_utils import _iptables, _nftables
from ansible_collections.netplumb.container.plugins.module_utils._errors import KernelError
from ansible_collections.netplumb.container.plugins.module_utils._netns import netns_path

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
    """/proc/sys of the module's namespace, or of a named one (through nsenter)."""

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

    def get(self, key):
        if self.namespace is None:
            try:
                with open(self.path(key)) as handle:
                    return handle.read().strip()
            except IOError:
                return None
        return self._run(['cat', self.path(key)], key).strip() or None

    def set(self, key, value):
        if self.namespace is None:
            try:
                with open(self.path(key), 'w') as handle:
                    handle.write(value)
            except IOError as error:
                raise KernelError('sysctl %s' % key, 'set it to %s' % value, error.strerror)
            return
        self._run(['sh', '-c', 'echo %s > %s' % (value, self.path(key))], key)

    def _run(self, argv, key):
        argv = ['nsenter', '--net=%s' % netns_path(self.namespace), '--'] + argv
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                              env=dict(os.environ, LC_ALL='C'), check=False)
        if proc.returncode != 0:
            raise KernelError('sysctl %s' % key, 'read or set it', proc.stderr.strip())
        return proc.stdout
