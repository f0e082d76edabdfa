# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The overlay control plane, computed from the inventory instead of a key-value store (seeds 002, 004).

Pure: from the declared overlays, every host's declared endpoints and what every host reports it
holds (topology_info: recorded VNIs, IPAM leases, underlay addresses), work out for each host
the concrete networks and endpoints its topology call gets - VNI, MTU, its own VTEP address,
the other hosts' VTEPs and endpoints (flood, FDB and neighbour entries), addresses unique
across the inventory, and the gateway bridge for egress. Leases live on the hosts that hold
the endpoints, so a thrown-away controller loses nothing: the next run reads them back.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress

from ansible_collections.netplumb.container.plugins.module_utils import _validate as validate
from ansible_collections.netplumb.container.plugins.module_utils._errors import Conflict, InvalidInput
from ansible_collections.netplumb.container.plugins.module_utils._ipam import candidates, pool_spec
from ansible_collections.netplumb.container.plugins.module_utils._topology import (
    NAME, VXLAN_OVERHEAD, mac_of)

OVERLAY_DEFAULTS = dict(state='present', subnet=None, gateway=None, ip_range=None, aux_addresses=None, vni=None,
                        mtu=None, egress=True, resolve_names=True)
GWBRIDGE_DEFAULTS = dict(name='gwbridge', bridge='np_gwbridge', subnet='172.30.0.0/16')
VNI_BASE = 4096
VNI_MAX = 16777215


def _declared(networks):
    found = {}
    for index, item in enumerate(networks or []):
        option = 'overlay_network_networks[%d]' % index
        if not isinstance(item, dict):
            raise InvalidInput('%s: %r is not a mapping' % (option, item))
        unknown = sorted(set(item) - set(OVERLAY_DEFAULTS) - set(['name']))
        if unknown:
            raise InvalidInput('%s: unknown option %s' % (option, ', '.join(unknown)))
        net = dict(OVERLAY_DEFAULTS)
        net.update((k, v) for k, v in item.items() if v is not None)
        if not isinstance(net.get('name'), str) or not NAME.match(net['name']):
            raise InvalidInput('%s.name: %r is not a valid name' % (option, net.get('name')))
        option = 'overlay_network_networks[%d] (%s)' % (index, net['name'])
        if net['name'] in found:
            raise InvalidInput('%s: overlay %s is declared twice' % (option, net['name']))
        if net['state'] not in ('present', 'absent'):
            raise InvalidInput('%s.state: %r is not present or absent' % (option, net['state']))
        if net['state'] == 'present':
            if net['subnet'] is None:
                raise InvalidInput('%s.subnet: required (one subnet shared by every host of the overlay)' % option)
            net['pool'] = pool_spec(net['name'], net['subnet'], net['gateway'], net['ip_range'], net['aux_addresses'])
            if net['vni'] is not None and (isinstance(net['vni'], bool) or not isinstance(net['vni'], int)
                                           or not 1 <= net['vni'] <= VNI_MAX):
                raise InvalidInput('%s.vni: %r is not a VXLAN network identifier (1..%d)' % (option, net['vni'], VNI_MAX))
            net['mtu'] = validate.optional(validate.mtu, net['mtu'], option + '.mtu')
            for key in ('egress', 'resolve_names'):
                if not isinstance(net[key], bool):
                    raise InvalidInput('%s.%s: %r is not a boolean' % (option, key, net[key]))
        found[net['name']] = net
    for name, net in found.items():
        for other in found.values():
            if other['name'] < name and 'pool' in net and 'pool' in other and ipaddress.ip_network(
                    net['pool']['subnet']).overlaps(ipaddress.ip_network(other['pool']['subnet'])):
                raise InvalidInput('overlay %s: subnet %s overlaps overlay %s (%s)'
                                   % (name, net['pool']['subnet'], other['name'], other['pool']['subnet']))
    declared_vnis = {}
    for net in found.values():
        if net.get('vni') is not None and net['state'] == 'present':
            if net['vni'] in declared_vnis:
                raise InvalidInput('overlay %s: VNI %d is also declared for overlay %s'
                                   % (net['name'], net['vni'], declared_vnis[net['vni']]))
            declared_vnis[net['vni']] = net['name']
    return found


def underlay_of(host):
    """The host's VTEP address: declared, else the address on the interface of its default route,
    else its only IPv4 address."""
    info = host['info']
    # the gateway addresses of the bridges netplumb made are never an underlay
    addresses = [a for a in info.get('underlay', []) if not a.get('netplumb')]
    if host.get('underlay'):
        ip = validate.ip_address(host['underlay'], 'overlay_network_underlay_address (%s)' % host['name'])
        found = [a for a in addresses if a['address'] == ip]
        if not found:
            raise InvalidInput('overlay_network_underlay_address (%s): %s is not an address of the host (it has %s)'
                               % (host['name'], ip, ', '.join(a['address'] for a in addresses) or 'none'))
        return found[0]
    default = [a for a in addresses if a['device'] == info.get('default_device')]
    if default:
        return default[0]
    if len(addresses) == 1:
        return addresses[0]
    raise InvalidInput('host %s: cannot tell its underlay address among %s; set overlay_network_underlay_address'
                       % (host['name'], ', '.join(a['address'] for a in addresses) or 'no IPv4 address'))


def _attachments(ep):
    out = []
    for att in ep.get('networks') or []:
        out.append(dict(att) if isinstance(att, dict) else {'name': att})
    return out


def _vnis(present, hosts, base):
    recorded = {}
    for host in hosts:
        for name, rec in (host['info'].get('networks') or {}).items():
            if rec.get('driver') == 'overlay' and rec.get('vni'):
                recorded.setdefault(name, set()).add(rec['vni'])
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


def _addresses(net, members, hosts_by_name):
    """endpoint -> address on overlay ``net``: static first, then each host's lease, then the
    lowest free address, in the order of (host, endpoint), so every host computes the same."""
    pool = net['pool']
    network = ipaddress.ip_network(pool['subnet'])
    owner_of, chosen = {}, {}
    for host, ep, att in members:
        if att.get('address') is not None:
            option = 'bridge_network_endpoints (%s on %s).networks (%s).address' % (ep['name'], host, net['name'])
            ip = validate.ip_address(att['address'], option)
            if ipaddress.ip_address(ip) not in network or ip == pool['gateway']:
                raise InvalidInput('%s: %s is not a usable address of %s' % (option, ip, network))
            if ip in owner_of:
                raise InvalidInput('%s: %s is also the address of %s' % (option, ip, owner_of[ip]))
            owner_of[ip], chosen[ep['name']] = ep['name'], ip
    for host, ep, att in members:
        lease = (hosts_by_name[host]['info'].get('leases') or {}).get(net['name'], {}).get(ep['name'])
        if ep['name'] not in chosen and lease and lease not in owner_of and ipaddress.ip_address(lease) in network \
                and lease != pool['gateway'] and lease not in pool['reserved']:
            owner_of[lease], chosen[ep['name']] = ep['name'], lease
    free = (str(ip) for ip in candidates(pool) if str(ip) not in owner_of)
    for host, ep, att in members:
        if ep['name'] not in chosen:
            ip = next(free, None)
            if ip is None:
                raise Conflict('overlay %s (%s) is exhausted: no address for %s on %s'
                               % (net['name'], pool['subnet'], ep['name'], host))
            chosen[ep['name']] = ip
    return chosen


def plan_overlays(networks, hosts, gwbridge=None, vni_base=VNI_BASE):
    """``hosts``: [{name, networks and endpoints (declared for bridge_network), info (topology_info
    result), underlay (declared address or None)}] for every host of the play. Returns {host:
    {networks, endpoints}}: the host's bridge networks plus its overlays and the gateway bridge, and
    its endpoints with overlay addresses filled in and the gateway bridge attached."""
    declared = _declared(networks)
    present = dict((n, net) for n, net in declared.items() if net['state'] == 'present')
    gw = dict(GWBRIDGE_DEFAULTS, **(gwbridge or {}))
    hosts = sorted(hosts, key=lambda h: h['name'])
    by_name = dict((h['name'], h) for h in hosts)
    members = dict((name, []) for name in present)
    seen = {}
    for host in hosts:
        for ep in host['endpoints'] or []:
            if ep.get('state', 'present') != 'present':
                continue
            for att in _attachments(ep):
                if att['name'] in declared and att['name'] not in present:
                    raise InvalidInput('endpoint %s on %s is attached to overlay %s, which is marked absent'
                                       % (ep.get('name'), host['name'], att['name']))
                if att['name'] in present:
                    key = (att['name'], ep['name'])
                    if key in seen:
                        raise InvalidInput('endpoint %s is on overlay %s on two hosts, %s and %s; names are unique '
                                           'on an overlay' % (ep['name'], att['name'], seen[key], host['name']))
                    seen[key] = host['name']
                    members[att['name']].append((host['name'], ep, att))
    underlay = dict((h['name'], underlay_of(h)) for h in hosts if any(
        m[0] == h['name'] for ms in members.values() for m in ms))
    vnis = _vnis(present, hosts, vni_base)
    addresses, mtus = {}, {}
    for name, net in sorted(present.items()):
        if not members[name]:
            continue
        room = min((underlay[m[0]]['mtu'] - VXLAN_OVERHEAD, m[0]) for m in members[name])
        if net['mtu'] is not None and net['mtu'] > room[0]:
            raise InvalidInput('overlay_network_networks (%s).mtu: %d does not fit: host %s has underlay MTU %d and '
                               'VXLAN takes %d bytes, so at most %d'
                               % (name, net['mtu'], room[1], room[0] + VXLAN_OVERHEAD, VXLAN_OVERHEAD, room[0]))
        mtus[name] = net['mtu'] or room[0]
        addresses[name] = _addresses(net, members[name], by_name)

    result = {}
    for host in hosts:
        mine = [name for name in sorted(present) if any(m[0] == host['name'] for m in members[name])]
        nets = []
        for name in mine:
            net = present[name]
            peers = []
            for other in sorted(set(m[0] for m in members[name]) - set([host['name']])):
                peers.append({'vtep': underlay[other]['address'], 'endpoints': [
                    {'ip': addresses[name][ep['name']], 'mac': mac_of(addresses[name][ep['name']]), 'name': ep['name']}
                    for h, ep, att in members[name] if h == other]})
            nets.append({'name': name, 'driver': 'overlay', 'subnet': net['pool']['subnet'],
                         'gateway': net['gateway'], 'ip_range': net['ip_range'], 'aux_addresses': net['aux_addresses'],
                         'vni': vnis[name], 'mtu': mtus[name], 'local': underlay[host['name']]['address'],
                         'peers': peers, 'resolve_names': net['resolve_names']})
        own = [n for n in host.get('networks') or [] if isinstance(n, dict) and n.get('driver', 'bridge') == 'bridge'
               and n.get('name') != gw['name']]
        nets = own + nets
        egress = [name for name in mine if present[name]['egress']]
        if egress:
            nets.append({'name': gw['name'], 'bridge': gw['bridge'], 'subnet': gw['subnet'], 'icc': False,
                         'resolve_names': False})
        endpoints = []
        for ep in host['endpoints'] or []:
            ep = dict(ep)
            atts = _attachments(ep)
            for att in atts:
                if att['name'] in mine:
                    att['address'] = addresses[att['name']][ep['name']]
            if any(a['name'] in egress for a in atts) and gw['name'] not in [a['name'] for a in atts]:
                atts.append({'name': gw['name']})
            if ep.get('networks') is not None or atts:
                ep['networks'] = atts
            endpoints.append(ep)
        result[host['name']] = {'networks': nets, 'endpoints': endpoints}
    return result
