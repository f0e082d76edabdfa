# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which firewall backend a host gets.

``auto`` is nftables where the host has it (the ``nft`` command or libnftables' Python
binding), else iptables. Every backend has the same three parts: ``observe()`` (plain data),
a pure ``plan(wanted, gone, observed)`` and ``apply(payload)``."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import shutil

from ansible_collections.netplumb.container.plugins.module_utils._firewall import iptables as _iptables
from ansible_collections.netplumb.container.plugins.module_utils._firewall import nftables as _nftables

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
