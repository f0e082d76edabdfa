# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: topology_problems
short_description: What is wrong with declared networks and endpoints, checked on the controller
version_added: 0.1.0
description:
  - Runs the same validation as M(netplumb.container.topology) without touching any host, and returns the
    problems found (an empty list when the declarations are valid). The bridge_network role checks every host
    with it before any host is changed.
author:
  - netplumb developers (@netplumb)
options:
  _input:
    description: The networks (see M(netplumb.container.topology)).
    type: list
    elements: dict
    required: true
  endpoints:
    description: The endpoints.
    type: list
    elements: dict
    required: true
  default_pools:
    description: Pools that subnets are carved from.
    type: list
    elements: dict
'''

EXAMPLES = r'''
- name: Stop every host when one host's declarations are wrong
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('; ') }}"
  vars:
    problems: "{{ my_networks | netplumb.container.topology_problems(my_endpoints) }}"
  any_errors_fatal: true
'''

RETURN = r'''
_value:
  description: Messages naming each bad value (validation stops at the first, so at most one).
  type: list
  elements: str
  sample: ["endpoints[2] (nginx03).networks: network nowhere is not declared (declared: bridge, new_network)"]
'''

from ansible_collections.netplumb.container.plugins.module_utils._errors import NetplumbError
from ansible_collections.netplumb.container.plugins.module_utils._validate import plain
from ansible_collections.netplumb.container.plugins.module_utils._topology import model


def topology_problems(networks, endpoints, default_pools=None):
    try:
        model(plain(networks), plain(endpoints), plain(default_pools))
    except NetplumbError as error:
        return [str(error)]
    return []


class FilterModule(object):
    def filters(self):
        return {'topology_problems': topology_problems}
