#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: topology
short_description: Reconcile every bridge and overlay network and endpoint of a host in one call
version_added: 0.1.0
description:
  - The bulk module behind the C(netplumb.container.network) role. One call brings a host to the
    declared set of Docker-style bridge and overlay networks and endpoints (a container's attachments), and
    removes what this module made earlier that is no longer declared.
  - A network is a bridge with the gateway address, an IPAM pool (subnet declared or carved from O(default_pools)),
    and its firewall, closed by default as Docker 28+ builds it (seeds 000, 003, 004) - from outside the network
    only replies and published ports reach its endpoints (remote hosts, routed LAN neighbours, other networks and
    the host's other interfaces alike, see O(networks[].gateway_mode)); egress is masqueraded only when it leaves
    through an interface that is not one of the collection's bridges, so other clients keep their source address;
    published ports answer on the host's addresses and 127.0.0.1, from endpoints of the same network, of other
    networks and from the endpoint itself, with no proxy process.
  - A network may be dual stack (O(networks[].enable_ipv6)) - an IPv6 subnet beside the IPv4 one, declared or
    carved from O(default_pools) (else from a unique local /48 derived from the host's name), IPv6 addresses for its
    endpoints from a second IPAM pool, a C(::/0) default route, both addresses in the hosts files, and the same
    firewall on both families (NAT as in Docker 27+, none in gateway mode V(routed)). Published ports do not answer
    on C([::1]) (IPv6 has no C(route_localnet); use C(127.0.0.1) or an address of the host). See M(netplumb.container.nat_rule) for the
    backends (nftables table C(inet netplumb) whose rules never change, or iptables chains as Docker 29's).
  - An endpoint is a network namespace (created, or a running process's adopted by PID as in seed 001) with one
    veth pair per network (C(eth0), C(eth1), ...; several networks = C(docker network connect)), an address
    from the pool or a static one, the MAC Docker would give it (02:42 + the IPv4 address), a default route via
    the first non-internal network's gateway, published ports, and C(/etc/netns/NAMESPACE/hosts) naming the
    endpoints it shares a network with (C(ip netns exec) shows that file as C(/etc/hosts)).
  - Everything is planned first, from one observation of the host; nothing changes if any input is invalid or
    any conflict is found. The kernel changes are applied in order; when one fails, what this call created is
    undone and the error names the object.
  - What the module made is recorded in O(state_dir)C(/topology.json), carries the interface alias
    C(netplumb ...) or the rule comment C(netplumb:NETWORK), and leases are owned by the endpoint's name, so an
    endpoint or network dropped from the list (with O(purge)) or marked absent is removed with all its
    interfaces, rules and leases, and nothing else is touched.
author:
  - netplumb developers (@netplumb)
options:
  default_pools:
    description:
      - Where subnets of networks without one are carved from (Docker's C(default-address-pools)); IPv4 bases for
        O(networks[].subnet), IPv6 bases for O(networks[].ipv6_subnet).
      - With no IPv6 base, IPv6 subnets are /64s of a unique local /48 (RFC 4193) derived from the host's name; the
        C(netplumb.container.network) role derives it from the inventory name instead.
    type: list
    elements: dict
    default: [{base: 172.31.0.0/16, size: 24}]
    suboptions:
      base:
        description: IPv4 or IPv6 network to carve from.
        type: str
        required: true
      size:
        description: Prefix length of each subnet (at most /30 for IPv4, /124 for IPv6).
        type: int
        required: true
  gateway_bridge:
    description: The bridge network that gives endpoints of overlays with O(networks[].egress) their way out.
    type: dict
    default: {name: gwbridge, bridge: np_gwbridge, subnet: 172.30.0.0/16}
    suboptions:
      name:
        description: Name of the network (no declared network may have it).
        type: str
        default: gwbridge
      bridge:
        description: Its bridge.
        type: str
        default: np_gwbridge
      subnet:
        description: Its subnet.
        type: str
        default: 172.30.0.0/16
  purge:
    description:
      - Remove networks and endpoints this module made earlier that are no longer listed.
      - With V(false) only entries marked V(absent) are removed.
    type: bool
    default: true
  hold:
    description:
      - Networks to hold back - keep exactly as the last change on this host left them (its desired state,
        C(desired.json)) - together with every endpoint on one of them, whatever O(networks) and O(endpoints) say of
        them now; an endpoint that is new on a held network waits (it is not made), and says so in a warning. The rest
        of the arguments apply.
      - The C(netplumb.container.network) role holds back a static overlay or a LAN that spans a host it could not
        read in this run (down, unreachable), on every other host of the network, so what that host holds (its
        addresses, its endpoints in the peers' tables) is never planned without it.
    type: list
    elements: str
    default: []
  state_dir:
    description:
      - Where the record of what was made (C(topology.json)), the IPAM leases (C(ipam/)) and the desired state
        (C(desired.json)) are kept on the host.
      - The desired state is these arguments with everything decided filled in (carved subnets, leased addresses,
        overlay peers); C(netplumb-restore) rebuilds the host from it with no controller.
      - Once nothing is declared, the run leaves the directory as it was before the first run - the record, the
        desired state, the IPAM store and the lock file go, and the directory too when a run of this module made it.
    type: path
    default: /var/lib/netplumb
  restore_at_boot:
    description:
      - Make the host come back by itself - install C(/usr/sbin/netplumb-restore) (this module's own engine, under
        C(/usr/lib/netplumb), run with no Ansible) and C(netplumb-restore.service), enabled, which rebuilds the
        networks from the desired state at boot and again whenever C(nftables.service) or C(firewalld.service) is
        restarted or reloaded; and the drop-ins of O(endpoints[].units).
      - With V(false) (or once nothing is declared) those files are removed. The C(netplumb.container.network) role
        turns it on (C(netplumb_restore_at_boot)).
    type: bool
    default: false
  firewall_coexistence:
    description:
      - What to do about a base chain of another nftables table on the forward hook whose policy is drop, or whose
        last rule drops everything (Debian's C(/etc/nftables.conf) made strict, firewalld, UFW or Docker through
        iptables-nft) - an accept in netplumb's table does not overrule a drop in another table, so it would
        silently drop the networks' traffic.
      - V(fail) stops before any change, naming the table and chain.
      - V(integrate) inserts two rules, tagged C(netplumb), at the top of such a chain (not of an iptables-nft one)
        accepting what enters or leaves the networks' bridges - netplumb's own table still decides what gets
        through; they are rewritten with the bridges and removed with the last network.
      - V(ignore) goes on with a warning.
      - With an iptables backend, the iptables C(FORWARD) chain itself is where netplumb hooks in first, so its policy
        is no conflict.
    type: str
    choices: [fail, integrate, ignore]
    default: fail
  name_server:
    description:
      - V(unbound) - the host's name server answers every endpoint with a bridge network that has a gateway on the
        host, at that gateway (Docker's embedded DNS; Podman's aardvark-dns) - C(unbound) from the distribution,
        configured from the same records as everything else. Each endpoint is answered from a view of its own
        the names and aliases of the networks it is on that resolve names (A, AAAA, PTR; over UDP and TCP) and,
        where one of its networks has a way out, every other name through the host's upstream servers (those of
        its C(/etc/resolv.conf), asked from the host, so a stub such as C(127.0.0.53) works). An internal network
        never forwards.
      - Every process in the endpoint's namespace has the names - C(ip netns exec) (a C(resolv.conf) beside the
        hosts file under C(/etc/netns/NAMESPACE)), workload units (O(endpoints[].units)), and a process that only
        entered the namespace or was adopted by O(endpoints[].pid) and reads the host's C(/etc/resolv.conf) - a
        query to Docker's C(127.0.0.11) or to a loopback name server of the host's C(resolv.conf) is redirected
        inside the namespace to the network's name server.
      - Port 53 of the gateway answers the network's own endpoints only (the firewall drops the rest). Another
        server already bound to port 53 on every address or on a gateway is refused before any change, naming it.
      - Supervised by systemd (C(netplumb-dns.service), enabled) where systemd is the host's init, else started as a
        daemon and tracked by its pid file under O(state_dir). A change of names reloads it; a new or removed
        gateway restarts it; it stops once no endpoint needs it.
      - V(hosts) - names from the hosts files only (seen by C(ip netns exec) and workload units), no server.
    type: str
    choices: [unbound, hosts]
    default: unbound
  backend:
    description:
      - The firewall backend. V(auto) is V(nftables) where the host has C(nft) or libnftables' Python binding,
        else V(iptables) (whichever iptables the host has configured, nft or legacy).
    type: str
    choices: [auto, nftables, iptables, iptables-nft, iptables-legacy]
    default: auto
extends_documentation_fragment:
  - netplumb.container.attributes
  - netplumb.container.networks
  - netplumb.container.endpoints
notes:
  - Turns on C(net.ipv4.ip_forward) when a network is not internal, C(net.bridge.bridge-nf-call-iptables) when a
    network has O(networks[].icc=false) or published ports (bridged traffic must pass the firewall to be dropped,
    and the reply to a neighbour that used a published port un-NATed), and C(route_localnet) on a bridge with
    published ports (so 127.0.0.1 reaches them); it never turns them off.
  - IPv6 link-local addresses only where a network has IPv6, as Docker does - the host end of every endpoint's veth
    pair (a bridge port) and an endpoint's interface on a network without IPv6 come up with IPv6 address generation
    off (C(addrgenmode none)), so they send no IPv6 solicitations or reports, which a bridge floods to every port.
    An interface made by an earlier release is set so too; the address it made stays until the interface is made anew.
  - The kernel keeps one IPv4 neighbour table for all namespaces, of at most C(net.ipv4.neigh.default.gc_thresh3) entries
    (1024 by default), and each endpoint that reaches its gateway takes two. The module warns when a host's endpoint
    interfaces could fill it; past the limit new neighbours are refused and first packets lost. It is a host-wide
    setting, left to the host's owner (raise C(gc_thresh2) and C(gc_thresh3) in C(/etc/sysctl.d)).
  - In the diff, an endpoint's hosts file is shown by its path and digest. The names it lists are its networks'
    C(leases), which each network's part of the diff shows once, and on an overlay the other hosts' endpoints of
    O(networks[].peers), whose addresses the VTEP's neighbour entries show. In full, a thousand endpoints on a network
    would be a thousand files of a thousand lines, and adding one endpoint would change them all.
  - A Linux bridge holds at most 1023 ports, so a network has at most 1023 endpoints on one host (1022 on an overlay,
    whose bridge also holds the VXLAN device); more are refused before anything changes - spread them over more
    networks.
seealso:
  - module: netplumb.container.bridge
  - module: netplumb.container.veth
  - module: netplumb.container.nat_rule
  - module: netplumb.container.ipam
'''

EXAMPLES = r'''
- name: Seed 003 - user-defined network new_network with nginx01 and nginx02, nginx03 on the default network
  netplumb.container.topology:
    networks:
      - name: bridge
        bridge: np0
        subnet: 172.17.0.0/16
        resolve_names: false
      - name: new_network
        subnet: 172.18.0.0/16
    endpoints:
      - name: nginx01
        networks: [new_network]
        published: ["8080:80"]
      - name: nginx02
        networks: [new_network]
      - name: nginx03            # networks default to [bridge]

- name: Two endpoints behind one name (docker run --network-alias web), a search domain, a back-end with no way out
  netplumb.container.topology:
    networks:
      - {name: front, subnet: 172.21.0.0/24, dns_search: [corp.example]}
      - {name: back, subnet: 172.22.0.0/24, internal: true}     # its endpoints get names, no upstream
    endpoints:
      - {name: web1, networks: [{name: front, aliases: [web]}, back]}
      - {name: web2, networks: [{name: front, aliases: [web]}, back]}
      - {name: db, networks: [back]}

- name: A dual-stack network; its published port answers on IPv4 and IPv6
  netplumb.container.topology:
    networks:
      - {name: web, subnet: 172.20.0.0/24, ipv6_subnet: "fd00:20::/64"}
    endpoints:
      - {name: api, networks: [{name: web, ipv6_address: "fd00:20::10"}], published: ["8080:80"]}

- name: docker network connect new_network nginx03 (eth1), with a static address
  netplumb.container.topology:
    networks:
      - {name: bridge, bridge: np0, subnet: 172.17.0.0/16, resolve_names: false}
      - {name: new_network, subnet: 172.18.0.0/16}
    endpoints:
      - {name: nginx01, networks: [new_network], published: ["8080:80"]}
      - {name: nginx02, networks: [new_network]}
      - name: nginx03
        networks:
          - bridge
          - {name: new_network, address: 172.18.0.100}

- name: Adopt a running process's namespace (seed 001) on a network with ICC off and a carved subnet
  netplumb.container.topology:
    networks:
      - {name: quiet, icc: false}
    endpoints:
      - {name: legacy-app, pid: "{{ app_pid }}", networks: [quiet]}
'''

RETURN = r'''
actions:
  description: Every change, in the order it is (or in check mode would be) applied.
  returned: always
  type: list
  elements: str
  sample: ["np0: create bridge", "netns nginx01: create network namespace", "firewall: nftables: create table inet netplumb"]
networks:
  description: Each present network with its bridge, subnet, gateway, MTU, and IPv6 subnet and gateway (null without IPv6).
  returned: always
  type: dict
  sample: {"new_network": {"bridge": "br-4a1f0c3e9b2d", "subnet": "172.18.0.0/16", "gateway": "172.18.0.1", "mtu": null,
                           "ipv6_subnet": "fd5c:1e2a:9b07::/64", "ipv6_gateway": "fd5c:1e2a:9b07::1"}}
endpoints:
  description: Each present endpoint with its mode, namespace, interfaces (network, address, IPv6 address or null,
    MAC, host end), published ports (the mapping as declared, the host address or null for every address, host
    and container port ranges, protocol, and the network that publishes them) and the address of the name server
    it asks (null without one, O(name_server)).
  returned: always
  type: dict
  sample:
    nginx01:
      mode: bridge
      namespace: nginx01
      interfaces:
        eth0: {network: new_network, address: 172.18.0.2/16, ipv6_address: "fd5c:1e2a:9b07::2/64",
               mac: "02:42:ac:12:00:02", host_interface: np0a1b2c3d4e}
      published:
        - {mapping: "8080:80", host_ip: null, host_ports: [8080, 8080], container_ports: [80, 80], proto: tcp,
           network: new_network}
      name_server: 172.18.0.1
'''

import copy

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netplumb.container.plugins.module_utils._runner import run_module
from ansible_collections.netplumb.container.plugins.module_utils._topology.host import reconcile
from ansible_collections.netplumb.container.plugins.module_utils._topology.spec import ARGUMENT_SPEC, locate


class TopologyModule(AnsibleModule):
    """A bad value inside networks or endpoints is named with its place and itself
    (endpoints[0] (web).published: {'9000': 80} - ...), as the network role names it: Ansible's
    own message for it names neither."""

    def __init__(self, *args, **kwargs):
        self._given = None          # the arguments as given, while Ansible checks them
        super(TopologyModule, self).__init__(*args, **kwargs)
        self._given = None

    def _load_params(self):
        super(TopologyModule, self)._load_params()
        self._given = copy.deepcopy(self.params)      # validation converts values in place

    def fail_json(self, msg, **kwargs):
        if self._given is not None:
            msg = locate(self._given, {}) or msg
        super(TopologyModule, self).fail_json(msg=msg, **kwargs)


def main():
    run_module(TopologyModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True), reconcile)


if __name__ == '__main__':
    main()
