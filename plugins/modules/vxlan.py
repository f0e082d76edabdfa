#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: vxlan
short_description: Manage a VXLAN device (VTEP) and its forwarding and neighbour entries
version_added: 0.1.0
description:
  - Creates, changes and removes a VXLAN device in the host's or a named network namespace, as Docker's overlay
    driver does for each overlay network (seed 004 - C(vxlan1) with VNI 256 in the network's namespace).
  - Programs the forwarding state without learning, the way the overlay driver does - flood entries
    (all-zero MAC to each remote VTEP, head-end replication), static MAC to VTEP entries, and permanent neighbour
    (ARP) entries for known remote endpoints.
  - O(vni), O(dstport), O(local) and O(dev) cannot change in place; changing one recreates the device, and
    check mode and the diff say so.
author:
  - netplumb developers (@netplumb)
options:
  name:
    description: Name of the device (at most 15 bytes).
    type: str
    required: true
  namespace:
    description: Named network namespace of the device. Omit for the namespace the module runs in.
    type: str
  state:
    description: V(present) creates or updates the device; V(absent) deletes it with all its entries.
    type: str
    choices: [present, absent]
    default: present
  vni:
    description: VXLAN network identifier, 1..16777215. Required with O(state=present).
    type: int
  local:
    description: Local underlay address (the VTEP's source address).
    type: str
  dev:
    description: Underlay device. It must exist in O(namespace).
    type: str
  dstport:
    description: UDP destination port.
    type: int
    default: 4789
  learning:
    description: Learn remote MAC addresses from traffic. Off by default, as the overlay driver programs the tables.
    type: bool
    default: false
  mtu:
    description: MTU, 68..65535. The kernel's default leaves room for the 50-byte VXLAN header on the underlay device.
    type: int
  master:
    description: Bridge in O(namespace) to attach the device to.
    type: str
  addresses:
    description: Exact list of addresses with prefix length on the device itself. Omit to leave them as they are.
    type: list
    elements: str
  up:
    description: Bring the device up or down.
    type: bool
    default: true
  fdb:
    description: Forwarding entries. An entry without O(fdb[].mac) is a flood entry (C(00:00:00:00:00:00)).
    type: list
    elements: dict
    default: []
    suboptions:
      mac:
        description: Remote MAC address; omit for a flood entry.
        type: str
        default: 00:00:00:00:00:00
      dst:
        description: Underlay address of the remote VTEP.
        type: str
        required: true
  neighbours:
    description: Permanent neighbour (ARP/ND) entries on the device, for remote endpoints.
    type: list
    elements: dict
    default: []
    suboptions:
      ip:
        description: Address of the remote endpoint.
        type: str
        required: true
      mac:
        description: Its MAC address.
        type: str
        required: true
  exclusive:
    description: Remove forwarding and neighbour entries that are not listed (the lists become exact).
    type: bool
    default: false
extends_documentation_fragment:
  - netplumb.container.attributes
seealso:
  - module: netplumb.container.bridge
'''

EXAMPLES = r'''
- name: VTEP of overlay net1 in its namespace, flooding to two peers, one endpoint known (seed 004)
  netplumb.container.vxlan:
    name: vxlan1
    namespace: ovl-net1
    vni: 256
    local: 198.51.100.11
    master: br0
    fdb:
      - dst: 198.51.100.12
      - dst: 198.51.100.13
      - mac: 02:42:0a:00:00:05
        dst: 198.51.100.12
    neighbours:
      - ip: 10.0.0.5
        mac: 02:42:0a:00:00:05
    exclusive: true
'''

RETURN = r'''
vxlan:
  description: The device after the run (in check mode, as it is now); absent when it does not exist.
  returned: success and state=present
  type: dict
  sample: {name: vxlan1, vni: 256, local: 198.51.100.11, dev: null, dstport: 4789, learning: false, mtu: 1450,
           master: br0, up: true, fdb: [["00:00:00:00:00:00", "198.51.100.12"]], neighbours: []}
actions:
  description: Kernel operations in the order they were (or in check mode would be) applied.
  returned: always
  type: list
  elements: str
  sample: ["vxlan1 (in ovl-net1): create vxlan VNI 256", "vxlan1 (in ovl-net1): add forwarding entry 00:00:00:00:00:00 -> 198.51.100.12"]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netplumb.container.plugins.module_utils import _validate as validate
from ansible_collections.netplumb.container.plugins.module_utils._errors import InvalidInput
from ansible_collections.netplumb.container.plugins.module_utils._objects.vxlan import plan_vxlan
from ansible_collections.netplumb.container.plugins.module_utils._runner import object_spec, run_module, single_object

VNI_MAX = 2 ** 24 - 1


def desired(params):
    present = params['state'] == 'present'
    if present and params['vni'] is None:
        raise InvalidInput('vni: required with state=present')
    if params['vni'] is not None and not 1 <= params['vni'] <= VNI_MAX:
        raise InvalidInput('vni: %d is out of range (1..%d)' % (params['vni'], VNI_MAX))
    if not 1 <= params['dstport'] <= 65535:
        raise InvalidInput('dstport: %d is out of range (1..65535)' % params['dstport'])
    fdb = [{'mac': validate.mac(e['mac'], 'fdb[%d].mac' % i, flood=True),
            'dst': validate.ip_address(e['dst'], 'fdb[%d].dst' % i)} for i, e in enumerate(params['fdb'])]
    neighbours = [{'ip': validate.ip_address(e['ip'], 'neighbours[%d].ip' % i),
                   'mac': validate.mac(e['mac'], 'neighbours[%d].mac' % i)} for i, e in enumerate(params['neighbours'])]
    ips = [n['ip'] for n in neighbours]
    twice = sorted(set(ip for ip in ips if ips.count(ip) > 1))
    if twice:
        raise InvalidInput('neighbours: %s listed with more than one MAC' % ', '.join(twice))
    return {
        'name': validate.ifname(params['name'], 'name'),
        'namespace': validate.optional(validate.netns_name, params['namespace'], 'namespace'),
        'state': params['state'],
        'vni': params['vni'],
        'local': validate.optional(validate.ip_address, params['local'], 'local'),
        'dev': validate.optional(validate.ifname, params['dev'], 'dev'),
        'dstport': params['dstport'],
        'learning': params['learning'],
        'mtu': validate.optional(validate.mtu, params['mtu'], 'mtu'),
        'master': validate.optional(validate.ifname, params['master'], 'master'),
        'addresses': validate.interface_addresses(params['addresses']),
        'up': params['up'],
        'fdb': fdb,
        'neighbours': neighbours,
        'exclusive': params['exclusive'],
    }


def reconcile(kernel, params):
    want = desired(params)
    links = kernel.links(want['namespace'])
    return plan_vxlan(want, links, kernel.fdb(want['namespace'], want['name']),
                      kernel.neighbours(want['namespace'], want['name']), kernel.missing)


def describe(kernel, params):
    link = kernel.links(params['namespace']).get(params['name'])
    if params['state'] == 'absent' or link is None or link['kind'] != 'vxlan':
        return {}
    view = dict(link['vxlan'], name=link['name'], mtu=link['mtu'], master=link['master'], up=link['up'],
                addresses=link['addresses'])
    view['fdb'] = sorted([e['mac'], e['dst']] for e in kernel.fdb(params['namespace'], params['name']))
    view['neighbours'] = sorted([e['ip'], e['mac']] for e in kernel.neighbours(params['namespace'], params['name']))
    return {'vxlan': view}


def main():
    module = AnsibleModule(
        argument_spec=object_spec(
            vni=dict(type='int'),
            local=dict(type='str'),
            dev=dict(type='str'),
            dstport=dict(type='int', default=4789),
            learning=dict(type='bool', default=False),
            mtu=dict(type='int'),
            master=dict(type='str'),
            addresses=dict(type='list', elements='str'),
            up=dict(type='bool', default=True),
            fdb=dict(type='list', elements='dict', default=[], options=dict(
                mac=dict(type='str', default='00:00:00:00:00:00'),
                dst=dict(type='str', required=True),
            )),
            neighbours=dict(type='list', elements='dict', default=[], options=dict(
                ip=dict(type='str', required=True),
                mac=dict(type='str', required=True),
            )),
            exclusive=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    run_module(module, single_object(reconcile), describe)


if __name__ == '__main__':
    main()
