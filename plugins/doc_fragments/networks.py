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
          - V(macvlan) puts endpoints straight on the LAN of a host interface, O(networks[].parent) (Docker's
            C(macvlan) driver) - each endpoint's interface is a macvlan of the parent, made in the host namespace and
            moved into the endpoint's namespace under its name, with the MAC Docker gives it (02:42 + its IPv4
            address), its address in O(networks[].subnet) (the LAN's) and, unless O(networks[].internal), a default
            route via O(networks[].gateway) (the LAN's router). No bridge, NAT or firewall rule of ours; nothing is
            published (O(endpoints[].published) on an endpoint with only such networks is refused). The host cannot
            reach its own endpoints without O(networks[].host_shim) (the kernel delivers nothing between a parent and
            its macvlan interfaces). The C(netplumb.container.network) role hands out addresses unique across every
            host that declares the network, and lists the other hosts' endpoints in the hosts files.
          - V(ipvlan) is the same with ipvlan interfaces (the parent's MAC; O(networks[].ipvlan_mode)), where the
            kernel has the module C(ipvlan); elsewhere it is refused before any change.
          - A macvlan or ipvlan endpoint has names from its hosts file (its networks' names, no aliases); the name
            server answers it only where it is also on a bridge network.
        type: str
        choices: [bridge, overlay, macvlan, ipvlan]
        default: bridge
      parent:
        description:
          - macvlan and ipvlan only, required - the host interface on the LAN (C(eth0)). It must exist, be up, be no
            bridge's or bond's port and, where it has an IPv4 address, be on O(networks[].subnet); else the run
            fails before any change.
          - C(eth0.10) is VLAN 10 on C(eth0), made when missing (alias C(netplumb vlan of network NAME)) and removed
            with the network, as Docker does; the kernel must have C(8021q).
        type: str
      macvlan_mode:
        description: macvlan only - V(bridge) (endpoints of the parent reach each other directly), V(private),
          V(vepa) (through the LAN's switch, which must hairpin) or V(passthru) (one endpoint takes the parent).
          Changing it makes the interfaces anew.
        type: str
        choices: [bridge, private, vepa, passthru]
      ipvlan_mode:
        description: ipvlan only - V(l2) (the default) or V(l3).
        type: str
        choices: [l2, l3]
      host_shim:
        description:
          - macvlan (mode V(bridge)) and ipvlan only - give the host an interface of its own on the LAN,
            C(npsh) + 10 hex digits (alias C(netplumb shim of network NAME)), with a /32 from the network and a host
            route to each of this host's endpoints, so the host reaches them (docker/docs#22607, moby#21735).
          - Off by default, as in Docker; the host's other traffic keeps its own routes.
        type: bool
        default: false
      shim_address:
        description: The shim's address; the C(netplumb.container.network) role sets one unique across the inventory.
          Omit to lease one from the network's pool (kept on re-runs).
        type: str
      vni:
        description:
          - Overlay only, required - the VXLAN network identifier, the same on every host of the overlay.
          - The C(netplumb.container.network) role keeps a declared one, else the one recorded on the hosts, else
            the lowest free one from C(netplumb_vni_base).
        type: int
      control_plane:
        description:
          - Overlay only - who spreads where each endpoint is. C(static) (the default) - the inventory. Every host
            gets a flood entry per other host and an FDB and neighbour entry per remote endpoint, written by this
            module; every host of the overlay must be in the run.
          - C(evpn) - BGP EVPN on FRR (M(netplumb.container.bgp_evpn), which the C(netplumb.container.network) role
            runs). The VTEP's bridge port gets C(neigh_suppress on) and C(learning off), this module writes no
            forwarding entry, and FRR's zebra installs the other hosts' (C(extern_learn)). A run on one host
            (C(--limit)) is enough to add or remove its endpoints. Needs O(networks[].vni) and, on each host, an
            O(networks[].ip_range) of its own (disjoint across hosts), so no host needs another's leases; IPv6
            addresses are the IPv6 subnet plus the IPv4 address's offset. Names across hosts are not spread (see
            C(docs/evpn.md)). Changing it recreates the VTEP.
        type: str
        choices: [static, evpn]
        default: static
      local:
        description: Overlay only, required - this host's underlay address (its VTEP); the default MTU is the MTU of
          the interface holding it minus 50, and a larger O(networks[].mtu) fails before any change.
        type: str
      peers:
        description:
          - Overlay only - the other hosts of the overlay. For each, a flood entry to its VTEP; for each of its
            endpoints, a static forwarding entry and a permanent neighbour entry. Entries not listed are removed.
          - On a macvlan or ipvlan network, the other hosts' endpoints on the LAN, for the hosts files (no VTEP); the
            C(netplumb.container.network) role fills them in.
        type: list
        elements: dict
        suboptions:
          vtep:
            description: The peer's underlay address; required on an overlay.
            type: str
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
        description: IPv4 subnet in CIDR form. Omit to carve the next free one from O(default_pools) (kept on re-runs);
          a macvlan or ipvlan network must declare its LAN's (with an O(networks[].ip_range) apart from the LAN's own hosts).
        type: str
      gateway:
        description: The bridge's address (a macvlan or ipvlan network's - the LAN's router). Defaults to the first
          address of the subnet.
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
        description: MTU of the bridge and of the endpoints' veth pairs. Omit for the kernel's default (a macvlan or
          ipvlan network's - the parent's, which a declared one may not exceed).
        type: int
      icc:
        description: Let endpoints of this network talk to each other (Docker's C(enable_icc)); bridge networks only.
        type: bool
        default: true
      masquerade:
        description: Masquerade traffic leaving the network (Docker's C(enable_ip_masquerade)); bridge networks only.
        type: bool
        default: true
      internal:
        description: No traffic in or out of the network, only between its endpoints (a macvlan or ipvlan network - no
          default route through the LAN's router).
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
