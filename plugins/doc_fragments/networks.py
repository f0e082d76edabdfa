# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    """The fields of a network: option networks of the topology module, the role's netplumb_networks. Their
    schema (types, choices, defaults) is module_utils/_topology/spec.py."""

    DOCUMENTATION = r'''
options:
  networks:
    description: Networks of the host, bridge and overlay, in order (subnets are carved in this order).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Network name, as in C(docker network create NAME). Letters, digits, C(_), C(.), C(-).
        type: str
        required: true
      state:
        description: V(absent) removes the network; refused while a present endpoint is attached unless O(networks[].force).
        type: str
        choices: [present, absent]
        default: present
      driver:
        description:
          - V(bridge) is a bridge in the host namespace with the gateway address, NAT and firewall rules.
          - V(overlay) is this host's part of a multi-host VXLAN network, as Docker builds it (seeds 002, 004) - a
            namespace C(ov-NAME) holding bridge C(br0) and the VTEP C(vxlan0) (made in the host namespace, where its
            UDP socket stays, then moved in), learning off and ARP answered from static neighbour entries. The
            C(netplumb.container.network) role works out O(networks[].vni), O(networks[].local) and
            O(networks[].peers) from the inventory.
        type: str
        choices: [bridge, overlay]
        default: bridge
      vni:
        description:
          - Overlay only, required - the VXLAN network identifier, the same on every host of the overlay.
          - The C(netplumb.container.network) role keeps a declared one, else the one recorded on the hosts, else
            the lowest free one from C(netplumb_vni_base).
        type: int
      local:
        description: Overlay only, required - this host's underlay address (its VTEP); the default MTU is the MTU of
          the interface holding it minus 50, and a larger O(networks[].mtu) fails before any change.
        type: str
      peers:
        description:
          - Overlay only - the other hosts of the overlay. For each, a flood entry to its VTEP; for each of its
            endpoints, a static forwarding entry and a permanent neighbour entry. Entries not listed are removed.
        type: list
        elements: dict
        suboptions:
          vtep:
            description: The peer's underlay address.
            type: str
            required: true
          endpoints:
            description: The peer's endpoints on this overlay.
            type: list
            elements: dict
            default: []
            suboptions:
              ip:
                description: The endpoint's address on the overlay.
                type: str
                required: true
              mac:
                description: The endpoint's MAC address.
                type: str
                required: true
              name:
                description: The endpoint's name; given, this host's endpoints on the overlay resolve it.
                type: str
              ipv6:
                description: The endpoint's IPv6 address on a dual-stack overlay (a permanent neighbour entry too).
                type: str
              aliases:
                description: Its other names on the overlay (O(endpoints[].networks) C(aliases) on its host).
                type: list
                elements: str
      egress:
        description:
          - Overlay only - endpoints of the overlay get a way out through the gateway bridge network
            (O(gateway_bridge), Docker's C(docker_gwbridge)), a masquerading bridge network of this host with ICC off.
        type: bool
        default: true
      subnet:
        description: IPv4 subnet in CIDR form. Omit to carve the next free one from O(default_pools) (kept on re-runs).
        type: str
      gateway:
        description: The bridge's address. Defaults to the first address of the subnet.
        type: str
      ip_range:
        description: Hand out endpoint addresses from this part of the subnet only.
        type: str
      aux_addresses:
        description: Addresses of the subnet never handed out.
        type: list
        elements: str
      enable_ipv6:
        description:
          - Dual stack - the network gets an IPv6 subnet beside its IPv4 one, its endpoints an address of each
            (Docker's C(--ipv6)). Implied by O(networks[].ipv6_subnet).
          - Without O(networks[].ipv6_subnet) the subnet is carved from the IPv6 bases of O(default_pools) (kept on
            re-runs); an overlay must declare it (every host shares it).
        type: bool
        default: false
      ipv6_subnet:
        description: IPv6 subnet in CIDR form, /124 or larger (a /64 is usual). Turns on O(networks[].enable_ipv6).
        type: str
      ipv6_gateway:
        description: The bridge's IPv6 address. Defaults to the first address of O(networks[].ipv6_subnet).
        type: str
      bridge:
        description: Bridge name (at most 15 bytes). Defaults to C(br-) and 12 hex digits derived from the name.
        type: str
      mtu:
        description: MTU of the bridge and of the endpoints' veth pairs. Omit for the kernel's default.
        type: int
      icc:
        description: Let endpoints of this network talk to each other (Docker's C(enable_icc)).
        type: bool
        default: true
      masquerade:
        description: Masquerade traffic leaving the network (Docker's C(enable_ip_masquerade)).
        type: bool
        default: true
      internal:
        description: No traffic in or out of the network, only between its endpoints.
        type: bool
        default: false
      gateway_mode:
        description:
          - As Docker's C(com.docker.network.bridge.gateway_mode_ipv4), for bridge networks.
          - V(nat) - egress masqueraded, published ports DNATed, nothing else gets in.
          - V(nat-unprotected) - as V(nat), and any host that routes to the subnet reaches every port.
          - V(routed) - no NAT at all; ICMP and the published container ports are reachable by direct routing (the
            host port of a mapping is ignored).
          - V(isolated) - an internal network whose bridge has no address on the host, so its endpoints reach only
            each other.
        type: str
        choices: [nat, nat-unprotected, routed, isolated]
        default: nat
      host_ip:
        description:
          - Default host address for ports published without one (Docker's C(host_binding_ipv4)); a port bound to
            an address is reachable through that address only.
        type: str
      resolve_names:
        description:
          - Endpoints of this network resolve each other by name and alias (Docker does on user-defined networks only)
            - from the host's name server (O(name_server)) and from their hosts file.
          - V(false) (the default network C(bridge) of Docker) - no names; its endpoints still ask the name server
            for other names, which it forwards to the host's upstream servers.
        type: bool
        default: true
      dns_search:
        description:
          - Search domains for the endpoints of this network (C(search) in their C(resolv.conf)), after those of
            the networks listed before it; an endpoint's own O(endpoints[].dns_search) replaces them.
        type: list
        elements: str
      force:
        description: With O(networks[].state=absent), detach endpoints still declared on the network instead of failing.
        type: bool
        default: false
'''
