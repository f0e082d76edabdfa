# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: overlay_plan
short_description: Work out every host's part of the overlay networks from the inventory
version_added: 0.1.0
description:
  - The overlay control plane of the C(overlay_network) role, in place of Docker's key-value store and gossip.
  - From the declared overlays, every play host's C(bridge_network_networks), C(bridge_network_endpoints),
    C(overlay_network_underlay_address) and what M(netplumb.container.topology_info) reported (registered as
    C(overlay_network_info)), returns for one host the complete networks and endpoints for
    M(netplumb.container.topology) - VNIs, MTU, VTEP addresses, peers with their endpoints' addresses and MACs,
    addresses unique across the inventory and kept from the hosts' own leases, and the gateway bridge for egress.
  - Fails when an overlay spans a host that is not in the play (C(--limit)), since its endpoints would be dropped
    from every peer's tables.
author:
  - netplumb developers (@netplumb)
options:
  _input:
    description: The overlays (C(overlay_network_networks)).
    type: list
    elements: dict
    required: true
  hostvars:
    description: C(hostvars).
    type: dict
    required: true
  play_hosts:
    description: C(ansible_play_hosts_all).
    type: list
    elements: str
    required: true
  inventory_hosts:
    description: C(groups.all), to refuse a run that leaves out a host of an overlay.
    type: list
    elements: str
    required: true
  host:
    description: The host whose part is returned (C(inventory_hostname)); omit for a mapping of every play host to
      its part, computed once (the role does this in a C(run_once) task).
    type: str
  gwbridge:
    description: C(name), C(bridge) and C(subnet) of the gateway bridge network.
    type: dict
  vni_base:
    description: The first VNI handed out to overlays that declare none.
    type: int
    default: 4096
'''

EXAMPLES = r'''
- name: This host's networks and endpoints, overlays included
  ansible.builtin.set_fact:
    overlay_network_plan: >-
      {{ overlay_network_networks | netplumb.container.overlay_plan(hostvars, ansible_play_hosts_all,
         groups['all'], inventory_hostname) }}
'''

RETURN = r'''
_value:
  description: C(networks) and C(endpoints) for the host's topology call (per host when O(host) is omitted).
  type: dict
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.netplumb.container.plugins.module_utils._errors import NetplumbError
from ansible_collections.netplumb.container.plugins.module_utils._overlay import VNI_BASE, plan_overlays
from ansible_collections.netplumb.container.plugins.module_utils._validate import plain


def _attached(endpoints):
    for ep in endpoints or []:
        for att in ep.get('networks') or []:
            yield att['name'] if isinstance(att, dict) else att


def overlay_plan(networks, hostvars, play_hosts, inventory_hosts, host=None, gwbridge=None, vni_base=VNI_BASE):
    networks = plain(networks)
    overlays = set(n.get('name') for n in networks if isinstance(n, dict))
    for other in inventory_hosts:
        if other not in play_hosts:
            outside = overlays & set(_attached(plain(hostvars[other].get('bridge_network_endpoints', []))))
            if outside:
                raise AnsibleFilterError('overlay_plan: overlay %s also spans host %s, which is not in this run; its '
                                         'endpoints would leave every table - run without --limit'
                                         % (', '.join(sorted(outside)), other))
    hosts = []
    for name in play_hosts:
        facts = hostvars[name]
        if 'overlay_network_info' not in facts:
            raise AnsibleFilterError('overlay_plan: host %s did not report what it holds (topology_info); no overlay '
                                     'is changed without every host' % name)
        hosts.append({'name': name, 'info': plain(facts['overlay_network_info']),
                      'networks': plain(facts.get('bridge_network_networks', [])),
                      'endpoints': plain(facts.get('bridge_network_endpoints', [])),
                      'underlay': facts.get('overlay_network_underlay_address') or None})
    try:
        plans = plan_overlays(networks, hosts, plain(gwbridge), int(vni_base))
        return plans if host is None else plans[host]
    except NetplumbError as error:
        raise AnsibleFilterError('overlay_plan: %s' % error)


class FilterModule(object):
    def filters(self):
        return {'overlay_plan': overlay_plan}
