# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host side of the DNS stub redirect in an endpoint's namespace: whether it is made, and
making or removing it (the nft transaction of ``unbound.redirect_script``, then route_localnet)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.netplumb.container.plugins.module_utils._dns.unbound import redirect_script, unredirect_script
from ansible_collections.netplumb.container.plugins.module_utils._firewall.facts import route_localnet
from ansible_collections.netplumb.container.plugins.module_utils._firewall.nftables import Nft
from ansible_collections.netplumb.container.plugins.module_utils._kernel.sysctl import Sysctl


def made(namespace, recorded):
    """Whether the namespace holds the redirect the record lists: its last step, route_localnet
    on the interface, is set (a namespace made again, by a reboot or a run cut short, has not)."""
    return bool(recorded) and Sysctl(namespace).get(route_localnet(recorded['ifname'])) == '1'


def apply(namespace, wanted):
    """The redirect made as ``wanted`` says (server, stubs, ifname), or removed (None)."""
    if wanted is None:
        Nft(namespace).apply(unredirect_script())
        return
    Nft(namespace).apply(redirect_script(wanted['server'], wanted['stubs']))
    # a packet from 127.0.0.1 may leave through the interface once its destination is translated
    Sysctl(namespace).set(route_localnet(wanted['ifname']), '1')
