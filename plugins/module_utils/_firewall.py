# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The firewall of bridge networks, free of any backend.

What a network wants is a list of *facts*, ``(set, key, value)`` tuples of strings, e.g.
``('ports_v4', ('0.0.0.0/0', 'tcp', '8080'), ('172.18.0.2', '80'))``. The nftables backend
(``_nftables``) stores each fact as an element of the named set or map of that name, tagged with
the network's name, so its rules are the same whatever the number of networks and published
ports; the iptables backend (``_iptables``) renders each fact as rules tagged the same way.
Both give the same behaviour:

- closed by default: into a network's bridge only replies, its own endpoints (ICC), connections
  to published ports (DNATed by us), and with gateway mode ``nat-unprotected`` everything, with
  ``routed`` ICMP and the published container ports; a user chain is evaluated first;
- out of a bridge: anywhere unless the network is internal (or ``isolated``);
- masquerade only egress leaving through an interface that is not one of our bridges, an endpoint
  reaching itself through its published port, and host connections from 127.0.0.0/8 (which need
  ``route_localnet`` on the bridge), so other clients keep their source address.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import re

from ansible_collections.netplumb.container.plugins.module_utils._errors import Conflict, InvalidInput

TAG = 'netplumb'
GATEWAY_MODES = ('nat', 'nat-unprotected', 'routed', 'isolated')
ANY = {4: '0.0.0.0/0', 6: '::/0'}
_PORT = re.compile(r'^(?:(?P<host_ip>\[[0-9a-fA-F:.]+\]|[0-9.]+):)?(?P<host>\d+(?:-\d+)?):'
                   r'(?P<container>\d+(?:-\d+)?)(?:/(?P<proto>tcp|udp|sctp))?$')


def parse_port(spec, index):
    """'[host_ip:]host_port[-end]:container_port[-end][/proto]' -> dict. Ranges map port to port;
    an IPv6 host IP is written in brackets ([::1]:8080:80)."""
    option = 'published[%d].port' % index
    match = _PORT.match(str(spec).strip())
    if not match:
        raise InvalidInput('%s: %r is not a port mapping ([host_ip:]host_port:container_port[/tcp|udp|sctp])'
                           % (option, spec))
    host_ip = match.group('host_ip')
    if host_ip:
        try:
            host_ip = str(ipaddress.ip_address(host_ip.strip('[]')))
        except ValueError:
            raise InvalidInput('%s: %r has no valid host IP' % (option, spec))
    ranges = []
    for part in (match.group('host'), match.group('container')):
        first, _sep, last = part.partition('-')
        first, last = int(first), int(last or first)
        if not 1 <= first <= last <= 65535:
            raise InvalidInput('%s: %r has a port or range out of 1..65535' % (option, spec))
        ranges.append((first, last))
    if ranges[0][0] != ranges[0][1] or ranges[1][0] != ranges[1][1]:
        if ranges[0] != ranges[1]:
            raise InvalidInput('%s: %r: a port range must map to the same ports (8000-8010:8000-8010)' % (option, spec))
    return {'host_ip': host_ip, 'host_ports': ranges[0], 'container_ports': ranges[1],
            'proto': match.group('proto') or 'tcp'}


def _pairs(port):
    """(host port, container port) for every port a mapping covers."""
    hosts = range(port['host_ports'][0], port['host_ports'][1] + 1)
    containers = range(port['container_ports'][0], port['container_ports'][1] + 1)
    return zip(hosts, containers)


def _prefix(network):
    network = ipaddress.ip_network(network)
    return str(network.network_address) if network.prefixlen == network.max_prefixlen else str(network)


def network_facts(net):
    """Every fact of one network, sorted. ``net``: name, bridge, subnets (list), gateway_mode,
    masquerade, snat_to, icc, internal, published [{port (parsed), addresses}]."""
    bridge, mode = net['bridge'], net['gateway_mode']
    facts = {('bridges', (bridge,), ()), ('same', (bridge, bridge), ())}
    if net['icc']:
        facts.add(('icc', (bridge, bridge), ()))
    internal = net['internal'] or mode == 'isolated'
    if not internal:
        facts.add(('outgoing', (bridge,), ()))
    if mode == 'nat-unprotected':
        facts.add(('open', (bridge,), ()))
    if mode == 'routed':
        facts.add(('routed', (bridge,), ()))
    nat = not internal and mode in ('nat', 'nat-unprotected')
    for subnet in net['subnets']:
        version = ipaddress.ip_network(subnet).version
        if nat and net['snat_to'] and version == 4:
            facts.add(('snat_v4', (_prefix(subnet),), (net['snat_to'],)))
        elif nat and net['masquerade']:
            facts.add(('masq_v%d' % version, (_prefix(subnet),), ()))
    for pub in net['published'] if not internal else []:
        port = pub['port']
        for address in pub['addresses']:
            version = ipaddress.ip_address(address).version
            host_ip = port['host_ip']
            if host_ip is not None and ipaddress.ip_address(host_ip).version != version:
                continue
            for host_port, container_port in _pairs(port):
                if mode == 'routed':
                    facts.add(('open_ports_v%d' % version, (address, port['proto'], str(container_port)), ()))
                elif nat:
                    facts.add(('ports_v%d' % version, (host_ip or ANY[version], port['proto'], str(host_port)),
                               (address, str(container_port))))
                    facts.add(('hairpin_v%d' % version, (address, address), ()))
    return sorted(facts)


BRIDGE_NF = {4: 'net.bridge.bridge-nf-call-iptables', 6: 'net.bridge.bridge-nf-call-ip6tables'}


def route_localnet(bridge):
    """The sysctl that lets the host's 127.0.0.1 connections leave through a bridge."""
    return 'net.ipv4.conf.%s.route_localnet' % bridge


def network_sysctls(bridge, icc, facts, versions=(4,)):
    """What a network needs beside its rules: bridged traffic of each IP version it carries
    (``versions``) through netfilter where ICC is off or ports are published (a neighbour's reply
    from a published port is un-NATed on the bridge), and route_localnet where IPv4 ports are
    published (127.0.0.1 leaves through the bridge)."""
    wanted = {}
    for version in versions:
        if not icc or any(fact[0] == 'ports_v%d' % version for fact in facts):
            wanted[BRIDGE_NF[version]] = '1'
    if any(fact[0] == 'ports_v4' for fact in facts):
        wanted[route_localnet(bridge)] = '1'
    return wanted


def check_ports(wanted, taken):
    """A host port may be published once. ``wanted``: {network: facts}; ``taken``: ports_v4/v6
    facts of other networks, as (owner, fact)."""
    for name, facts in sorted(wanted.items()):
        for fact in facts:
            if not fact[0].startswith('ports_'):
                continue
            host_ip, proto, port = fact[1]
            for owner, other in taken:
                if owner == name or other[0] != fact[0]:
                    continue
                other_ip, other_proto, other_port = other[1]
                if (other_proto, other_port) == (proto, port) and (
                        other_ip == host_ip or host_ip in ANY.values() or other_ip in ANY.values()):
                    raise Conflict('published: %s/%s on %s is already published by network %s' % (
                        port, proto, 'every address' if host_ip in ANY.values() else host_ip, owner))


def describe(fact):
    """'ports_v4 0.0.0.0/0 . tcp . 8080 : 172.18.0.2 . 80'."""
    name, key, value = fact
    return '%s %s%s' % (name, ' . '.join(key), ' : ' + ' . '.join(value) if value else '')
