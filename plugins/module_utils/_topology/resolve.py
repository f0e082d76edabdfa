# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Model + what the host holds -> the resolved model the planner works from, a new frozen copy.

What depends on the host is decided here, so every input error is raised before planning: the
subnet of a network that declares none (kept from its pool, else carved from the default pools
past every subnet in use) and an overlay's MTU (its underlay's minus the VXLAN header)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress

from ansible_collections.netplumb.container.plugins.module_utils._errors import Conflict, InvalidInput
from ansible_collections.netplumb.container.plugins.module_utils._ipam import next_subnet, pool_spec
from ansible_collections.netplumb.container.plugins.module_utils._topology.model import freeze
from ansible_collections.netplumb.container.plugins.module_utils._topology.overlay import fitting_mtu


def resolve(model, observed):
    """``observed``: pools (name -> store data), host_links, host_routes and record, as
    ``host.observe`` reads them."""
    pools = observed['pools']
    foreign = _foreign(model, observed)
    used = [p['pool']['subnet'] for p in pools.values() if p]
    used += [n['subnet'] for n in model['networks'] if n['subnet']]
    used += [str(network) for network, _what in foreign]
    networks = []
    for net in model['networks']:
        if net['state'] == 'present':
            net = dict(net)
            if net['pool'] is None:
                net['pool'] = _kept_or_carved(net['name'], pools.get(net['name']), model['default_pools'], used)
                net['subnet'] = net['pool']['subnet']
                used.append(net['subnet'])
            if net['driver'] == 'bridge':
                _check_collision(net, foreign)
            if net['driver'] == 'overlay':
                net['mtu'] = _overlay_mtu(net, observed['host_links'])
        networks.append(net)
    return freeze(dict(model, networks=networks))


def _foreign(model, observed):
    """What the host routes or addresses outside our bridges: [(network, 'route X dev Y')]. A
    subnet on top of one breaks routing (a VPN, another engine's bridge), so carving skips these
    and a declared subnet that overlaps one is refused."""
    ours = set(n['bridge'] for n in model['networks'] if n['driver'] == 'bridge')
    ours.update(r['bridge'] for r in observed['record']['networks'].values() if not r.get('namespace'))
    found = []
    for route in observed['host_routes']:
        network = ipaddress.ip_network(route['dst'])
        if route['dev'] not in ours and network.prefixlen and network.version == 4:
            found.append((network, 'route %s dev %s' % (route['dst'], route['dev'])))
    for link in observed['host_links'].values():
        if link['name'] not in ours:
            for address in link['addresses']:
                network = ipaddress.ip_interface(address).network
                if network.version == 4 and network.prefixlen:
                    found.append((network, 'address %s of %s' % (address, link['name'])))
    return found


def _check_collision(net, foreign):
    subnet = ipaddress.ip_network(net['subnet'])
    for network, what in foreign:
        if network.overlaps(subnet):
            raise Conflict('networks (%s).subnet: %s overlaps the host\'s %s; pick another subnet (or remove it)'
                           % (net['name'], net['subnet'], what))


def _kept_or_carved(name, kept, default_pools, used):
    if kept:
        return kept['pool']
    for pool in default_pools:
        try:
            return pool_spec(name, next_subnet([pool['base']], pool['size'], used))
        except Conflict:
            continue
    raise Conflict('network %s: no free subnet left in the default pools %s' % (
        name, ', '.join('%(base)s/%(size)d' % p for p in default_pools)))


def _overlay_mtu(net, host_links):
    underlay = [link for link in host_links.values() if net['local'] in [a.split('/')[0] for a in link['addresses']]]
    if not underlay:
        raise InvalidInput('networks (%s).local: %s is not an address of this host' % (net['name'], net['local']))
    return fitting_mtu(net['mtu'], underlay[0]['mtu'], 'networks (%s).mtu' % net['name'],
                       'the underlay %s' % underlay[0]['name'])
