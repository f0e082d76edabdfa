# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which hosts a run covers, and what it read of them, for the controller's plan.

A plan is only as good as what it read: a host whose leases it did not see is not a host that
holds nothing. The network role reads every play host once per run (topology_info: the batch's
hosts themselves, the others of a rolling update's first batch by delegation) and keeps what it
read as ``network_gathered`` ({run, info} or {run, down: why}) on each host, so every batch of
the run plans from the same reading and the last batch leaves what a single run would. Here:

- a host of the inventory left out of the run (``--limit``, a job slice) that holds part of a
  static overlay or a LAN refuses the run, naming the network;
- a play host that needed reading and was not read (unreachable, or its reading failed) is down:
  the static overlays and LANs it holds part of are held back on every other host (``hold``), or,
  with ``netplumb_all_or_nothing``, no host changes."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.netplumb.container.plugins.module_utils._errors import InvalidInput
from ansible_collections.netplumb.container.plugins.module_utils._topology.control_plane import SPANNING
from ansible_collections.netplumb.container.plugins.module_utils._topology.model_networks import LAN_DRIVERS

NOT_READ = ('this run has no reading of what it holds: it was unreachable or its reading failed (the play recap '
            'says which); a serial batch is no reason - the network role reads every play host in the first')


def _networks(facts):
    networks = facts.get('netplumb_networks')
    return [n for n in networks if isinstance(n, dict)] if isinstance(networks, list) else []


def _attached(facts):
    endpoints = facts.get('netplumb_endpoints')
    for ep in endpoints if isinstance(endpoints, list) else []:
        for att in (ep.get('networks') or []) if isinstance(ep, dict) else []:
            yield att.get('name') if isinstance(att, dict) else att


def shared_networks(facts):
    """The networks whose addresses and tables are planned from every host's holdings: static
    overlays and LANs (an EVPN overlay's come from each host's own range; FRR spreads the rest)."""
    return set(n.get('name') for n in _networks(facts) if n.get('driver') in SPANNING
               and n.get('control_plane') != 'evpn')


def needs_reading(facts, name, reflectors, all_or_nothing=False):
    """Whether the plan needs what host ``name`` holds: it declares an overlay or a LAN, or it is a
    route reflector (its underlay address); every host, with ``all_or_nothing`` (a host down then
    stops the run, so each must be known to be up)."""
    return all_or_nothing or name in reflectors or any(n.get('driver') in SPANNING for n in _networks(facts))


def refuse_partial_run(hostvars, play_hosts, inventory_hosts):
    """A host of the inventory outside the run that holds part of a network the run plans."""
    shared = set()
    for name in play_hosts:
        shared |= shared_networks(hostvars[name])
    play = set(play_hosts)
    for other in inventory_hosts:
        if other not in play:
            outside = shared & set(_attached(hostvars[other]))
            if outside:
                raise InvalidInput(
                    'network %s also spans host %s, which is not in this run (a --limit, or one slice of a sliced AWX '
                    'job: each slice is a --limit of its own); without it, its endpoints would leave every table (a '
                    'static overlay), or its free addresses could be handed out twice - by two runs at once, too (a '
                    'macvlan or ipvlan LAN). Run every host of the network at once (serial batches do), or make the '
                    'overlay control_plane evpn' % (', '.join(sorted(outside)), other))


def read_in_run(hostvars, play_hosts, run, reflectors, all_or_nothing=False):
    """({host: what topology_info read}, {host: why it is down}) for the play hosts, from each
    one's ``network_gathered`` of run ``run`` (any run when None). A host with no reading of this
    run is down if the plan needs it; else it holds nothing shared and plans from nothing."""
    infos, down = {}, {}
    for name in play_hosts:
        gathered = hostvars[name].get('network_gathered')
        if not isinstance(gathered, dict) or (run is not None and gathered.get('run') != run):
            gathered = {}
        if isinstance(gathered.get('info'), dict):
            infos[name] = gathered['info']
        elif needs_reading(hostvars[name], name, reflectors, all_or_nothing):
            down[name] = gathered.get('down') or NOT_READ
    return infos, down


def held_networks(hostvars, down):
    """{network: [down hosts that hold part of it]}: the static overlays a down host has endpoints
    on, and the LANs it declares (endpoints it no longer declares may still hold addresses on the
    wire). Planned without it, they could hand out its addresses again or drop its endpoints from
    the peers' tables."""
    held = {}
    for name in sorted(down):
        facts = hostvars[name]
        lans = set(n.get('name') for n in _networks(facts) if n.get('driver') in LAN_DRIVERS)
        for network in shared_networks(facts) & (lans | set(_attached(facts))):
            held.setdefault(network, []).append(name)
    return held


def down_message(down):
    return '; '.join('%s could not be read in this run (%s)' % (name, why) for name, why in sorted(down.items()))
