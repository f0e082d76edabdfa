#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: netns
short_description: Create, adopt and remove named network namespaces
version_added: 0.1.0
description:
  - Manages a named network namespace under C(/run/netns), as C(ip netns add) and C(ip netns delete) do.
  - Adopts the network namespace of a running process by O(pid), as C(mount --bind /proc/PID/ns/net /run/netns/NAME)
    does, so a container started without networking (C(docker run --net=none)) can be wired up by name.
  - Names are matched exactly; a missing namespace is never created by a lookup, also not in check mode.
author:
  - netplumb developers (@netplumb)
options:
  name:
    description: Name of the namespace, a file name under C(/run/netns).
    type: str
    required: true
  state:
    description:
      - V(present) creates the namespace (or names the one of O(pid)); V(absent) removes the name.
      - Removing the name frees the namespace only when no process still uses it; RV(pids) lists those that do.
    type: str
    choices: [present, absent]
    default: present
  pid:
    description:
      - Adopt the network namespace of this running process instead of creating a new one.
    type: int
  force:
    description:
      - With O(pid), point an existing name at the process's namespace when it names another one
        (for example after the container was restarted). Without it, that is an error.
    type: bool
    default: false
  loopback:
    description:
      - Bring the namespace's C(lo) interface up, as container engines do.
      - V(false) leaves C(lo) as it is.
    type: bool
    default: true
extends_documentation_fragment:
  - netplumb.container.attributes
seealso:
  - module: netplumb.container.veth
  - module: netplumb.container.bridge
'''

EXAMPLES = r'''
- name: Create a namespace for a container
  netplumb.container.netns:
    name: web

- name: Adopt the namespace of a running process (seed 001, docker run --net=none)
  netplumb.container.netns:
    name: netns666
    pid: "{{ container_pid }}"

- name: Remove the name; report processes that keep the namespace alive
  netplumb.container.netns:
    name: web
    state: absent
  register: gone

- name: Warn about processes still inside
  ansible.builtin.debug:
    msg: "namespace still used by {{ gone.pids }}"
  when: gone.pids | length > 0
'''

RETURN = r'''
netns:
  description: The namespace after the run (in check mode, as it is now); absent when it does not exist.
  returned: success and state=present
  type: dict
  contains:
    name:
      description: Name of the namespace.
      type: str
      sample: netns666
    path:
      description: The bind mount that names it.
      type: str
      sample: /run/netns/netns666
    id:
      description: Namespace id (inode), as C(readlink /proc/PID/ns/net) shows it in C(net:[ID]).
      type: int
      sample: 4026532320
    pids:
      description: Processes whose network namespace this is.
      type: list
      elements: int
      sample: [11776]
    interfaces:
      description: Names of the interfaces inside.
      type: list
      elements: str
      sample: [eth0, lo]
pids:
  description: With O(state=absent), the processes that still use the namespace, so it lives on without its name.
  returned: success and state=absent
  type: list
  elements: int
  sample: [11776]
actions:
  description: Kernel operations in the order they were (or in check mode would be) applied.
  returned: always
  type: list
  elements: str
  sample: ["netns netns666: name the namespace of process 11776", "lo (in netns666): bring up"]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netplumb.container.plugins.module_utils import _validate as validate
from ansible_collections.netplumb.container.plugins.module_utils._kernel.netns import namespace_pids
from ansible_collections.netplumb.container.plugins.module_utils._objects.plan import plan_netns
from ansible_collections.netplumb.container.plugins.module_utils._runner import run_module, single_object


def desired(params):
    return {
        'name': validate.netns_name(params['name'], 'name'),
        'state': params['state'],
        'pid': validate.optional(validate.pid, params['pid'], 'pid'),
        'force': params['force'],
        'loopback': params['loopback'],
    }


def reconcile(kernel, params):
    want = desired(params)
    observed = kernel.observe_netns(want['name'], want['pid'] if want['state'] == 'present' else None)
    plan = plan_netns(want, observed)
    if want['state'] == 'absent':
        held_by = namespace_pids(observed['id']) if observed['id'] else []
        plan.returns['pids'] = held_by
        if held_by:
            plan.warnings.append('netns %s: processes %s still use the namespace; it lives on without its name'
                                 % (want['name'], ', '.join(str(p) for p in held_by)))
    return plan


def describe(kernel, params):
    if params['state'] == 'absent':
        return {}
    return {'netns': kernel.describe_netns(params['name'])}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            pid=dict(type='int'),
            force=dict(type='bool', default=False),
            loopback=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    run_module(module, single_object(reconcile), describe)


if __name__ == '__main__':
    main()
