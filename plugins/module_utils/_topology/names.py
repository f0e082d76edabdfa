# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names the engine derives, and the marks that make what it made recognisable.

Bridges and host-side veths carry an alias (``netplumb ...``), leases the endpoint's name, and
the record lists networks and endpoints, so teardown removes exactly what netplumb made."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import ipaddress
import re

NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$')
RECORD = 'topology.json'
VXLAN_PORT = 4789
VXLAN_OVERHEAD = 50
OVERLAY_BRIDGE, OVERLAY_VTEP = 'br0', 'vxlan0'


def _digest(text, length):
    return hashlib.sha1(text.encode('utf-8')).hexdigest()[:length]


def bridge_name(network):
    """Docker names a user-defined network's bridge br-<id>; ours is derived from the name."""
    return 'br-' + _digest('network/' + network, 12)


def ipv6_pool_name(network):
    """The IPAM pool of a network's IPv6 subnet, beside the IPv4 one named after the network
    ("@" is not allowed in network names, so the two never collide)."""
    return network + '@ipv6'


def pool_network(pool):
    """The network an IPAM pool of ours belongs to (a pool not named so: the pool's own name)."""
    return pool[:-len(ipv6_pool_name(''))] if pool.endswith(ipv6_pool_name('')) else pool


def ula_prefix(seed):
    """An RFC 4193 unique local /48 (fd + 40 bits) from ``seed``: the same seed, the same prefix,
    run after run. The network role seeds it with the inventory name of the host."""
    digest = _digest('ula/' + seed, 10)
    return 'fd%s:%s:%s::/48' % (digest[:2], digest[2:6], digest[6:10])


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


def swap_temporary_name(ifname):
    """Where an endpoint's interface waits while another takes its name (interface names hold
    at most 15 bytes, and an endpoint's own never start with "npt")."""
    return 'npt' + hashlib.sha256(ifname.encode('utf-8')).hexdigest()[:12]


def vtep_temporary_name(network):
    """The VXLAN device is made in the host namespace, where its UDP socket stays, then moved."""
    return 'npvx' + _digest('vxlan/' + network, 10)


def lan_temporary_name(endpoint, network):
    """An endpoint's macvlan or ipvlan interface is made on its parent, in the parent's namespace,
    under this name, then moved into the endpoint's namespace under its own."""
    return 'npmv' + _digest('lan/%s/%s' % (endpoint, network), 10)


def shim_name(network):
    """The host's own macvlan or ipvlan interface on a LAN network (``host_shim``)."""
    return 'npsh' + _digest('shim/' + network, 10)


def shim_alias(network):
    return 'netplumb shim of network %s' % network


def vlan_alias(network):
    """A VLAN parent netplumb made for a network (Docker makes ``eth0.10`` when it is missing)."""
    return 'netplumb vlan of network %s' % network


def bridge_alias(network):
    return 'netplumb network %s' % network


def veth_alias(endpoint, network):
    """Both ends of an endpoint's veth pair carry it: the end in the endpoint's namespace says
    whose it is even when the host end is out of sight (in an overlay's namespace)."""
    return 'netplumb endpoint %s on %s' % (endpoint, network)


def endpoint_alias(alias):
    """(endpoint, network) that a veth's alias names, or None for any other alias (names hold no
    spaces, so the words split cleanly)."""
    words = (alias or '').split(' ')
    if len(words) == 5 and words[:2] == ['netplumb', 'endpoint'] and words[3] == 'on':
        return words[2], words[4]
    return None


def hosts_text(name, lines):
    """/etc/netns/<ns>/hosts, which ``ip netns exec`` puts over /etc/hosts: the endpoint's own
    name and the endpoints it shares a name-resolving network with (``lines``: "ip\tname\n"
    strings, as endpoints.hosts_texts formats them)."""
    return ''.join(['# netplumb endpoint %s: managed by netplumb.container, edits are overwritten\n' % name,
                    '127.0.0.1\tlocalhost\n', '::1\tlocalhost ip6-localhost ip6-loopback\n'] + lines)
