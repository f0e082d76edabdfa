# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planner phase for endpoints: namespace (created, or a process's adopted), one veth pair per
network (eth0, eth1, ... = docker network connect), the default route, and the hosts file that
names the endpoints it shares a name-resolving network with."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress

from ansible_collections.netplumb.container.plugins.module_utils._errors import Conflict
from ansible_collections.netplumb.container.plugins.module_utils._kernel.op import Op, where
from ansible_collections.netplumb.container.plugins.module_utils._objects.plan import plan_netns, plan_veth
from ansible_collections.netplumb.container.plugins.module_utils._objects.routes import plan_routes
from ansible_collections.netplumb.container.plugins.module_utils._topology.lan import plan_lan_attachment
from ansible_collections.netplumb.container.plugins.module_utils._topology.model_networks import egress_network, lan_network, network_pools
from ansible_collections.netplumb.container.plugins.module_utils._topology.networks import predict
from ansible_collections.netplumb.container.plugins.module_utils._kernel.netns import hosts_path
from ansible_collections.netplumb.container.plugins.module_utils._topology.names import (
    endpoint_alias, host_ifname, hosts_text, mac_of, swap_temporary_name, veth_alias)
from ansible_collections.netplumb.container.plugins.module_utils._topology.overlay import NO_NAMESPACE
from ansible_collections.netplumb.container.plugins.module_utils._topology.parts import TopologyPlan

DEFAULT_ROUTE = {4: '0.0.0.0/0', 6: '::/0'}


def plan_endpoints(ctx, leases, links, detached):
    """``links``: the networks' namespaces as they will be once the networks are built;
    ``detached``: endpoint -> interfaces whose veth pairs the removals delete. Returns
    (part, {endpoint: whether the namespace's name is ours}, endpoints whose namespace or an
    interface of it this run makes: what was set there before is not)."""
    part, created, fresh = TopologyPlan(), {}, set()
    texts = hosts_texts(ctx, leases)
    for ep in ctx.present_eps:
        rec = ctx.record['endpoints'].get(ep['name'])
        if ep['namespace']:
            created[ep['name']] = _made_name(ep, rec, ctx.observed)
        if _plan_endpoint(ctx, part, ep, rec, leases, links, detached.get(ep['name'], []), created.get(ep['name']),
                          texts.get(ep['name'])):
            fresh.add(ep['name'])
    return part, created, fresh


def _made_name(ep, rec, observed):
    """Whether the namespace's name is ours to remove with the endpoint: we created the
    namespace or named a process's; a name that existed before is only borrowed."""
    if rec is not None and rec.get('namespace') == ep['namespace']:
        return rec.get('created', False)
    return not (observed['namespaces'].get(ep['namespace']) or {}).get('netns', {}).get('exists')


def _plan_endpoint(ctx, part, ep, rec, leases, links, detached, created, hosts):
    """Plans one endpoint into ``part``; returns whether this run makes its namespace or one of its
    interfaces."""
    before, after = {}, {'mode': ep['mode']}
    fresh = remade = False
    ret = {'mode': ep['mode'], 'namespace': ep['namespace'], 'interfaces': {},
           'published': [dict(port.as_result(), network=ep['publish_on']) for port in ep['published']]}
    if ep['shares']:
        ret['namespace'] = after['namespace'] = ctx.eps[ep['shares']]['namespace']
    if ep['namespace']:
        ns = ep['namespace']
        seen = ctx.observed['namespaces'].get(ns) or NO_NAMESPACE
        netns = plan_netns(dict(name=ns, state='present', pid=ep['pid'], force=False, loopback=True), seen['netns'])
        part.kernel(netns)
        fresh = not seen['netns']['exists'] or any(op.action in ('netns_create', 'netns_attach') for op in netns.ops)
        # interfaces of detached networks go with their veth pair, and so do their routes
        gone = list(detached)
        ns_links = {} if fresh else dict((n, l) for n, l in seen['links'].items() if n not in gone)
        gone += _leftovers(part, ep, ns, ns_links, ctx.attached(ep))
        ns_links = dict((n, l) for n, l in ns_links.items() if n not in gone)
        freed = _free_names(part, ep, ns, ns_links, ctx.attached(ep))
        ns_links = predict({ns: ns_links}, freed)[ns]
        gone += [op.name for op in freed]      # renamed, they go down: the kernel drops their routes
        before['namespace'] = dict(netns.before, name=ns)
        after['namespace'] = dict(netns.after, name=ns)
        before['interfaces'], after['interfaces'] = {}, {}
        gateways = {}
        # veth pairs that exist first: one that takes another interface name (a network listed
        # before it now) frees its old name for the new pair that wants it
        existing = set(att['name'] for att in ctx.attached(ep)
                       if host_ifname(ep['name'], att['name']) in (links.get(ctx.nets[att['name']]['namespace']) or {}))
        for att in sorted(ctx.attached(ep), key=lambda att: att['name'] not in existing):
            net = ctx.nets[att['name']]
            if lan_network(net):
                ops, was, now, ret['interfaces'][att['ifname']] = plan_lan_attachment(
                    ep, net, att, ns, ns_links, links[None], leases, ctx.prefixes,
                    ((rec or {}).get('attachments') or {}).get(net['name']))
                for op in ops:
                    part.op(op)
                remade = remade or any(op.action == 'link_move' for op in ops)
                # made under a temporary name in the host namespace (none of whose links matter here), moved in
                ns_links = predict({None: {}, ns: ns_links}, ops)[ns]
                if was:
                    before['interfaces'][att['ifname']] = dict(was, network=net['name'])
                after['interfaces'][att['ifname']] = dict(now, network=net['name'])
                continue
            _check_host_end(ep, net, links, rec)
            ip = leases[net['name']][ep['name']]
            cidrs = ['%s/%d' % (leases[name][ep['name']], ctx.prefixes[name]) for name, _p, _k in network_pools(net)]
            veth = plan_veth(dict(name=host_ifname(ep['name'], net['name']), namespace=net['namespace'],
                                  peer=att['ifname'], peer_namespace=ns, mtu=net['mtu'], peer_mac=mac_of(ip),
                                  peer_addresses=cidrs, master=net['bridge'], alias=veth_alias(ep['name'], net['name']),
                                  peer_alias=veth_alias(ep['name'], net['name']),
                                  hairpin=True if net['driver'] == 'bridge' else None,
                                  # IPv6 link-local addresses only where the network has IPv6, as Docker
                                  # does: a bridge port needs none, and each one's solicitations and
                                  # reports would be flooded to every port of the bridge
                                  link_local=False, peer_link_local=len(cidrs) > 1),
                             links.get(net['namespace']) or {}, ns_links)
            part.kernel(veth)
            # an interface made or moved in: nothing set on it before (route_localnet of the DNS redirect) is there
            remade = remade or any(op.action in ('link_add', 'link_move') for op in veth.ops)
            ns_links = predict({ns: ns_links}, veth.ops)[ns]
            # a peer renamed in place goes down on the way, and the kernel drops its routes
            gone += [op.name for op in veth.ops if op.action == 'link_move' and op.namespace == ns]
            if veth.before.get('state') == 'present':
                before['interfaces'][att['ifname']] = dict(veth.before, network=net['name'])
            after['interfaces'][att['ifname']] = dict(veth.after, network=net['name'])
            ret['interfaces'][att['ifname']] = {'network': net['name'], 'address': cidrs[0], 'mac': mac_of(ip),
                                                'ipv6_address': cidrs[1] if len(cidrs) > 1 else None,
                                                'host_interface': host_ifname(ep['name'], net['name'])}
        for att in ctx.attached(ep):
            net = ctx.nets[att['name']]
            if egress_network(net):
                # each family's default route goes through the first network that has that family
                for _name, pool, _key in network_pools(net):
                    gateways.setdefault(DEFAULT_ROUTE[ipaddress.ip_network(pool['subnet']).version], pool['gateway'])
        ns_routes = [] if fresh else [r for r in seen['routes'] if r['dev'] not in gone]
        # In a namespace of its own the endpoint's routes are ours; an adopted one keeps the process's.
        routes = plan_routes(dict(namespace=ns, exclusive=bool(created) and not ep['pid'],
                                  routes=[{'dst': dst, 'gateway': gw} for dst, gw in sorted(gateways.items())]),
                             ns_routes, {})
        part.kernel(routes)
        before['routes'], after['routes'] = routes.before['routes'], routes.after['routes']
        path, text = hosts_path(ns), hosts
        # the texts, which the diff shows by their digests (host.diff_view)
        before['hosts'] = {'path': path, 'text': ctx.observed['hosts'].get(path)}
        after['hosts'] = {'path': path, 'text': text}
        if ctx.observed['hosts'].get(path) != text:
            part.files[path] = text
            part.actions.append('%s: %s' % (path, 'write' if ctx.observed['hosts'].get(path) is None else 'update'))
    if rec is not None:
        part.before['endpoints'][ep['name']] = dict(before, mode=rec.get('mode', ep['mode']),
                                                    **({'namespace': after['namespace']} if ep['shares'] else {}))
    part.after['endpoints'][ep['name']] = after
    part.returns['endpoints'][ep['name']] = ret
    return fresh or remade


def _leftovers(part, ep, ns, ns_links, attached):
    """The endpoint's veth pairs of networks it is no longer on that its namespace still holds: ours
    by their alias even when no record lists them (a run cut short between the record and the
    kernel), deleted before the new ones take their interface names. Returns their names."""
    networks = set(att['name'] for att in attached)
    gone = []
    for name, link in sorted(ns_links.items()):
        owner = endpoint_alias(link.get('alias'))
        if link['kind'] in ('veth', 'macvlan', 'ipvlan') and owner and owner[0] == ep['name'] and owner[1] not in networks:
            part.op(Op('link_del', ns, name, 'delete %s (%s), which netplumb made' % (
                'veth pair' if link['kind'] == 'veth' else link['kind'] + ' interface', link['alias'])))
            gone.append(name)
    return gone


def _free_names(part, ep, ns, ns_links, attached):
    """Interfaces of the endpoint that hold a name another of its attachments now wants (two that
    swap names, or a rotation) are renamed to a temporary name first; the attachments' own plans
    then rename them to their new names. Returns the renames."""
    wanted = dict((att['ifname'], att['name']) for att in attached)
    ops = []
    for name, link in sorted(ns_links.items()):
        owner = endpoint_alias(link.get('alias'))
        if owner and owner[0] == ep['name'] and name in wanted and wanted[name] != owner[1]:
            temporary = swap_temporary_name(name)
            ops.append(Op('link_move', ns, name, 'rename to %s, freeing %s for network %s' % (temporary, name, wanted[name]),
                          to_namespace=ns, new_name=temporary, same_namespace=True))
    for op in ops:
        part.op(op)
    return ops


def _check_host_end(ep, net, links, rec):
    """The host end's name is derived from the endpoint's and the network's: an interface of that
    name is ours when it carries our alias, or when the record lists the attachment (a run cut
    short before the alias was set); anything else is someone else's, and refused."""
    name = host_ifname(ep['name'], net['name'])
    link = (links.get(net['namespace']) or {}).get(name)
    alias = veth_alias(ep['name'], net['name'])
    if link is None or link.get('alias') == alias:
        return
    if link.get('alias') is None and net['name'] in ((rec or {}).get('attachments') or {}):
        return
    raise Conflict('endpoints (%s).networks (%s): interface %s already exists in %s and netplumb did not make it '
                   '(%s); remove or rename it' % (ep['name'], net['name'], name, where(net['namespace']),
                                                  'alias %r' % link['alias'] if link.get('alias') else 'no alias of ours'))


def hosts_texts(ctx, leases):
    """endpoint -> its hosts file: itself, and on each of its networks that resolves names, every
    other endpoint of that network (its address on the first network they share). Each network's
    lines are formatted once and shared: a thousand endpoints on a network are a thousand files of
    a thousand lines, and formatting them file by file would make a run quadratic in Python."""
    members, blocks, texts = {}, {}, {}
    for ep in ctx.present_eps:
        for att in ctx.attached(ep):
            members.setdefault(att['name'], []).append(ep['name'])
    for ep in ctx.present_eps:
        if not ep['namespace']:
            continue
        own = ctx.attached(ep)
        chunks = [_lines(_addresses_of(ep['name'], ctx.nets[own[0]['name']], leases))] if own else []
        named = None        # the names listed so far, once a second network needs them
        for att in own:
            net = ctx.nets[att['name']]
            if not net['resolve_names']:
                continue
            if net['name'] not in blocks:
                blocks[net['name']] = _block(ctx, net, members.get(net['name'], []), leases)
            names, lines, position = blocks[net['name']]
            if named is None:
                at = position.get(ep['name'])
                chunks += lines if at is None else lines[:at] + lines[at + 1:]
                named = set(names) | set([ep['name']])
            else:
                for other, line in zip(names, lines):
                    if other not in named:
                        chunks.append(line)
                        named.add(other)
        texts[ep['name']] = hosts_text(ep['name'], chunks)
    return texts


def network_members(ctx, net, members, leases):
    """[(name, addresses, aliases)] of a network, IPv4 first: its endpoints on this host
    (``members``, their names in order), then an overlay's on other hosts. What the hosts files
    (names) and the name server (names and aliases) both list."""
    found = []
    for name in members:
        att = [a for a in ctx.eps[name]['networks'] if a['name'] == net['name']][0]
        found.append((name, [leases[pool][name] for pool, _p, _k in network_pools(net)], att['aliases']))
    for peer in net['peers'] or []:
        found += [(remote['name'], [remote[key] for key in ('ip', 'ipv6') if remote.get(key)], remote.get('aliases') or [])
                  for remote in peer['endpoints'] if remote['name']]
    return found


def _block(ctx, net, members, leases):
    """A network's names in order (its endpoints, then an overlay's on other hosts), each name's
    lines, and each name's position."""
    names, lines, position = [], [], {}
    for name, addresses, _aliases in network_members(ctx, net, members, leases):
        if name not in position:
            position[name] = len(names)
            names.append(name)
            lines.append(_lines([(address, name) for address in addresses]))
    return names, lines, position


def _lines(entries):
    return ''.join('%s\t%s\n' % entry for entry in entries)


def _addresses_of(name, net, leases):
    """(ip, name) for each address the endpoint has on the network, IPv4 first."""
    return [(leases[pool_name][name], name) for pool_name, _pool, _key in network_pools(net)]
