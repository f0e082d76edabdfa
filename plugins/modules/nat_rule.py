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
  - Reconciles every netfilter rule one bridge network needs (seeds 000, 001 and 004) - egress masquerade or SNAT,
    published ports (DNAT from PREROUTING and OUTPUT for local destinations, the FORWARD accept, hairpin
    masquerade, masquerade of host-originated traffic to the bridge), the FORWARD accepts the bridge needs,
    inter-container communication off, isolation from other networks, and internal networks without egress.
  - Rules live in chains the collection owns (C(NETPLUMB), C(NETPLUMB-POSTROUTING), C(NETPLUMB-FORWARD),
    C(NETPLUMB-ISOLATION-1), C(NETPLUMB-ISOLATION-2)), reached by one hook rule each from the built-in chains;
    every rule carries the comment C(netplumb:NAME). Rules and chains the collection does not own are never
    flushed, reordered or rewritten, and no built-in chain's policy is touched.
  - A whole change is applied atomically in one C(iptables-restore --noflush) transaction; it works with the
    iptables-nft and the iptables-legacy backend, whichever C(iptables) is on the host (or O(backend)).
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
  masquerade:
    description: Masquerade traffic leaving the subnet through any other interface (C(-s SUBNET ! -o BRIDGE)).
    type: bool
    default: true
  snat_to:
    description: Source-NAT egress traffic to this fixed address instead of masquerading.
    type: str
  icc:
    description:
      - Allow traffic between endpoints of the bridge. V(false) drops it, and turns on
        C(net.bridge.bridge-nf-call-iptables) in the namespace so bridged traffic passes the rule.
    type: bool
    default: true
  internal:
    description: No traffic in or out of the network except between its endpoints (Docker's C(--internal)).
    type: bool
    default: false
  isolate:
    description: Drop traffic between this network's bridge and the bridges of other networks managed here.
    type: bool
    default: true
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
        description: The endpoint's address in O(subnet).
        type: str
        required: true
  ip_forward:
    description: Set C(net.ipv4.ip_forward) in the namespace. Omit to leave it as it is.
    type: bool
  backend:
    description: The iptables command family to use; V(iptables) is whichever backend the host has configured.
    type: str
    choices: [iptables, iptables-nft, iptables-legacy]
    default: iptables
extends_documentation_fragment:
  - netplumb.container.attributes
notes:
  - Needs the iptables commands on the managed host (the C(netplumb.container.prereqs) role installs them).
  - Unlike Docker's C(-s C/32 -d C/32) hairpin rule, the hairpin masquerade covers the whole subnet, so another
    endpoint of the same bridge reaches a published port without the userland proxy or hairpin mode.
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
rules:
  description: The network's rules after the run (in check mode, as they would be), per table, as iptables-save prints them.
  returned: success
  type: dict
  sample: {nat: ["-A NETPLUMB-POSTROUTING -s 10.0.0.0/24 ! -o br666 -m comment --comment \"netplumb:br666\" -j MASQUERADE"],
           filter: ["-A NETPLUMB-FORWARD -i br666 ! -o br666 -m comment --comment \"netplumb:br666\" -j ACCEPT"]}
actions:
  description: What was (or in check mode would be) changed, in order.
  returned: always
  type: list
  elements: str
  sample: ["nat: create chain NETPLUMB", "nat: add -A NETPLUMB-POSTROUTING -s 10.0.0.0/24 ! -o br666 ... -j MASQUERADE"]
'''

import ipaddress

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netplumb.container.plugins.module_utils import _validate as validate
from ansible_collections.netplumb.container.plugins.module_utils._errors import InvalidInput, NotFound
from ansible_collections.netplumb.container.plugins.module_utils._firewall import (
    Iptables, parse_port, plan_firewall, restore_text)
from ansible_collections.netplumb.container.plugins.module_utils._netns import netns_exists, netns_path
from ansible_collections.netplumb.container.plugins.module_utils._runner import Change, run_module


def desired(params):
    name = params['name']
    if not name or any(c in name for c in '" \t'):
        raise InvalidInput('name: %r may not be empty or hold quotes or white space' % name)
    net = {'name': name, 'masquerade': params['masquerade'], 'icc': params['icc'], 'internal': params['internal'],
           'isolate': params['isolate'], 'published': [], 'snat_to': None}
    if params['state'] == 'absent':
        return net
    for option in ('bridge', 'subnet'):
        if params[option] is None:
            raise InvalidInput('%s: required with state=present' % option)
    net['bridge'] = validate.ifname(params['bridge'], 'bridge')
    net['subnet'] = validate.route_destination(params['subnet'], 'subnet')
    subnet = ipaddress.ip_network(net['subnet'])
    if subnet.version != 4:
        raise InvalidInput('subnet: %s - the iptables backend handles IPv4 networks' % subnet)
    if params['snat_to'] is not None:
        net['snat_to'] = validate.ip_address(params['snat_to'], 'snat_to')
    if params['internal'] and (params['published'] or net['snat_to']):
        raise InvalidInput('internal: an internal network can neither publish ports nor SNAT (%s given)'
                           % ('published' if params['published'] else 'snat_to'))
    seen = {}
    for index, pub in enumerate(params['published']):
        port = parse_port(pub['port'], index)
        address = validate.ip_address(pub['address'], 'published[%d].address' % index)
        if ipaddress.ip_address(address) not in subnet:
            raise InvalidInput('published[%d].address: %s is not in the subnet %s' % (index, address, subnet))
        key = (port['host_ip'], port['proto'], port['host_ports'])
        if key in seen:
            raise InvalidInput('published[%d].port: %s is published twice (also published[%d])'
                               % (index, pub['port'], seen[key]))
        seen[key] = index
        net['published'].append({'port': port, 'address': address})
    return net


def reconcile(run, params):
    net = desired(params)
    if params['namespace'] is not None:
        validate.netns_name(params['namespace'])
    firewall = Iptables(params['namespace'], params['backend'])
    missing = params['namespace'] is not None and not netns_exists(params['namespace'])
    change = Change()
    if missing and not run.check_mode:
        raise NotFound('namespace: network namespace %s does not exist (%s is not mounted)'
                       % (params['namespace'], netns_path(params['namespace'])))
    if missing:
        change.warnings.append('namespace: network namespace %s does not exist; check mode assumes an earlier task '
                               'creates it (a real run fails if none does)' % params['namespace'])
    observed = {} if missing else firewall.save()
    restore, actions, before, after = plan_firewall(net, observed, params['state'])
    if restore:
        change.steps.append(('firewall', lambda: firewall.restore(restore_text(restore))))
    sysctls = {}
    if params['ip_forward'] is not None and params['state'] == 'present':
        sysctls['net.ipv4.ip_forward'] = '1' if params['ip_forward'] else '0'
    if not net['icc'] and params['state'] == 'present':
        sysctls['net.bridge.bridge-nf-call-iptables'] = '1'
    for key, value in sorted(sysctls.items()):
        current = None if missing else firewall.sysctl(key)
        before.setdefault('sysctl', {})[key] = current
        after.setdefault('sysctl', {})[key] = value
        if current != value:
            actions.append('set %s=%s' % (key, value))
            change.steps.append(('sysctl %s' % key, lambda key=key, value=value: firewall.sysctl(key, value)))
    change.actions, change.before, change.after = actions, before, after
    change.returns['rules'] = dict((table, after[table]) for table in ('filter', 'nat'))
    return change


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            namespace=dict(type='str'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            bridge=dict(type='str'),
            subnet=dict(type='str'),
            masquerade=dict(type='bool', default=True),
            snat_to=dict(type='str'),
            icc=dict(type='bool', default=True),
            internal=dict(type='bool', default=False),
            isolate=dict(type='bool', default=True),
            published=dict(type='list', elements='dict', default=[], options=dict(
                port=dict(type='str', required=True),
                address=dict(type='str', required=True),
            )),
            ip_forward=dict(type='bool'),
            backend=dict(type='str', default='iptables', choices=['iptables', 'iptables-nft', 'iptables-legacy']),
        ),
        supports_check_mode=True,
    )
    run_module(module, reconcile, netlink=False)


if __name__ == '__main__':
    main()
