# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planners: plan(desired, observed) -> Plan(ops, before, after).

Nothing here touches the kernel. ``observed`` is plain data read by _kernel/observe.py; the
returned operations are executed in order by Kernel.apply(). ``before``/``after``
are the diff: the observed and the predicted state, limited to the fields the
request manages, so check mode predicts exactly what a real run reports.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


from ansible_collections.netplumb.container.plugins.module_utils._errors import Conflict, InvalidInput, NotFound
from ansible_collections.netplumb.container.plugins.module_utils._kernel.op import Op, label, where

INTERFACE_FIELDS = ('mac', 'mtu', 'alias', 'master', 'hairpin', 'link_local', 'addresses', 'up')
# What a caller of a planner may leave out: the modules' defaults, None meaning "leave as it is".
INTERFACE_WANT = dict(namespace=None, state='present', mtu=None, mac=None, alias=None, master=None,
                      hairpin=None, link_local=None, addresses=None, up=True)
BRIDGE_WANT = dict(INTERFACE_WANT, stp=None, ports=None, exclusive=False, force=False)
VETH_WANT = dict(INTERFACE_WANT, peer_mac=None, peer_addresses=None, peer_link_local=None, peer_alias=None)


def strict(message):
    """What a planner does by default when something the request refers to is missing."""
    raise NotFound(message)


class Plan(object):
    """Operations to run, the diff, and return values/warnings known before applying."""

    def __init__(self, ops=None, before=None, after=None):
        self.ops = ops or []
        self.before = before if before is not None else {}
        self.after = after if after is not None else {}
        self.returns = {}
        self.warnings = []

    @property
    def changed(self):
        return bool(self.ops)


# ---------------------------------------------------------------- interfaces

def plan_interface(namespace, name, desired, observed):
    """Reconcile the common attributes of one interface.

    ``desired`` maps INTERFACE_FIELDS to a value, None meaning "leave as it is";
    ``observed`` is the link as read (or as it will be right after an earlier op
    creates or moves it). Returns (ops, before, after) for the managed fields.
    """
    ops, before, after = [], {}, {}
    for field in INTERFACE_FIELDS:
        if desired.get(field) is None:
            continue
        before[field] = observed.get(field)
        after[field] = desired[field]

    def add(text, action='link_set', **args):
        ops.append(Op(action, namespace, name, text, **args))

    if 'mac' in after and before['mac'] != after['mac']:
        add('set MAC address %s' % after['mac'], address=after['mac'])
    if 'mtu' in after and before['mtu'] != after['mtu']:
        add('set MTU %d' % after['mtu'], mtu=after['mtu'])
    if 'alias' in after and before['alias'] != after['alias']:
        add('set alias %r' % after['alias'], alias=after['alias'])
    if 'master' in after and before['master'] != after['master']:
        add('attach to bridge %s' % after['master'], master=after['master'])
    # a port that joins another bridge starts with hairpin mode off, whatever it had before
    joins = 'master' in after and before['master'] != after['master']
    if 'hairpin' in after and (False if joins else bool(before['hairpin'])) != after['hairpin']:
        # a bridge port sends a frame back where it came from only in hairpin mode: an endpoint
        # reaching itself through its published port (br_netfilter bridges the DNATed frame)
        add('turn hairpin mode %s' % ('on' if after['hairpin'] else 'off'), hairpin=after['hairpin'])
    if 'link_local' in after and bool(before['link_local']) != after['link_local']:
        # sent with the settings that bring the link up (one request): the kernel never makes it
        add('make %s IPv6 link-local address' % ('an' if after['link_local'] else 'no'), link_local=after['link_local'])
    if 'addresses' in after:
        have = observed.get('addresses') or []
        for cidr in have:
            if cidr not in after['addresses']:
                add('remove address %s' % cidr, action='addr_del', address=cidr)
        for cidr in after['addresses']:
            if cidr not in have:
                add('add address %s' % cidr, action='addr_add', address=cidr)
    if 'up' in after and bool(before['up']) != after['up']:
        add('bring %s' % ('up' if after['up'] else 'down'), up=after['up'])
    return ops, before, after


def fresh(link=None):
    """The state of an interface right after it is created or moved to another namespace."""
    return {'mac': (link or {}).get('mac'), 'mtu': (link or {}).get('mtu'), 'alias': (link or {}).get('alias'),
            'master': None, 'hairpin': False, 'link_local': True, 'addresses': [], 'up': False}


def require_kind(link, kind, name, namespace):
    """An existing interface of the wanted name must be of the wanted kind: never take over another."""
    if link is not None and link['kind'] != kind:
        raise Conflict('%s %s: an interface of that name already exists in %s and is a %s, not a %s'
                       % (kind, name, where(namespace), link['kind'] or 'plain interface', kind))


def check_master(namespace, links, master, missing):
    if master is None:
        return
    bridge = links.get(master)
    if bridge is None:
        missing('master: bridge %s does not exist in %s' % (master, where(namespace)))
    elif bridge['kind'] != 'bridge':
        raise InvalidInput('master: %s in %s is a %s, not a bridge'
                           % (master, where(namespace), bridge['kind'] or 'plain interface'))


# ---------------------------------------------------------------- bridge

def plan_bridge(want, links, missing=strict):
    """``want``: name, namespace, state, mtu, mac, stp, addresses, up, ports, exclusive, force.
    ``links``: name -> link of the bridge's namespace. ``missing(message)`` is called for a
    port that does not exist: it raises (the default) or, in check mode, warns."""
    want = dict(BRIDGE_WANT, **want)
    name, namespace = want['name'], want['namespace']
    link = links.get(name)
    require_kind(link, 'bridge', name, namespace)
    ports_now = sorted(n for n, l in links.items() if l.get('master') == name)

    if want['state'] == 'absent':
        if link is None:
            return Plan(before={'state': 'absent'}, after={'state': 'absent'})
        if ports_now and not want['force']:
            raise Conflict('bridge %s still has ports %s; detach them first or set force: true'
                           % (label(namespace, name), ', '.join(ports_now)))
        return Plan([Op('link_del', namespace, name, 'delete bridge')],
                    before={'state': 'present', 'ports': ports_now}, after={'state': 'absent'})

    ports = want['ports']
    for port in ports or []:
        if port == name:
            raise InvalidInput('ports: bridge %s cannot be a port of itself' % name)
        if port not in links:
            missing('ports: interface %s does not exist in %s' % (port, where(namespace)))
        elif links[port]['kind'] == 'bridge':
            raise InvalidInput('ports: %s is a bridge; a bridge cannot be a port of another bridge' % port)

    ops = []
    if link is None:
        ops.append(Op('link_add', namespace, name, 'create bridge', kind='bridge'))
        observed = fresh()
        before = {'state': 'absent'}
    else:
        observed = link
        before = {'state': 'present'}
    after = {'state': 'present'}

    desired = dict((f, want.get(f)) for f in INTERFACE_FIELDS if f != 'master')
    up = desired.pop('up')
    iface_ops, b, a = plan_interface(namespace, name, desired, observed)
    ops += iface_ops
    before.update(b)
    after.update(a)

    if want['stp'] is not None:
        before['stp'] = observed.get('stp') if link is not None else False
        after['stp'] = want['stp']
        if before['stp'] != after['stp']:
            ops.append(Op('link_set', namespace, name, 'turn STP %s' % ('on' if want['stp'] else 'off'),
                          stp=want['stp']))

    if ports is not None:
        before['ports'] = ports_now
        for port in ports:
            if links.get(port, {}).get('master') != name:
                ops.append(Op('link_set', namespace, port, 'attach to bridge %s' % name, master=name))
        keep = set(ports)
        if want['exclusive']:
            for port in ports_now:
                if port not in keep:
                    ops.append(Op('link_set', namespace, port, 'detach from bridge %s' % name, master=''))
        else:
            keep.update(ports_now)
        after['ports'] = sorted(keep)

    # Bring the bridge up last, once its ports and addresses are in place.
    up_ops, b, a = plan_interface(namespace, name, {'up': up}, observed)
    ops += up_ops
    before.update(b)
    after.update(a)
    if link is None:
        before = {'state': 'absent'}     # nothing to show of what does not exist
    return Plan(ops, before, after)


# ---------------------------------------------------------------- veth

def _peer_of(link, links, peer_links, same_namespace):
    """Find the observed peer of veth ``link``: ('match', peer) when it sits in the
    wanted namespace, ('local', peer) when it is still in the host end's namespace
    under some name, ('elsewhere', None) otherwise."""
    if link.get('peer_netnsid') is None:
        for other in links.values():
            if other['index'] == link.get('peer_index'):
                return ('match' if same_namespace else 'local'), other
        return 'elsewhere', None
    if not same_namespace:
        for other in peer_links.values():
            if (other['kind'] == 'veth' and other['index'] == link.get('peer_index')
                    and other.get('peer_index') == link['index'] and other.get('peer_netnsid') is not None):
                return 'match', other
    return 'elsewhere', None


def plan_veth(want, links, peer_links, missing=strict):
    """``want``: name, namespace, peer, peer_namespace, state, mtu, mac, peer_mac,
    addresses, peer_addresses, master, up.  ``links``/``peer_links``: name -> link of
    the host end's and the peer's namespace (the same dict when they are the same)."""
    want = dict(VETH_WANT, **want)
    name, namespace = want['name'], want['namespace']
    peer, peer_namespace = want['peer'], want['peer_namespace']
    same_namespace = namespace == peer_namespace
    link = links.get(name)
    require_kind(link, 'veth', name, namespace)

    if want['state'] == 'absent':
        if link is None:
            return Plan(before={'state': 'absent'}, after={'state': 'absent'})
        return Plan([Op('link_del', namespace, name, 'delete veth pair')],
                    before={'state': 'present'}, after={'state': 'absent'})

    if same_namespace and peer == name:
        raise InvalidInput('peer: the peer name %s equals the veth name in the same namespace' % peer)
    check_master(namespace, links, want['master'], missing)

    state, peer_link = ('absent', None) if link is None else _peer_of(link, links, peer_links, same_namespace)
    if state == 'match' and peer_link['name'] != peer:
        # the right peer under another name: rename it where it is
        state = 'local' if same_namespace else 'rename'
    clash = peer_links.get(peer)
    if clash is not None and not (state == 'match' and clash is peer_link):
        raise Conflict('veth %s: the peer name %s is already taken in %s by a %s%s'
                       % (name, peer, where(peer_namespace), clash['kind'] or 'plain interface',
                          ' (alias %r)' % clash['alias'] if clash.get('alias') else ''))

    ops = []
    before = {'state': 'present' if link else 'absent'}
    if link is not None:
        before['peer'] = ({'name': peer_link['name'], 'namespace': namespace if state == 'local' else peer_namespace}
                          if peer_link else {'name': None, 'namespace': 'unknown'})
    after = {'state': 'present', 'peer': {'name': peer, 'namespace': peer_namespace}}

    if state in ('absent', 'elsewhere'):
        if state == 'elsewhere':
            ops.append(Op('link_del', namespace, name, 'delete veth pair whose peer is not %s'
                          % label(peer_namespace, peer)))
        ops.append(Op('link_add', namespace, name, 'create veth pair with peer %s' % label(peer_namespace, peer),
                      kind='veth', peer=peer, peer_namespace=peer_namespace))
        host_seen, peer_seen = fresh(), fresh()
    elif state == 'local':
        ops.append(Op('link_move', namespace, peer_link['name'], 'move to %s as %s' % (where(peer_namespace), peer),
                      to_namespace=peer_namespace, new_name=peer, same_namespace=same_namespace))
        # Renaming needs the link down; moving to another namespace also drops its addresses.
        host_seen = link
        peer_seen = dict(peer_link, up=False, master=None) if same_namespace else fresh(peer_link)
    elif state == 'rename':
        ops.append(Op('link_move', peer_namespace, peer_link['name'], 'rename to %s' % peer,
                      to_namespace=peer_namespace, new_name=peer, same_namespace=True))
        host_seen, peer_seen = link, dict(peer_link, up=False)
    else:
        host_seen, peer_seen = link, peer_link

    host_want = dict(mac=want['mac'], mtu=want['mtu'], master=want['master'], hairpin=want['hairpin'],
                     link_local=want['link_local'], addresses=want['addresses'], up=want['up'], alias=want.get('alias'))
    peer_want = dict(mac=want['peer_mac'], mtu=want['mtu'], link_local=want['peer_link_local'],
                     addresses=want['peer_addresses'], up=want['up'], alias=want['peer_alias'])
    # Peer first, so the host end's carrier comes up to a configured peer.
    peer_ops, peer_before, peer_after = plan_interface(peer_namespace, peer, peer_want, peer_seen)
    host_ops, host_before, host_after = plan_interface(namespace, name, host_want, host_seen)
    ops += peer_ops + host_ops
    if link is not None:
        before.update(host_before)
        before['peer'].update(peer_before)
    after.update(host_after)
    after['peer'].update(peer_after)
    return Plan(ops, before, after)


# ---------------------------------------------------------------- netns

def plan_netns(want, observed):
    """``want``: name, state, pid, force, loopback.  ``observed``: exists, id, stale,
    loopback_up (None when absent), pid_id (namespace id of ``pid``)."""
    name = want['name']
    exists = observed['exists']
    if want['state'] == 'absent':
        if not exists and not observed.get('stale'):
            return Plan(before={'state': 'absent'}, after={'state': 'absent'})
        return Plan([Op('netns_delete', None, name, 'remove the name from /run/netns')],
                    before={'state': 'present' if exists else 'stale'}, after={'state': 'absent'})

    ops = []
    before = {'state': 'present' if exists else 'absent'}
    after = {'state': 'present'}
    fresh = not exists
    if want['pid'] is not None:
        before['id'] = observed['id']
        after['id'] = observed['pid_id']
        if exists and observed['id'] != observed['pid_id']:
            if not want['force']:
                raise Conflict('netns %s already names another namespace (id %s) than process %d uses (id %s); '
                               'set force: true to point the name at the process' % (
                                   name, observed['id'], want['pid'], observed['pid_id']))
            ops.append(Op('netns_delete', None, name, 'remove the name from the namespace with id %s' % observed['id']))
            fresh = True
        if fresh:
            ops.append(Op('netns_attach', None, name, 'name the namespace of process %d' % want['pid'],
                          pid=want['pid']))
    elif fresh:
        ops.append(Op('netns_create', None, name, 'create network namespace'))

    if want['loopback']:
        # An adopted namespace keeps its loopback state; a new one starts with lo down.
        lo_up = observed.get('pid_loopback_up') if fresh and want['pid'] is not None else (
            False if fresh else observed.get('loopback_up'))
        before['loopback_up'] = observed.get('loopback_up') if exists else None
        after['loopback_up'] = True
        if not lo_up:
            ops.append(Op('link_set', name, 'lo', 'bring up', up=True))
    return Plan(ops, before, after)
