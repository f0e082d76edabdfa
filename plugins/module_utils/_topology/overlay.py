# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every rule of an overlay network, in one place (seeds 002, 004).

On each host an overlay is a namespace ``ov-<name>`` holding bridge ``br0`` and the VTEP
``vxlan0`` (made in the host namespace, where its UDP socket stays, then moved in). Forwarding
state is written, not learned: a flood entry per peer VTEP, a static FDB entry and a permanent
neighbour per remote endpoint, so a peer that leaves the list leaves every table. The inventory
side (which VNI, which addresses, who the peers are) is ``control_plane``; it uses the same
rules from here."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.netplumb.container.plugins.module_utils._errors import Conflict, InvalidInput
from ansible_collections.netplumb.container.plugins.module_utils._kernel.op import Op
from ansible_collections.netplumb.container.plugins.module_utils._objects.plan import plan_bridge, plan_netns
from ansible_collections.netplumb.container.plugins.module_utils._objects.vxlan import plan_vxlan
from ansible_collections.netplumb.container.plugins.module_utils._topology.names import (
    OVERLAY_BRIDGE, OVERLAY_VTEP, VXLAN_OVERHEAD, VXLAN_PORT, bridge_alias, vtep_temporary_name)

VNI_BASE = 4096
VNI_MAX = 16777215
NO_NAMESPACE = {'netns': {'exists': False, 'stale': False, 'id': None, 'loopback_up': None}, 'links': {}, 'routes': []}


def check_vni(value, option):
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= VNI_MAX:
        raise InvalidInput('%s: %r is not a VXLAN network identifier (1..%d)' % (option, value, VNI_MAX))
    return value


def fitting_mtu(declared, underlay_mtu, option, underlay):
    """An overlay's MTU is the underlay's minus the VXLAN header; a declared one must fit.
    ``underlay`` names the interface or host whose MTU is the limit, for the message."""
    room = underlay_mtu - VXLAN_OVERHEAD
    if declared is None:
        return room
    if declared > room:
        raise InvalidInput('%s: %d does not fit: %s has MTU %d and VXLAN takes %d bytes, so at most %d'
                           % (option, declared, underlay, underlay_mtu, VXLAN_OVERHEAD, room))
    return declared


def forwarding(net):
    """Flood entries to every peer VTEP, a static FDB entry and a permanent neighbour for every
    remote endpoint's address (both families where it has IPv6)."""
    fdb, neighbours = [], []
    for peer in net['peers']:
        fdb.append({'mac': '00:00:00:00:00:00', 'dst': peer['vtep']})
        for ep in peer['endpoints']:
            fdb.append({'mac': ep['mac'], 'dst': peer['vtep']})
            neighbours += [{'ip': ep[key], 'mac': ep['mac']} for key in ('ip', 'ipv6') if ep.get(key)]
    return fdb, neighbours


def check_overlay_is_ours(net, seen, ns_links, host_links, recorded):
    """An overlay's namespace is ours when the record lists the network (a run cut short lists it
    before its first change) or its bridge carries our alias; its temporary VTEP in the host
    namespace, when a run cut short left it there. Anything else of those names is refused."""
    ns, temporary = net['namespace'], vtep_temporary_name(net['name'])
    bridge = ns_links.get(OVERLAY_BRIDGE) if seen['netns']['exists'] else None
    if bridge is not None and bridge.get('alias') not in (None, bridge_alias(net['name'])):
        raise Conflict('network %s: bridge %s in namespace %s has alias %r: netplumb did not make it' % (
            net['name'], OVERLAY_BRIDGE, ns, bridge['alias']))
    if seen['netns']['exists'] and recorded is None and (bridge or {}).get('alias') != bridge_alias(net['name']):
        raise Conflict('network %s: namespace %s already exists and netplumb did not make it (%s); remove it or '
                       'name the network otherwise' % (net['name'], ns, 'its %s has alias %r' % (
                           OVERLAY_BRIDGE, bridge['alias']) if bridge and bridge.get('alias') else 'no bridge of ours'))
    vtep = host_links.get(temporary)
    if vtep is not None and (vtep['kind'] != 'vxlan' or recorded is None):
        raise Conflict('network %s: %s %s already exists in the host namespace and netplumb did not make it; '
                       'remove or rename it' % (net['name'], vtep['kind'] or 'interface', temporary))
    return vtep is not None


def plan_overlay(part, net, seen, ns_links, leases, recorded, host_links):
    """This host's part of overlay ``net``: namespace, bridge, VTEP (recreated when VNI, local
    address or port differ) and its exact forwarding entries. ``seen``: the namespace as
    observed; ``ns_links``: its links as the plan has them so far; ``host_links``: the host
    namespace's, where the VTEP is made."""
    ns = net['namespace']
    left_over = check_overlay_is_ours(net, seen, ns_links, host_links, recorded)
    netns = plan_netns(dict(name=ns, state='present', pid=None, force=False, loopback=True), seen['netns'])
    part.kernel(netns)
    if any(op.action == 'netns_create' for op in netns.ops):
        ns_links = {}
    bridge = plan_bridge(dict(name=OVERLAY_BRIDGE, namespace=ns, mtu=net['mtu'], addresses=[],
                              alias=bridge_alias(net['name'])), ns_links)
    part.kernel(bridge)
    fixed = {'vni': net['vni'], 'local': net['local'], 'dstport': VXLAN_PORT}
    vtep = ns_links.get(OVERLAY_VTEP)
    fdb_now, neighbours_now = seen.get('fdb', []), seen.get('neighbours', [])
    current = dict((vtep or {}).get('vxlan') or {})
    # A change of control plane recreates the VTEP: it takes every forwarding entry the old one
    # had with it (ours, or zebra's), so the new control plane starts from an empty table. Which
    # one a VTEP serves is read from the kernel (an EVPN VTEP's port suppresses neighbours), not
    # from the record, which a run cut short may already have written anew.
    was = 'evpn' if (vtep or {}).get('neigh_suppress') else 'static'
    if vtep is not None:
        current['control_plane'], fixed['control_plane'] = was, net['control_plane']
    if vtep is None or any(current.get(k) != v for k, v in fixed.items()):
        if vtep is not None:
            part.op(Op('link_del', ns, OVERLAY_VTEP, 'delete to recreate: %s' % ', '.join(
                '%s %s -> %s' % (k, current.get(k), v) for k, v in sorted(fixed.items()) if current.get(k) != v)))
        temporary = vtep_temporary_name(net['name'])
        if left_over:
            part.op(Op('link_del', None, temporary, 'delete vxlan left by a run cut short before it was moved'))
        part.op(Op('link_add', None, temporary, 'create vxlan VNI %d' % net['vni'], kind='vxlan', vni=net['vni'],
                   local=net['local'], dev=None, dstport=VXLAN_PORT, learning=False,
                   # static: ARP answered from the neighbours we write; evpn: none are written (zebra
                   # has no IP to install without a gateway address on the bridge), so the
                   # kernel's proxy would swallow every ARP request: they go out to the other hosts
                   proxy=net['control_plane'] == 'static'))
        part.op(Op('link_move', None, temporary, 'move to namespace %s as %s' % (ns, OVERLAY_VTEP), to_namespace=ns,
                   new_name=OVERLAY_VTEP, same_namespace=False))
        vtep = {'name': OVERLAY_VTEP, 'index': None, 'kind': 'vxlan', 'mtu': None, 'mac': None, 'alias': None,
                'master': None, 'addresses': [], 'up': False, 'vxlan': dict(fixed, dev=None, learning=False)}
        fdb_now, neighbours_now = [], []
    fdb, neighbours = forwarding(net)
    evpn = net['control_plane'] == 'evpn'
    if evpn:
        # every entry on an EVPN VTEP is zebra's, its flood entries as permanent as ours: never read, kept or removed
        fdb_now, neighbours_now = [], []
    links = dict(ns_links, **{OVERLAY_BRIDGE: ns_links.get(OVERLAY_BRIDGE) or {'name': OVERLAY_BRIDGE, 'kind': 'bridge'},
                              OVERLAY_VTEP: vtep})
    vxlan = plan_vxlan(dict(name=OVERLAY_VTEP, namespace=ns, vni=net['vni'], local=net['local'], dstport=VXLAN_PORT,
                            learning=False, mtu=net['mtu'], master=OVERLAY_BRIDGE, fdb=fdb, neighbours=neighbours,
                            exclusive=not evpn), links, fdb_now, neighbours_now)
    part.kernel(vxlan)
    if evpn and (vtep.get('neigh_suppress') is not True or vtep.get('port_learning') is not False):
        # zebra answers ARP and ND from what EVPN carries, and the VTEP's port learns nothing:
        # remote MACs are zebra's entries, never the bridge's guesses
        part.op(Op('link_set', ns, OVERLAY_VTEP, 'turn neighbour suppression on and learning off on the bridge port '
                   '(EVPN)', neigh_suppress=True, port_learning=False))
    view = {'driver': 'overlay', 'namespace': ns, 'subnet': net['subnet'], 'vni': net['vni'], 'mtu': net['mtu'],
            'control_plane': net['control_plane'], 'leases': dict(sorted(leases.items()))}
    port = {'neigh_suppress': True, 'port_learning': False} if evpn else {}
    part.after['networks'][net['name']] = dict(view, bridge=bridge.after, vtep=dict(vxlan.after, **port))
    if recorded is not None:
        part.before['networks'][net['name']] = dict(
            view, vni=recorded['record'].get('vni'), control_plane=was, leases=dict(sorted(recorded['leases'].items())),
            bridge=bridge.before, vtep=dict(vxlan.before, **(dict(
                (k, (ns_links.get(OVERLAY_VTEP) or {}).get(k)) for k in port) if ns_links.get(OVERLAY_VTEP) else {}))
            if seen['netns']['exists'] else {'state': 'absent'})
    part.returns['networks'][net['name']] = {'driver': 'overlay', 'namespace': ns, 'subnet': net['subnet'],
                                             'vni': net['vni'], 'mtu': net['mtu'], 'local': net['local'],
                                             'control_plane': net['control_plane'],
                                             'forwarding_entries': len(fdb) + len(neighbours)}


def remove_overlay(part, ns, seen):
    """The VTEP first (it frees the UDP port in the host namespace at once), then the namespace."""
    if not seen['netns']['exists']:
        return
    if OVERLAY_VTEP in seen['links']:
        part.op(Op('link_del', ns, OVERLAY_VTEP, 'delete vxlan'))
    part.op(Op('netns_delete', None, ns, 'remove the name from /run/netns'))
