# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: network_unread
short_description: The hosts whose holdings the network role's plan needs and this run has not read yet
version_added: 0.3.0
description:
  - Of the hosts given (a rolling update's first batch gives the play hosts outside it), those that declare an overlay
    or a LAN (macvlan, ipvlan) or are route reflectors - every one with O(all_or_nothing) - and have no
    C(network_gathered) of run O(run). The C(netplumb.container.network) role reads them by delegation, once, so every
    batch of the run plans from every play host's holdings.
author:
  - netplumb developers (@netplumb)
options:
  _input:
    description: C(hostvars).
    type: dict
    required: true
  hosts:
    description: The hosts to consider.
    type: list
    elements: str
    required: true
  run:
    description: The run (C(netplumb.container.play_info)'s C(run)).
    type: str
    required: true
  reflectors:
    description: The BGP route reflectors of EVPN overlays.
    type: list
    elements: str
    default: []
  all_or_nothing:
    description: Every host is needed (C(netplumb_all_or_nothing)).
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Read what the play's other hosts hold, by the batch's first host
  netplumb.container.topology_info:
  delegate_to: "{{ item }}"
  loop: "{{ hostvars | netplumb.container.network_unread(ansible_play_hosts | difference(ansible_play_batch),
            play.run) }}"
  when: inventory_hostname == ansible_play_batch[0]
  ignore_unreachable: true
  failed_when: false
  register: others
'''

RETURN = r'''
_value:
  description: The host names, in the order given.
  type: list
  elements: str
  sample: [host2, host3]
'''

from ansible_collections.netplumb.container.plugins.module_utils._topology.run_scope import needs_reading


def network_unread(hostvars, hosts, run, reflectors=None, all_or_nothing=False):
    return [name for name in hosts if needs_reading(hostvars[name], name, reflectors or [], all_or_nothing)
            and (hostvars[name].get('network_gathered') or {}).get('run') != run]


class FilterModule(object):
    def filters(self):
        return {'network_unread': network_unread}
