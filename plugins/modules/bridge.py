#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: bridge
short_description: Manage a Linux bridge, its gateway addresses and its ports
version_added: 0.1.0
description:
  - Creates, changes and removes a Linux bridge (the software switch Docker calls C(docker0) or C(br-ID)),
    in the host's network namespace or in a named one.
  - Sets its addresses (the containers' gateway), MTU, MAC address and STP, attaches listed ports
    and, with O(exclusive), detaches ports that are not listed.
  - The interface is looked up by its exact name; an interface of that name that is not a bridge is an error.
author:
  - netplumb developers (@netplumb)
options:
  name:
    description: Name of the bridge (at most 15 bytes).
    type: str
    required: true
  namespace:
    description: Named network namespace the bridge lives in. Omit for the namespace the module runs in.
    type: str
  state:
    description:
      - V(present) creates or updates the bridge; V(absent) deletes it.
      - V(absent) refuses while ports are attached, unless O(force=true).
    type: str
    choices: [present, absent]
    default: present
  addresses:
    description:
      - The exact list of IPv4/IPv6 addresses with prefix length, for example V(10.0.0.1/24).
      - Addresses not listed are removed; IPv6 link-local addresses, which the kernel adds itself, are left alone.
      - Omit to leave the addresses as they are; V([]) removes them all.
    type: list
    elements: str
  mtu:
    description: MTU, 68..65535. Omit to let the kernel follow the smallest MTU of the ports.
    type: int
  mac:
    description: Unicast MAC address of the bridge. Omit to leave it as it is.
    type: str
  stp:
    description: Run the spanning tree protocol. Omit to leave it as it is (the kernel starts with it off).
    type: bool
  ports:
    description:
      - Interfaces of the same namespace to attach to the bridge. Each must exist.
      - Omit to leave the ports as they are.
    type: list
    elements: str
  exclusive:
    description: Detach ports that are not listed in O(ports).
    type: bool
    default: false
  up:
    description: Bring the bridge up (V(true)) or down (V(false)).
    type: bool
    default: true
  force:
    description: With O(state=absent), delete the bridge even though ports are attached (they are detached, not deleted).
    type: bool
    default: false
extends_documentation_fragment:
  - netplumb.container.attributes
seealso:
  - module: netplumb.container.veth
  - module: netplumb.container.netns
'''

EXAMPLES = r'''
- name: Bridge br666 with the gateway address, holding the host end of a veth pair (seed 001)
  netplumb.container.bridge:
    name: br666
    addresses: [10.0.0.1/24]
    ports: [veth_d366]

- name: A bridge inside a namespace, with MTU 1450 for a VXLAN overlay
  netplumb.container.bridge:
    name: br0
    namespace: ovl-net1
    addresses: [10.0.0.1/24]
    mtu: 1450

- name: Keep exactly these ports on the bridge
  netplumb.container.bridge:
    name: br666
    ports: [veth_a, veth_b]
    exclusive: true

- name: Remove the bridge even though ports are still attached
  netplumb.container.bridge:
    name: br666
    state: absent
    force: true
'''

RETURN = r'''
bridge:
  description: The bridge after the run (in check mode, as it is now); absent when it does not exist.
  returned: success
  type: dict
  contains:
    name:
      description: Interface name.
      type: str
      sample: br666
    index:
      description: Interface index.
      type: int
      sample: 7
    mtu:
      description: MTU.
      type: int
      sample: 1500
    mac:
      description: MAC address.
      type: str
      sample: 2e:4a:b1:0c:33:90
    up:
      description: Whether the bridge is administratively up.
      type: bool
      sample: true
    stp:
      description: Whether STP runs.
      type: bool
      sample: false
    addresses:
      description: Addresses, without IPv6 link-local ones.
      type: list
      elements: str
      sample: [10.0.0.1/24]
    ports:
      description: Names of the attached ports.
      type: list
      elements: str
      sample: [veth_d366]
actions:
  description: Kernel operations in the order they were (or in check mode would be) applied.
  returned: always
  type: list
  elements: str
  sample: ["br666: create bridge", "br666: add address 10.0.0.1/24", "veth_d366: attach to bridge br666", "br666: bring up"]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netplumb.container.plugins.module_utils import _validate as validate
from ansible_collections.netplumb.container.plugins.module_utils._objects.plan import plan_bridge
from ansible_collections.netplumb.container.plugins.module_utils._runner import object_spec, run_module, single_object


def desired(params):
    return {
        'name': validate.ifname(params['name'], 'name'),
        'namespace': validate.optional(validate.netns_name, params['namespace'], 'namespace'),
        'state': params['state'],
        'addresses': validate.interface_addresses(params['addresses']),
        'mtu': validate.optional(validate.mtu, params['mtu'], 'mtu'),
        'mac': validate.optional(validate.mac, params['mac'], 'mac'),
        'stp': params['stp'],
        'ports': (sorted(set(validate.ifname(p, 'ports') for p in params['ports']))
                  if params['ports'] is not None else None),
        'exclusive': params['exclusive'],
        'up': params['up'],
        'force': params['force'],
    }


def reconcile(kernel, params):
    want = desired(params)
    return plan_bridge(want, kernel.links(want['namespace']), kernel.missing)


def describe(kernel, params):
    links = kernel.links(params['namespace'])
    bridge = links.get(params['name'])
    if bridge is None or bridge['kind'] != 'bridge':
        return {}
    view = dict((k, bridge[k]) for k in ('name', 'index', 'mtu', 'mac', 'up', 'stp', 'addresses'))
    view['ports'] = sorted(n for n, link in links.items() if link['master'] == params['name'])
    return {'bridge': view}


def main():
    module = AnsibleModule(
        argument_spec=object_spec(
            addresses=dict(type='list', elements='str'),
            mtu=dict(type='int'),
            mac=dict(type='str'),
            stp=dict(type='bool'),
            ports=dict(type='list', elements='str'),
            exclusive=dict(type='bool', default=False),
            up=dict(type='bool', default=True),
            force=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    run_module(module, single_object(reconcile), describe)


if __name__ == '__main__':
    main()
