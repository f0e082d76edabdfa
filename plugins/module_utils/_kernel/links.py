# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The links of a namespace as rtnl reads them (by index) -> the plain link dicts every
planner reads (by name, masters and devices named, addresses attached)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.netplumb.container.plugins.module_utils._validate import address_sort_key


def link_views(links, addresses):
    """``links``: index -> link (_rtnl.links); ``addresses``: index -> [cidr] (_rtnl.addresses).
    Returns name -> {name, index, kind, mtu, alias, mac, up, master, hairpin, peer_index,
    peer_netnsid, stp, vxlan, lower (macvlan, ipvlan, vlan: parent, mode), link_local, addresses}."""
    views = {}
    for index, link in links.items():
        view = dict(link, master=_name(links, link['master']),
                    addresses=sorted(addresses.get(index, []), key=address_sort_key))
        if link['vxlan'] is not None:
            view['vxlan'] = dict(link['vxlan'])
            view['vxlan']['dev'] = _name(links, view['vxlan'].pop('link'))
        if link.get('lower') is not None:
            # the parent's name where it is in this namespace; moved elsewhere, only its index is known
            view['lower'] = dict(link['lower'], parent=None if link['lower']['netnsid'] is not None
                                 else _name(links, link['lower']['index']))
        views[link['name']] = view
    return views


def _name(links, index):
    return links[index]['name'] if index in links else None
