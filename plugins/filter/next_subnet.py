# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: next_subnet
short_description: Carve the next free subnet out of address pools, as Docker does for new networks
version_added: 0.1.0
description:
  - Returns the first subnet of prefix length O(prefixlen) inside the pools (in order) that overlaps none of O(used).
  - Docker's defaults are the model - bridge networks from C(172.17.0.0/16) onwards (pools C(172.17.0.0/16) ...
    C(172.31.0.0/16), then C(192.168.0.0/16) in /20s), overlay networks from C(10.0.0.0/8) in /24s.
  - Fails with a clear message when the pools are full.
author:
  - netplumb developers (@netplumb)
options:
  _input:
    description: Pools to carve from, a CIDR string or a list of them.
    type: raw
    required: true
  prefixlen:
    description: Prefix length of the subnet to carve.
    type: int
    required: true
  used:
    description: Subnets already in use (by other networks, on the hosts, in the inventory).
    type: list
    elements: str
    default: []
'''

EXAMPLES = r'''
- name: A /16 for a new bridge network, after the ones already in use
  ansible.builtin.set_fact:
    net_subnet: "{{ ['172.16.0.0/12'] | netplumb.container.next_subnet(16, used=['172.16.0.0/16', '172.17.0.0/16']) }}"
    # -> 172.18.0.0/16

- name: An overlay /24 out of 10.0.0.0/8
  ansible.builtin.debug:
    msg: "{{ '10.0.0.0/8' | netplumb.container.next_subnet(24, used=overlay_subnets) }}"
'''

RETURN = r'''
_value:
  description: The subnet, in CIDR form.
  type: str
  sample: 172.18.0.0/16
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.netplumb.container.plugins.module_utils._errors import NetplumbError
from ansible_collections.netplumb.container.plugins.module_utils._objects.ipam import next_subnet


def next_subnet_filter(pools, prefixlen, used=None):
    if isinstance(pools, str):
        pools = [pools]
    try:
        return next_subnet(list(pools), int(prefixlen), used or [])
    except (NetplumbError, ValueError) as error:
        raise AnsibleFilterError('next_subnet: %s' % error)


class FilterModule(object):
    def filters(self):
        return {'next_subnet': next_subnet_filter}
