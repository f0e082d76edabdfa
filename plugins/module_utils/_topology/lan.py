# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every rule of a macvlan or ipvlan network (seeds 002, 003: Docker's macvlan driver), in one place.

An endpoint's interface is a macvlan (or ipvlan) of the network's parent, made in the host
namespace under a temporary name and moved into the endpoint's namespace under its own, with the
MAC Docker gives it (02:42 + the IPv4 address) and its LAN address; nothing of ours is on the
parent's path - no bridge, NAT or firewall rule. The kernel delivers nothing between a parent and
its own macvlan interfaces, so the host cannot reach its endpoints unless it has an interface of
its own beside them: the shim (``host_shim``), with a /32 from the network and a host route to
each of this host's endpoints. A parent ``eth0.10`` is made (VLAN 10 on eth0) when missing, and
removed with the last network that uses it."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.netplumb.container.plugins.module_utils._errors import Conflict
from ansible_collections.netplumb.container.plugins.module_utils._kernel.op import Op
from ansible_collections.netplumb.container.plugins.module_utils._objects.plan import fresh, plan_interface
from ansible_collections.netplumb.container.plugins.module_utils._objects.routes import plan_routes
from ansible_collections.netplumb.container.plugins.module_utils._topology.model_networks import network_pools, vlan_parent
from ansible_collections.netplumb.container.plugins.module_utils._topology.names import (
    ipv6_pool_name, lan_temporary_name, mac_of, shim_alias, shim_name, veth_alias, vlan_alias)

SHIM_OWNER = '@shim'        # the shim's lease; "@" starts no endpoint name


def mode_of(net):
    return net['macvlan_mode'] if net['driver'] == 'macvlan' else net['ipvlan_mode']


def _lan_link(op_text, name, net):
    return Op('link_add', None, name, '%s (%s mode %s on %s)' % (op_text, net['driver'], mode_of(net), net['parent']),
              kind=net['driver'], parent=net['parent'], mode=mode_of(net))


def _stale(link, net, parent):
    """Why an interface of ours must be made anew (its kind, mode or parent changed), or None."""
    lower = link.get('lower') or {}
    if link['kind'] != net['driver']:
        return 'kind %s -> %s' % (link['kind'], net['driver'])
    if lower.get('mode') != mode_of(net):
        return 'mode %s -> %s' % (lower.get('mode'), mode_of(net))
    if parent not in (None, net['parent']):
        return 'parent %s -> %s' % (parent, net['parent'])
    return None


def plan_lan_network(part, net, leases, host_links, host_routes, recorded, local):
    """A LAN network's part of the host: its VLAN parent when one is to be made, and its shim.
    ``local``: this host's endpoints on it. Returns the shim's views (before, after)."""
    vlan = vlan_parent(net['parent'], 'parent')
    if net['parent'] not in host_links and vlan:
        part.op(Op('link_add', None, net['parent'], 'create VLAN %d on %s' % (vlan[1], vlan[0]), kind='vlan',
                   parent=vlan[0], vlan_id=vlan[1]))
        ops, _before, _after = plan_interface(None, net['parent'], {'alias': vlan_alias(net['name']), 'up': True}, fresh())
        for op in ops:
            part.op(op)
    name = shim_name(net['name'])
    link = host_links.get(name)
    if link is not None and link.get('alias') != shim_alias(net['name']) \
            and not (link.get('alias') is None and recorded is not None):
        raise Conflict('network %s: %s %s already exists in the host namespace and netplumb did not make it; remove or '
                       'rename it' % (net['name'], link['kind'] or 'interface', name))
    absent = {'state': 'absent'}
    # the shim's IPv4 routes, ours (the kernel's IPv6 link-local route comes with any link that is up)
    routes_now = [r for r in host_routes if r['dev'] == name and ':' not in r['dst']]
    before = absent if link is None else dict(link_view(link), interface=name,
                                              routes=sorted(r['dst'] for r in routes_now))
    if not net['host_shim']:
        if link is not None:
            part.op(Op('link_del', None, name, 'delete the host shim of network %s' % net['name']))
        return before, absent
    address = leases[net['name']][SHIM_OWNER]
    stale = link and _stale(link, net, (link.get('lower') or {}).get('parent'))
    if stale:
        part.op(Op('link_del', None, name, 'delete to recreate: %s' % stale))
    if link is None or stale:
        part.op(_lan_link('create the host shim', name, net))
        seen, routes_now = fresh(), []
    else:
        seen = link
    ops, _before, after = plan_interface(None, name, {
        'mac': mac_of(address) if net['driver'] == 'macvlan' else None, 'mtu': net['mtu'],
        'alias': shim_alias(net['name']), 'link_local': False, 'addresses': ['%s/32' % address], 'up': True}, seen)
    after = dict(after, mode=mode_of(net))
    for op in ops:
        part.op(op)
    # the host reaches each of its own endpoints through the shim; the others are on the LAN
    routes = plan_routes(dict(namespace=None, exclusive=True, routes=[
        {'dst': '%s/32' % leases[net['name']][ep], 'dev': name} for ep in local]), routes_now, {name: after})
    part.kernel(routes)
    return before, dict(after, state='present', interface=name, routes=sorted(r['dst'] for r in routes.after['routes']))


def link_view(link):
    """What the views show of a LAN interface as observed (an ipvlan interface's MAC is its
    parent's, not ours to show)."""
    view = {'state': 'present', 'mac': link.get('mac'), 'mtu': link.get('mtu'), 'alias': link.get('alias'),
            'addresses': list(link.get('addresses') or []), 'up': link.get('up'), 'link_local': link.get('link_local'),
            'mode': (link.get('lower') or {}).get('mode')}
    if link['kind'] == 'ipvlan':
        del view['mac']
    return view


def remove_lan_network(part, name, rec, host_links, staying):
    """A LAN network that goes: its shim, and the VLAN parent netplumb made for it unless a
    network that stays uses it (endpoints' interfaces went with the endpoints or are detached)."""
    shim = host_links.get(shim_name(name))
    if shim is not None and shim.get('alias') == shim_alias(name):
        part.op(Op('link_del', None, shim['name'], 'delete the host shim of network %s' % name))
    parent = host_links.get(rec.get('parent'))
    if parent is not None and parent.get('alias') == vlan_alias(name) and rec['parent'] not in staying:
        part.op(Op('link_del', None, parent['name'], 'delete VLAN %s, made for network %s' % (parent['name'], name)))


def plan_lan_attachment(ep, net, att, namespace, ns_links, host_links, leases, prefixes, recorded):
    """An endpoint's interface on a LAN network: (ops, before, after, the interface's return).
    ``recorded``: the endpoint's recorded attachment to the network, or None."""
    # the same words as a veth's: whose interface, on which network (names.endpoint_alias reads them)
    ifname, alias = att['ifname'], veth_alias(ep['name'], net['name'])
    link = ns_links.get(ifname)
    ours = link is not None and link['kind'] in ('macvlan', 'ipvlan') and (
        link.get('alias') == alias or (link.get('alias') is None and recorded is not None))
    if link is not None and not ours:
        raise Conflict('endpoints (%s).networks (%s): interface %s already exists in namespace %s and netplumb did not '
                       'make it for this network (%s); remove or rename it' % (
                           ep['name'], net['name'], ifname, namespace,
                           'alias %r' % link['alias'] if link.get('alias') else 'no alias of ours'))
    ops = []
    stale = ours and _stale(link, net, (recorded or {}).get('parent'))
    if stale:
        ops.append(Op('link_del', namespace, ifname, 'delete to recreate: %s' % stale))
    if link is None or stale:
        temporary = lan_temporary_name(ep['name'], net['name'])
        left = host_links.get(temporary)
        if left is not None:
            if left['kind'] != net['driver'] or recorded is None:
                raise Conflict('endpoints (%s).networks (%s): %s %s already exists in the host namespace and netplumb '
                               'did not make it; remove or rename it' % (ep['name'], net['name'],
                                                                         left['kind'] or 'interface', temporary))
            ops.append(Op('link_del', None, temporary, 'delete %s left by a run cut short before it was moved'
                          % net['driver']))
        ops.append(_lan_link('create', temporary, net))
        ops.append(Op('link_move', None, temporary, 'move to namespace %s as %s' % (namespace, ifname),
                      to_namespace=namespace, new_name=ifname, same_namespace=False))
        seen = fresh()
    else:
        seen = link
    ip = leases[net['name']][ep['name']]
    cidrs = ['%s/%d' % (leases[name][ep['name']], prefixes[name]) for name, _p, _k in network_pools(net)]
    more, before, after = plan_interface(namespace, ifname, {
        # an ipvlan interface has its parent's MAC
        'mac': mac_of(ip) if net['driver'] == 'macvlan' else None, 'mtu': net['mtu'], 'alias': alias,
        'link_local': len(cidrs) > 1, 'addresses': cidrs, 'up': True}, seen)
    before = dict(before, state='present', parent=(recorded or {}).get('parent'),
                  mode=(link.get('lower') or {}).get('mode')) if link is not None else {}
    after = dict(after, state='present', parent=net['parent'], mode=mode_of(net))
    result = {'network': net['name'], 'address': cidrs[0], 'mac': mac_of(ip) if net['driver'] == 'macvlan' else None,
              'ipv6_address': cidrs[1] if len(cidrs) > 1 else None, 'host_interface': None, 'parent': net['parent']}
    return ops + more, before, after, result


def lan_view(net, leases, shim, parent, pool, pool6):
    """A LAN network as the diff shows it, from its parent, its pools and their ``leases`` (pool
    name -> owner -> address): after the run (the plan's), or before it (the record's and the
    store's)."""
    view = {'driver': net['driver'], 'parent': parent, 'subnet': pool['subnet'], 'gateway': pool['gateway'],
            'leases': dict(sorted((leases.get(net['name']) or {}).items())), 'host_shim': shim}
    if pool6:
        view.update(ipv6_subnet=pool6['subnet'], ipv6_gateway=pool6['gateway'],
                    ipv6_leases=dict(sorted((leases.get(ipv6_pool_name(net['name'])) or {}).items())))
    return view
