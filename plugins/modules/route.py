#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: route
short_description: Manage the routes of a network namespace
version_added: 0.1.0
description:
  - Adds, replaces and deletes IPv4 and IPv6 routes of the main routing table of the host or of a named network
    namespace, for example a container's default route via its bridge's gateway address.
  - All routes of one namespace are reconciled in one call; a route is identified, as the kernel does it, by
    its destination and metric, so a changed gateway replaces the route in place.
  - Connected routes that the kernel adds for an interface's addresses are never touched.
author:
  - netplumb developers (@netplumb)
options:
  namespace:
    description: Named network namespace whose routes to manage. Omit for the namespace the module runs in.
    type: str
  routes:
    description: The routes.
    type: list
    elements: dict
    required: true
    suboptions:
      dst:
        description: Destination network in CIDR form, or V(default).
        type: str
        required: true
      gateway:
        description: Next hop address. O(routes[].gateway) or O(routes[].dev) (or both) is required.
        type: str
      dev:
        description: Outgoing interface. It must exist in the namespace.
        type: str
      metric:
        description: Route metric (priority). Omit to match any metric and to let the kernel choose one on creation.
        type: int
  state:
    description: V(present) adds or replaces the routes; V(absent) deletes those that match.
    type: str
    choices: [present, absent]
    default: present
  exclusive:
    description:
      - With O(state=present), also delete static routes of the main table that are not listed
        (routes of protocol C(boot) or C(static); connected, DHCP and router-advertised routes stay).
    type: bool
    default: false
extends_documentation_fragment:
  - netplumb.container.attributes
seealso:
  - module: netplumb.container.veth
'''

EXAMPLES = r'''
- name: Default route of the container via the bridge address (seed 001)
  netplumb.container.route:
    namespace: netns666
    routes:
      - dst: default
        gateway: 10.0.0.1

- name: Keep exactly these static routes in a namespace
  netplumb.container.route:
    namespace: web
    exclusive: true
    routes:
      - dst: default
        gateway: 172.18.0.1
      - dst: 203.0.113.0/24
        dev: eth1

- name: Delete the default route
  netplumb.container.route:
    namespace: netns666
    state: absent
    routes:
      - dst: default
'''

RETURN = r'''
routes:
  description: Unicast routes of the main table after the run (in check mode, as they are now).
  returned: success
  type: list
  elements: dict
  sample: [{dst: 0.0.0.0/0, gateway: 10.0.0.1, dev: eth0, metric: 0}, {dst: 10.0.0.0/24, dev: eth0, metric: 0}]
actions:
  description: Kernel operations in the order they were (or in check mode would be) applied.
  returned: always
  type: list
  elements: str
  sample: ["0.0.0.0/0 (in netns666): add route default via 10.0.0.1"]
'''

import ipaddress

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netplumb.container.plugins.module_utils import _validate as validate
from ansible_collections.netplumb.container.plugins.module_utils._errors import InvalidInput
from ansible_collections.netplumb.container.plugins.module_utils._objects.routes import plan_routes
from ansible_collections.netplumb.container.plugins.module_utils._runner import run_module, single_object


def desired_route(index, route):
    option = 'routes[%d]' % index
    gateway = (validate.ip_address(route['gateway'], option + '.gateway')
               if route.get('gateway') is not None else None)
    family = ipaddress.ip_address(gateway).version if gateway else None
    dst = validate.route_destination(route['dst'], option + '.dst', family)
    if gateway and ipaddress.ip_network(dst).version != family:
        raise InvalidInput('%s: gateway %s and destination %s are of different IP versions' % (option, gateway, dst))
    dev = validate.ifname(route['dev'], option + '.dev') if route.get('dev') is not None else None
    metric = route.get('metric')
    if metric is not None and not 0 <= metric <= 4294967295:
        raise InvalidInput('%s.metric: %d is out of range (0..4294967295)' % (option, metric))
    return {'dst': dst, 'gateway': gateway, 'dev': dev, 'metric': metric}


def desired(params):
    routes = [desired_route(i, r) for i, r in enumerate(params['routes'])]
    if params['state'] == 'present':
        for index, route in enumerate(routes):
            if route['gateway'] is None and route['dev'] is None:
                raise InvalidInput('routes[%d]: route %s needs a gateway or a dev' % (index, route['dst']))
    return {
        'namespace': validate.optional(validate.netns_name, params['namespace'], 'namespace'),
        'routes': routes,
        'state': params['state'],
        'exclusive': params['exclusive'],
    }


def reconcile(kernel, params):
    want = desired(params)
    return plan_routes(want, kernel.routes(want['namespace']), kernel.links(want['namespace']), kernel.missing)


def describe(kernel, params):
    return {'routes': [dict((k, v) for k, v in r.items() if k != 'proto' and v is not None)
                       for r in kernel.routes(params['namespace'])]}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            namespace=dict(type='str'),
            routes=dict(type='list', elements='dict', required=True, options=dict(
                dst=dict(type='str', required=True),
                gateway=dict(type='str'),
                dev=dict(type='str'),
                metric=dict(type='int'),
            )),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            exclusive=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    run_module(module, single_object(reconcile), describe)


if __name__ == '__main__':
    main()
