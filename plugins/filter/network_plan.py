# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: network_plan
short_description: Every play host's arguments for the topology module, checked, from the whole inventory
version_added: 0.2.0
description:
  - The controller side of the C(netplumb.container.network) role, computed once for the play.
  - For each play host, validates every variable of the C(netplumb.container.network) role (the table in
    C(module_utils/_topology/role_interface.py)) with the argument spec of M(netplumb.container.topology)
    itself, then works out the overlays in place of Docker's key-value store and gossip (VNIs, MTU, VTEP addresses,
    peers with their endpoints' addresses and MACs, addresses unique across the inventory and kept from the
    hosts' own leases, read from what M(netplumb.container.topology_info) reported as C(network_info)), and runs
    the module's semantic checks on the result. A bad value yields the very message the module would fail with.
  - Where a host's C(netplumb_default_pools) has no IPv6 base, adds one - a unique local /48 (RFC 4193) derived from
    the host's inventory name, carved into /64 subnets for networks with C(enable_ipv6) and no C(ipv6_subnet).
  - What each host holds is read from its C(network_gathered) of this run (the role keeps there what
    M(netplumb.container.topology_info) read, once per run, for every batch of a rolling update). A host it has no
    reading of is never taken for one that holds nothing.
  - Fails when a static overlay or a LAN spans a host that is not in the play (C(--limit), a job slice), since its
    endpoints would be dropped from every peer's tables or its addresses handed out twice, and when hosts declare one
    overlay differently. An overlay with C(control_plane=evpn) may be run one host at a time (FRR spreads what each
    host holds; each host hands out its own C(ip_range)).
  - A play host that needed reading and could not be read (down, unreachable, its reading failed) holds back, on
    every other host, each static overlay it has endpoints on and each LAN it declares (C(hold)); the rest applies.
    With O(all_or_nothing), such a host fails the plan instead, and no host changes.
  - For overlays with C(control_plane=evpn) and their route reflectors, works out each host's
    M(netplumb.container.bgp_evpn) arguments (C(bgp)), and fails - before any host changes - for a host whose FRR
    configuration netplumb did not write, or that has no FRR, as M(netplumb.container.topology_info) read it.
author:
  - netplumb developers (@netplumb)
options:
  _input:
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
  vni_base:
    description: The first VNI handed out to overlays that declare none.
    type: int
    default: 4096
  reflectors:
    description: The BGP route reflectors of overlays with C(control_plane=evpn) (the hosts of the group
      C(netplumb_evpn_reflector_group) names).
    type: list
    elements: str
    default: []
  run:
    description: The run the readings must come from (C(netplumb.container.play_info)'s C(run)); any, when omitted.
    type: str
  all_or_nothing:
    description: A play host that could not be read stops every host (C(netplumb_all_or_nothing)).
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Plan the whole inventory once
  ansible.builtin.set_fact:
    network_plan: "{{ hostvars | netplumb.container.network_plan(ansible_play_hosts_all, groups['all']) }}"
  run_once: true
'''

RETURN = r'''
_value:
  description:
    - Per play host, C(problem) (the message naming the first bad value, or null), C(arguments) (every option
      the role hands M(netplumb.container.topology), checked; null with a problem) and C(bgp) (the arguments of
      M(netplumb.container.bgp_evpn), or null where the host needs no FRR), C(held) (a sentence per network
      held back on the host, naming the hosts that could not be read and why) and C(down) (for a host that could not
      be read in this run, why; its declarations are checked all the same).
    - A network's or an endpoint's fields that hold the module's default are left out of C(arguments), since the
      module fills them in again, and Ansible copies and tags every value of the plan, and each host's again for its
      module call.
  type: dict
  sample: {host1: {problem: "endpoints[2] (nginx03).networks: network nowhere is not declared (declared: bridge)",
                   arguments: null}}
'''

import ipaddress
import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.netplumb.container.plugins.module_utils._errors import NetplumbError
from ansible_collections.netplumb.container.plugins.module_utils._evpn import frr
from ansible_collections.netplumb.container.plugins.module_utils._topology import run_scope
from ansible_collections.netplumb.container.plugins.module_utils._topology.control_plane import plan_overlays, underlay_of
from ansible_collections.netplumb.container.plugins.module_utils._topology.model import model
from ansible_collections.netplumb.container.plugins.module_utils._topology.names import ula_prefix
from ansible_collections.netplumb.container.plugins.module_utils._topology.overlay import VNI_BASE
from ansible_collections.netplumb.container.plugins.module_utils._topology.role_interface import (
    DEFAULT_ASN, OPTION_VARIABLES, ROLE_DEFAULTS, ROLE_ONLY)
from ansible_collections.netplumb.container.plugins.module_utils._topology.spec import ARGUMENT_SPEC, check_arguments, invalid
from ansible_collections.netplumb.container.plugins.module_utils._validate import plain


def declared_arguments(facts):
    """The module arguments a host's variables declare (an undefined variable takes the role's default, else
    the spec's)."""
    declared = dict(ROLE_DEFAULTS)
    declared.update((option, plain(facts[variable])) for option, variable in OPTION_VARIABLES.items()
                    if facts.get(variable) is not None)
    return declared


def _role_only_problem(facts):
    """The message for a bad value of a variable the role keeps for itself, or None."""
    for name, doc in sorted(ROLE_ONLY.items()):
        problem = facts.get(name) is not None and invalid({'type': doc['type']}, name, facts[name])
        if problem:
            return problem
    return None


def as_variables(message):
    """A message of the module's checks, which name its options (``endpoints[2] (web).networks``),
    with the role's variables in their place (``netplumb_endpoints[2] (web).networks``)."""
    return re.sub(r'^(%s)(?=[\[ .:])' % '|'.join(OPTION_VARIABLES),
                  lambda found: OPTION_VARIABLES[found.group(1)], message)


def _semantic_problem(arguments, planned=True):
    """What the module's own checks say of spec-validated arguments, or None. ``planned=False``:
    the declarations before the control plane filled in the overlays (VNI, local address)."""
    try:
        model(arguments, planned)
    except NetplumbError as error:
        return as_variables(str(error))
    return None


def with_ipv6_pool(pools, host):
    """The host's default pools with, where none is IPv6, a ULA /48 derived from its inventory
    name: its networks' IPv6 subnets stay the same run after run, and differ between hosts."""
    if any(':' in pool['base'] for pool in pools):
        return pools
    return list(pools) + [{'base': ula_prefix(host), 'size': 64}]


def declared_only(arguments):
    """``arguments`` without the values the module's spec gives by default: the module fills them in
    again, and Ansible copies and tags every value of the plan, and each host's again for its module call
    (at a thousand endpoints, a tenth of a second per copy)."""
    compact = {}
    for option, value in arguments.items():
        spec = ARGUMENT_SPEC[option]
        if spec.get('options') and spec['type'] == 'list' and isinstance(value, list):
            value = [dict((k, v) for k, v in item.items() if v != spec['options'][k].get('default')) for item in value]
        elif not spec.get('options') and value == spec.get('default'):
            continue
        compact[option] = value
    return compact


def _as_written(arguments, facts):
    """``arguments`` with paths as the host's variables wrote them: a path is expanded (``~``, ``$HOME``)
    on the host that uses it, not on the controller."""
    paths = dict((option, facts[variable]) for option, variable in OPTION_VARIABLES.items()
                 if ARGUMENT_SPEC[option]['type'] == 'path' and facts.get(variable) is not None)
    return dict(arguments, **paths)


def _reflector_address(hostvars, name, hosts, down):
    """A route reflector's peering address: declared (netplumb_underlay_address), else its
    underlay as topology_info reported it in this run."""
    if hostvars[name].get('netplumb_underlay_address'):
        return hostvars[name]['netplumb_underlay_address']
    if name in hosts:
        return underlay_of(hosts[name])['address']
    raise AnsibleFilterError('network_plan: route reflector %s %s, so its address is not known: set '
                             'netplumb_underlay_address for it in the inventory' % (name, (
                                 'could not be read in this run (%s)' % down[name]) if name in down
                                 else 'is not in this run'))


def bgp_arguments(hostvars, name, networks, hosts, reflectors, down=None):
    """The bgp_evpn module's arguments for host ``name``: a VTEP where it has an overlay with
    control_plane evpn, a reflector where it is in the reflectors' group; None where it is
    neither (absent, where FRR holds netplumb's configuration from an earlier run)."""
    facts = hostvars[name]
    vtep = any(n['driver'] == 'overlay' and n['state'] == 'present' and n['control_plane'] == 'evpn' for n in networks)
    reflector = name in reflectors
    if not vtep and not reflector:
        return {'state': 'absent'} if (hosts.get(name) or {}).get('info', {}).get('frr') == 'netplumb' else None
    if not reflectors:
        raise AnsibleFilterError('network_plan: host %s has an overlay with control_plane evpn and the inventory has no '
                                 'route reflector: add hosts to the group netplumb_evpn_reflector_group names' % name)
    if name not in hosts:
        raise AnsibleFilterError('network_plan: host %s: its underlay address is not known' % name)
    # what topology_info read of the host's FRR: refused here, for every host, before any host changes
    found = hosts[name]['info'].get('frr')
    if found is None:
        raise AnsibleFilterError('network_plan: host %s: %s is missing - FRR is not installed (packages frr and '
                                 'frr-pythontools: the netplumb.container.prereqs role with prereqs_frr: true)'
                                 % (name, frr.CONFIG))
    try:
        frr.refuse_foreign(None if found in ('netplumb', 'package') else found, frr.CONFIG)
    except NetplumbError as error:
        raise AnsibleFilterError('network_plan: host %s: %s' % (name, error))
    addresses = sorted(_reflector_address(hostvars, r, hosts, down or {}) for r in reflectors)
    own = underlay_of(hosts[name])
    # (its type is checked with the role's other variables: a host with a bad one is not planned)
    asn = DEFAULT_ASN if facts.get('netplumb_evpn_asn') is None else int(facts['netplumb_evpn_asn'])
    arguments = {'state': 'present', 'asn': asn, 'router_id': own['address'],
                 'vtep': vtep, 'reflectors': addresses, 'reflector': reflector,
                 'static_vnis': sorted(n['vni'] for n in networks if n['driver'] == 'overlay' and n['state'] == 'present'
                                       and n['control_plane'] == 'static' and n.get('vni'))}
    if reflector:
        arguments['cluster_id'] = facts.get('netplumb_evpn_cluster_id') or addresses[0]
        arguments['listen_range'] = facts.get('netplumb_evpn_listen_range') or str(
            ipaddress.ip_interface('%s/%d' % (own['address'], own.get('prefix') or 32)).network)
    try:            # bgp_evpn's own checks, here: a bad value stops every host before any changes
        frr.check(arguments)
    except NetplumbError as error:
        raise AnsibleFilterError('network_plan: host %s: %s (from %s)' % (name, error, ', '.join(
            VARIABLE_OF.get(str(error).split(':', maxsplit=1)[0].split('[', maxsplit=1)[0], ['netplumb_underlay_address']))))
    return arguments


# bgp_evpn's options -> the role variables they come from, for messages
VARIABLE_OF = {'asn': ['netplumb_evpn_asn'], 'cluster_id': ['netplumb_evpn_cluster_id'],
               'listen_range': ['netplumb_evpn_listen_range'], 'reflectors': ['netplumb_underlay_address of a reflector'],
               'router_id': ['netplumb_underlay_address']}


def network_plan(hostvars, play_hosts, inventory_hosts, vni_base=VNI_BASE, reflectors=None, run=None,
                 all_or_nothing=False):
    reflectors = sorted(reflectors or [])
    try:
        all_or_nothing = boolean(all_or_nothing, strict=True)
    except TypeError:
        raise AnsibleFilterError('network_plan: netplumb_all_or_nothing: %r is not a boolean' % (all_or_nothing,))
    try:
        run_scope.refuse_partial_run(hostvars, play_hosts, inventory_hosts)
    except NetplumbError as error:
        raise AnsibleFilterError('network_plan: %s' % error)
    infos, down = run_scope.read_in_run(hostvars, play_hosts, run, reflectors, all_or_nothing)
    if down and all_or_nothing:
        raise AnsibleFilterError('network_plan: %s; netplumb_all_or_nothing is true, so no host changes - run again '
                                 'when every host is up' % run_scope.down_message(down))
    held = run_scope.held_networks(hostvars, down)
    declared, result = {}, {}
    for name in play_hosts:
        validated, problem = check_arguments(declared_arguments(hostvars[name]), OPTION_VARIABLES)
        problem = problem or _role_only_problem(hostvars[name])
        # every declared network is checked, also an overlay with no endpoint on this host, which
        # the control plane leaves out of its arguments
        problem = problem or _semantic_problem(dict(validated, endpoints=[]), planned=False)
        if problem is None and name in down:
            # not a fault of its declarations: it cannot be planned, and holds back what it spans
            result[name] = {'problem': None, 'arguments': None, 'down': '%s - run again when it is back'
                            % run_scope.down_message({name: down[name]})}
        elif problem is None:
            declared[name] = validated
        else:
            result[name] = {'problem': problem, 'arguments': None}
    # the hosts the plan covers: every play host read in this run (a later batch's too), none that is down
    hosts = [{'name': name, 'networks': arguments['networks'], 'endpoints': arguments['endpoints'],
              'info': plain(infos.get(name) or {}), 'underlay': hostvars[name].get('netplumb_underlay_address') or None}
             for name, arguments in sorted(declared.items())]
    try:
        planned = plan_overlays(hosts, int(vni_base))
        by_name = dict((h['name'], h) for h in hosts)
        bgp = dict((name, bgp_arguments(hostvars, name, networks, by_name, reflectors, down))
                   for name, (networks, _endpoints) in planned.items())
    except NetplumbError as error:
        raise AnsibleFilterError('network_plan: %s' % error)
    for name, (networks, endpoints) in planned.items():
        mine = set(n['name'] for n in declared[name]['networks'])
        hold = sorted(n for n in held if n in mine)
        arguments = dict(declared[name], networks=networks, endpoints=endpoints, hold=hold,
                         default_pools=with_ipv6_pool(declared[name]['default_pools'], name))
        # built from spec-validated declarations: only the semantic checks are left to run
        result[name] = {'problem': _semantic_problem(arguments), 'down': None,
                        'arguments': _as_written(declared_only(arguments), hostvars[name]), 'bgp': bgp[name],
                        'held': ['network %s is held back as the last change left it: %s' % (
                            n, run_scope.down_message(dict((h, down[h]) for h in held[n]))) for n in hold]}
    return result


class FilterModule(object):
    def filters(self):
        return {'network_plan': network_plan}
