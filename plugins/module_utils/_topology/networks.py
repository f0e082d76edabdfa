# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planner phases for networks: what leaves (endpoints first, then the networks whose bridges
they emptied) and what is built (a bridge with the gateway, or this host's part of an overlay);
and ``predict``, the links as they will be once earlier operations ran."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.netplumb.container.plugins.module_utils._errors import Conflict
from ansible_collections.netplumb.container.plugins.module_utils._kernel.op import Op, where
from ansible_collections.netplumb.container.plugins.module_utils._objects.plan import plan_bridge
from ansible_collections.netplumb.container.plugins.module_utils._topology.lan import lan_view, mode_of, plan_lan_network, remove_lan_network
from ansible_collections.netplumb.container.plugins.module_utils._topology.model_networks import LAN_DRIVERS, lan_network, network_pools
from ansible_collections.netplumb.container.plugins.module_utils._kernel.netns import hosts_path, resolv_path
from ansible_collections.netplumb.container.plugins.module_utils._topology.names import (
    bridge_alias, endpoint_alias, ipv6_pool_name, mac_of, veth_alias)
from ansible_collections.netplumb.container.plugins.module_utils._topology.overlay import (
    NO_NAMESPACE, plan_overlay, remove_overlay)
from ansible_collections.netplumb.container.plugins.module_utils._topology.parts import TopologyPlan

_LINK_FIELDS = ('master', 'alias', 'mtu', 'up')


def predict(links, ops):
    """``links`` (namespace -> name -> link) as they will be after ``ops``; a new mapping, the
    given one is left as it is."""
    out = dict(links)
    copied = set()

    def table(ns):
        if ns not in copied:
            out[ns] = dict(out.get(ns) or {})
            copied.add(ns)
        return out[ns]

    for op in ops:
        if op.action in ('netns_create', 'netns_attach'):
            out[op.name] = {} if op.action == 'netns_create' else dict(out.get(op.name) or {})
            copied.add(op.name)
        elif op.action == 'netns_delete':
            out.pop(op.name, None)
            for link in op.args.get('takes', []):       # veth pairs that end with the namespace
                table(link['namespace']).pop(link['name'], None)
        elif op.action == 'link_add':
            table(op.namespace)[op.name] = {'name': op.name, 'index': None, 'kind': op.args.get('kind'),
                                            'master': None, 'alias': None, 'addresses': [], 'up': False}
        elif op.action == 'link_del':
            links_there = table(op.namespace)
            gone = links_there.pop(op.name, None)
            if gone is not None and gone['kind'] == 'bridge':       # a deleted bridge releases its ports
                for name, link in list(links_there.items()):
                    if link.get('master') == op.name:
                        links_there[name] = dict(link, master=None)
        elif op.action == 'link_move':
            moved = table(op.namespace).pop(op.name, None)
            if moved is not None:
                table(op.args['to_namespace'])[op.args['new_name']] = dict(moved, name=op.args['new_name'])
        elif op.action == 'link_set' and op.name in (out.get(op.namespace) or {}):
            link = dict(table(op.namespace)[op.name])
            link.update((k, op.args[k] or None) for k in _LINK_FIELDS if k in op.args)
            table(op.namespace)[op.name] = link
    return out


def _our_veth(links, namespace, ifname, alias):
    link = (links.get(namespace) or {}).get(ifname)
    return link if link is not None and link['kind'] == 'veth' and link.get('alias') == alias else None


def _delete_veth(part, links, namespace, ifname, alias):
    """Whether the veth pair was there to delete (a run cut short may have deleted it already)."""
    if _our_veth(links, namespace, ifname, alias):
        part.op(Op('link_del', namespace, ifname, 'delete veth pair (%s)' % alias))
        return True
    return False


def _endpoint_view_before(rec, observed):
    view = {'mode': rec.get('mode')}
    ns = rec.get('namespace')
    if ns:
        seen = observed['namespaces'].get(ns, {})
        view['namespace'] = {'name': ns, 'state': 'present' if seen.get('netns', {}).get('exists') else 'absent'}
    return view


def plan_removals(ctx, links):
    """Endpoints and attachments that go, then networks (their bridges must be empty by then).
    Returns (part, {endpoint: [interfaces of networks it left]})."""
    part, observed, detached = TopologyPlan(), ctx.observed, {}
    for name in ctx.gone_eps:
        rec = ctx.record['endpoints'][name]
        part.before['endpoints'][name] = _endpoint_view_before(rec, observed)
        _remove_endpoint(part, name, rec, observed, links)
    for name in ctx.moved_eps:
        # declared in another namespace: the one the record names goes as a removed endpoint's
        _remove_endpoint(part, name, ctx.record['endpoints'][name], observed, links)
    for ep in ctx.present_eps:
        if ep['name'] in ctx.moved_eps:
            continue        # its old namespace went with its veth pairs
        keep = [a['name'] for a in ctx.attached(ep)]
        for net_name, att in sorted((ctx.record['endpoints'].get(ep['name']) or {}).get('attachments', {}).items()):
            if net_name not in keep and _delete_veth(part, links, att.get('namespace'), att['host'],
                                                     veth_alias(ep['name'], net_name)):
                detached.setdefault(ep['name'], []).append(att['ifname'])
    host_links = predict(links, part.ops)[None]
    for name in ctx.gone_nets:
        rec = ctx.record['networks'][name]
        part.before['networks'][name] = {'bridge': rec['bridge'], 'subnet': rec.get('subnet')}
        if rec.get('namespace'):
            remove_overlay(part, rec['namespace'], observed['namespaces'].get(rec['namespace']) or NO_NAMESPACE)
            continue
        if rec.get('driver') in LAN_DRIVERS:
            remove_lan_network(part, name, rec, host_links, set(n['parent'] for n in ctx.present_nets if lan_network(n)))
            continue
        link = host_links.get(rec['bridge'])
        if link is not None and link['kind'] == 'bridge' and link.get('alias') in (bridge_alias(name), None):
            _remove_bridge(part, ctx, name, rec['bridge'], host_links)
    for net in ctx.present_nets:
        for bridge in stale_bridges(net, ctx.record['networks'].get(net['name']), host_links):
            # its endpoints' veth pairs stay: released here, they join the new bridge
            _remove_bridge(part, ctx, net['name'], bridge, host_links, keep_ours=True)
    return part, detached


def stale_bridges(net, recorded, host_links):
    """The bridges of a network declared with another bridge now: each that carries the network's
    alias, and the one the record names if it has no alias yet (a run cut short) - both ours."""
    if net['driver'] != 'bridge' or net['namespace']:
        return []
    was = (recorded or {}).get('bridge') if not (recorded or {}).get('namespace') else None
    return sorted(name for name, link in host_links.items()
                  if name != net['bridge'] and link['kind'] == 'bridge'
                  and (link.get('alias') == bridge_alias(net['name']) or (name == was and link.get('alias') is None)))


def _remove_bridge(part, ctx, name, bridge, host_links, keep_ours=False):
    """A bridge of network ``name`` goes, with the veth pairs of ours on it (``keep_ours``: they
    are released); a port of anyone else's stops the run (unless the network says force)."""
    ports = sorted(n for n, l in host_links.items() if l.get('master') == bridge)
    # endpoints' veth pairs on it that no record lists any more (a run cut short) are ours
    ours = [n for n in ports if host_links[n]['kind'] == 'veth'
            and (endpoint_alias(host_links[n].get('alias')) or (None, None))[1] == name]
    foreign = [n for n in ports if n not in ours]
    if foreign and not (name in ctx.nets and ctx.nets[name]['force']):
        raise Conflict('network %s: bridge %s still has ports %s that netplumb did not make; '
                       'detach them first or set force: true' % (name, bridge, ', '.join(foreign)))
    for port in [] if keep_ours else ours:
        part.op(Op('link_del', None, port, 'delete veth pair (%s)' % host_links[port]['alias']))
    part.op(Op('link_del', None, bridge, 'delete bridge %s of network %s' % (bridge, name)))


def _remove_endpoint(part, name, rec, observed, links):
    """What a recorded endpoint made goes: its namespace when it was ours (with its veth pairs),
    else its veth pairs and LAN interfaces; its files under /etc/netns; its DNS redirect."""
    ns = rec.get('namespace')
    netns = observed['namespaces'].get(ns, {}).get('netns', {}) if ns else {}
    ours = bool(rec.get('created') and netns.get('exists'))
    attachments = sorted(rec['attachments'].items())
    if ours and not netns.get('held'):
        # No process holds the namespace: removing its name ends it, and the kernel deletes
        # its veth pairs in one batch - a veth deleted one by one waits for the kernel's
        # grace period each time, 30 ms apiece. The applier waits until they are gone.
        veths = [(att.get('namespace'), att['host'], _our_veth(links, att.get('namespace'), att['host'],
                                                               veth_alias(name, net_name)))
                 for net_name, att in attachments]
        takes = [{'namespace': where, 'name': host, 'index': link['index']} for where, host, link in veths if link]
        part.op(Op('netns_delete', None, ns, 'remove the name from /run/netns%s' % (
            ' (the namespace ends, and its veth pairs %s with it)' % ', '.join(t['name'] for t in takes)
            if takes else ''), takes=takes))
    else:
        for net_name, att in attachments:
            _delete_veth(part, links, att.get('namespace'), att['host'], veth_alias(name, net_name))
            lan = (links.get(ns) or {}).get(att['ifname']) if att.get('driver') else None
            if lan is not None and lan.get('alias') == veth_alias(name, net_name):
                part.op(Op('link_del', ns, att['ifname'], 'delete %s interface (%s)' % (att['driver'], lan['alias'])))
        if ours:
            part.op(Op('netns_delete', None, ns, 'remove the name from /run/netns'))
    for path, seen in ((hosts_path(ns), observed['hosts']), (resolv_path(ns), observed['resolv'])) if ns else ():
        if seen.get(path) is not None:
            part.files[path] = None
            part.actions.append('%s: remove' % path)
    if ns and rec.get('dns') and netns.get('exists') and (netns.get('held') or not ours):
        # a namespace a process holds outlives the endpoint: the DNS redirect made in it goes
        part.redirects[ns] = None
        part.actions.append('namespace %s: remove the DNS redirect' % ns)


def check_bridge_is_ours(net, link, namespace, recorded):
    """A network's bridge is ours when it carries our alias, or when the record lists the network
    with this bridge (a run cut short between creating the bridge and naming it ours); any other
    interface of that name is someone else's: refused, before any change, naming it."""
    if link is None or link.get('alias') == bridge_alias(net['name']):
        return
    if link['kind'] == 'bridge' and link.get('alias') is None and recorded is not None \
            and recorded.get('bridge') == net['bridge'] and recorded.get('namespace') == namespace:
        return
    owner = 'alias %r' % link['alias'] if link.get('alias') else 'no alias of ours'
    raise Conflict('network %s: %s %s already exists in %s and netplumb did not make it (%s); name another bridge '
                   'or remove it' % (net['name'], link['kind'] or 'interface', net['bridge'], where(namespace), owner))


def plan_networks(ctx, leases, links):
    part = TopologyPlan()
    for net in ctx.present_nets:
        recorded = ctx.record['networks'].get(net['name'])
        old = ctx.observed['pools'].get(net['name']) or {}
        if net['driver'] == 'overlay':
            seen = ctx.observed['namespaces'].get(net['namespace']) or NO_NAMESPACE
            plan_overlay(part, net, seen, links.get(net['namespace']) or {}, leases[net['name']],
                         None if recorded is None else {'record': recorded, 'leases': old.get('leases', {})}, links[None])
        elif lan_network(net):
            local = [ep['name'] for ep in ctx.users(net)]
            was, shim = plan_lan_network(part, net, leases, links[None], ctx.observed['host_routes'], recorded, local)
            part.after['networks'][net['name']] = after = lan_view(net, leases, shim, net['parent'], net['pool'],
                                                                   net['pool6'])
            if recorded is not None:
                pools = ctx.observed['pools']
                old6 = pools.get(ipv6_pool_name(net['name'])) or {}
                stored = dict((name, (pools.get(name) or {}).get('leases', {})) for name, _p, _k in network_pools(net))
                part.before['networks'][net['name']] = lan_view(net, stored, was, recorded.get('parent'),
                                                                old.get('pool') or net['pool'], old6.get('pool'))
            part.returns['networks'][net['name']] = dict(
                ((k, v) for k, v in after.items() if k not in ('leases', 'ipv6_leases')), mode=mode_of(net), mtu=net['mtu'])
        else:
            _plan_bridge_network(ctx, part, net, leases, links[None], recorded, old)
    return part


def _plan_bridge_network(ctx, part, net, leases, host_links, recorded, old):
    """The bridge in the host namespace with the gateway address."""
    pool = net['pool']
    check_bridge_is_ours(net, host_links.get(net['bridge']), None, recorded)
    # gateway mode isolated: the host has no address on the bridge, so endpoints cannot reach it
    addresses = [] if net['gateway_mode'] == 'isolated' else [
        '%s/%d' % (p['gateway'], ctx.prefixes[name]) for name, p, _key in network_pools(net)]
    # A MAC of its own, as Docker sets one: a bridge without takes the lowest of its ports', so the
    # gateway's MAC would change whenever an endpoint comes or goes and every endpoint's neighbour
    # entry for the gateway would point at a port until it expires (seen: the name server and the
    # way out unreachable for half a minute after endpoints moved). Docker's rule, from the gateway.
    bridge = plan_bridge(dict(name=net['bridge'], mtu=net['mtu'], alias=bridge_alias(net['name']),
                              addresses=addresses, mac=mac_of(pool['gateway'])), host_links)
    part.kernel(bridge)
    view = {'bridge': net['bridge'], 'subnet': pool['subnet'], 'gateway': pool['gateway'],
            'leases': dict(sorted(leases[net['name']].items()))}
    if net['pool6']:
        view.update(ipv6_subnet=net['pool6']['subnet'], ipv6_gateway=net['pool6']['gateway'],
                    ipv6_leases=dict(sorted(leases[ipv6_pool_name(net['name'])].items())))
    part.after['networks'][net['name']] = dict(view, interface=bridge.after)
    if recorded is not None:
        old_pool = old.get('pool') or {}
        part.before['networks'][net['name']] = {
            'bridge': recorded['bridge'], 'subnet': old_pool.get('subnet'), 'gateway': old_pool.get('gateway'),
            'leases': dict(sorted(old.get('leases', {}).items())), 'interface': bridge.before}
        old6 = ctx.observed['pools'].get(ipv6_pool_name(net['name']))
        if old6:
            part.before['networks'][net['name']].update(
                ipv6_subnet=old6['pool']['subnet'], ipv6_gateway=old6['pool']['gateway'],
                ipv6_leases=dict(sorted(old6['leases'].items())))
    part.returns['networks'][net['name']] = {'bridge': net['bridge'], 'subnet': pool['subnet'],
                                             'gateway': pool['gateway'], 'mtu': net['mtu'],
                                             'ipv6_subnet': net['ipv6_subnet'],
                                             'ipv6_gateway': net['pool6']['gateway'] if net['pool6'] else None}
