# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Declarations -> model: the semantic checks that need no host, and the defaults that follow
from them, into a new frozen model.

Input is what ``spec.ARGUMENT_SPEC`` let through (types, choices and defaults are the spec's);
every message names the option path and the value (``endpoints[3] (x).networks: network
nowhere is not declared``). The role runs this on the controller for every host before any host
changes, and the module runs it before it looks at the host."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import re

from ansible_collections.netplumb.container.plugins.module_utils import _validate as validate
from ansible_collections.netplumb.container.plugins.module_utils._errors import InvalidInput
from ansible_collections.netplumb.container.plugins.module_utils._firewall.facts import parse_port
from ansible_collections.netplumb.container.plugins.module_utils._objects.ipam import pool_spec
from ansible_collections.netplumb.container.plugins.module_utils._boot.files import check_units
from ansible_collections.netplumb.container.plugins.module_utils._topology.names import (
    NAME, OVERLAY_BRIDGE, bridge_name, ipv6_pool_name, overlay_namespace)
from ansible_collections.netplumb.container.plugins.module_utils._topology.overlay import check_vni
from ansible_collections.netplumb.container.plugins.module_utils._topology.spec import NETWORK_OPTIONS

MODES = ('bridge', 'host', 'none')
DOMAIN = re.compile(r'^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$')
ATTACHMENT_KEYS = ('name', 'address', 'ipv6_address', 'ifname', 'aliases')
MAX_PREFIX = {4: 30, 6: 124}      # the smallest subnet a network may have: room for endpoints
BRIDGE_PORTS = 1023               # the kernel numbers a bridge's ports in 10 bits, 0 unused (BR_MAX_PORTS)


class Frozen(dict):
    """A dict that refuses changes: the planner reads the model and never writes to it
    (``dict(frozen, key=value)`` makes a changed copy)."""

    def _refuse(self, *args, **kwargs):
        raise TypeError('the model is frozen; make a copy to change it')

    __setitem__ = __delitem__ = update = setdefault = pop = popitem = clear = _refuse


def freeze(value):
    if hasattr(value, '_fields'):
        return value            # a record (PortMapping) is immutable already
    if isinstance(value, dict):
        return Frozen((k, freeze(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value):
    """Plain dicts and lists again, for return values and diffs."""
    if hasattr(value, 'as_result'):
        return value.as_result()
    if isinstance(value, dict):
        return dict((k, thaw(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [thaw(v) for v in value]
    return value


def _name(value, option):
    if not isinstance(value, str) or not NAME.match(value):
        raise InvalidInput('%s: %r is not a valid name (letters, digits, "_", "." and "-", at most 63, '
                           'starting with a letter or digit)' % (option, value))
    return value


def _names(values, option):
    """A list of names (aliases), each a valid name, none twice."""
    if values is None:
        return []
    if not isinstance(values, (list, tuple)):
        raise InvalidInput('%s: %r is not a list of names' % (option, values))
    for index, value in enumerate(values):
        _name(value, '%s[%d]' % (option, index))
        if value in values[:index]:
            raise InvalidInput('%s[%d]: %s is listed twice' % (option, index, value))
    return list(values)


def _domains(values, option):
    """dns_search: domain names, as a resolv.conf search line holds them."""
    for index, value in enumerate(values or []):
        if not DOMAIN.match(value) or len(value) > 253:
            raise InvalidInput('%s[%d]: %r is not a domain name (labels of letters, digits and "-", joined by ".")'
                               % (option, index, value))
    if len(values or []) > 6:
        raise InvalidInput('%s: %d domains - a resolver reads at most 6' % (option, len(values)))
    return list(values or [])


def _pools(default_pools):
    """IPv4 bases carve the subnets of networks, IPv6 bases the ipv6_subnet of networks with
    IPv6 (``resolve`` falls back to a ULA /48 when none is given)."""
    pools = []
    for index, pool in enumerate(default_pools):
        option = 'default_pools[%d]' % index
        try:
            base = ipaddress.ip_network(pool['base'], strict=True)
        except ValueError as error:
            raise InvalidInput('%s.base: %r is not a base network (%s)' % (option, pool['base'], error))
        if not base.prefixlen <= pool['size'] <= MAX_PREFIX[base.version]:
            raise InvalidInput('%s: size /%d does not fit the IPv%d base %s (/%d to /%d)' % (
                option, pool['size'], base.version, base, base.prefixlen, MAX_PREFIX[base.version]))
        pools.append({'base': str(base), 'size': pool['size']})
    return pools


def _network(net, index, planned=True):
    net = dict(net)
    option = 'networks[%d] (%s)' % (index, _name(net['name'], 'networks[%d].name' % index))
    if net['driver'] == 'overlay':
        _overlay(net, option, planned)
    else:
        for key in ('vni', 'local', 'peers'):
            if net[key] is not None:
                raise InvalidInput('%s.%s: only overlay networks have one' % (option, key))
        net['namespace'] = None
        net['bridge'] = validate.firewall_ifname(net['bridge'] or bridge_name(net['name']), option + '.bridge')
    net['mtu'] = validate.optional(validate.mtu, net['mtu'], option + '.mtu')
    net['dns_search'] = _domains(net.get('dns_search'), option + '.dns_search')
    if net['gateway_mode'] != 'nat' and net['driver'] != 'bridge':
        raise InvalidInput('%s.gateway_mode: %s - only bridge networks have a gateway mode' % (option, net['gateway_mode']))
    if net['gateway_mode'] == 'isolated':
        net['internal'] = True      # Docker's isolated: internal, and the host has no address on the bridge
    if net['host_ip'] is not None:
        net['host_ip'] = validate.ip_address(net['host_ip'], option + '.host_ip')
    net['pool'] = None
    if net['subnet'] is not None:
        net['pool'] = pool_spec(net['name'], net['subnet'], net['gateway'], net['ip_range'], net['aux_addresses'])
        if ipaddress.ip_network(net['pool']['subnet']).version != 4:
            raise InvalidInput('%s.subnet: %s is IPv6 - an IPv6 subnet goes in ipv6_subnet (beside the IPv4 one)'
                               % (option, net['subnet']))
        net['subnet'] = net['pool']['subnet']
    elif net['gateway'] is not None or net['ip_range'] is not None or net['aux_addresses']:
        raise InvalidInput('%s: gateway, ip_range and aux_addresses need a subnet' % option)
    _ipv6(net, option)
    return net


def _ipv6(net, option):
    """Dual stack: ``pool6`` is the IPv6 pool when the subnet is declared (else ``resolve``
    carves one); a declared ipv6_subnet turns IPv6 on by itself."""
    net['pool6'] = None
    if net['ipv6_subnet'] is not None:
        net['enable_ipv6'] = True
        net['pool6'] = pool_spec(ipv6_pool_name(net['name']), net['ipv6_subnet'], net['ipv6_gateway'])
        subnet = ipaddress.ip_network(net['pool6']['subnet'])
        if subnet.version != 6 or subnet.prefixlen > MAX_PREFIX[6]:
            raise InvalidInput('%s.ipv6_subnet: %s is not an IPv6 subnet of /%d or larger'
                               % (option, net['ipv6_subnet'], MAX_PREFIX[6]))
        net['ipv6_subnet'] = net['pool6']['subnet']
    elif net['ipv6_gateway'] is not None:
        raise InvalidInput('%s.ipv6_gateway: %s needs an ipv6_subnet' % (option, net['ipv6_gateway']))
    elif net['enable_ipv6'] and net['driver'] == 'overlay' and net['state'] == 'present':
        raise InvalidInput('%s.ipv6_subnet: required for an overlay network with IPv6 (one subnet shared by every '
                           'host)' % option)
    return net


def _overlay(net, option, planned=True):
    """An overlay's part on this host; the network role's control plane fills in vni, local and
    peers from the inventory (``planned``: it has; before, those are not asked for)."""
    if net['bridge'] not in (None, OVERLAY_BRIDGE):
        raise InvalidInput('%s.bridge: an overlay\'s bridge is %s in namespace %s' % (
            option, OVERLAY_BRIDGE, overlay_namespace(net['name'])))
    net['bridge'] = OVERLAY_BRIDGE
    net['namespace'] = validate.netns_name(overlay_namespace(net['name']), option + '.name')
    if net['state'] != 'present' or not planned:
        net['peers'] = []
        return
    for key in ('subnet', 'vni', 'local'):
        if net[key] is None:
            raise InvalidInput('%s.%s: required for an overlay network' % (option, key))
    check_vni(net['vni'], option + '.vni')
    net['local'] = validate.ip_address(net['local'], option + '.local')
    peers = []
    for index, peer in enumerate(net['peers'] or []):
        where = '%s.peers[%d]' % (option, index)
        vtep = validate.ip_address(peer['vtep'], where + '.vtep')
        if vtep == net['local']:
            raise InvalidInput('%s.vtep: %s is this host\'s own VTEP (local)' % (where, vtep))
        remote = [{'ip': validate.ip_address(ep['ip'], '%s.endpoints[%d].ip' % (where, i)),
                   'mac': validate.mac(ep['mac'], '%s.endpoints[%d].mac' % (where, i)), 'name': ep['name'],
                   'ipv6': validate.optional(validate.ip_address, ep.get('ipv6'), '%s.endpoints[%d].ipv6' % (where, i)),
                   'aliases': _names(ep.get('aliases'), '%s.endpoints[%d].aliases' % (where, i))}
                  for i, ep in enumerate(peer['endpoints'])]
        peers.append({'vtep': vtep, 'endpoints': remote})
    net['peers'] = peers


def _attachment(item, index, option):
    if isinstance(item, str):
        item = {'name': item}
    if not isinstance(item, dict):
        raise InvalidInput('%s: %r is not a network name or a mapping' % (option, item))
    unknown = sorted(set(item) - set(ATTACHMENT_KEYS))
    if unknown:
        raise InvalidInput('%s: unknown option %s (known: %s)' % (option, ', '.join(unknown), ', '.join(ATTACHMENT_KEYS)))
    att = dict((key, item.get(key)) for key in ATTACHMENT_KEYS)
    att['name'] = _name(att['name'], option + '.name')
    att['aliases'] = _names(att['aliases'], option + '.aliases')
    att['ifname'] = validate.ifname(att['ifname'] or 'eth%d' % index, option + '.ifname')
    if att['ifname'] == 'lo':
        raise InvalidInput('%s.ifname: lo is the loopback interface' % option)
    return att


def _endpoint(ep, index, networks):
    ep = dict(ep)
    option = 'endpoints[%d] (%s)' % (index, _name(ep['name'], 'endpoints[%d].name' % index))
    mode = ep['mode']
    if not (mode in MODES or mode.startswith('container:')):
        raise InvalidInput('%s.mode: %r is not bridge, host, none or container:<endpoint>' % (option, mode))
    ep['shares'] = _name(mode.split(':', 1)[1], option + '.mode') if mode.startswith('container:') else None
    if ep['networks'] is None:
        ep['networks'] = ['bridge'] if mode == 'bridge' and 'bridge' in networks else []
    ep['networks'] = [_attachment(a, i, '%s.networks[%d]' % (option, i)) for i, a in enumerate(ep['networks'])]
    ep['published'] = [parse_port(p, '%s.published[%d]' % (option, i)) for i, p in enumerate(ep['published'] or [])]
    ep['publish_on'] = None     # the network its ports are published on: decided by _check_endpoints
    ep['units'] = check_units(ep['units'], option + '.units')
    ep['dns_search'] = _domains(ep.get('dns_search'), option + '.dns_search')
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


def model(params, planned=True):
    """Spec-validated arguments -> frozen model {networks, endpoints, default_pools}; raises
    InvalidInput naming the first bad value. Needs no host state. ``planned=False``: overlays as
    declared, before the control plane fills in their VNI, local address and peers."""
    nets = {}
    for index, item in enumerate(params['networks']):
        _add_network(nets, _network(item, index, planned), 'networks[%d]' % index)
    eps = {}
    for index, item in enumerate(params['endpoints']):
        ep = _endpoint(item, index, nets)
        if ep['name'] in eps:
            raise InvalidInput('endpoints[%d]: endpoint %s is declared twice' % (index, ep['name']))
        eps[ep['name']] = ep
    _check_endpoints(nets, eps)
    _add_gateway_bridge(nets, eps, params['gateway_bridge'])
    _check_bridge_ports(nets, eps)
    if params['restore_at_boot'] is False:
        with_units = [e['name'] for e in eps.values() if e['units'] and e['state'] == 'present']
        if with_units:
            raise InvalidInput('endpoints (%s).units: a workload unit needs restore_at_boot (its namespace is made '
                               'by the restore at boot, before it starts)' % with_units[0])
    return freeze({'networks': list(nets.values()), 'endpoints': list(eps.values()),
                   'default_pools': _pools(params['default_pools']),
                   'firewall_coexistence': params['firewall_coexistence'],
                   'name_server': params.get('name_server', 'unbound')})


def _add_network(nets, net, option):
    for key in ('name', 'bridge'):
        other = [n for n in nets.values() if n[key] == net[key] and n['namespace'] == net['namespace']]
        if other:
            raise InvalidInput('%s: %s %s is also used by network %s' % (option, key, net[key], other[0]['name']))
    for other in nets.values():
        for key in ('subnet', 'ipv6_subnet'):
            if net[key] and other[key] and ipaddress.ip_network(net[key]).overlaps(ipaddress.ip_network(other[key])):
                raise InvalidInput('%s (%s).%s: %s overlaps network %s (%s)'
                                   % (option, net['name'], key, net[key], other['name'], other[key]))
    nets[net['name']] = net


def _add_gateway_bridge(nets, eps, gateway):
    """Docker's docker_gwbridge: endpoints of an overlay with egress get a way out through a
    masquerading bridge network of this host (ICC off, no names)."""
    egress = set(n['name'] for n in nets.values() if n['driver'] == 'overlay' and n['state'] == 'present'
                 and n['egress'])
    users = [ep for ep in eps.values() if ep['state'] == 'present' and egress & set(a['name'] for a in ep['networks'])]
    if not users:
        return
    if gateway['name'] in nets:
        raise InvalidInput('gateway_bridge.name: %s is also a declared network' % gateway['name'])
    declared = dict((key, spec.get('default')) for key, spec in NETWORK_OPTIONS.items())
    declared.update(name=gateway['name'], bridge=gateway['bridge'], subnet=gateway['subnet'], icc=False,
                    resolve_names=False)
    _add_network(nets, _network(declared, len(nets)), 'gateway_bridge')
    for ep in users:
        if gateway['name'] not in [a['name'] for a in ep['networks']]:
            ep['networks'].append(_attachment(gateway['name'], len(ep['networks']), 'endpoints (%s)' % ep['name']))


def _check_bridge_ports(nets, eps):
    """Every endpoint of a network is a port of its bridge, and the kernel refuses a port past its
    limit - after hundreds of endpoints were made. An overlay's bridge also holds the VXLAN device."""
    endpoints = dict((name, 0) for name in nets)
    for ep in eps.values():
        for att in ep['networks'] if ep['state'] == 'present' else []:
            endpoints[att['name']] += 1
    for name, count in sorted(endpoints.items()):
        overlay = nets[name]['driver'] == 'overlay'
        if count + overlay > BRIDGE_PORTS:
            raise InvalidInput('networks (%s): %d endpoints on this host, and its bridge %s holds at most %d ports%s '
                               '(a limit of the kernel); spread the endpoints over more networks'
                               % (name, count, nets[name]['bridge'], BRIDGE_PORTS, ' with the VXLAN device' if overlay else ''))


def _check_endpoints(nets, eps):
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


def routed_network(net):
    """A network the endpoint's default route and published ports use: a present bridge network
    with a way out (an overlay has none of its own: its egress is the gateway bridge)."""
    return net['state'] == 'present' and net['driver'] == 'bridge' and not net['internal']


def network_pools(net):
    """[(pool name, pool, the attachment key of a static address)] of a resolved network: its
    IPv4 pool, named after the network, and with IPv6 its IPv6 pool (``ipv6_pool_name``)."""
    pools = [(net['name'], net['pool'], 'address')]
    if net['pool6'] is not None:
        pools.append((ipv6_pool_name(net['name']), net['pool6'], 'ipv6_address'))
    return pools
