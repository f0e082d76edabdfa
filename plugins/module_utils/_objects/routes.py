# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The routes of a namespace's main table, planned like every single object: plan(desired,
observed) -> operations + before/after."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress

from ansible_collections.netplumb.container.plugins.module_utils._kernel.op import Op, where
from ansible_collections.netplumb.container.plugins.module_utils._objects.plan import Plan, strict

RT_PROTO_STATIC = (3, 4)     # boot, static: routes a user or tool added (not kernel/dhcp/ra)
ROUTES_WANT = dict(namespace=None, state='present', exclusive=False)


def _route_view(route):
    view = {'dst': route['dst']}
    for key in ('gateway', 'dev', 'metric'):
        if route.get(key) is not None:
            view[key] = route[key]
    return view


def _route_sort_key(route):
    net = ipaddress.ip_network(route['dst'])
    return (net.version, net.network_address, net.prefixlen, route.get('metric') or 0)


def _route_matches(want, have):
    """``have`` satisfies ``want`` for every field ``want`` sets."""
    return all(want.get(k) is None or want[k] == have.get(k) for k in ('dst', 'gateway', 'dev', 'metric'))


def plan_routes(want, routes, links, missing=strict):
    """``want``: namespace, routes (list of dst/gateway/dev/metric), state, exclusive.
    ``routes``: observed main-table unicast routes (dst, gateway, dev, metric, proto)."""
    want = dict(ROUTES_WANT, **want)
    namespace = want['namespace']
    for route in want['routes']:
        if route.get('dev') is not None and route['dev'] not in links:
            missing('routes: device %s of route %s does not exist in %s'
                    % (route['dev'], route['dst'], where(namespace)))
    ops, before, after = [], [], []

    def same_slot(a, b):
        # The kernel keys a main-table route by destination and metric.
        return a['dst'] == b['dst'] and (a.get('metric') is None or a['metric'] == b.get('metric'))

    if want['state'] == 'absent':
        for have in routes:
            if any(_route_matches(route, have) for route in want['routes']):
                before.append(_route_view(have))
                ops.append(Op('route_del', namespace, have['dst'], 'delete route %s' % _describe(have),
                              route=_route_view(have)))
        return Plan(ops, {'routes': _sorted(before)}, {'routes': []})

    claimed = []
    for route in want['routes']:
        exact = [h for h in routes if _route_matches(route, h)]
        if exact:
            claimed.append(exact[0])
            before.append(_route_view(route_projection(exact[0], route)))
        else:
            slot = [h for h in routes if same_slot(route, h)]
            if slot:
                claimed.append(slot[0])
                before.append(_route_view(route_projection(slot[0], route)))
                # Keep the metric of the route replaced when none is asked for: it is part of the key.
                replacement = dict(_route_view(route), metric=slot[0].get('metric') if route.get('metric') is None
                                   else route['metric'])
                ops.append(Op('route_replace', namespace, route['dst'], 'replace route %s with %s'
                              % (_describe(slot[0]), _describe(route)), route=replacement))
            else:
                ops.append(Op('route_add', namespace, route['dst'], 'add route %s' % _describe(route),
                              route=_route_view(route)))
        after.append(_route_view(route))
    if want['exclusive']:
        for have in routes:
            if have['proto'] in RT_PROTO_STATIC and not any(have is c for c in claimed):
                before.append(_route_view(have))
                ops.append(Op('route_del', namespace, have['dst'], 'delete unlisted route %s' % _describe(have),
                              route=_route_view(have)))
    return Plan(ops, {'routes': _sorted(before)}, {'routes': _sorted(after)})


def route_projection(have, want):
    """The observed route limited to the fields the wanted route sets."""
    return dict((k, have.get(k)) for k in ('dst', 'gateway', 'dev', 'metric') if k == 'dst' or want.get(k) is not None)


def _sorted(routes):
    return sorted(routes, key=_route_sort_key)


def _describe(route):
    text = route['dst']
    if text in ('0.0.0.0/0', '::/0'):
        text = 'default'
    if route.get('gateway'):
        text += ' via %s' % route['gateway']
    if route.get('dev'):
        text += ' dev %s' % route['dev']
    if route.get('metric') is not None:
        text += ' metric %d' % route['metric']
    return text
