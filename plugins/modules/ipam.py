#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: ipam
short_description: Lease addresses from a pool, keyed by owner, stored on the managed host
version_added: 0.1.0
description:
  - Keeps address pools (subnet, gateway, allocation range, reserved addresses) and their leases in a store on the
    managed host, so an AWX controller that is thrown away after each job loses nothing.
  - A lease belongs to an owner (by convention C(NETWORK/ENDPOINT)); the same owner always gets the same address
    back, so re-running allocates nothing new. Addresses are handed out in order, lowest first, as Docker does.
  - One lock guards the store, so concurrent runs on one host never hand out an address twice.
  - A corrupt store is an error naming the file; it is never reset.
author:
  - netplumb developers (@netplumb)
options:
  pool:
    description: The pool. Its definition is created on first use and may change only while every lease fits it.
    type: dict
    required: true
    suboptions:
      name:
        description: Name of the pool, usually the network's.
        type: str
        required: true
      subnet:
        description: Subnet in CIDR form. Required unless O(state=absent). Must not overlap another pool of the store.
        type: str
      gateway:
        description: Gateway address, never leased. Defaults to the first address of the subnet.
        type: str
      ip_range:
        description: Sub-range (CIDR) that dynamic leases come from; static ones may lie anywhere in the subnet.
        type: str
      reserved:
        description: Addresses never leased (Docker's C(--aux-address)).
        type: list
        elements: str
        default: []
  leases:
    description:
      - Leases to hold (O(state=present)) or release (O(state=absent)).
      - With O(state=absent), omitting O(leases) removes the whole pool with every lease.
    type: list
    elements: dict
    suboptions:
      owner:
        description: Who holds the lease, for example V(net1/web).
        type: str
        required: true
      address:
        description: A static address to lease (the owner's old lease, if any, is released). A conflict is an error.
        type: str
  state:
    description: V(present) leases, V(absent) releases.
    type: str
    choices: [present, absent]
    default: present
  exclusive:
    description: With O(state=present), release the pool's leases whose owner is not listed.
    type: bool
    default: false
  store:
    description: Directory of the store on the managed host.
    type: path
    default: /var/lib/netplumb/ipam
attributes:
  check_mode:
    support: full
    description: Check mode reads the store under its lock and reports the leases it would hand out; it writes nothing.
  diff_mode:
    support: full
    description: The diff shows the pool's leases before and after.
  platform:
    support: full
    platforms: posix
    description: Any POSIX host with C(fcntl) locks.
notes:
  - Overlay networks share one subnet across hosts; run the allocation on one host (C(run_once), C(delegate_to)) so
    addresses are unique across the inventory, or give each host its own O(pool.ip_range).
seealso:
  - module: netplumb.container.veth
'''

EXAMPLES = r'''
- name: Lease addresses for two endpoints of network web (Docker picks 10.0.0.2, 10.0.0.3)
  netplumb.container.ipam:
    pool:
      name: web
      subnet: 10.0.0.0/24
    leases:
      - owner: web/nginx01
      - owner: web/nginx02
  register: web_ipam

- name: Use them
  netplumb.container.veth:
    name: veth-nginx01
    peer: eth0
    peer_namespace: nginx01
    peer_addresses: ["{{ web_ipam.leases['web/nginx01'] }}"]

- name: A static address and an allocation range, with one address kept free
  netplumb.container.ipam:
    pool:
      name: backend
      subnet: 172.18.0.0/16
      gateway: 172.18.0.1
      ip_range: 172.18.5.0/24
      reserved: [172.18.5.1]
    leases:
      - owner: backend/db
        address: 172.18.0.10

- name: Release one lease
  netplumb.container.ipam:
    pool: {name: web}
    leases: [{owner: web/nginx02}]
    state: absent
'''

RETURN = r'''
leases:
  description: Address with prefix length of every listed owner (O(state=present)); what a run would give in check mode.
  returned: success and state=present
  type: dict
  sample: {"web/nginx01": 10.0.0.2/24, "web/nginx02": 10.0.0.3/24}
pool:
  description: The pool's definition and usage after the run.
  returned: success and the pool exists
  type: dict
  sample: {name: web, subnet: 10.0.0.0/24, gateway: 10.0.0.1, ip_range: null, reserved: [], leased: 2, free: 251}
actions:
  description: Leases made and released, in order.
  returned: always
  type: list
  elements: str
  sample: ["create pool web 10.0.0.0/24", "lease 10.0.0.2 to web/nginx01"]
'''

import ipaddress

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netplumb.container.plugins.module_utils._errors import InvalidInput
from ansible_collections.netplumb.container.plugins.module_utils._objects.ipam import (
    Store, candidates, plan_pool, pool_spec)
from ansible_collections.netplumb.container.plugins.module_utils._runner import Change, run_module


def _requests(params):
    requests = params['leases'] or []
    owners = [r['owner'] for r in requests]
    twice = sorted(set(o for o in owners if owners.count(o) > 1))
    if twice:
        raise InvalidInput('leases: owners %s are listed twice' % ', '.join(twice))
    return requests


def _summary(pool, leases):
    used = set(leases.values())
    return dict(pool, leased=len(leases), free=sum(1 for ip in candidates(pool) if str(ip) not in used))


def reconcile(run, params):
    """Planned and, in a real run, written under one hold of the store's lock."""
    name = params['pool']['name']
    store = Store(params['store'])
    requests = _requests(params)
    change = Change(before={}, after={})
    present = run.hold(store.locked(create=params['state'] == 'present' and not run.check_mode))
    data = store.read(name) if present else None
    if params['state'] == 'absent' and not requests:
        if data is not None:
            change.actions.append('remove pool %s with %d leases' % (name, len(data['leases'])))
            change.before = {'pool': data['pool'], 'leases': data['leases']}
            change.steps.append(('IPAM store %s' % params['store'], lambda: store.remove(name)))
        return change
    if data is None and params['state'] == 'absent':
        return change
    if params['pool'].get('subnet') is None and data is None:
        raise InvalidInput('pool.subnet: pool %s does not exist yet; give its subnet' % name)
    pool = data['pool'] if params['pool'].get('subnet') is None else pool_spec(
        name, params['pool']['subnet'], params['pool'].get('gateway'), params['pool'].get('ip_range'),
        params['pool'].get('reserved'))
    leases = data['leases'] if data else {}
    new, said, changes = plan_pool(pool, data, requests, store.pools() if present else [], params['state'],
                                   params['exclusive'])
    change.actions = ([said] if said else []) + changes
    change.before = {'pool': data['pool'], 'leases': leases} if data else {}
    change.after = {'pool': pool, 'leases': new}
    change.steps.append(('IPAM store %s' % params['store'], lambda: store.write(name, {'pool': pool, 'leases': new})))
    prefix = ipaddress.ip_network(pool['subnet']).prefixlen
    if params['state'] == 'present':
        change.returns['leases'] = dict((r['owner'], '%s/%d' % (new[r['owner']], prefix)) for r in requests)
    change.returns['pool'] = _summary(pool, new)
    return change


def main():
    module = AnsibleModule(
        argument_spec=dict(
            pool=dict(type='dict', required=True, options=dict(
                name=dict(type='str', required=True),
                subnet=dict(type='str'),
                gateway=dict(type='str'),
                ip_range=dict(type='str'),
                reserved=dict(type='list', elements='str', default=[]),
            )),
            leases=dict(type='list', elements='dict', options=dict(
                owner=dict(type='str', required=True),
                address=dict(type='str'),
            )),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            exclusive=dict(type='bool', default=False),
            store=dict(type='path', default='/var/lib/netplumb/ipam'),
        ),
        supports_check_mode=True,
    )
    run_module(module, reconcile, netlink=False)


if __name__ == '__main__':
    main()
