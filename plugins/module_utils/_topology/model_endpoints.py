# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Endpoint declarations -> checked endpoint records of the model: mode, namespace, the networks
it attaches to (interface names, static addresses, aliases), published ports, units; and the
checks between endpoints and networks (a namespace, an address or a host port used twice, a
bridge past its port limit)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress

from ansible_collections.netplumb.container.plugins.module_utils import _validate as validate
from ansible_collections.netplumb.container.plugins.module_utils._errors import InvalidInput
from ansible_collections.netplumb.container.plugins.module_utils._firewall.facts import parse_port
from ansible_collections.netplumb.container.plugins.module_utils._topology.model_fields import check_units, domains, name, names
from ansible_collections.netplumb.container.plugins.module_utils._topology.model_networks import lan_network, routed_network

MODES = ('bridge', 'host', 'none')
ATTACHMENT_KEYS = ('name', 'address', 'ipv6_address', 'ifname', 'aliases')
BRIDGE_PORTS = 1023               # the kernel numbers a bridge's ports in 10 bits, 0 unused (BR_MAX_PORTS)


def attachment(item, index, option):
    if isinstance(item, str):
        item = {'name': item}
    if not isinstance(item, dict):
        raise InvalidInput('%s: %r is not a network name or a mapping' % (option, item))
    unknown = sorted(set(item) - set(ATTACHMENT_KEYS))
    if unknown:
        raise InvalidInput('%s: unknown option %s (known: %s)' % (option, ', '.join(unknown), ', '.join(ATTACHMENT_KEYS)))
    att = dict((key, item.get(key)) for key in ATTACHMENT_KEYS)
    att['name'] = name(att['name'], option + '.name')
    att['aliases'] = names(att['aliases'], option + '.aliases')
    att['ifname'] = validate.ifname(att['ifname'] or 'eth%d' % index, option + '.ifname')
    if att['ifname'] == 'lo':
        raise InvalidInput('%s.ifname: lo is the loopback interface' % option)
    return att


def endpoint(ep, index, networks):
    ep = dict(ep)
    option = 'endpoints[%d] (%s)' % (index, name(ep['name'], 'endpoints[%d].name' % index))
    mode = ep['mode']
    if not (mode in MODES or mode.startswith('container:')):
        raise InvalidInput('%s.mode: %r is not bridge, host, none or container:<endpoint>' % (option, mode))
    ep['shares'] = name(mode.split(':', 1)[1], option + '.mode') if mode.startswith('container:') else None
    if ep['networks'] is None:
        ep['networks'] = ['bridge'] if mode == 'bridge' and 'bridge' in networks else []
    ep['networks'] = [attachment(a, i, '%s.networks[%d]' % (option, i)) for i, a in enumerate(ep['networks'])]
    ep['published'] = [parse_port(p, '%s.published[%d]' % (option, i)) for i, p in enumerate(ep['published'] or [])]
    ep['publish_on'] = None     # the network its ports are published on: decided by _check_endpoints
    ep['units'] = check_units(ep['units'], option + '.units')
    ep['dns_search'] = domains(ep.get('dns_search'), option + '.dns_search')
    if mode != 'bridge' and (ep['networks'] or ep['published']):
        raise InvalidInput('%s: mode %s endpoints have no networks or published ports of their own (%s given)'
                           % (option, mode, 'networks' if ep['networks'] else 'published'))
    if mode == 'bridge' and not ep['networks'] and ep['state'] == 'present':
        raise InvalidInput('%s.networks: a bridge-mode endpoint needs a network (no network named "bridge" '
                           'is declared to default to)' % option)
    ep['own_namespace'] = mode in ('bridge', 'none')
    ep['namespace'] = validate.netns_name(ep['namespace'] or ep['name'], option + '.namespace') \
        if ep['own_namespace'] else None
    if ep['pid'] is not None:
        if not ep['own_namespace']:
            raise InvalidInput('%s.pid: only bridge and none endpoints have a namespace to adopt' % option)
        ep['pid'] = validate.pid(ep['pid'], option + '.pid')
    seen = set()
    for att in ep['networks']:
        for key, what in (('name', 'network'), ('ifname', 'interface')):
            if (key, att[key]) in seen:
                raise InvalidInput('%s.networks: %s %s is listed twice' % (option, what, att[key]))
            seen.add((key, att[key]))
        net = networks.get(att['name'])
        if net is None:
            raise InvalidInput('%s.networks: network %s is not declared (declared: %s)'
                               % (option, att['name'], ', '.join(sorted(networks)) or 'none'))
        for key, pool_key in (('address', 'pool'), ('ipv6_address', 'pool6')):
            if att[key] is not None:
                att[key] = _static_address(att[key], net, pool_key, '%s.networks (%s).%s' % (option, att['name'], key))
    return ep


def _static_address(address, net, pool_key, where):
    """An address asked for on a network: in its declared subnet of that family, not the gateway."""
    pool = net[pool_key]
    if pool is None:
        raise InvalidInput('%s: %s needs the network\'s %s declared' % (
            where, address, 'subnet' if pool_key == 'pool' else 'ipv6_subnet'))
    ip = validate.ip_address(address, where)
    if ipaddress.ip_address(ip) not in ipaddress.ip_network(pool['subnet']) or ip == pool['gateway']:
        raise InvalidInput('%s: %s is %s' % (where, ip, 'the gateway' if ip == pool['gateway']
                                             else 'not in the subnet %s' % pool['subnet']))
    return ip


def check_endpoints(nets, eps):
    namespaces, published, addresses = {}, [], {}
    for ep in eps.values():
        option = 'endpoints (%s)' % ep['name']
        if ep['state'] != 'present':
            continue
        if ep['shares'] is not None:
            other = eps.get(ep['shares'])
            if other is None or other['state'] != 'present' or not other['own_namespace']:
                raise InvalidInput('%s.mode: container:%s - %s' % (option, ep['shares'], 'no such endpoint is declared'
                                   if other is None else 'that endpoint is absent' if other['state'] != 'present'
                                   else 'it has no namespace of its own (mode %s)' % other['mode']))
        if ep['namespace'] is not None:
            if ep['namespace'] in namespaces:
                raise InvalidInput('%s.namespace: %s is also the namespace of endpoint %s'
                                   % (option, ep['namespace'], namespaces[ep['namespace']]))
            namespaces[ep['namespace']] = ep['name']
        for att in ep['networks']:
            net = nets[att['name']]
            if net['state'] != 'present' and not net['force']:
                raise InvalidInput('%s.networks: network %s is marked absent but endpoint %s is still attached; '
                                   'detach it first or set force: true on the network' % (option, net['name'], ep['name']))
            for key in ('address', 'ipv6_address'):
                if att[key] is not None:
                    if (net['name'], att[key]) in addresses:
                        raise InvalidInput('%s.networks (%s).%s: %s is also the address of endpoint %s' % (
                            option, net['name'], key, att[key], addresses[(net['name'], att[key])]))
                    addresses[(net['name'], att[key])] = ep['name']
            if att['ipv6_address'] is not None and not net['enable_ipv6']:
                raise InvalidInput('%s.networks (%s).ipv6_address: the network has no IPv6 (enable_ipv6)'
                                   % (option, net['name']))
        routed = [nets[a['name']] for a in ep['networks'] if routed_network(nets[a['name']])]
        lans = [nets[a['name']] for a in ep['networks'] if lan_network(nets[a['name']])]
        if ep['published'] and not routed and lans:
            raise InvalidInput('%s.published: endpoint %s is only on %s network %s, where nothing is published: it is '
                               'on the LAN at its own address, with no NAT, and any port it listens on answers there; '
                               'ports are published on a non-internal bridge network' % (
                                   option, ep['name'], lans[0]['driver'], lans[0]['name']))
        if ep['published'] and not routed:
            raise InvalidInput('%s.published: ports are published on a non-internal bridge network and the endpoint '
                               'has none' % option)
        if not ep['published']:
            continue
        # decided here, once: the endpoint's first network with a way out publishes its ports, each
        # on the network's host_ip where the mapping names no address
        ep['publish_on'] = routed[0]['name']
        ep['published'] = [port.on(routed[0]['host_ip']) for port in ep['published']]
        for index, port in enumerate(ep['published']):
            if port.host_ip and ipaddress.ip_address(port.host_ip).version == 6 and not routed[0]['enable_ipv6']:
                raise InvalidInput('%s.published[%d]: %s is an IPv6 host address and network %s has no IPv6 '
                                   '(enable_ipv6)' % (option, index, port.host_ip, routed[0]['name']))
            for other, owner in published:
                if port.clashes_with(other):
                    raise InvalidInput('%s.published[%d]: %s/%s port %s is also published by endpoint %s' % (
                        option, index, port.host_ip or '*', port.proto, port.ports(), owner))
            published.append((port, ep['name']))


def check_bridge_ports(nets, eps):
    """Every endpoint of a network is a port of its bridge, and the kernel refuses a port past its
    limit - after hundreds of endpoints were made. An overlay's bridge also holds the VXLAN device."""
    endpoints = dict((name, 0) for name in nets)
    for ep in eps.values():
        for att in ep['networks'] if ep['state'] == 'present' else []:
            endpoints[att['name']] += 1
    for network, count in sorted(endpoints.items()):
        if nets[network]['driver'] == 'macvlan' and nets[network]['macvlan_mode'] == 'passthru' and count > 1:
            raise InvalidInput('networks (%s): %d endpoints on this host, and macvlan mode passthru gives the parent '
                               '%s to one interface only' % (network, count, nets[network]['parent']))
        if lan_network(nets[network]):
            continue            # no bridge: the parent takes any number of macvlan or ipvlan interfaces
        overlay = nets[network]['driver'] == 'overlay'
        if count + overlay > BRIDGE_PORTS:
            raise InvalidInput('networks (%s): %d endpoints on this host, and its bridge %s holds at most %d ports%s '
                               '(a limit of the kernel); spread the endpoints over more networks'
                               % (network, count, nets[network]['bridge'], BRIDGE_PORTS, ' with the VXLAN device' if overlay else ''))
