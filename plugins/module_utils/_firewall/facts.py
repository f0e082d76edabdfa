# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The firewall of bridge networks, free of any backend.

What a network wants is a list of *facts*, ``(set, key, value)`` tuples of strings, e.g.
``('ports_v4', ('0.0.0.0/0', 'tcp', '8080'), ('172.18.0.2', '80'))``. The nftables backend
(``nftables``) stores each fact as an element of the named set or map of that name, tagged with
the network's name, so its rules are the same whatever the number of networks and published
ports; the iptables backend (``iptables``) renders each fact as rules tagged the same way.
Both give the same behaviour:

- closed by default: into a network's bridge only replies, its own endpoints (ICC), connections
  to published ports (DNATed by us), and with gateway mode ``nat-unprotected`` everything, with
  ``routed`` ICMP and the published container ports; a user chain is evaluated first;
- out of a bridge: anywhere unless the network is internal (or ``isolated``);
- port 53 of a network's name server (its gateway) from the network's own bridge only;
- masquerade only egress leaving through an interface that is not one of our bridges, an endpoint
  reaching itself through its published port, and host connections from 127.0.0.0/8 (which need
  ``route_localnet`` on the bridge), so other clients keep their source address.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import re
from collections import namedtuple

from ansible_collections.netplumb.container.plugins.module_utils import _validate as validate
from ansible_collections.netplumb.container.plugins.module_utils._errors import Conflict, InvalidInput

TAG = 'netplumb'
GATEWAY_MODES = ('nat', 'nat-unprotected', 'routed', 'isolated')
ANY = {4: '0.0.0.0/0', 6: '::/0'}
_PORT = re.compile(r'^(?:(?P<host_ip>\[[0-9a-fA-F:.]+\]|[0-9.]+):)?(?P<host>\d+(?:-\d+)?):'
                   r'(?P<container>\d+(?:-\d+)?)(?:/(?P<proto>tcp|udp|sctp))?$')


class PortMapping(namedtuple('PortMapping', 'spec host_ip host_ports container_ports proto')):
    """One published port, parsed once (netavark's PortMapping): ``spec`` as the user wrote it,
    ``host_ip`` (None: every address of the host), ``host_ports`` and ``container_ports`` as
    (first, last), ``proto``. Every layer after the parse reads this record: the model's checks,
    the firewall facts, the endpoint's result."""
    __slots__ = ()

    def pairs(self):
        """(host port, container port) for every port the mapping covers."""
        return zip(range(self.host_ports[0], self.host_ports[1] + 1),
                   range(self.container_ports[0], self.container_ports[1] + 1))

    def on(self, host_ip):
        """The mapping with ``host_ip`` where it names none (a network's ``host_ip``)."""
        return self if self.host_ip or not host_ip else self._replace(host_ip=host_ip)

    def clashes_with(self, other):
        """Whether both want one host port: the one check of a port published twice, between a
        host's endpoints, within a nat_rule call and against what the firewall already holds."""
        return self.proto == other.proto and self.host_ports[0] <= other.host_ports[1] and \
            other.host_ports[0] <= self.host_ports[1] and \
            (self.host_ip is None or other.host_ip is None or self.host_ip == other.host_ip)

    def ports(self):
        """'8080' or '8000-8010', for messages."""
        first, last = self.host_ports
        return str(first) if first == last else '%d-%d' % (first, last)

    def as_result(self):
        return {'mapping': self.spec, 'host_ip': self.host_ip, 'host_ports': list(self.host_ports),
                'container_ports': list(self.container_ports), 'proto': self.proto}


def parse_port(spec, option):
    """'[host_ip:]host_port[-end]:container_port[-end][/proto]' -> PortMapping. Ranges map port to
    port; an IPv6 host IP is written in brackets ([::1]:8080:80). ``option``: where the user wrote
    it, for the message (``endpoints[0] (web).published[1]``)."""
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
    return PortMapping(str(spec), host_ip, ranges[0], ranges[1], match.group('proto') or 'tcp')


def _prefix(network):
    network = ipaddress.ip_network(network)
    return str(network.network_address) if network.prefixlen == network.max_prefixlen else str(network)


def network_facts(net):
    """Every fact of one network, sorted. ``net``: name, bridge, subnets (list), gateway_mode,
    masquerade, snat_to, icc, internal, published [{port (PortMapping), addresses}], and
    name_server: the gateway address the host's name server answers the network on, or None."""
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
    if net.get('name_server'):
        # port 53 of the network's name server: from its own bridge only, never from outside
        facts.add(('name_servers_v4', (net['name_server'],), ()))
        facts.add(('name_server_v4', (net['name_server'], bridge), ()))
    for pub in net['published'] if not internal else []:
        port = pub['port']
        for address in pub['addresses']:
            version = ipaddress.ip_address(address).version
            host_ip = port.host_ip
            if host_ip is not None and ipaddress.ip_address(host_ip).version != version:
                continue
            for host_port, container_port in port.pairs():
                if mode == 'routed':
                    facts.add(('open_ports_v%d' % version, (address, port.proto, str(container_port)), ()))
                elif nat:
                    facts.add(('ports_v%d' % version, (host_ip or ANY[version], port.proto, str(host_port)),
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


def _mapping_of(fact):
    """The PortMapping a ``ports_v4``/``ports_v6`` fact publishes (one port)."""
    host_ip, proto, port = fact[1]
    return PortMapping(port, None if host_ip in ANY.values() else host_ip, (int(port), int(port)), None, proto)


def check_ports(wanted, taken):
    """A host port may be published once. ``wanted``: {network: facts}; ``taken``: ports_v4/v6
    facts of other networks, as (owner, fact)."""
    for name, facts in sorted(wanted.items()):
        for fact in facts:
            if not fact[0].startswith('ports_'):
                continue
            mapping = _mapping_of(fact)
            for owner, other in taken:
                if owner != name and other[0] == fact[0] and mapping.clashes_with(_mapping_of(other)):
                    raise Conflict('published: %s/%s on %s is already published by network %s' % (
                        mapping.ports(), mapping.proto, mapping.host_ip or 'every address', owner))


def describe(fact):
    """'ports_v4 0.0.0.0/0 . tcp . 8080 : 172.18.0.2 . 80'."""
    name, key, value = fact
    return '%s %s%s' % (name, ' . '.join(key), ' : ' + ' . '.join(value) if value else '')


def declared_network(params):
    """The network the nat_rule module's ``params`` declare, checked, as ``network_facts`` reads it."""
    name = params['name']
    if not name or any(c in name for c in '" \t'):
        raise InvalidInput('name: %r may not be empty or hold quotes or white space' % name)
    net = {'name': name, 'masquerade': params['masquerade'], 'icc': params['icc'], 'snat_to': None,
           'internal': params['internal'] or params['gateway_mode'] == 'isolated',
           'gateway_mode': params['gateway_mode'], 'published': []}
    if params['state'] == 'absent':
        return net
    for option in ('bridge', 'subnet'):
        if params[option] is None:
            raise InvalidInput('%s: required with state=present' % option)
    net['bridge'] = validate.firewall_ifname(params['bridge'], 'bridge')
    subnet = ipaddress.ip_network(validate.route_destination(params['subnet'], 'subnet'))
    subnets = [subnet]
    if params['ipv6_subnet'] is not None:
        subnet6 = ipaddress.ip_network(validate.route_destination(params['ipv6_subnet'], 'ipv6_subnet'))
        if subnet6.version != 6 or subnet.version != 4:
            raise InvalidInput('ipv6_subnet: %s - dual stack is an IPv4 subnet with an IPv6 one beside it (subnet %s)'
                               % (subnet6, subnet))
        subnets.append(subnet6)
    net['subnets'] = [str(s) for s in subnets]
    if params['snat_to'] is not None:
        net['snat_to'] = validate.ip_address(params['snat_to'], 'snat_to')
        if subnet.version != 4 or ':' in net['snat_to']:
            raise InvalidInput('snat_to: %s - SNAT to a fixed address is for IPv4 subnets' % net['snat_to'])
    if net['internal'] and (params['published'] or net['snat_to']):
        raise InvalidInput('internal: an internal network can neither publish ports nor SNAT (%s given)'
                           % ('published' if params['published'] else 'snat_to'))
    for index, pub in enumerate(params['published']):
        port = parse_port(pub['port'], 'published[%d].port' % index)
        address = validate.ip_address(pub['address'], 'published[%d].address' % index)
        if not [s for s in subnets if ipaddress.ip_address(address) in s]:
            raise InvalidInput('published[%d].address: %s is not in the subnet %s' % (
                index, address, ' or '.join(str(s) for s in subnets)))
        version = ipaddress.ip_address(address).version
        for other_index, other in enumerate(net['published']):
            if port.clashes_with(other['port']) and ipaddress.ip_address(other['addresses'][0]).version == version:
                raise InvalidInput('published[%d].port: %s is published twice (also published[%d])'
                                   % (index, pub['port'], other_index))
        net['published'].append({'port': port, 'addresses': [address]})
    return net
