# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    """The fields of an endpoint (option C(endpoints) of M(netplumb.container.topology); the role's
    C(netplumb_endpoints)), beside their schema in ``module_utils/_topology/spec.py``."""

    DOCUMENTATION = r'''
options:
  endpoints:
    description: The host's endpoints (containers' network attachments).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Endpoint name; other endpoints of its networks resolve it by this name.
        type: str
        required: true
      state:
        description:
          - V(absent) removes its interfaces, leases, hosts file and (if this module named it) the namespace name.
          - A namespace this module created and no process is in ends with its name, and the kernel deletes its veth
            pairs in one batch; the run returns once they are gone. A namespace a process still uses keeps running,
            so its veth pairs are deleted first.
        type: str
        choices: [present, absent]
        default: present
      namespace:
        description: Network namespace name. Defaults to the endpoint's name.
        type: str
      pid:
        description: Adopt the network namespace of this running process (seed 001) instead of creating one.
        type: int
      mode:
        description:
          - V(bridge) (default) attaches to O(endpoints[].networks); V(none) is a namespace with only C(lo);
            V(host) uses the host's network stack (nothing is made); C(container:OTHER) shares endpoint OTHER's namespace.
        type: str
        default: bridge
      networks:
        description:
          - Networks to attach to, in order; a name or a mapping with C(name), C(address) (static, inside the
            declared subnet), C(ipv6_address) (static, inside the declared O(networks[].ipv6_subnet)), C(ifname)
            (default C(eth0), C(eth1), ... by position) and C(aliases) (other names of the endpoint on that network,
            Docker's C(--network-alias); endpoints sharing an alias are all answered, in turn first).
          - Defaults to the network named C(bridge) when one is declared (Docker's default network).
        type: list
        elements: raw
      published:
        description:
          - Published ports, C([host_ip:]host_port:container_port[/tcp|udp|sctp]), DNATed to the endpoint's
            address on its first non-internal network; reachable from other hosts, from the host itself and from
            other endpoints (seed 004).
          - Without a host address a port is published on both families where the network is dual stack; an IPv6
            host address is written in brackets (C([2001:db8::1]:8080:80)).
        type: list
        elements: str
      dns_search:
        description: The endpoint's search domains (C(search) in its C(resolv.conf)), instead of its networks'.
        type: list
        elements: str
      units:
        description:
          - Systemd service units that are this endpoint's workload (needs O(restore_at_boot)) - each gets a drop-in
            C(/etc/systemd/system/UNIT.d/netplumb-ENDPOINT.conf) that runs it in the endpoint's namespace
            (C(NetworkNamespacePath=)), shows it the endpoint's hosts file as C(/etc/hosts) and its C(resolv.conf)
            as C(/etc/resolv.conf), and starts it after C(netplumb-restore.service) and the name server. Restart the
            unit to move a running process into the namespace.
        type: list
        elements: str
        default: []
'''
