#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: veth
short_description: Manage a veth pair that joins two network namespaces
version_added: 0.1.0
description:
  - Creates a veth pair whose host end O(name) stays in O(namespace) and whose peer is created directly in
    O(peer_namespace) under its final name O(peer) (for example C(eth0) inside a container), in one netlink
    request, so no temporary name is ever visible.
  - An existing pair is found by its host end's exact name. When its peer is still in the host end's namespace
    (made by hand with C(ip link add A type veth peer name B)), the peer is moved and renamed; when the peer is
    in another namespace than O(peer_namespace), the pair is recreated and the diff says so.
  - Sets MTU (both ends), MAC addresses, addresses of either end, the bridge the host end is attached to, and
    brings both ends up or down.
author:
  - netplumb developers (@netplumb)
options:
  name:
    description: Name of the host end (at most 15 bytes).
    type: str
    required: true
  namespace:
    description: Named network namespace of the host end. Omit for the namespace the module runs in.
    type: str
  peer:
    description: Name of the other end in O(peer_namespace), for example V(eth0). Required with O(state=present).
    type: str
  peer_namespace:
    description: Named network namespace of the other end. Omit for the namespace the module runs in.
    type: str
  state:
    description: V(present) creates or updates the pair; V(absent) deletes it (both ends go together).
    type: str
    choices: [present, absent]
    default: present
  mtu:
    description: MTU of both ends, 68..65535. Omit to leave it as it is (1500 on creation).
    type: int
  mac:
    description: Unicast MAC address of the host end. Omit to leave it as it is (random on creation).
    type: str
  peer_mac:
    description: Unicast MAC address of the peer, for example Docker's V(02:42:0a:00:00:02). Omit to leave it as it is.
    type: str
  addresses:
    description:
      - The exact list of addresses with prefix length for the host end. Omit to leave them as they are.
      - IPv6 link-local addresses are left alone.
    type: list
    elements: str
  peer_addresses:
    description:
      - The exact list of addresses with prefix length for the peer, for example V([10.0.0.2/24]).
        Omit to leave them as they are.
      - IPv6 link-local addresses are left alone.
    type: list
    elements: str
  master:
    description: Bridge in O(namespace) to attach the host end to. It must exist. Omit to leave the host end's master as it is.
    type: str
  up:
    description: Bring both ends up (V(true)) or down (V(false)).
    type: bool
    default: true
extends_documentation_fragment:
  - netplumb.container.attributes
seealso:
  - module: netplumb.container.netns
  - module: netplumb.container.bridge
  - module: netplumb.container.route
'''

EXAMPLES = r'''
- name: Seed 001 - veth_d366 on bridge br666, its peer eth0 with 10.0.0.2/24 inside netns666
  netplumb.container.veth:
    name: veth_d366
    peer: eth0
    peer_namespace: netns666
    peer_addresses: [10.0.0.2/24]
    master: br666

- name: A container end with a Docker-style MAC address and overlay MTU
  netplumb.container.veth:
    name: veth1
    namespace: ovl-net1
    peer: eth0
    peer_namespace: web
    peer_mac: 02:42:0a:00:00:05
    peer_addresses: [10.0.0.5/24]
    mtu: 1450
    master: br0

- name: Delete the pair
  netplumb.container.veth:
    name: veth_d366
    state: absent
'''

RETURN = r'''
interface:
  description: The host end after the run (in check mode, as it is now); absent when it does not exist.
  returned: success and state=present
  type: dict
  contains:
    name:
      description: Interface name.
      type: str
      sample: veth_d366
    index:
      description: Interface index.
      type: int
      sample: 12
    mtu:
      description: MTU.
      type: int
      sample: 1500
    mac:
      description: MAC address.
      type: str
      sample: 9e:67:30:e3:65:34
    up:
      description: Whether the interface is administratively up.
      type: bool
      sample: true
    master:
      description: Bridge it is attached to, or null.
      type: str
      sample: br666
    addresses:
      description: Addresses, without IPv6 link-local ones.
      type: list
      elements: str
      sample: []
peer:
  description: The peer after the run (in check mode, as it is now), with the same keys as RV(interface) and C(namespace).
  returned: success and state=present and the peer exists
  type: dict
  sample: {name: eth0, namespace: netns666, index: 2, mtu: 1500, mac: "02:42:0a:00:00:02", up: true,
           master: null, addresses: [10.0.0.2/24]}
actions:
  description: Kernel operations in the order they were (or in check mode would be) applied.
  returned: always
  type: list
  elements: str
  sample: ["veth_d366: create veth pair with peer eth0 (in netns666)", "eth0 (in netns666): add address 10.0.0.2/24"]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netplumb.container.plugins.module_utils import _validate as validate
from ansible_collections.netplumb.container.plugins.module_utils._errors import InvalidInput
from ansible_collections.netplumb.container.plugins.module_utils._objects.plan import plan_veth
from ansible_collections.netplumb.container.plugins.module_utils._runner import object_spec, run_module, single_object

VIEW = ('name', 'index', 'mtu', 'mac', 'up', 'master', 'addresses')


def desired(params):
    want = {
        'name': validate.ifname(params['name'], 'name'),
        'namespace': validate.optional(validate.netns_name, params['namespace'], 'namespace'),
        'peer': validate.optional(validate.ifname, params['peer'], 'peer'),
        'peer_namespace': validate.optional(validate.netns_name, params['peer_namespace'], 'peer_namespace'),
        'state': params['state'],
        'mtu': validate.optional(validate.mtu, params['mtu'], 'mtu'),
        'mac': validate.optional(validate.mac, params['mac'], 'mac'),
        'peer_mac': validate.optional(validate.mac, params['peer_mac'], 'peer_mac'),
        'addresses': validate.interface_addresses(params['addresses'], 'addresses'),
        'peer_addresses': validate.interface_addresses(params['peer_addresses'], 'peer_addresses'),
        'master': validate.optional(validate.ifname, params['master'], 'master'),
        'up': params['up'],
    }
    if want['mac'] is not None and want['mac'] == want['peer_mac']:
        raise InvalidInput('mac and peer_mac are both %s; the two ends need different addresses' % want['mac'])
    return want


def reconcile(kernel, params):
    want = desired(params)
    links = kernel.links(want['namespace'])
    peer_links = kernel.links(want['peer_namespace'], 'peer_namespace') if want['state'] == 'present' else {}
    return plan_veth(want, links, peer_links, kernel.missing)


def describe(kernel, params):
    if params['state'] == 'absent':
        return {}
    host = kernel.links(params['namespace']).get(params['name'])
    if host is None or host['kind'] != 'veth':
        return {}
    result = {'interface': dict((k, host[k]) for k in VIEW)}
    peer = kernel.links(params['peer_namespace']).get(params['peer'])
    if peer is not None and peer['kind'] == 'veth' and peer['index'] == host['peer_index']:
        result['peer'] = dict(((k, peer[k]) for k in VIEW), namespace=params['peer_namespace'])
    return result


def main():
    module = AnsibleModule(
        argument_spec=object_spec(
            peer=dict(type='str'),
            peer_namespace=dict(type='str'),
            mtu=dict(type='int'),
            mac=dict(type='str'),
            peer_mac=dict(type='str'),
            addresses=dict(type='list', elements='str'),
            peer_addresses=dict(type='list', elements='str'),
            master=dict(type='str'),
            up=dict(type='bool', default=True),
        ),
        required_if=[('state', 'present', ['peer'])],
        supports_check_mode=True,
    )
    run_module(module, single_object(reconcile), describe)


if __name__ == '__main__':
    main()
