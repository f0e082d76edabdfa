#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: nat_rule
short_description: The NAT and forwarding rules of a bridge network, as Docker makes them
version_added: 0.1.0
description:
  - Reconciles the firewall of one bridge network (seeds 000, 001 and 004), closed by default as Docker 28+
    builds it - from outside the network only replies and published ports reach its endpoints (remote hosts,
    routed LAN neighbours, other networks and the host's other interfaces alike); egress is masqueraded (or SNATed)
    only when it leaves through an interface that is not one of the collection's bridges, so same-network,
    other-network, host and remote clients keep their source address; published ports answer on every host
    address, on 127.0.0.1 (C(route_localnet) on the bridge), from endpoints of the same network, of other
    networks and from the endpoint itself, with no proxy process; a port bound to a host IP answers on that
    IP only.
  - Backends - V(nftables), the default where the host has it, keeps everything in one table of its own,
    C(inet netplumb), whose rules never change - networks and published ports are elements of its named sets and
    maps, tagged with the network's name, so the work per packet does not grow with them; a chain C(user) in it
    is the users' own (like Docker's C(DOCKER-USER)). The V(iptables) backends lay their chains out as Docker 29
    does (C(NETPLUMB-USER) first in C(FORWARD), C(NETPLUMB-FORWARD), C(NETPLUMB-BRIDGE), nat C(NETPLUMB),
    C(NETPLUMB-HAIRPIN), C(NETPLUMB-POSTROUTING), raw C(NETPLUMB-GUARD)), every rule tagged
    C(netplumb:NAME). Both behave the same; rules, chains and tables the collection does not own are never
    flushed, reordered or rewritten, and no built-in chain's policy is touched.
  - A whole change is one transaction (one C(nft) batch, or one C(iptables-restore --noflush)); the last network
    gone takes the table (or chains) with it, except the user chain while it holds rules.
author:
  - netplumb developers (@netplumb)
options:
  name:
    description: Name of the network; it keys the rules (comment C(netplumb:NAME)).
    type: str
    required: true
  namespace:
    description: Named network namespace to act in. Omit for the namespace the module runs in.
    type: str
  state:
    description: V(present) makes the network's rules exactly as asked; V(absent) removes them (the shared chains stay).
    type: str
    choices: [present, absent]
    default: present
  bridge:
    description: The network's bridge. Required with O(state=present).
    type: str
  subnet:
    description: The network's subnet in CIDR form. Required with O(state=present).
    type: str
  ipv6_subnet:
    description:
      - The network's IPv6 subnet beside O(subnet) (dual stack); its rules go to both families (ip6tables with the
        iptables backend), masquerade included unless the mode has no NAT.
    type: str
  masquerade:
    description: Masquerade traffic of the subnet that leaves through an interface other than the collection's bridges.
    type: bool
    default: true
  snat_to:
    description: Source-NAT egress traffic to this fixed IPv4 address instead of masquerading.
    type: str
  icc:
    description:
      - Allow traffic between endpoints of the bridge. V(false) drops it, and turns on
        C(net.bridge.bridge-nf-call-iptables) in the namespace so bridged traffic passes the firewall.
    type: bool
    default: true
  internal:
    description: No traffic in or out of the network except between its endpoints (Docker's C(--internal)).
    type: bool
    default: false
  gateway_mode:
    description:
      - As Docker's C(com.docker.network.bridge.gateway_mode_ipv4).
      - V(nat) - egress masqueraded, published ports DNATed, nothing else gets in.
      - V(nat-unprotected) - as V(nat), and any host that routes to the subnet reaches every port.
      - V(routed) - no NAT at all; ICMP and the published container ports are reachable by direct routing (the
        host port of a mapping is ignored).
      - V(isolated) - an internal network (see O(internal)).
    type: str
    choices: [nat, nat-unprotected, routed, isolated]
    default: nat
  published:
    description: Published ports of the network's endpoints.
    type: list
    elements: dict
    default: []
    suboptions:
      port:
        description: C([host_ip:]host_port[-end]:container_port[-end][/tcp|udp|sctp]); a range maps each port to itself.
        type: str
        required: true
      address:
        description:
          - The endpoint's address in O(subnet) or O(ipv6_subnet). Give the port twice, once with each family's
            address, to publish it on both; a host address in the port limits it to that address's family.
        type: str
        required: true
  ip_forward:
    description:
      - Set C(net.ipv4.ip_forward) in the namespace (and C(net.ipv6.conf.all.forwarding) with O(ipv6_subnet)). Omit
        to leave it as it is.
    type: bool
  backend:
    description:
      - V(auto) is V(nftables) where the host has C(nft) or libnftables' Python binding, else V(iptables).
      - V(iptables) is whichever iptables the host has configured (nft or legacy).
    type: str
    choices: [auto, nftables, iptables, iptables-nft, iptables-legacy]
    default: auto
extends_documentation_fragment:
  - netplumb.container.attributes
notes:
  - Needs nftables or the iptables commands on the managed host (the C(netplumb.container.prereqs) role installs
    nftables and Debian's C(python3-nftables)).
seealso:
  - module: netplumb.container.bridge
'''

EXAMPLES = r'''
- name: Seed 001 - egress for 10.0.0.0/24 behind br666, with ip_forward on
  netplumb.container.nat_rule:
    name: br666
    bridge: br666
    subnet: 10.0.0.0/24
    ip_forward: true

- name: Seed 004 - publish the nginx container's port 80 on 8080, ICC off
  netplumb.container.nat_rule:
    name: web
    bridge: br-web
    subnet: 172.18.0.0/16
    icc: false
    published:
      - port: "8080:80"
        address: 172.18.0.2
      - port: "127.0.0.1:5353:53/udp"
        address: 172.18.0.3

- name: An internal network - no way in or out
  netplumb.container.nat_rule:
    name: backend
    bridge: br-backend
    subnet: 172.19.0.0/16
    internal: true
'''

RETURN = r'''
backend:
  description: The firewall backend used.
  returned: success
  type: str
  sample: nftables
rules:
  description:
    - The network's part of the firewall after the run (in check mode, as it would be) - with nftables its set and map
      elements (C(SET KEY), or for a map the key, a colon and the value), with iptables its rules
      (C(-t TABLE -A CHAIN SPEC)).
  returned: success
  type: list
  elements: str
  sample: ["bridges br666", "masq_v4 10.0.0.0/24", "outgoing br666", "same br666 . br666", "icc br666 . br666"]
actions:
  description: What was (or in check mode would be) changed, in order.
  returned: always
  type: list
  elements: str
  sample: ["nftables: create table inet netplumb", "nftables: network br666: add masq_v4 10.0.0.0/24"]
'''

import ipaddress

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netplumb.container.plugins.module_utils import _validate as validate
from ansible_collections.netplumb.container.plugins.module_utils._firewall.backends import BACKENDS, backend, plan_for
from ansible_collections.netplumb.container.plugins.module_utils._kernel.sysctl import SYSCTL_FORWARD, SYSCTL_FORWARD_V6, Sysctl, plan_sysctls
from ansible_collections.netplumb.container.plugins.module_utils._errors import NotFound
from ansible_collections.netplumb.container.plugins.module_utils._firewall.facts import (
    GATEWAY_MODES, declared_network, network_facts, network_sysctls)
from ansible_collections.netplumb.container.plugins.module_utils._kernel.netns import netns_exists, netns_path
from ansible_collections.netplumb.container.plugins.module_utils._runner import Change, object_spec, run_module


def reconcile(run, params):
    net = declared_network(params)
    if params['namespace'] is not None:
        validate.netns_name(params['namespace'])
    firewall, sysctl = backend(params['backend'], params['namespace']), Sysctl(params['namespace'])
    missing = params['namespace'] is not None and not netns_exists(params['namespace'])
    change = Change()
    if missing and not run.check_mode:
        raise NotFound('namespace: network namespace %s does not exist (%s is not mounted)'
                       % (params['namespace'], netns_path(params['namespace'])))
    if missing:
        change.warnings.append('namespace: network namespace %s does not exist; check mode assumes an earlier task '
                               'creates it (a real run fails if none does)' % params['namespace'])
    observed = firewall.observe() if not missing else firewall.EMPTY
    wanted = {net['name']: network_facts(net)} if params['state'] == 'present' else {}
    payload, actions, before, after = plan_for(firewall.name)(wanted, [] if wanted else [net['name']], observed)
    if payload:
        change.steps.append(('firewall', lambda: firewall.apply(payload)))
    before, after = {'firewall': before[net['name']]}, {'firewall': after[net['name']]}
    sysctls = {}
    if params['state'] == 'present':
        if params['ip_forward'] is not None:
            sysctls[SYSCTL_FORWARD] = '1' if params['ip_forward'] else '0'
            if params['ipv6_subnet'] is not None:
                sysctls[SYSCTL_FORWARD_V6] = sysctls[SYSCTL_FORWARD]
        versions = sorted(set(ipaddress.ip_network(s).version for s in net['subnets']))
        sysctls.update(network_sysctls(net['bridge'], net['icc'], wanted[net['name']], versions))
    changes, sysctl_actions, sysctl_before, sysctl_after = plan_sysctls(
        sysctls, {} if missing else dict((key, sysctl.get(key)) for key in sysctls))
    actions += sysctl_actions
    if sysctls:
        before['sysctl'], after['sysctl'] = sysctl_before, sysctl_after
    change.steps += [('sysctl %s' % key, lambda key=key, value=value: sysctl.set(key, value))
                     for key, value in sorted(changes.items())]
    change.actions, change.before, change.after = actions, before, after
    change.returns['backend'] = firewall.name
    change.returns['rules'] = after['firewall']
    return change


def main():
    module = AnsibleModule(
        argument_spec=object_spec(
            bridge=dict(type='str'),
            subnet=dict(type='str'),
            ipv6_subnet=dict(type='str'),
            masquerade=dict(type='bool', default=True),
            snat_to=dict(type='str'),
            icc=dict(type='bool', default=True),
            internal=dict(type='bool', default=False),
            gateway_mode=dict(type='str', default='nat', choices=list(GATEWAY_MODES)),
            published=dict(type='list', elements='dict', default=[], options=dict(
                port=dict(type='str', required=True),
                address=dict(type='str', required=True),
            )),
            ip_forward=dict(type='bool'),
            backend=dict(type='str', default='auto', choices=BACKENDS),
        ),
        supports_check_mode=True,
    )
    run_module(module, reconcile, netlink=False)


if __name__ == '__main__':
    main()
