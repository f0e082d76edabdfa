# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A VXLAN device (VTEP) and its flood, static FDB and permanent neighbour entries, planned like
every single object: plan(desired, observed) -> operations + before/after."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.netplumb.container.plugins.module_utils._kernel.op import Op, where
from ansible_collections.netplumb.container.plugins.module_utils._objects.plan import (
    INTERFACE_FIELDS, INTERFACE_WANT, Plan, check_master, fresh, plan_interface, require_kind, strict)

VXLAN_WANT = dict(INTERFACE_WANT, dev=None, dstport=4789, learning=False, fdb=[], neighbours=[], exclusive=False)

VXLAN_FIXED = ('vni', 'local', 'dev', 'dstport')     # the kernel cannot change these in place
FLOOD = '00:00:00:00:00:00'


def _entries(items, keys):
    return sorted(tuple(item[k] for k in keys) for item in items)


def plan_vxlan(want, links, fdb, neighbours, missing=strict):
    """``want``: name, namespace, state, vni, local, dev, dstport, learning, mtu, master,
    addresses, up, fdb [{mac, dst}], neighbours [{ip, mac}], exclusive. ``links`` of the
    namespace; ``fdb``/``neighbours``: the device's static entries as observed."""
    want = dict(VXLAN_WANT, **want)
    name, namespace = want['name'], want['namespace']
    link = links.get(name)
    require_kind(link, 'vxlan', name, namespace)
    if want['state'] == 'absent':
        if link is None:
            return Plan(before={'state': 'absent'}, after={'state': 'absent'})
        return Plan([Op('link_del', namespace, name, 'delete vxlan')], {'state': 'present'}, {'state': 'absent'})
    if want['dev'] is not None and want['dev'] not in links:
        missing('dev: underlay device %s does not exist in %s' % (want['dev'], where(namespace)))
    check_master(namespace, links, want['master'], missing)

    fixed = dict((k, want[k]) for k in VXLAN_FIXED if want[k] is not None)
    current = (link or {}).get('vxlan') or {}
    changed_fixed = sorted(k for k in fixed if link is not None and current.get(k) != fixed[k])
    ops = []
    before = {'state': 'present' if link else 'absent'}
    after = dict({'state': 'present', 'learning': want['learning']}, **fixed)
    if link is not None:
        before.update((k, current.get(k)) for k in fixed)
        before['learning'] = current.get('learning')
    if link is None or changed_fixed:
        if changed_fixed:
            ops.append(Op('link_del', namespace, name, 'delete to recreate: %s cannot change in place' % ', '.join(
                '%s %s -> %s' % (k, current.get(k), fixed[k]) for k in changed_fixed)))
        ops.append(Op('link_add', namespace, name, 'create vxlan VNI %d' % want['vni'], kind='vxlan',
                      vni=want['vni'], local=want['local'], dev=want['dev'], dstport=want['dstport'],
                      learning=want['learning']))
        observed, fdb_now, neighbours_now = fresh(), [], []
    else:
        observed, fdb_now, neighbours_now = link, fdb, neighbours
        if current.get('learning') != want['learning']:
            ops.append(Op('link_set', namespace, name, 'turn learning %s' % ('on' if want['learning'] else 'off'),
                          learning=want['learning']))

    desired = dict((f, want.get(f)) for f in INTERFACE_FIELDS if f not in ('mac', 'up'))
    iface_ops, b, a = plan_interface(namespace, name, desired, observed)
    ops += iface_ops
    if link is not None:
        before.update(b)
    after.update(a)

    # Forwarding entries are a set of (MAC, VTEP); several all-zero (flood) entries may coexist,
    # but a unicast MAC has one VTEP: the kernel ignores a second one appended, so an endpoint that
    # moved to another host has its entry replaced (appending, then removing the old one, would
    # leave it none).
    have = set(_entries(fdb_now, ('mac', 'dst')))
    wanted = set(_entries(want['fdb'], ('mac', 'dst')))
    at = dict((mac, dst) for mac, dst in have if mac != FLOOD)
    moved = dict((mac, at[mac]) for mac, dst in wanted - have if mac in at and (mac, at[mac]) not in wanted)
    for mac, dst in sorted(wanted - have):
        if mac in moved:
            ops.append(Op('fdb_replace', namespace, name, 'move forwarding entry %s: %s -> %s' % (mac, moved[mac], dst),
                          mac=mac, dst=dst, was=moved[mac]))
        else:
            ops.append(Op('fdb_add', namespace, name, 'add forwarding entry %s -> %s' % (mac, dst), mac=mac, dst=dst))
    if want['exclusive']:
        for mac, dst in sorted(have - wanted):
            if mac not in moved:
                ops.append(Op('fdb_del', namespace, name, 'remove forwarding entry %s -> %s' % (mac, dst),
                              mac=mac, dst=dst))
    kept = set(e for e in have if e[0] not in moved)
    after['fdb'] = [list(e) for e in sorted(wanted if want['exclusive'] else wanted | kept)]

    # Neighbours: one MAC per IP, so a known IP with another MAC is replaced.
    have_ips = dict(_entries(neighbours_now, ('ip', 'mac')))
    wanted_ips = dict(_entries(want['neighbours'], ('ip', 'mac')))
    for ip, mac in sorted(wanted_ips.items()):
        if have_ips.get(ip) != mac:
            ops.append(Op('neigh_replace' if ip in have_ips else 'neigh_add', namespace, name,
                          '%s neighbour %s at %s' % ('replace' if ip in have_ips else 'add', ip, mac), ip=ip, mac=mac))
    kept = {} if want['exclusive'] else dict(have_ips)
    if want['exclusive']:
        for ip in sorted(set(have_ips) - set(wanted_ips)):
            ops.append(Op('neigh_del', namespace, name, 'remove neighbour %s at %s' % (ip, have_ips[ip]),
                          ip=ip, mac=have_ips[ip]))
    kept.update(wanted_ips)
    after['neighbours'] = [list(e) for e in sorted(kept.items())]
    if link is not None:
        before['fdb'] = [list(e) for e in _entries(fdb, ('mac', 'dst'))]
        before['neighbours'] = [list(e) for e in _entries(neighbours, ('ip', 'mac'))]

    up_ops, b, a = plan_interface(namespace, name, {'up': want['up']}, observed)
    ops += up_ops
    if link is not None:
        before.update(b)
    after.update(a)
    return Plan(ops, before, after)
