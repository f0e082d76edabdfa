# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ``docker network inspect`` shows, per network of a host, from what the topology module
keeps there: the record (networks, endpoints, their interfaces), the IPAM store (pools and
leases) and the desired state (the options and published ports as applied). Pure."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress

from ansible_collections.netplumb.container.plugins.module_utils._topology.names import ipv6_pool_name, mac_of

# the options of each driver, shown as Docker shows a network's Options (the bridge's name from the
# record: it may have been derived; the rest as applied, defaults included)
OPTIONS = {'bridge': ('mtu', 'icc', 'masquerade', 'internal', 'gateway_mode', 'host_ip', 'resolve_names'),
           'overlay': ('vni', 'control_plane', 'mtu', 'egress', 'resolve_names'),
           'macvlan': ('parent', 'macvlan_mode', 'mtu', 'internal', 'host_shim'),
           'ipvlan': ('parent', 'ipvlan_mode', 'mtu', 'internal', 'host_shim')}


def usage(pool, leases):
    """{subnet, gateway, ip_range, leased, free}: what the pool still hands out, counted without
    walking it (a /8 has 16 million addresses)."""
    network = ipaddress.ip_network(pool['subnet'])
    span = ipaddress.ip_network(pool['ip_range']) if pool.get('ip_range') else network
    room = span.num_addresses
    if network.prefixlen < network.max_prefixlen - 1:
        room -= sum(1 for edge in (network.network_address, network.broadcast_address if network.version == 4 else None)
                    if edge is not None and edge in span)
    excluded = set(pool.get('reserved') or []) | set([pool.get('gateway')] if pool.get('gateway') else [])
    room -= sum(1 for ip in excluded if ipaddress.ip_address(ip) in span)
    in_span = sum(1 for ip in set(leases.values()) if ipaddress.ip_address(ip) in span and ip not in excluded)
    return {'subnet': pool['subnet'], 'gateway': pool.get('gateway'), 'ip_range': pool.get('ip_range'),
            'leased': len(leases), 'free': max(room - in_span, 0)}


def inspect(record, pools, desired):
    """{network: {driver, scope, subnets [usage], options, endpoints {name: {interface, ipv4_address,
    ipv6_address, mac_address, published}}}}. ``pools``: the IPAM store's content by pool name;
    ``desired``: the desired state's arguments (or {})."""
    declared = dict((n['name'], n) for n in desired.get('networks', []))
    published = dict((e['name'], list(e.get('published') or [])) for e in desired.get('endpoints', []))
    view = {}
    for name, rec in sorted(record['networks'].items()):
        net = declared.get(name, {})
        subnets = [usage(pools[pool]['pool'], pools[pool]['leases']) for pool in (name, ipv6_pool_name(name))
                   if pool in pools]
        driver = rec.get('driver') or 'bridge'
        options = dict((k, net.get(k, rec.get(k))) for k in OPTIONS.get(driver, ()) if net.get(k, rec.get(k)) is not None)
        if driver == 'bridge':
            options['bridge'] = rec.get('bridge')
        view[name] = {'driver': driver, 'scope': 'local' if driver == 'bridge' else 'global',
                      'namespace': rec.get('namespace'), 'subnets': subnets, 'options': options, 'endpoints': {}}
    for ep_name, ep in sorted(record['endpoints'].items()):
        for net_name, att in sorted(ep.get('attachments', {}).items()):
            if net_name not in view:
                continue
            leases = dict((pool, (pools.get(pool) or {}).get('leases', {}).get(ep_name))
                          for pool in (net_name, ipv6_pool_name(net_name)))
            ipv4 = leases[net_name] or _declared_address(desired, ep_name, net_name, 'address')
            ipv6 = leases[ipv6_pool_name(net_name)] or _declared_address(desired, ep_name, net_name, 'ipv6_address')
            view[net_name]['endpoints'][ep_name] = {
                'interface': att.get('ifname'), 'namespace': ep.get('namespace'), 'ipv4_address': ipv4,
                'ipv6_address': ipv6,
                # Docker's MAC, from the IPv4 address; an ipvlan interface has its parent's
                'mac_address': mac_of(ipv4) if ipv4 and att.get('driver') != 'ipvlan' else None,
                'published': published.get(ep_name, [])}
    return view


def _declared_address(desired, endpoint, network, key):
    """An overlay's or LAN's address, handed out by the controller: the desired state holds it."""
    for ep in desired.get('endpoints', []):
        if ep['name'] == endpoint:
            for att in ep.get('networks') or []:
                if isinstance(att, dict) and att.get('name') == network:
                    return att.get(key)
    return None
