# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A host's container networks and endpoints, reconciled as one plan (seeds 000, 001, 003, 004).

``model()`` validates and normalises what the inventory declares, with no host state (the
role runs it on the controller for every host before any host is changed). ``plan()`` is
pure: from the model and what the host shows (kernel, firewall, IPAM store, the record of
what this collection made) it composes the single-object planners of _plan.py, _firewall.py
and _ipam.py into one list of kernel operations plus the firewall transaction, sysctls,
files, leases and the new record. The topology module observes, calls plan() and applies.

What the collection makes is recognisable: bridges and host-side veths carry the alias
``netplumb ...``, firewall rules the comment ``netplumb:<network>``, leases the endpoint's
name, and the record (``<state_dir>/topology.json``) lists the networks and endpoints, so
whatever leaves the inventory is removed and nothing else is touched.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import ipaddress
import json
import os
import re

from ansible_collections.netplumb.container.plugins.module_utils import _validate as validate
from ansible_collections.netplumb.container.plugins.module_utils._errors import Conflict, InvalidInput
from ansible_collections.netplumb.container.plugins.module_utils._firewall import parse_port, plan_rules
from ansible_collections.netplumb.container.plugins.module_utils._ipam import (
    check_overlap, check_redefinition, next_subnet, plan_leases, pool_spec)
from ansible_collections.netplumb.container.plugins.module_utils._plan import (
    Op, plan_bridge, plan_netns, plan_routes, plan_veth, plan_vxlan)

RECORD = 'topology.json'
DEFAULT_POOLS = [{'base': '172.31.0.0/16', 'size': 24}]
MODES = ('bridge', 'host', 'none')
NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$')
HOSTS_DIR = '/etc/netns'
SYSCTL_FORWARD = 'net.ipv4.ip_forward'
SYSCTL_BRIDGE_NF = 'net.bridge.bridge-nf-call-iptables'
NETWORK_DEFAULTS = dict(state='present', driver='bridge', subnet=None, gateway=None, ip_range=None,
                        aux_addresses=None, bridge=None, mtu=None, icc=True, masquerade=True, internal=False,
                        host_ip=None, resolve_names=True, force=False, vni=None, local=None, peers=None)
ENDPOINT_DEFAULTS = dict(state='present', namespace=None, pid=None, mode='bridge', networks=None, published=None)
ATTACHMENT_DEFAULTS = dict(address=None, ifname=None)
VXLAN_PORT = 4789
VXLAN_OVERHEAD = 50
OVERLAY_BRIDGE, OVERLAY_VTEP = 'br0', 'vxlan0'
NO_NAMESPACE = {'netns': {'exists': False, 'stale': False, 'id': None, 'loopback_up': None}, 'links': {}, 'routes': []}


def _digest(text, length):
    return hashlib.sha1(text.encode('utf-8')).hexdigest()[:length]


def bridge_name(network):
    """Docker names a user-defined network's bridge br-<id>; ours is derived from the name."""
    return 'br-' + _digest('network/' + network, 12)


def host_ifname(endpoint, network):
    """The host end of an endpoint's veth on a network: stable across runs, recognisable."""
    return 'np' + _digest('%s/%s' % (endpoint, network), 10)


def mac_of(ip):
    """Docker's rule: 02:42 followed by the IPv4 address, so a MAC is known wherever the IP is."""
    return '02:42:' + ':'.join('%02x' % b for b in ipaddress.ip_address(ip).packed)


def overlay_namespace(network):
    """Docker keeps each overlay in a namespace of its own (1-<id>): its bridge and VTEP never
    see the host's firewall or routes, and two overlays cannot route to each other."""
    return 'ov-' + network


def vtep_temporary_name(network):
    """The VXLAN device is made in the host namespace, where its UDP socket stays, then moved."""
    return 'npvx' + _digest('vxlan/' + network, 10)


def bridge_alias(network):
    return 'netplumb network %s' % network


def veth_alias(endpoint, network):
    return 'netplumb endpoint %s on %s' % (endpoint, network)


def _name(value, option):
    if not isinstance(value, str) or not NAME.match(value):
        raise InvalidInput('%s: %r is not a valid name (letters, digits, "_", "." and "-", at most 63, '
                           'starting with a letter or digit)' % (option, value))
    return value


def _bool(value, option):
    if not isinstance(value, bool):
        raise InvalidInput('%s: %r is not a boolean' % (option, value))
    return value


def _fill(item, defaults, option, known):
    if not isinstance(item, dict):
        raise InvalidInput('%s: %r is not a mapping' % (option, item))
    unknown = sorted(set(item) - set(known))
    if unknown:
        raise InvalidInput('%s: unknown option %s (known: %s)' % (option, ', '.join(unknown), ', '.join(sorted(known))))
    filled = dict(defaults)
    filled.update((k, v) for k, v in item.items() if v is not None)
    return filled


def _pools(default_pools):
    pools = []
    for index, pool in enumerate(default_pools or DEFAULT_POOLS):
        option = 'default_pools[%d]' % index
        pool = _fill(pool, {}, option, ('base', 'size'))
        try:
            base = ipaddress.ip_network(str(pool.get('base')), strict=True)
            size = int(pool.get('size'))
        except (TypeError, ValueError) as error:
            raise InvalidInput('%s: %r is not a base network and a prefix size (%s)' % (option, pool, error))
        if base.version != 4 or not base.prefixlen <= size <= 30:
            raise InvalidInput('%s: size /%d does not fit the IPv4 base %s' % (option, size, base))
        pools.append({'base': str(base), 'size': size})
    return pools


def _entry(item, index, kind, defaults):
    """A network or endpoint with its defaults, a valid name and state, and the option path
    that messages name it by: ``networks[1] (new_network)``."""
    option = '%s[%d]' % (kind, index)
    entry = _fill(item, defaults, option, list(defaults) + ['name'])
    entry['name'] = _name(entry.get('name'), option + '.name')
    option = '%s[%d] (%s)' % (kind, index, entry['name'])
    if entry['state'] not in ('present', 'absent'):
        raise InvalidInput('%s.state: %r is not present or absent' % (option, entry['state']))
    return entry, option


def _network(item, index):
    net, option = _entry(item, index, 'networks', NETWORK_DEFAULTS)
    if net['driver'] not in ('bridge', 'overlay'):
        raise InvalidInput('%s.driver: %r is not bridge or overlay' % (option, net['driver']))
    for key in ('icc', 'masquerade', 'internal', 'resolve_names', 'force'):
        _bool(net[key], '%s.%s' % (option, key))
    if net['driver'] == 'overlay':
        _overlay(net, option)
    else:
        for key in ('vni', 'local', 'peers'):
            if net[key] is not None:
                raise InvalidInput('%s.%s: only overlay networks have one' % (option, key))
        net['namespace'] = None
    net['bridge'] = validate.ifname(net['bridge'] or bridge_name(net['name']), option + '.bridge')
    net['mtu'] = validate.optional(validate.mtu, net['mtu'], option + '.mtu')
    if net['host_ip'] is not None:
        net['host_ip'] = validate.ip_address(net['host_ip'], option + '.host_ip')
        if ':' in net['host_ip']:
            raise InvalidInput('%s.host_ip: %s - the iptables backend publishes IPv4 only' % (option, net['host_ip']))
    if net['subnet'] is not None:
        net['pool'] = pool_spec(net['name'], net['subnet'], net['gateway'], net['ip_range'], net['aux_addresses'])
        if ipaddress.ip_network(net['pool']['subnet']).version != 4:
            raise InvalidInput('%s.subnet: %s - bridge networks are IPv4 (the iptables backend)' % (option, net['subnet']))
        net['subnet'] = net['pool']['subnet']
    elif net['gateway'] is not None or net['ip_range'] is not None or net['aux_addresses']:
        raise InvalidInput('%s: gateway, ip_range and aux_addresses need a subnet' % option)
    return net


def _overlay(net, option):
    """An overlay's part on this host: its namespace with br0 and the VTEP, and the peers (other
    hosts' VTEPs and their endpoints), which the overlay_network role works out from the inventory."""
    if net['state'] != 'present':
        net.update(namespace=overlay_namespace(net['name']), bridge=OVERLAY_BRIDGE, peers=[])
        return
    for key in ('subnet', 'vni', 'local'):
        if net[key] is None:
            raise InvalidInput('%s.%s: required for an overlay network' % (option, key))
    try:
        vni = int(net['vni'])
    except (TypeError, ValueError):
        vni = 0
    if not 1 <= vni <= 16777215 or isinstance(net['vni'], bool):
        raise InvalidInput('%s.vni: %r is not a VXLAN network identifier (1..16777215)' % (option, net['vni']))
    net['vni'] = vni
    net['local'] = validate.ip_address(net['local'], option + '.local')
    if net['bridge'] not in (None, OVERLAY_BRIDGE):
        raise InvalidInput('%s.bridge: an overlay\'s bridge is %s in namespace %s' % (
            option, OVERLAY_BRIDGE, overlay_namespace(net['name'])))
    net['bridge'] = OVERLAY_BRIDGE
    net['namespace'] = validate.netns_name(overlay_namespace(net['name']), option + '.name')
    peers = []
    for index, peer in enumerate(net['peers'] or []):
        where_ = '%s.peers[%d]' % (option, index)
        peer = _fill(peer, {'endpoints': []}, where_, ('vtep', 'endpoints'))
        vtep = validate.ip_address(peer.get('vtep'), where_ + '.vtep')
        if vtep == net['local']:
            raise InvalidInput('%s.vtep: %s is this host\'s own VTEP (local)' % (where_, vtep))
        remote = []
        for position, ep in enumerate(peer['endpoints']):
            there = '%s.endpoints[%d]' % (where_, position)
            ep = _fill(ep, {'name': None}, there, ('ip', 'mac', 'name'))
            remote.append({'ip': validate.ip_address(ep.get('ip'), there + '.ip'),
                           'mac': validate.mac(ep.get('mac'), there + '.mac'), 'name': ep['name']})
        peers.append({'vtep': vtep, 'endpoints': remote})
    net['peers'] = peers


def _attachment(item, index, option):
    if isinstance(item, str):
        item = {'name': item}
    att = _fill(item, ATTACHMENT_DEFAULTS, option, list(ATTACHMENT_DEFAULTS) + ['name'])
    att['name'] = _name(att.get('name'), option + '.name')
    att['ifname'] = validate.ifname(att['ifname'] or 'eth%d' % index, option + '.ifname')
    if att['ifname'] == 'lo':
        raise InvalidInput('%s.ifname: lo is the loopback interface' % option)
    return att


def _endpoint(item, index, networks):
    ep, option = _entry(item, index, 'endpoints', ENDPOINT_DEFAULTS)
    mode = ep['mode']
    if not isinstance(mode, str) or not (mode in MODES or mode.startswith('container:')):
        raise InvalidInput('%s.mode: %r is not bridge, host, none or container:<endpoint>' % (option, mode))
    ep['shares'] = _name(mode.split(':', 1)[1], option + '.mode') if mode.startswith('container:') else None
    if ep['networks'] is None:
        ep['networks'] = ['bridge'] if mode == 'bridge' and 'bridge' in networks else []
    if not isinstance(ep['networks'], list):
        raise InvalidInput('%s.networks: %r is not a list' % (option, ep['networks']))
    ep['networks'] = [_attachment(a, i, '%s.networks[%d]' % (option, i)) for i, a in enumerate(ep['networks'])]
    ep['published'] = [parse_port(p, i) for i, p in enumerate(ep['published'] or [])]
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
    seen = {}
    for att in ep['networks']:
        for key, what in (('name', 'network'), ('ifname', 'interface')):
            if (key, att[key]) in seen:
                raise InvalidInput('%s.networks: %s %s is listed twice' % (option, what, att[key]))
            seen[(key, att[key])] = True
        net = networks.get(att['name'])
        if net is None:
            raise InvalidInput('%s.networks: network %s is not declared (declared: %s)'
                               % (option, att['name'], ', '.join(sorted(networks)) or 'none'))
        if att['address'] is not None:
            if net.get('pool') is None:
                raise InvalidInput('%s.networks (%s).address: %s needs the network\'s subnet declared'
                                   % (option, att['name'], att['address']))
            ip = validate.ip_address(att['address'], '%s.networks (%s).address' % (option, att['name']))
            if ipaddress.ip_address(ip) not in ipaddress.ip_network(net['subnet']) or ip == net['pool']['gateway']:
                raise InvalidInput('%s.networks (%s).address: %s is %s' % (
                    option, att['name'], ip, 'the gateway' if ip == net['pool']['gateway']
                    else 'not in the subnet %s' % net['subnet']))
            att['address'] = ip
    return ep


def model(networks, endpoints, default_pools=None):
    """Validate and normalise the declared networks and endpoints; raise InvalidInput naming
    the first bad value. Needs no host state."""
    if not isinstance(networks, list) or not isinstance(endpoints, list):
        raise InvalidInput('networks and endpoints must be lists (got %s and %s)'
                           % (type(networks).__name__, type(endpoints).__name__))
    nets = {}
    for index, item in enumerate(networks):
        net = _network(item, index)
        for key in ('name', 'bridge'):
            other = [n for n in nets.values() if n[key] == net[key] and n['namespace'] == net['namespace']]
            if other:
                raise InvalidInput('networks[%d]: %s %s is also used by network %s'
                                   % (index, key, net[key], other[0]['name']))
        for other in nets.values():
            if net.get('subnet') and other.get('subnet') and ipaddress.ip_network(net['subnet']).overlaps(
                    ipaddress.ip_network(other['subnet'])):
                raise InvalidInput('networks[%d] (%s).subnet: %s overlaps network %s (%s)'
                                   % (index, net['name'], net['subnet'], other['name'], other['subnet']))
        nets[net['name']] = net
    eps = {}
    for index, item in enumerate(endpoints):
        ep = _endpoint(item, index, nets)
        if ep['name'] in eps:
            raise InvalidInput('endpoints[%d]: endpoint %s is declared twice' % (index, ep['name']))
        eps[ep['name']] = ep
    _check_endpoints(nets, eps)
    return {'networks': [nets[n] for n in nets], 'endpoints': [eps[e] for e in eps],
            'default_pools': _pools(default_pools)}


def _check_endpoints(nets, eps):
    namespaces, published, addresses = {}, {}, {}
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
            if att['address'] is not None:
                key = (net['name'], att['address'])
                if key in addresses:
                    raise InvalidInput('%s.networks (%s).address: %s is also the address of endpoint %s'
                                       % (option, net['name'], att['address'], addresses[key]))
                addresses[key] = ep['name']
        routed = [nets[a['name']] for a in ep['networks'] if _routed(nets[a['name']])]
        if ep['published'] and not routed:
            raise InvalidInput('%s.published: ports are published on a non-internal bridge network and the endpoint '
                               'has none' % option)
        for port in ep['published']:
            host_ip = port['host_ip'] or routed[0]['host_ip']
            key = (port['proto'], port['host_ports'])
            for (other_ip, other_key), owner in published.items():
                if other_key[0] == key[0] and _overlap(other_key[1], key[1]) and (
                        other_ip is None or host_ip is None or other_ip == host_ip):
                    raise InvalidInput('%s.published: %s/%s port %s is also published by endpoint %s' % (
                        option, host_ip or '*', key[0], '-'.join(str(p) for p in sorted(set(key[1]))), owner))
            published[(host_ip, key)] = ep['name']


def _routed(net):
    """A network the endpoint's default route and published ports use: a present bridge network
    with a way out (an overlay has none of its own: its egress is the gateway bridge)."""
    return net['state'] == 'present' and net['driver'] == 'bridge' and not net['internal']


def _overlap(a, b):
    return a[0] <= b[1] and b[0] <= a[1]


def read_record(state_dir):
    """What the topology module made on this host (the one file it reads outside the IPAM store)."""
    path = os.path.join(state_dir, RECORD)
    try:
        with open(path) as handle:
            record = json.load(handle)
    except IOError:
        return {'networks': {}, 'endpoints': {}}
    except ValueError as error:
        raise InvalidInput('%s is corrupt (%s); fix or remove it by hand, nothing was changed' % (path, error))
    if not isinstance(record.get('networks'), dict) or not isinstance(record.get('endpoints'), dict):
        raise InvalidInput('%s is corrupt (no networks or endpoints); fix or remove it by hand' % path)
    return record


# ---------------------------------------------------------------- planning

class TopologyPlan(object):
    """Everything one run changes, in the order it is applied."""

    def __init__(self):
        self.actions = []        # in words, for the user
        self.ops = []            # kernel operations (Kernel.apply)
        self.pools = {}          # pool name -> new store content, or None to remove it
        self.restore = {}        # firewall: iptables-restore input per table
        self.sysctls = {}        # key -> value to set
        self.files = {}          # path -> content, or None to remove
        self.record = None
        self.before = {'networks': {}, 'endpoints': {}}
        self.after = {'networks': {}, 'endpoints': {}}
        self.returns = {'networks': {}, 'endpoints': {}}

    @property
    def changed(self):
        return bool(self.actions)

    def kernel(self, plan):
        for op in plan.ops:
            self.op(op)

    def op(self, op):
        self.ops.append(op)
        self.actions.append(op.describe())


def hosts_path(namespace):
    return '%s/%s/hosts' % (HOSTS_DIR, namespace)


def hosts_text(name, entries):
    """/etc/netns/<ns>/hosts, which ``ip netns exec`` puts over /etc/hosts: the endpoint's own
    name and the endpoints it shares a name-resolving network with."""
    lines = ['# netplumb endpoint %s: managed by netplumb.container, edits are overwritten' % name,
             '127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback']
    lines += ['%s\t%s' % (ip, host) for ip, host in entries]
    return '\n'.join(lines) + '\n'


def _resolve_subnets(model, observed, plan):
    """Subnet per present network: declared, or kept from its pool, or carved from the default
    pools past every subnet in use (pools in the store, declared networks, host addresses)."""
    pools = observed['pools']
    used = [p['pool']['subnet'] for p in pools.values() if p]
    used += [n['subnet'] for n in model['networks'] if n.get('subnet')]
    used += [a for link in observed['host_links'].values() for a in link['addresses']]
    for net in model['networks']:
        if net['state'] != 'present' or net.get('pool'):
            continue
        kept = pools.get(net['name'])
        if kept:
            net['pool'] = kept['pool']
        else:
            subnet = None
            for pool in model['default_pools']:
                try:
                    subnet = next_subnet([pool['base']], pool['size'], used)
                    break
                except Conflict:
                    continue
            if subnet is None:
                raise Conflict('network %s: no free subnet left in the default pools %s' % (
                    net['name'], ', '.join('%(base)s/%(size)d' % p for p in model['default_pools'])))
            net['pool'] = pool_spec(net['name'], subnet)
            used.append(subnet)
        net['subnet'] = net['pool']['subnet']


def plan(model, observed, purge=True):
    """``observed``: record, pools (name -> store data), host_links, namespaces (name ->
    {netns, links, routes[, fdb, neighbours]}), hosts (path -> text), firewall (iptables-save
    parsed), sysctl. Recorded networks and endpoints that are marked absent go; unlisted ones go
    with ``purge`` and are otherwise left as they are."""
    return _Planner(model, observed, purge).run()


class _Planner(object):
    """One plan, phase by phase, in the order its operations are applied: leases, removals,
    networks, endpoints, firewall and sysctls, and the new record."""

    def __init__(self, model, observed, purge):
        self.model, self.observed = model, observed
        self.record = observed['record']
        self.result = TopologyPlan()
        self.nets = dict((n['name'], n) for n in model['networks'])
        self.eps = dict((e['name'], e) for e in model['endpoints'])
        self.present_nets = [n for n in model['networks'] if n['state'] == 'present']
        self.present_eps = [e for e in model['endpoints'] if e['state'] == 'present']
        self.gone_nets = [name for name in sorted(self.record['networks'])
                          if self.nets.get(name, {}).get('state', 'absent' if purge else 'kept') == 'absent']
        self.gone_eps = [name for name in sorted(self.record['endpoints'])
                         if self.eps.get(name, {}).get('state', 'absent' if purge else 'kept') == 'absent']
        # links per namespace: what the kernel shows, kept up to date as the plan changes them
        self.links = {None: dict(observed['host_links'])}
        for rec in self.record['networks'].values():
            if rec.get('namespace'):
                self.links[rec['namespace']] = dict((observed['namespaces'].get(rec['namespace']) or NO_NAMESPACE)[
                    'links'])
        self.leases, self.detached, self.created = {}, {}, {}

    def run(self):
        _resolve_subnets(self.model, self.observed, self.result)
        _resolve_overlay_mtus(self.model, self.observed)
        self.prefixes = dict((n['name'], ipaddress.ip_network(n['subnet']).prefixlen) for n in self.present_nets)
        self.plan_leases()
        self.plan_removals()
        for net in self.present_nets:
            if net['driver'] == 'overlay':
                _plan_overlay(self.result, net, self.observed, self.links, self.leases[net['name']],
                              self.record['networks'].get(net['name']))
            else:
                self.plan_bridge_network(net)
        names = _name_table(self.present_eps, self.nets, self.attached, self.address)
        for ep in self.present_eps:
            self.plan_endpoint(ep, names.get(ep['name'], []))
        self.plan_firewall()
        self.plan_sysctls()
        self.result.record = self.new_record()
        return self.result

    def attached(self, ep):
        return [a for a in ep['networks'] if self.nets[a['name']]['state'] == 'present']

    def address(self, ep, net):
        return '%s/%d' % (self.leases[net['name']][ep['name']], self.prefixes[net['name']])

    def plan_leases(self):
        """One IPAM pool per network, leases owned by endpoint names."""
        result, pools = self.result, self.observed['pools']
        for net in self.present_nets:
            data = pools.get(net['name'])
            old_leases = data['leases'] if data else {}
            users = [e for e in self.present_eps if net['name'] in [a['name'] for a in self.attached(e)]]
            check_overlap(net['pool'], [p['pool'] for n, p in pools.items() if p and n != net['name']])
            check_redefinition(data['pool'] if data else None, net['pool'],
                               dict((e['name'], old_leases[e['name']]) for e in users if e['name'] in old_leases))
            requests = [{'owner': e['name'], 'address': a['address']} for e in users for a in e['networks']
                        if a['name'] == net['name']]
            new, changes = plan_leases(net['pool'], old_leases, requests, 'present', True)
            self.leases[net['name']] = new
            if data is None:
                result.actions.append('ipam: create pool %s %s' % (net['name'], net['pool']['subnet']))
            elif data['pool'] != net['pool']:
                result.actions.append('ipam: change pool %s to %s' % (net['name'], ', '.join(
                    '%s %s' % (k, v) for k, v in sorted(net['pool'].items()) if v != data['pool'].get(k))))
            result.actions += ['ipam: pool %s: %s' % (net['name'], change) for change in changes]
            if data is None or data['pool'] != net['pool'] or new != old_leases:
                result.pools[net['name']] = {'pool': net['pool'], 'leases': new}
        for name in self.gone_nets:
            if pools.get(name):
                result.pools[name] = None
                result.actions.append('ipam: remove pool %s' % name)

    def plan_removals(self):
        """Endpoints and attachments that go, then networks (their bridges must be empty by then)."""
        result, observed, links = self.result, self.observed, self.links
        for name in self.gone_eps:
            rec = self.record['endpoints'][name]
            result.before['endpoints'][name] = _endpoint_view_before(rec, observed)
            for net_name, att in sorted(rec['attachments'].items()):
                _delete_veth(result, links, att.get('namespace'), att['host'], veth_alias(name, net_name))
            ns = rec.get('namespace')
            if ns and rec.get('created') and observed['namespaces'].get(ns, {}).get('netns', {}).get('exists'):
                result.op(Op('netns_delete', None, ns, 'remove the name from /run/netns'))
            if ns and observed['hosts'].get(hosts_path(ns)) is not None:
                result.files[hosts_path(ns)] = None
                result.actions.append('%s: remove' % hosts_path(ns))
        for ep in self.present_eps:
            keep = [a['name'] for a in self.attached(ep)]
            for net_name, att in sorted((self.record['endpoints'].get(ep['name']) or {}).get('attachments', {}).items()):
                if net_name not in keep:
                    _delete_veth(result, links, att.get('namespace'), att['host'], veth_alias(ep['name'], net_name))
                    self.detached.setdefault(ep['name'], []).append(att['ifname'])
        host_links = links[None]
        for name in self.gone_nets:
            rec = self.record['networks'][name]
            result.before['networks'][name] = {'bridge': rec['bridge'], 'subnet': rec.get('subnet')}
            if rec.get('namespace'):
                _remove_overlay(result, rec['namespace'], observed, links)
                continue
            link = host_links.get(rec['bridge'])
            if link is not None and link['kind'] == 'bridge' and link.get('alias') == bridge_alias(name):
                ports = sorted(n for n, l in host_links.items() if l.get('master') == rec['bridge'])
                if ports and not (name in self.nets and self.nets[name]['force']):
                    raise Conflict('network %s: bridge %s still has ports %s that netplumb did not make; '
                                   'detach them first or set force: true' % (name, rec['bridge'], ', '.join(ports)))
                result.op(Op('link_del', None, rec['bridge'], 'delete bridge of network %s' % name))
                del host_links[rec['bridge']]

    def plan_bridge_network(self, net):
        """The bridge in the host namespace with the gateway address."""
        result, host_links, pool = self.result, self.links[None], net['pool']
        link = host_links.get(net['bridge'])
        if link is not None and link['kind'] == 'bridge' and link.get('alias') not in (None, bridge_alias(net['name'])):
            raise Conflict('network %s: bridge %s belongs to another (%s)' % (net['name'], net['bridge'], link['alias']))
        bridge = plan_bridge(dict(name=net['bridge'], namespace=None, state='present', mtu=net['mtu'], mac=None,
                                  stp=None, addresses=['%s/%d' % (pool['gateway'], self.prefixes[net['name']])],
                                  up=True, ports=None, exclusive=False, force=False, alias=bridge_alias(net['name'])),
                             host_links)
        result.kernel(bridge)
        if link is None:
            host_links[net['bridge']] = {'name': net['bridge'], 'index': None, 'kind': 'bridge', 'master': None,
                                         'alias': bridge_alias(net['name']), 'addresses': []}
        view = {'bridge': net['bridge'], 'subnet': pool['subnet'], 'gateway': pool['gateway'],
                'leases': dict(sorted(self.leases[net['name']].items()))}
        result.after['networks'][net['name']] = dict(view, interface=bridge.after)
        if net['name'] in self.record['networks']:
            old = self.observed['pools'].get(net['name'])
            result.before['networks'][net['name']] = {
                'bridge': self.record['networks'][net['name']]['bridge'],
                'subnet': old['pool']['subnet'] if old else None, 'gateway': old['pool']['gateway'] if old else None,
                'leases': dict(sorted((old or {}).get('leases', {}).items())), 'interface': bridge.before}
        result.returns['networks'][net['name']] = {'bridge': net['bridge'], 'subnet': pool['subnet'],
                                                   'gateway': pool['gateway'], 'mtu': net['mtu']}

    def plan_endpoint(self, ep, names):
        """Namespace, one veth pair per network, default route, hosts file."""
        result, observed = self.result, self.observed
        rec = self.record['endpoints'].get(ep['name'])
        ep_before, ep_after = {}, {'mode': ep['mode']}
        ret = {'mode': ep['mode'], 'namespace': ep['namespace'], 'interfaces': {}}
        if ep['shares']:
            ret['namespace'] = ep_after['namespace'] = self.eps[ep['shares']]['namespace']
        if ep['namespace']:
            ns = ep['namespace']
            self.created[ep['name']] = _made_name(ep, rec, observed)
            seen = observed['namespaces'].get(ns) or NO_NAMESPACE
            netns = plan_netns(dict(name=ns, state='present', pid=ep['pid'], force=False, loopback=True),
                               seen['netns'])
            result.kernel(netns)
            fresh = not seen['netns']['exists'] or any(op.action in ('netns_create', 'netns_attach') for op in netns.ops)
            # interfaces of detached networks go with their veth pair, and so do their routes
            gone = list(self.detached.get(ep['name'], []))
            ns_links = {} if fresh else dict((n, l) for n, l in seen['links'].items() if n not in gone)
            ep_before['namespace'] = dict(netns.before, name=ns)
            ep_after['namespace'] = dict(netns.after, name=ns)
            ep_before['interfaces'], ep_after['interfaces'] = {}, {}
            gateway = None
            for att in self.attached(ep):
                net = self.nets[att['name']]
                cidr = self.address(ep, net)
                ip = cidr.split('/')[0]
                veth = plan_veth(dict(
                    name=host_ifname(ep['name'], net['name']), namespace=net['namespace'], peer=att['ifname'],
                    peer_namespace=ns, state='present', mtu=net['mtu'], mac=None, peer_mac=mac_of(ip), addresses=None,
                    peer_addresses=[cidr], master=net['bridge'], up=True, alias=veth_alias(ep['name'], net['name'])),
                    self.links[net['namespace']], ns_links)
                result.kernel(veth)
                # a peer renamed in place goes down on the way, and the kernel drops its routes
                gone += [op.name for op in veth.ops if op.action == 'link_move' and op.namespace == ns]
                if veth.before.get('state') == 'present':
                    ep_before['interfaces'][att['ifname']] = dict(veth.before, network=net['name'])
                ep_after['interfaces'][att['ifname']] = dict(veth.after, network=net['name'])
                ret['interfaces'][att['ifname']] = {'network': net['name'], 'address': cidr, 'mac': mac_of(ip),
                                                    'host_interface': host_ifname(ep['name'], net['name'])}
                if gateway is None and _routed(net):
                    gateway = net['pool']['gateway']
            ns_routes = [] if fresh else [r for r in seen['routes'] if r['dev'] not in gone]
            # In a namespace of its own the endpoint's routes are ours; an adopted one keeps the process's.
            routes = plan_routes(dict(namespace=ns, state='present',
                                      exclusive=self.created[ep['name']] and not ep['pid'],
                                      routes=[{'dst': '0.0.0.0/0', 'gateway': gateway}] if gateway else []),
                                 ns_routes, {})
            result.kernel(routes)
            ep_before['routes'], ep_after['routes'] = routes.before['routes'], routes.after['routes']
            path = hosts_path(ns)
            text = hosts_text(ep['name'], names)
            ep_before['hosts'], ep_after['hosts'] = observed['hosts'].get(path), text
            if observed['hosts'].get(path) != text:
                result.files[path] = text
                result.actions.append('%s: %s' % (path, 'write' if observed['hosts'].get(path) is None else 'update'))
        if rec is not None:
            result.before['endpoints'][ep['name']] = dict(ep_before, mode=rec.get('mode', ep['mode']),
                                                          **({'namespace': ep_after['namespace']} if ep['shares'] else {}))
        result.after['endpoints'][ep['name']] = ep_after
        result.returns['endpoints'][ep['name']] = ret

    def plan_firewall(self):
        """The rules of every bridge network in one transaction (an overlay's traffic stays in its namespace)."""
        result, nets = self.result, self.nets
        fw_nets = []
        for net in self.present_nets:
            if net['driver'] != 'bridge':
                continue
            published = []
            for ep in self.present_eps:
                first = [nets[a['name']] for a in self.attached(ep) if _routed(nets[a['name']])]
                if first and first[0]['name'] == net['name']:
                    for port in ep['published']:
                        port = dict(port, host_ip=port['host_ip'] or net['host_ip'])
                        published.append({'port': port, 'address': self.address(ep, net).split('/')[0]})
            fw_nets.append({'name': net['name'], 'bridge': net['bridge'], 'subnet': net['subnet'],
                            'masquerade': net['masquerade'], 'snat_to': None, 'icc': net['icc'],
                            'internal': net['internal'], 'isolate': True, 'published': published})
        bridges_gone = [n for n in self.gone_nets if not self.record['networks'][n].get('namespace')]
        restore, actions, before, after = plan_rules(fw_nets, bridges_gone, self.observed['firewall'])
        result.restore = restore
        result.actions += ['firewall: %s' % a for a in actions]
        for name, view in result.after['networks'].items():
            if name in after:
                view['firewall'] = after[name]
        for name, view in result.before['networks'].items():
            if name in before or name in bridges_gone or nets.get(name, {}).get('driver') == 'bridge':
                view['firewall'] = before.get(name, {'filter': [], 'nat': []})

    def plan_sysctls(self):
        """What Docker turns on: forwarding for networks with a way out, bridged traffic through
        iptables where ICC is off. Never turned off again."""
        wanted = {}
        if [n for n in self.present_nets if _routed(n)]:
            wanted[SYSCTL_FORWARD] = '1'
        if [n for n in self.present_nets if not n['icc'] and n['driver'] == 'bridge']:
            wanted[SYSCTL_BRIDGE_NF] = '1'
        for key, value in sorted(wanted.items()):
            now = self.observed['sysctl'].get(key)
            self.result.before.setdefault('sysctl', {})[key] = now
            self.result.after.setdefault('sysctl', {})[key] = value
            if now != value:
                self.result.sysctls[key] = value
                self.result.actions.append('set %s=%s' % (key, value))

    def new_record(self):
        record = {
            'networks': dict((n['name'], {'bridge': n['bridge'], 'subnet': n['subnet'], 'driver': n['driver'],
                                          'namespace': n['namespace'], 'vni': n['vni']}) for n in self.present_nets),
            'endpoints': dict((e['name'], {
                'mode': e['mode'], 'namespace': e['namespace'], 'created': self.created.get(e['name'], False),
                'attachments': dict((a['name'], {'host': host_ifname(e['name'], a['name']), 'ifname': a['ifname'],
                                                 'namespace': self.nets[a['name']]['namespace']})
                                    for a in self.attached(e))})
                for e in self.present_eps)}
        for kind, listed, gone in (('networks', self.nets, self.gone_nets), ('endpoints', self.eps, self.gone_eps)):
            for name, entry in self.record[kind].items():
                if name not in listed and name not in gone:
                    record[kind][name] = entry       # unlisted, kept without purge
        return record


def _made_name(ep, rec, observed):
    """Whether the namespace's name is ours to remove with the endpoint: we created the
    namespace or named a process's; a name that existed before is only borrowed."""
    if rec is not None and rec.get('namespace') == ep['namespace']:
        return rec.get('created', False)
    return not (observed['namespaces'].get(ep['namespace']) or {}).get('netns', {}).get('exists')


def _delete_veth(result, links, namespace, ifname, alias):
    link = links.get(namespace, {}).get(ifname)
    if link is not None and link['kind'] == 'veth' and link.get('alias') == alias:
        result.op(Op('link_del', namespace, ifname, 'delete veth pair (%s)' % alias))
        del links[namespace][ifname]


def _resolve_overlay_mtus(model, observed):
    """An overlay's MTU is the underlay's minus the VXLAN header; an MTU that cannot fit fails."""
    for net in model['networks']:
        if net['driver'] != 'overlay' or net['state'] != 'present':
            continue
        underlay = [l for l in observed['host_links'].values()
                    if net['local'] in [a.split('/')[0] for a in l['addresses']]]
        if not underlay:
            raise InvalidInput('networks (%s).local: %s is not an address of this host' % (net['name'], net['local']))
        room = underlay[0]['mtu'] - VXLAN_OVERHEAD
        if net['mtu'] is None:
            net['mtu'] = room
        elif net['mtu'] > room:
            raise InvalidInput('networks (%s).mtu: %d does not fit: the underlay %s has MTU %d and VXLAN takes %d '
                               'bytes, so at most %d' % (net['name'], net['mtu'], underlay[0]['name'],
                                                         underlay[0]['mtu'], VXLAN_OVERHEAD, room))


def _forwarding(net):
    """Flood entries to every peer VTEP, a static FDB entry and a permanent neighbour for every
    remote endpoint: no learning, so a peer that leaves the list leaves every table."""
    fdb, neighbours = [], []
    for peer in net['peers']:
        fdb.append({'mac': '00:00:00:00:00:00', 'dst': peer['vtep']})
        for ep in peer['endpoints']:
            fdb.append({'mac': ep['mac'], 'dst': peer['vtep']})
            neighbours.append({'ip': ep['ip'], 'mac': ep['mac']})
    return fdb, neighbours


def _plan_overlay(result, net, observed, links, leases, rec):
    ns = net['namespace']
    seen = observed['namespaces'].get(ns) or NO_NAMESPACE
    netns = plan_netns(dict(name=ns, state='present', pid=None, force=False, loopback=True), seen['netns'])
    result.kernel(netns)
    fresh = bool(netns.ops and netns.ops[0].action == 'netns_create')
    ns_links = links[ns] = {} if fresh else dict(seen['links'])
    bridge_link = ns_links.get(OVERLAY_BRIDGE)
    bridge = plan_bridge(dict(name=OVERLAY_BRIDGE, namespace=ns, state='present', mtu=net['mtu'], mac=None, stp=None,
                              addresses=[], up=True, ports=None, exclusive=False, force=False,
                              alias=bridge_alias(net['name'])), ns_links)
    result.kernel(bridge)
    if bridge_link is None:
        ns_links[OVERLAY_BRIDGE] = {'name': OVERLAY_BRIDGE, 'index': None, 'kind': 'bridge', 'master': None,
                                    'alias': bridge_alias(net['name']), 'addresses': []}
    fixed = {'vni': net['vni'], 'local': net['local'], 'dstport': VXLAN_PORT}
    vtep = ns_links.get(OVERLAY_VTEP)
    fdb_now, neighbours_now = seen.get('fdb', []), seen.get('neighbours', [])
    current = (vtep or {}).get('vxlan') or {}
    if vtep is None or any(current.get(k) != v for k, v in fixed.items()):
        if vtep is not None:
            result.op(Op('link_del', ns, OVERLAY_VTEP, 'delete to recreate: %s' % ', '.join(
                '%s %s -> %s' % (k, current.get(k), v) for k, v in sorted(fixed.items()) if current.get(k) != v)))
        temporary = vtep_temporary_name(net['name'])
        result.op(Op('link_add', None, temporary, 'create vxlan VNI %d' % net['vni'], kind='vxlan', vni=net['vni'],
                     local=net['local'], dev=None, dstport=VXLAN_PORT, learning=False, proxy=True))
        result.op(Op('link_move', None, temporary, 'move to namespace %s as %s' % (ns, OVERLAY_VTEP), to_namespace=ns,
                     new_name=OVERLAY_VTEP, same_namespace=False))
        vtep = {'name': OVERLAY_VTEP, 'index': None, 'kind': 'vxlan', 'mtu': None, 'mac': None, 'alias': None,
                'master': None, 'addresses': [], 'up': False, 'vxlan': dict(fixed, dev=None, learning=False)}
        fdb_now, neighbours_now = [], []
    fdb, neighbours = _forwarding(net)
    vxlan = plan_vxlan(dict(name=OVERLAY_VTEP, namespace=ns, state='present', vni=net['vni'], local=net['local'],
                            dev=None, dstport=VXLAN_PORT, learning=False, mtu=net['mtu'], master=OVERLAY_BRIDGE,
                            addresses=None, up=True, fdb=fdb, neighbours=neighbours, exclusive=True),
                       dict(ns_links, **{OVERLAY_VTEP: vtep}), fdb_now, neighbours_now)
    result.kernel(vxlan)
    ns_links[OVERLAY_VTEP] = vtep
    view = {'driver': 'overlay', 'namespace': ns, 'subnet': net['subnet'], 'vni': net['vni'], 'mtu': net['mtu'],
            'leases': dict(sorted(leases.items()))}
    result.after['networks'][net['name']] = dict(view, bridge=bridge.after, vtep=vxlan.after)
    if rec is not None:
        old = observed['pools'].get(net['name'])
        result.before['networks'][net['name']] = dict(
            view, vni=rec.get('vni'), leases=dict(sorted((old or {}).get('leases', {}).items())),
            bridge=bridge.before, vtep=vxlan.before if seen['netns']['exists'] else {'state': 'absent'})
    result.returns['networks'][net['name']] = {'driver': 'overlay', 'namespace': ns, 'subnet': net['subnet'],
                                               'vni': net['vni'], 'mtu': net['mtu'], 'local': net['local'],
                                               'forwarding_entries': len(fdb) + len(neighbours)}


def _remove_overlay(result, ns, observed, links):
    """The VTEP first (it frees the UDP port in the host namespace at once), then the namespace."""
    seen = observed['namespaces'].get(ns) or NO_NAMESPACE
    if not seen['netns']['exists']:
        return
    if OVERLAY_VTEP in links.get(ns, {}):
        result.op(Op('link_del', ns, OVERLAY_VTEP, 'delete vxlan'))
    result.op(Op('netns_delete', None, ns, 'remove the name from /run/netns'))


def _endpoint_view_before(rec, observed):
    view = {'mode': rec.get('mode')}
    ns = rec.get('namespace')
    if ns:
        seen = observed['namespaces'].get(ns, {})
        view['namespace'] = {'name': ns, 'state': 'present' if seen.get('netns', {}).get('exists') else 'absent'}
    return view


def _name_table(present_eps, nets, attached, address):
    """endpoint -> [(ip, name)] it resolves: itself, and on each of its networks that resolves
    names, every other endpoint of that network (its address on the first network they share)."""
    table = {}
    members = {}
    for ep in present_eps:
        for att in attached(ep):
            members.setdefault(att['name'], []).append(ep)
    for ep in present_eps:
        if not ep['namespace']:
            continue
        entries, named = [], set()
        own = attached(ep)
        if own:
            entries.append((address(ep, nets[own[0]['name']]).split('/')[0], ep['name']))
            named.add(ep['name'])
        for att in own:
            net = nets[att['name']]
            if not net['resolve_names']:
                continue
            for other in members.get(net['name'], []):
                if other['name'] not in named:
                    entries.append((address(other, net).split('/')[0], other['name']))
                    named.add(other['name'])
            for peer in net['peers'] or []:         # an overlay's endpoints on other hosts
                for remote in peer['endpoints']:
                    if remote['name'] and remote['name'] not in named:
                        entries.append((remote['ip'], remote['name']))
                        named.add(remote['name'])
        table[ep['name']] = entries
    return table
