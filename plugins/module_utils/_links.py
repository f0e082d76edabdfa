# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Netlink link messages -> the plain link dicts every planner reads."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.netplumb.container.plugins.module_utils._validate import address_sort_key

IFF_UP = 1


def link_view(msg, names, addresses):
    info = msg.get_attr('IFLA_LINKINFO')
    kind = info.get_attr('IFLA_INFO_KIND') if info is not None else None
    stp = None
    if kind == 'bridge':
        data = info.get_attr('IFLA_INFO_DATA')
        stp = bool(data.get_attr('IFLA_BR_STP_STATE')) if data is not None else None
    master = msg.get_attr('IFLA_MASTER')
    hairpin = None
    if info is not None and info.get_attr('IFLA_INFO_SLAVE_KIND') == 'bridge':
        port = info.get_attr('IFLA_INFO_SLAVE_DATA')
        hairpin = bool(port.get_attr('IFLA_BRPORT_MODE')) if port is not None else None
    vxlan = None
    if kind == 'vxlan':
        data = info.get_attr('IFLA_INFO_DATA')
        vxlan = {'vni': data.get_attr('IFLA_VXLAN_ID'), 'local': data.get_attr('IFLA_VXLAN_LOCAL'),
                 'dev': names.get(data.get_attr('IFLA_VXLAN_LINK')), 'dstport': data.get_attr('IFLA_VXLAN_PORT'),
                 'learning': bool(data.get_attr('IFLA_VXLAN_LEARNING'))}
    return {
        'name': msg.get_attr('IFLA_IFNAME'),
        'index': msg['index'],
        'kind': kind,
        'mtu': msg.get_attr('IFLA_MTU'),
        'alias': msg.get_attr('IFLA_IFALIAS') or None,
        'mac': msg.get_attr('IFLA_ADDRESS'),
        'up': bool(msg['flags'] & IFF_UP),
        'master': names.get(master) if master else None,
        'hairpin': hairpin,
        'peer_index': msg.get_attr('IFLA_LINK') if kind == 'veth' else None,
        'peer_netnsid': msg.get_attr('IFLA_LINK_NETNSID') if kind == 'veth' else None,
        'stp': stp,
        'vxlan': vxlan,
        'addresses': sorted(addresses.get(msg['index'], []), key=address_sort_key),
    }
