# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The overlay control plane, computed from the inventory instead of a key-value store (seeds 002, 004).

Pure: from every play host's declarations (``netplumb_networks``, where overlays are declared
alike on every host that lists them, and ``netplumb_endpoints``) and what every host reports it
holds (topology_info: recorded VNIs, IPAM leases, underlay addresses), work out each host's
arguments for the topology module - for each overlay the host has endpoints on: VNI, MTU, its
own VTEP address, the other hosts' VTEPs and endpoints; addresses unique across the inventory.
Leases live on the hosts that hold the endpoints, so a thrown-away controller loses nothing: the
next run reads them back."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress

from ansible_collections.netplumb.container.plugins.module_utils import _validate as validate
from ansible_collections.netplumb.container.plugins.module_utils._errors import Conflict, InvalidInput
from ansible_collections.netplumb.container.plugins.module_utils._objects.ipam import candidates, pool_spec
from ansible_collections.netplumb.container.plugins.module_utils._topology.lan import SHIM_OWNER
from ansible_collections.netplumb.container.plugins.module_utils._topology.model_networks import LAN_DRIVERS
from ansible_collections.netplumb.container.plugins.module_utils._topology.names import ipv6_pool_name, mac_of
from ansible_collections.netplumb.container.plugins.module_utils._topology.overlay import (
    VNI_BASE, VNI_MAX, check_vni, fitting_mtu)

# What every host that declares an overlay must declare alike; a macvlan or ipvlan network (one
# LAN, its parent and mode each host's own) shares its addresses.
SHARED = ('state', 'subnet', 'gateway', 'ip_range', 'aux_addresses', 'enable_ipv6', 'ipv6_subnet', 'ipv6_gateway', 'vni',
          'mtu', 'egress', 'resolve_names', 'control_plane')
# An EVPN overlay is run one host at a time: each host hands out addresses from a range of its own.
EVPN_OWN = ('ip_range',)
LAN_SHARED = ('state', 'driver', 'subnet', 'gateway', 'ip_range', 'aux_addresses', 'enable_ipv6', 'ipv6_subnet',
              'ipv6_gateway', 'internal', 'resolve_names')
SPANNING = ('overlay',) + LAN_DRIVERS


def _overlays(hosts):
    """{name: the network as every host declares it} of the overlays and the LANs (macvlan,
    ipvlan) of the play, present ones; hosts that declare one differently are refused."""
    found = {}
    for host in hosts:
        for net in host['networks']:
            if net['driver'] not in SPANNING:
                continue
            shared = dict((key, net[key]) for key in (LAN_SHARED if net['driver'] in LAN_DRIVERS else SHARED)
                          if not (net.get('control_plane') == 'evpn' and key in EVPN_OWN))
            shared['driver'] = net['driver']
            if net['name'] in found and found[net['name']][1] != shared:
                first, other = found[net['name']]
                raise InvalidInput('netplumb_networks (%s): the %s network is declared differently on %s and %s (%s)' % (
                    net['name'], other['driver'], first, host['name'], ', '.join(
                        '%s %r / %r' % (k, other.get(k), shared.get(k)) for k in sorted(set(other) | set(shared))
                        if other.get(k) != shared.get(k))))
            found.setdefault(net['name'], (host['name'], shared))
    present = {}
    for name in sorted(found):
        net = found[name][1]
        if net['state'] != 'present':
            continue
        option = 'netplumb_networks (%s)' % name
        if net['subnet'] is None:
            raise InvalidInput('%s.subnet: required (one subnet shared by every host of the overlay)' % option)
        net = dict(net, name=name, pool=pool_spec(name, net['subnet'], net['gateway'], net.get('ip_range'),
                                                  net['aux_addresses']), pool6=None)
        if net['enable_ipv6'] or net['ipv6_subnet']:
            if net['ipv6_subnet'] is None:
                raise InvalidInput('%s.ipv6_subnet: required for an overlay with IPv6 (one subnet shared by every '
                                   'host)' % option)
            net['pool6'] = pool_spec(ipv6_pool_name(name), net['ipv6_subnet'], net['ipv6_gateway'])
        if net.get('vni') is not None:
            check_vni(net['vni'], option + '.vni')
        for other in present.values():
            for key in ('pool', 'pool6'):
                if net[key] and other[key] and ipaddress.ip_network(net[key]['subnet']).overlaps(
                        ipaddress.ip_network(other[key]['subnet'])):
                    raise InvalidInput('overlay %s: subnet %s overlaps overlay %s (%s)'
                                       % (name, net[key]['subnet'], other['name'], other[key]['subnet']))
            if net.get('vni') is not None and net['vni'] == other.get('vni'):
                raise InvalidInput('overlay %s: VNI %d is also declared for overlay %s' % (name, net['vni'], other['name']))
        present[name] = net
    return present


def underlay_of(host):
    """The host's VTEP address: declared, else the address on the interface of its default route,
    else its only IPv4 address."""
    info = host['info']
    # the gateway addresses of the bridges netplumb made are never an underlay
    addresses = [a for a in info.get('underlay', []) if not a.get('netplumb')]
    if host.get('underlay'):
        ip = validate.ip_address(host['underlay'], 'netplumb_underlay_address (%s)' % host['name'])
        found = [a for a in addresses if a['address'] == ip]
        if not found:
            raise InvalidInput('netplumb_underlay_address (%s): %s is not an address of the host (it has %s)'
                               % (host['name'], ip, ', '.join(a['address'] for a in addresses) or 'none'))
        return found[0]
    default = [a for a in addresses if a['device'] == info.get('default_device')]
    if default:
        return default[0]
    if len(addresses) == 1:
        return addresses[0]
    raise InvalidInput('host %s: cannot tell its underlay address among %s; set netplumb_underlay_address'
                       % (host['name'], ', '.join(a['address'] for a in addresses) or 'no IPv4 address'))


def _attachments(ep):
    return [dict(att) if isinstance(att, dict) else {'name': att} for att in ep['networks'] or []]


def _vnis(present, hosts, base):
    """Declared, else recorded on the hosts, else the lowest free from ``base``."""
    recorded = {}
    for host in hosts:
        for name, rec in (host['info'].get('networks') or {}).items():
            if rec.get('driver') == 'overlay' and rec.get('vni'):
                recorded.setdefault(name, set()).add(rec['vni'])
    present = dict((name, net) for name, net in present.items() if net['driver'] == 'overlay')
    taken = set(n['vni'] for n in present.values() if n['vni'] is not None)
    vnis = {}
    for name in sorted(present):
        net = present[name]
        if net['vni'] is not None:
            vnis[name] = net['vni']
        elif recorded.get(name):
            vnis[name] = min(v for v in recorded[name] if v not in taken) if recorded[name] - taken else None
        if vnis.get(name) is not None:
            taken.add(vnis[name])
    for name in sorted(present):
        if vnis.get(name) is None:
            vni = base
            while vni in taken or any(vni in v for n, v in recorded.items() if n != name):
                vni += 1
            if vni > VNI_MAX:
                raise Conflict('overlay %s: no free VNI from %d' % (name, base))
            vnis[name] = vni
            taken.add(vni)
    return vnis


def _leases(pool, hosts_by_name):
    """({host: {owner: address}}, every address) of ``pool`` on the hosts that reported it."""
    leases = dict((name, (h['info'].get('leases') or {}).get(pool['name']) or {}) for name, h in hosts_by_name.items())
    return leases, set(ip for held in leases.values() for ip in held.values())


def _lease_of(host, ep, leases):
    """The address endpoint ``ep`` (now on ``host``) leases: on its host, else - it moved - on the
    host it left (a shim's owner is each host's own, so only its host's counts)."""
    owner = ep.get('owner', ep['name'])
    if owner in leases.get(host, {}) or 'owner' in ep:
        return leases.get(host, {}).get(owner)
    return next((held[owner] for _name, held in sorted(leases.items()) if owner in held), None)


def _addresses(net, members, hosts_by_name, pool_key='pool', key='address', taken=(), others=None, leases=None):
    """endpoint -> address on overlay or LAN ``net`` from its pool ``pool_key`` (IPv4 ``pool``, IPv6
    ``pool6``): static first (attachment ``key``), then its lease (on its host, or on the host it
    moved from), then the lowest free address (never one of ``taken``: the play hosts' own on a
    LAN; never one a host still leases to an endpoint that left it: that host may not have
    released it yet, as in a rolling update, where it applies in a later batch), in the order of
    (host, endpoint), so every host computes the same. ``leases``: the pool's, when the caller
    has them (one EVPN overlay is handed out host by host)."""
    pool = net[pool_key]
    network = ipaddress.ip_network(pool['subnet'])
    span = ipaddress.ip_network(pool['ip_range']) if pool['ip_range'] else network
    owner_of, chosen = dict(others or {}), {}
    leases, leased = leases or _leases(pool, hosts_by_name)
    for host, ep, att in members:
        if att.get(key) is not None:
            option = 'netplumb_endpoints (%s on %s).networks (%s).%s' % (ep['name'], host, net['name'], key)
            ip = validate.ip_address(att[key], option)
            if ipaddress.ip_address(ip) not in network or ip == pool['gateway']:
                raise InvalidInput('%s: %s is not a usable address of %s' % (option, ip, network))
            if ip in owner_of and owner_of[ip] != ep['name']:
                raise InvalidInput('%s: %s is also the address of %s' % (option, ip, owner_of[ip]))
            if ip in taken:
                raise InvalidInput('%s: %s is an address of a host of the play on that LAN' % (option, ip))
            owner_of[ip], chosen[ep['name']] = ep['name'], ip
    for host, ep, att in members:
        lease = _lease_of(host, ep, leases)
        if ep['name'] not in chosen and lease and lease not in owner_of and ipaddress.ip_address(lease) in span \
                and lease != pool['gateway'] and lease not in pool['reserved'] and lease not in taken:
            owner_of[lease], chosen[ep['name']] = ep['name'], lease
    free = (str(ip) for ip in candidates(pool) if str(ip) not in owner_of and str(ip) not in taken
            and str(ip) not in leased)
    for host, ep, att in members:
        if ep['name'] not in chosen:
            ip = next(free, None)
            if ip is None:
                raise Conflict('overlay %s (%s) is exhausted: no address for %s on %s'
                               % (net['name'], pool['subnet'], ep['name'], host))
            chosen[ep['name']] = ip
    return chosen


def _evpn_addresses(net, members, hosts):
    """endpoint -> IPv4 address on EVPN overlay ``net``: each host hands out from its own
    ``ip_range`` (declared per host, disjoint), so a run on one host needs no other's leases;
    addresses declared on the other hosts of the play are never handed out."""
    ranges = {}
    for host in hosts:
        for declared in host['networks']:
            if declared['name'] == net['name'] and declared['driver'] == 'overlay' and declared['ip_range']:
                span = ipaddress.ip_network(declared['ip_range'])
                for other, theirs in ranges.items():
                    if span.overlaps(theirs):
                        raise InvalidInput('netplumb_networks (%s).ip_range: %s on %s overlaps %s on %s; an overlay '
                                           'with control_plane evpn needs a range of its own on every host'
                                           % (net['name'], span, host['name'], theirs, other))
                ranges[host['name']] = span
    statics = dict((att['address'], ep['name']) for h, ep, att in members if att.get('address'))
    by_name, chosen = dict((h['name'], h) for h in hosts), {}
    leases = _leases(net['pool'], by_name)
    for host in sorted(set(m[0] for m in members)):
        if host not in ranges:
            raise InvalidInput('netplumb_networks (%s).ip_range: required on %s for an overlay with control_plane evpn: '
                               'each host hands out addresses from a range of its own' % (net['name'], host))
        pool = dict(net['pool'], ip_range=str(ranges[host]))
        chosen.update(_addresses(dict(net, pool=pool), [m for m in members if m[0] == host], by_name, others=statics,
                                 leases=leases))
    return chosen


def derived_ipv6(pool6, pool, ipv4):
    """An EVPN overlay endpoint's IPv6 address: the IPv6 subnet with the IPv4 address's offset in
    its subnet (10.0.1.37 in 10.0.1.0/24 -> fd00:1::25): unique as the IPv4 addresses are, with no
    host asking another."""
    offset = int(ipaddress.ip_address(ipv4)) - int(ipaddress.ip_network(pool['subnet']).network_address)
    return str(ipaddress.ip_network(pool6['subnet']).network_address + offset)


def _members(present, hosts):
    members = dict((name, []) for name in present)
    seen = {}
    for host in hosts:
        for ep in host['endpoints']:
            if ep['state'] != 'present':
                continue
            for att in _attachments(ep):
                if att['name'] in present:
                    key = (att['name'], ep['name'])
                    if key in seen:
                        raise InvalidInput('endpoint %s is on overlay %s on two hosts, %s and %s; names are unique '
                                           'on an overlay' % (ep['name'], att['name'], seen[key], host['name']))
                    seen[key] = host['name']
                    members[att['name']].append((host['name'], ep, att))
    return members


def _remote(name, addresses, addresses6, att):
    """A peer's endpoint as the topology module takes it: address, MAC, name (and IPv6 address,
    and the aliases it has on the overlay: other hosts' name servers answer them too)."""
    remote = {'ip': addresses[name], 'mac': mac_of(addresses[name]), 'name': name}
    if addresses6:
        remote['ipv6'] = addresses6[name]
    if att.get('aliases'):
        remote['aliases'] = list(att['aliases'])
    return remote


def _shims(name, hosts):
    """The shims of LAN ``name`` as members (host, owner, declaration): their addresses are handed
    out with the endpoints', unique on the LAN, and kept from each host's lease."""
    found = []
    for host in hosts:
        for net in host['networks']:
            if net['name'] == name and net['driver'] in LAN_DRIVERS and net['host_shim']:
                found.append((host['name'], {'name': '%s@%s' % (SHIM_OWNER, host['name']), 'owner': SHIM_OWNER},
                              {'address': net['shim_address']}))
    return found


def _hosts_on(net, hosts):
    """The play hosts' own IPv4 addresses in a LAN's subnet (topology_info's): never handed out."""
    subnet = ipaddress.ip_network(net['pool']['subnet'])
    return set(a['address'] for h in hosts for a in h['info'].get('underlay', [])
               if not a.get('netplumb') and ipaddress.ip_address(a['address']) in subnet)


def plan_overlays(hosts, vni_base=VNI_BASE):
    """``hosts``: [{name, networks, endpoints (spec-validated declarations), info (topology_info
    result, {} when it has no overlay or LAN), underlay (declared address or None)}] for every host
    of the play. Returns {host: (networks, endpoints)}: the declarations with every overlay the host
    has endpoints on filled in (and the others left out), each LAN (macvlan, ipvlan) with the other
    hosts' endpoints and the shim's address, and overlay and LAN addresses on its endpoints -
    unique across the inventory, where Docker's per-host IPAM hands out the same one twice."""
    hosts = sorted(hosts, key=lambda h: h['name'])
    present = _overlays(hosts)
    by_name = dict((h['name'], h) for h in hosts)
    members = _members(present, hosts)
    underlay = dict((h['name'], underlay_of(h)) for h in hosts
                    if any(m[0] == h['name'] for name, ms in members.items() for m in ms
                           if present[name]['driver'] == 'overlay'))
    vnis = _vnis(present, hosts, vni_base)
    addresses, addresses6, mtus = {}, {}, {}
    for name, net in sorted(present.items()):
        if net['driver'] in LAN_DRIVERS:
            taken = _hosts_on(net, hosts)
            addresses[name] = _addresses(net, members[name] + _shims(name, hosts), by_name, taken=taken)
            if net['pool6']:
                addresses6[name] = _addresses(net, members[name], by_name, 'pool6', 'ipv6_address')
        elif members[name] and net['control_plane'] == 'evpn':
            addresses[name] = _evpn_addresses(net, members[name], hosts)
            if net['pool6']:
                addresses6[name] = dict((ep['name'], att.get('ipv6_address') or derived_ipv6(
                    net['pool6'], net['pool'], addresses[name][ep['name']])) for h, ep, att in members[name])
        elif members[name]:
            room = min((underlay[m[0]]['mtu'], m[0]) for m in members[name])
            mtus[name] = fitting_mtu(net['mtu'], room[0], 'netplumb_networks (%s).mtu' % name,
                                     'host %s\'s underlay' % room[1])
            addresses[name] = _addresses(net, members[name], by_name)
            if net['pool6']:
                addresses6[name] = _addresses(net, members[name], by_name, 'pool6', 'ipv6_address')
    result = {}
    for host in hosts:
        mine = set(name for name in present if any(m[0] == host['name'] for m in members[name]))
        networks = []
        for net in host['networks']:
            if net['driver'] == 'overlay' and net['name'] in present:
                if net['name'] not in mine:
                    continue            # no endpoint here: nothing of the overlay on this host
                name = net['name']
                if present[name]['control_plane'] == 'evpn':
                    # FRR learns the other hosts; the MTU fits this host's own underlay
                    mtu = fitting_mtu(net['mtu'], underlay[host['name']]['mtu'], 'netplumb_networks (%s).mtu' % name,
                                      'host %s\'s underlay' % host['name'])
                    networks.append(dict(net, mtu=mtu, local=underlay[host['name']]['address'], peers=[]))
                    continue
                peers = [{'vtep': underlay[other]['address'], 'endpoints': [
                    _remote(ep['name'], addresses[name], addresses6.get(name), att) for h, ep, att in members[name] if h == other]}
                    for other in sorted(set(m[0] for m in members[name]) - set([host['name']]))]
                net = dict(net, vni=vnis[name], mtu=mtus[name], local=underlay[host['name']]['address'], peers=peers)
            elif net['driver'] in LAN_DRIVERS and net['name'] in present:
                # the names of the LAN's endpoints on other hosts (hosts files, name server)
                name = net['name']
                peers = [{'endpoints': [_remote(ep['name'], addresses[name], addresses6.get(name), att)
                                        for h, ep, att in members[name] if h == other]}
                         for other in sorted(set(m[0] for m in members[name]) - set([host['name']]))]
                shim = addresses[name].get('%s@%s' % (SHIM_OWNER, host['name']))
                net = dict(net, peers=peers, shim_address=shim)
            networks.append(net)
        endpoints = []
        for ep in host['endpoints']:
            atts = _attachments(ep)
            for att in atts:
                if att['name'] in mine:
                    att['address'] = addresses[att['name']][ep['name']]
                    if att['name'] in addresses6:
                        att['ipv6_address'] = addresses6[att['name']][ep['name']]
            endpoints.append(dict(ep, networks=atts) if ep['networks'] is not None else dict(ep))
        result[host['name']] = (networks, endpoints)
    return result
