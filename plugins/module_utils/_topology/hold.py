# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Networks held back: kept exactly as the last change on this host left them.

The network role holds back a network that spans a host it could not read in this run (down,
unreachable): a static overlay's peers and a LAN's free addresses depend on what that host
holds, so planning them without it could hand out its addresses again or drop its endpoints
from every table. What the last change applied is the desired state it kept (``desired.json``),
so holding needs nothing from the controller but the networks' names: the held networks, and
every endpoint on one of them, are taken from it as they were; an endpoint that is new on a held
network waits for the run that can plan it; the rest of the host's declarations apply."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


def _on(endpoint, names):
    return any((att.get('name') if isinstance(att, dict) else att) in names for att in endpoint.get('networks') or [])


def hold_back(params, applied):
    """``params`` (the topology module's validated arguments, with ``hold``: network names) with the
    held networks and their endpoints as ``applied`` (the arguments the last change kept, {} when
    there was none) has them; ``hold`` emptied. Returns (params, endpoints that wait)."""
    names = set(params.get('hold') or [])
    if not names:
        return params, []
    then_networks = dict((n['name'], n) for n in applied.get('networks') or [])
    then_endpoints = dict((e['name'], e) for e in applied.get('endpoints') or [])
    endpoints, waiting, declared = [], [], set()
    for ep in params['endpoints']:
        declared.add(ep['name'])
        then = then_endpoints.get(ep['name'])
        if then is not None and (_on(then, names) or _on(ep, names)):
            endpoints.append(then)                 # on a held network now or before: as it was
        elif _on(ep, names):
            waiting.append(ep['name'])             # new on a held network: waits
        else:
            endpoints.append(ep)
    # no longer declared, but on a held network: it stays until the network can be planned
    endpoints += [ep for name, ep in sorted(then_endpoints.items()) if name not in declared and _on(ep, names)]
    # the held networks as they were, and any network a kept endpoint is still on
    needed = set(names) | set((att.get('name') if isinstance(att, dict) else att)
                              for ep in endpoints for att in ep.get('networks') or [])
    networks = [then_networks.get(n['name'], n) if n['name'] in names else n for n in params['networks']
                if n['name'] not in names or n['name'] in then_networks]
    listed = set(n['name'] for n in networks)
    networks += [net for name, net in sorted(then_networks.items()) if name in needed and name not in listed]
    return dict(params, networks=networks, endpoints=endpoints, hold=[]), waiting
