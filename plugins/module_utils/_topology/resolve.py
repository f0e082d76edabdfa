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
from ansible_collections.netplumb.container.plugins.module_utils._objects.ipam import next_subnet, pool_spec
from ansible_collections.netplumb.container.plugins.module_utils._topology.model import freeze
from ansible_collections.netplumb.container.plugins.module_utils._topology.model_networks import lan_network, vlan_parent
from ansible_collections.netplumb.container.plugins.module_utils._topology.names import bridge_alias, ipv6_pool_name, ula_prefix, vlan_alias
from ansible_collections.netplumb.container.plugins.module_utils._topology.overlay import fitting_mtu


def resolve(model, observed):
    """``observed``: pools (name -> store data), host_links, host_routes, record and hostname,
    as ``host.observe`` reads them."""
    pools = observed['pools']
    foreign = _foreign(model, observed)
    used = [p['pool']['subnet'] for p in pools.values() if p]
    used += [n[key] for n in model['networks'] for key in ('subnet', 'ipv6_subnet') if n[key]]
    used += [str(network) for network, _what in foreign]
    default_pools = list(model['default_pools'])
    if not [p for p in default_pools if ipaddress.ip_network(p['base']).version == 6]:
        # no IPv6 base given: a ULA /48 of this host's own (the role seeds it from the inventory)
        default_pools.append({'base': ula_prefix(observed['hostname']), 'size': 64})
    networks = []
    for net in model['networks']:
        if net['state'] == 'present':
            net = dict(net)
            for key, pool_key, pool_name in (('subnet', 'pool', net['name']),
                                             ('ipv6_subnet', 'pool6', ipv6_pool_name(net['name']))):
                if net[pool_key] is None and (key == 'subnet' or net['enable_ipv6']):
                    version = 4 if key == 'subnet' else 6
                    net[pool_key] = _kept_or_carved(pool_name, pools.get(pool_name), [
                        p for p in default_pools if ipaddress.ip_network(p['base']).version == version], used)
                    net[key] = net[pool_key]['subnet']
                    used.append(net[key])
            if net['driver'] == 'bridge':
                _check_collision(net, foreign)
            if net['driver'] == 'overlay':
                net['mtu'] = _overlay_mtu(net, observed['host_links'])
            if lan_network(net):
                net['mtu'] = _lan_parent(net, observed)
        networks.append(net)
    return freeze(dict(model, networks=networks))


def _foreign(model, observed):
    """What the host routes or addresses outside our bridges: [(network, 'route X dev Y')]. A
    subnet on top of one breaks routing (a VPN, another engine's bridge), so carving skips these
    and a declared subnet that overlaps one is refused."""
    ours = set(n['bridge'] for n in model['networks'] if n['driver'] == 'bridge')
    ours.update(r['bridge'] for r in observed['record']['networks'].values() if not r.get('namespace'))
    # a bridge a declared network left under another name (our alias says so): the plan removes it
    aliases = set(bridge_alias(n['name']) for n in model['networks'] if n['driver'] == 'bridge')
    ours.update(name for name, link in observed['host_links'].items()
                if link['kind'] == 'bridge' and link.get('alias') in aliases)
    found = []
    for route in observed['host_routes']:
        network = ipaddress.ip_network(route['dst'])
        if route['dev'] not in ours and network.prefixlen and not _local_scope(network):
            found.append((network, 'route %s dev %s' % (route['dst'], route['dev'])))
    for link in observed['host_links'].values():
        if link['name'] not in ours:
            for address in link['addresses']:
                network = ipaddress.ip_interface(address).network
                if network.prefixlen and not _local_scope(network):
                    found.append((network, 'address %s of %s' % (address, link['name'])))
    return found


def _local_scope(network):
    """IPv6 link-local and multicast routes are on every interface; they collide with nothing."""
    return network.version == 6 and (network.is_link_local or network.is_multicast)


def _check_collision(net, foreign):
    for key in ('subnet', 'ipv6_subnet'):
        if not net[key]:
            continue
        subnet = ipaddress.ip_network(net[key])
        for network, what in foreign:
            if network.version == subnet.version and network.overlaps(subnet):
                raise Conflict('networks (%s).%s: %s overlaps the host\'s %s; pick another subnet (or remove it)'
                               % (net['name'], key, net[key], what))


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


# the kernel option and module each LAN kind needs, for the message that refuses it
KERNEL_FEATURE = {'macvlan': 'CONFIG_MACVLAN, module macvlan', 'ipvlan': 'CONFIG_IPVLAN, module ipvlan',
                  'vlan': 'CONFIG_VLAN_8021Q, module 8021q'}


def lan_kinds(net, host_links):
    """The link kinds a LAN network needs of the kernel: its driver's, and vlan for a VLAN parent
    that is still to be made."""
    kinds = [net['driver']]
    if net['parent'] not in host_links and vlan_parent(net['parent'], 'parent'):
        kinds.append('vlan')
    return kinds


def _lan_parent(net, observed):
    """Checks a macvlan or ipvlan network's parent on this host before anything changes (the
    kernel can make the kind; the parent exists, or is a VLAN to make on one that does; it is up,
    no bridge's or bond's port, on the network's LAN) and returns the network's MTU: declared, at
    most the parent's, else the parent's. ``observed['restoring']`` (at boot): a parent that is
    not up yet is no fault - the LAN comes with it."""
    option = 'networks (%s)' % net['name']
    links = observed['host_links']
    for kind in lan_kinds(net, links):
        if not observed['kinds'].get(kind):
            raise InvalidInput('%s.%s: this host\'s kernel cannot make %s interfaces (%s): nothing was changed on any '
                               'host' % (option, 'driver' if kind == net['driver'] else 'parent (%s)' % net['parent'],
                                         kind, KERNEL_FEATURE[kind]))
    parent = links.get(net['parent'])
    if parent is None:
        vlan = vlan_parent(net['parent'], option + '.parent')
        base = links.get(vlan[0]) if vlan else None
        if base is None:
            raise InvalidInput('%s.parent: %s is not an interface of this host (it has %s)' % (
                option, vlan[0] if vlan else net['parent'], ', '.join(sorted(n for n in links if n != 'lo'))))
        parent = base           # the VLAN is made on it, with its MTU
    elif parent['alias'] not in (None, vlan_alias(net['name'])) and parent['alias'].startswith('netplumb '):
        raise InvalidInput('%s.parent: %s is an interface netplumb made (%s), not a LAN' % (
            option, net['parent'], parent['alias']))
    if parent['name'] == 'lo' or parent['mac'] in (None, '00:00:00:00:00:00'):
        raise InvalidInput('%s.parent: %s has no Ethernet address; macvlan and ipvlan need an Ethernet parent'
                           % (option, parent['name']))
    if parent['master'] is not None:
        raise InvalidInput('%s.parent: %s is a port of %s: a bridge or bond holds its traffic, so it cannot also be a '
                           'LAN parent (use %s itself)' % (option, parent['name'], parent['master'], parent['master']))
    if not parent['up'] and not observed.get('restoring'):
        raise InvalidInput('%s.parent: %s is down; bring it up first (its LAN is where the endpoints go)'
                           % (option, parent['name']))
    subnet = ipaddress.ip_network(net['subnet'])
    # the LANs the parent is on: its IPv4 networks (a /32 is an address, not a LAN)
    lans = [i.network for i in map(ipaddress.ip_interface, parent['addresses']) if i.version == 4 and i.network.prefixlen < 32]
    if net['parent'] in links and lans and not [lan for lan in lans if lan.overlaps(subnet)]:
        raise InvalidInput('%s.subnet: %s is not the LAN of parent %s, which is on %s' % (
            option, net['subnet'], net['parent'], ', '.join(str(lan) for lan in lans)))
    if net['mtu'] is not None and net['mtu'] > parent['mtu']:
        raise InvalidInput('%s.mtu: %d is more than parent %s\'s MTU %d'
                           % (option, net['mtu'], parent['name'], parent['mtu']))
    return net['mtu'] or parent['mtu']
