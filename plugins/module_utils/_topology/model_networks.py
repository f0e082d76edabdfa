# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Network declarations -> checked network records of the model: names, subnets and pools,
IPv6, overlays (as declared, or as the control plane planned them), and the checks between
networks (a name, a bridge or a subnet used twice)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress

from ansible_collections.netplumb.container.plugins.module_utils import _validate as validate
from ansible_collections.netplumb.container.plugins.module_utils._errors import InvalidInput
from ansible_collections.netplumb.container.plugins.module_utils._objects.ipam import pool_spec
from ansible_collections.netplumb.container.plugins.module_utils._topology.model_fields import domains, name, names
from ansible_collections.netplumb.container.plugins.module_utils._topology.names import OVERLAY_BRIDGE, bridge_name, ipv6_pool_name, overlay_namespace
from ansible_collections.netplumb.container.plugins.module_utils._topology.overlay import check_vni

MAX_PREFIX = {4: 30, 6: 124}      # the smallest subnet a network may have: room for endpoints
LAN_DRIVERS = ('macvlan', 'ipvlan')


def check_pools(default_pools):
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


def network(net, index, planned=True):
    net = dict(net)
    option = 'networks[%d] (%s)' % (index, name(net['name'], 'networks[%d].name' % index))
    if net['driver'] == 'overlay':
        _overlay(net, option, planned)
    else:
        for key in ('vni', 'local') + (() if net['driver'] in LAN_DRIVERS else ('peers',)):
            if net[key] is not None:
                raise InvalidInput('%s.%s: only overlay networks have one' % (option, key))
        if net['control_plane'] != 'static':
            raise InvalidInput('%s.control_plane: %s - only overlay networks have a control plane'
                               % (option, net['control_plane']))
        net['namespace'] = None
        if net['driver'] in LAN_DRIVERS:
            _lan(net, option)
        else:
            net['bridge'] = validate.firewall_ifname(net['bridge'] or bridge_name(net['name']), option + '.bridge')
    _lan_fields_only_on_lan(net, option)
    net['mtu'] = validate.optional(validate.mtu, net['mtu'], option + '.mtu')
    net['dns_search'] = domains(net.get('dns_search'), option + '.dns_search')
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
    if net['driver'] in LAN_DRIVERS:
        _shim_address(net, option)
    return net


def _lan(net, option):
    """A macvlan or ipvlan network: endpoints straight on the LAN of a host interface (``parent``),
    each at an address of the LAN's subnet, through the LAN's router; no bridge, NAT or firewall
    rules of ours. A parent ``eth0.10`` is VLAN 10 on eth0, made when missing (Docker's rule)."""
    driver = net['driver']
    if net['bridge'] is not None:
        raise InvalidInput('%s.bridge: a %s network has no bridge; its endpoints sit on the parent interface\'s LAN'
                           % (option, driver))
    if net['parent'] is None and net['state'] == 'present':
        raise InvalidInput('%s.parent: required for a %s network (the host interface on the LAN, eth0 or eth0.10 '
                           'for VLAN 10)' % (option, driver))
    if net['parent'] is not None:
        net['parent'] = validate.ifname(net['parent'], option + '.parent')
        vlan_parent(net['parent'], option + '.parent')
    if net['subnet'] is None and net['state'] == 'present':
        raise InvalidInput('%s.subnet: required for a %s network - the subnet of its LAN (an ip_range inside it keeps '
                           'the addresses handed out away from the LAN\'s own hosts)' % (option, driver))
    for key, default in (('macvlan_mode', 'bridge'), ('ipvlan_mode', 'l2')):
        if key.startswith(driver):
            net[key] = net[key] or default
        elif net[key] is not None:
            raise InvalidInput('%s.%s: only %s networks have one' % (option, key, key.partition('_')[0]))
    for key, default, why in (('icc', True, 'no firewall rules of ours'), ('masquerade', True, 'no NAT'),
                              ('host_ip', None, 'no published ports')):
        if net[key] != default:
            raise InvalidInput('%s.%s: a %s network has %s: its endpoints are on the LAN at their own addresses'
                               % (option, key, driver, why))
    net['peers'] = peers(net, option) if net['state'] == 'present' else []
    if net['macvlan_mode'] == 'passthru' and net['host_shim']:
        raise InvalidInput('%s.host_shim: macvlan mode passthru gives the parent to one interface only' % option)
    if net['macvlan_mode'] in ('private', 'vepa') and net['host_shim']:
        raise InvalidInput('%s.host_shim: in macvlan mode %s the parent\'s macvlan interfaces do not reach each other '
                           'through the host, so a shim cannot reach the endpoints (use mode bridge)'
                           % (option, net['macvlan_mode']))


def vlan_parent(parent, option):
    """(base interface, VLAN id) of a parent named ``base.id``, else None."""
    base, dot, tag = parent.rpartition('.')
    if not dot or not base or not tag.isdigit():
        return None
    if not 1 <= int(tag) <= 4094:
        raise InvalidInput('%s: %s - VLAN %s is not 1..4094' % (option, parent, tag))
    return base, int(tag)


def _lan_fields_only_on_lan(net, option):
    if net['driver'] not in LAN_DRIVERS:
        for key in ('parent', 'macvlan_mode', 'ipvlan_mode', 'shim_address'):
            if net.get(key) is not None:
                raise InvalidInput('%s.%s: only macvlan and ipvlan networks have one' % (option, key))
        if net.get('host_shim'):
            raise InvalidInput('%s.host_shim: only macvlan and ipvlan networks have one (the host reaches a bridge '
                               'network\'s endpoints through its gateway)' % option)


def _shim_address(net, option):
    """The shim's address, when declared (the role's control plane declares one unique across
    the inventory): in the subnet, not the gateway, not reserved."""
    if net['shim_address'] is None:
        return
    if not net['host_shim']:
        raise InvalidInput('%s.shim_address: %s without host_shim' % (option, net['shim_address']))
    ip = validate.ip_address(net['shim_address'], option + '.shim_address')
    pool = net['pool']
    if ipaddress.ip_address(ip) not in ipaddress.ip_network(pool['subnet']) or ip == pool['gateway'] \
            or ip in pool['reserved']:
        raise InvalidInput('%s.shim_address: %s is not a free address of %s (gateway %s, aux_addresses %s)'
                           % (option, ip, pool['subnet'], pool['gateway'], ', '.join(pool['reserved']) or 'none'))
    net['shim_address'] = ip


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
    if net['control_plane'] == 'evpn' and net['state'] == 'present':
        _evpn(net, option)
    if net['state'] != 'present' or not planned:
        net['peers'] = []
        return
    for key in ('subnet', 'vni', 'local'):
        if net[key] is None:
            raise InvalidInput('%s.%s: required for an overlay network' % (option, key))
    check_vni(net['vni'], option + '.vni')
    net['local'] = validate.ip_address(net['local'], option + '.local')
    net['peers'] = peers(net, option)


def _evpn(net, option):
    """An EVPN overlay is run one host at a time (FRR spreads what each host holds), so what
    every host must agree on is declared, never worked out from the other hosts: the VNI (the
    fabric's name for the overlay), and each host's own ``ip_range`` to hand addresses out of."""
    if net['vni'] is None:
        raise InvalidInput('%s.vni: required for an overlay with control_plane evpn (FRR advertises it; every '
                           'host must name the same one without asking the others)' % option)
    if net['ip_range'] is None:
        raise InvalidInput('%s.ip_range: required for an overlay with control_plane evpn: each host hands out '
                           'addresses from a range of its own (host_vars), disjoint from the other hosts\', so a '
                           'run on one host needs no other host\'s leases' % option)
    if net['peers']:
        raise InvalidInput('%s.peers: an overlay with control_plane evpn has none (FRR learns the other hosts)'
                           % option)


def peers(net, option):
    """The other hosts of an overlay (their VTEP, and their endpoints for the forwarding tables and
    the names), or of a macvlan or ipvlan LAN (their endpoints, for the names)."""
    found = []
    for index, peer in enumerate(net['peers'] or []):
        where = '%s.peers[%d]' % (option, index)
        if peer.get('vtep') is None and net['driver'] == 'overlay':
            raise InvalidInput('%s.vtep: required for an overlay\'s peer' % where)
        vtep = validate.optional(validate.ip_address, peer.get('vtep'), where + '.vtep')
        if vtep is not None and vtep == net.get('local'):
            raise InvalidInput('%s.vtep: %s is this host\'s own VTEP (local)' % (where, vtep))
        remote = [{'ip': validate.ip_address(ep['ip'], '%s.endpoints[%d].ip' % (where, i)),
                   'mac': validate.mac(ep['mac'], '%s.endpoints[%d].mac' % (where, i)), 'name': ep['name'],
                   'ipv6': validate.optional(validate.ip_address, ep.get('ipv6'), '%s.endpoints[%d].ipv6' % (where, i)),
                   'aliases': names(ep.get('aliases'), '%s.endpoints[%d].aliases' % (where, i))}
                  for i, ep in enumerate(peer['endpoints'])]
        found.append({'vtep': vtep, 'endpoints': remote})
    return found


def add_network(nets, net, option):
    for key in ('name', 'bridge'):
        other = [n for n in nets.values() if net[key] is not None and n[key] == net[key]
                 and n['namespace'] == net['namespace']]
        if other:
            raise InvalidInput('%s: %s %s is also used by network %s' % (option, key, net[key], other[0]['name']))
    for other in nets.values():
        for key in ('subnet', 'ipv6_subnet'):
            if net[key] and other[key] and ipaddress.ip_network(net[key]).overlaps(ipaddress.ip_network(other[key])):
                raise InvalidInput('%s (%s).%s: %s overlaps network %s (%s)'
                                   % (option, net['name'], key, net[key], other['name'], other[key]))
    nets[net['name']] = net


def routed_network(net):
    """A network the endpoint's default route and published ports use: a present bridge network
    with a way out (an overlay has none of its own: its egress is the gateway bridge)."""
    return net['state'] == 'present' and net['driver'] == 'bridge' and not net['internal']


def lan_network(net):
    """A macvlan or ipvlan network: its endpoints are on the parent's LAN."""
    return net['driver'] in LAN_DRIVERS


def egress_network(net):
    """A network an endpoint's default route may go through: a routed bridge network, or a LAN
    (macvlan, ipvlan) that is not internal - through the LAN's router, with no NAT."""
    return routed_network(net) or (net['state'] == 'present' and lan_network(net) and not net['internal'])


def network_pools(net):
    """[(pool name, pool, the attachment key of a static address)] of a resolved network: its
    IPv4 pool, named after the network, and with IPv6 its IPv6 pool (``ipv6_pool_name``)."""
    pools = [(net['name'], net['pool'], 'address')]
    if net['pool6'] is not None:
        pools.append((ipv6_pool_name(net['name']), net['pool6'], 'ipv6_address'))
    return pools
