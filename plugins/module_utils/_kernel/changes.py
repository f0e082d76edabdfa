# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel's change side: planned operations (``_objects/plan.Op``) applied over netlink with
pyroute2 (link deletions and namespace removals without it), grouped into as few requests as they
allow, and undone in reverse on the first failure. ``Changes`` is half of ``observe.Kernel``, whose
other half observes; it uses the
kernel's namespaces and readers (``require_namespace``, ``reader``, ``invalidate``).
Works with pyroute2 0.7 (Debian 12) and 0.9."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import importlib.util
import ipaddress
import os
import traceback

from ansible_collections.netplumb.container.plugins.module_utils._errors import KernelError, NotFound
from ansible_collections.netplumb.container.plugins.module_utils._kernel import rtnl as _rtnl
from ansible_collections.netplumb.container.plugins.module_utils._kernel.netns import (
    in_namespace, is_mounted, kernel_reason, create_netns, netns_path, remove_netns)
from ansible_collections.netplumb.container.plugins.module_utils._kernel.op import Op, where
from ansible_collections.netplumb.container.plugins.module_utils._kernel.rtnl import LinkWatch

# pyroute2 makes the changes; observation (rtnl) does without it. It is loaded on the first
# change (importing it costs a third of a second, more than a run with nothing to change), and
# whether it can be is known at once, so a module without it fails before anything changes.
PYROUTE2_IMPORT_ERROR = None
try:
    if importlib.util.find_spec('pyroute2') is None:
        raise ImportError('No module named pyroute2')
except ImportError:
    PYROUTE2_IMPORT_ERROR = traceback.format_exc()
IPRoute = pyroute2_netns = None
NetlinkError = OSError          # pyroute2's own once it is loaded


def _load_pyroute2():
    global IPRoute, pyroute2_netns, NetlinkError
    if IPRoute is None:
        from pyroute2 import IPRoute as iproute, netns
        from pyroute2.netlink.exceptions import NetlinkError as netlink_error
        IPRoute, pyroute2_netns, NetlinkError = iproute, netns, netlink_error


MAIN_TABLE = 254
IPVLAN_MODES = {'l2': 0, 'l3': 1}
NUD_PERMANENT = 0x80
NUD_NOARP = 0x40
NTF_SELF = 0x02
IFA_F_NODAD = 0x02


def _requests(ops):
    """``ops`` in order, grouped into what one request each does: the link_set operations of one
    link that follow each other - or have only address changes of that link between them - and
    set different things form one group (_op_link_set applies it, before those address changes:
    an address is added as well to a link that is up); anything else is a group of its own."""
    groups, open_set = [], None      # open_set: the link_set group later settings of its link may join
    for op in ops:
        target = (op.namespace, op.name)
        if op.action == 'link_set' and open_set is not None and target == (open_set[0].namespace, open_set[0].name) \
                and not set(op.args) & set(k for o in open_set for k in o.args):
            open_set.append(op)
            continue
        groups.append([op])
        if op.action == 'link_set':
            open_set = groups[-1]
        elif not (op.action in ('addr_add', 'addr_del') and open_set is not None
                  and target == (open_set[0].namespace, open_set[0].name)):
            open_set = None
    return groups


class Changes(object):
    """How a Kernel applies operations: pyroute2's handle per namespace, and one method per
    operation's action (``_op_<action>``)."""

    def handle(self, namespace):
        """pyroute2's handle of ``namespace``, for changes."""
        _load_pyroute2()

        def opener():
            if namespace is None:
                return IPRoute()
            self.require_namespace(namespace)
            try:
                return in_namespace(netns_path(namespace), IPRoute)
            except OSError as error:
                raise NotFound('network namespace %s cannot be opened: %s' % (namespace, kernel_reason(error)))
        return self._handles.get(namespace or '', opener)

    def apply(self, ops):
        """Run ``ops`` in order. On the first failure, undo what this call created
        (interfaces, addresses, routes, namespace names) and raise KernelError."""
        done = []
        try:
            for group in _requests(ops):
                op = group[0] if len(group) == 1 else Op('link_set', group[0].namespace, group[0].name,
                                                         ', '.join(o.text for o in group),
                                                         **dict(kv for o in group for kv in o.args.items()))
                try:
                    getattr(self, '_op_' + op.action)(op)
                except (NetlinkError, OSError) as error:
                    raise KernelError(op.obj, op.text, kernel_reason(error))
                done += group
            self._wait_ended()
        except KernelError as error:
            undone = self._undo(done)
            if undone:
                error.args = ('%s (undid: %s)' % (error.args[0], '; '.join(undone)),)
            raise
        finally:
            for watch, _indexes in self._ending.values():
                watch.close()
            self._ending = {}
            self.invalidate()

    def _undo(self, done):
        undone = []
        for op in reversed(done):
            undo = {'link_add': ('link_del', 'delete %s' % op.obj),
                    'fdb_add': ('fdb_del', 'remove forwarding entry %s -> %s' % (op.args.get('mac'), op.args.get('dst'))),
                    'fdb_replace': ('fdb_restore', 'move forwarding entry %s back to %s' % (
                        op.args.get('mac'), op.args.get('was'))),
                    'neigh_add': ('neigh_del', 'remove neighbour %s' % op.args.get('ip')),
                    'addr_add': ('addr_del', 'remove address %s from %s' % (op.args.get('address'), op.obj)),
                    'route_add': ('route_del', 'delete route %s' % op.name),
                    'netns_create': ('netns_delete', 'remove netns %s' % op.name),
                    'netns_attach': ('netns_delete', 'remove netns %s' % op.name)}.get(op.action)
            if undo is None:
                continue
            try:
                getattr(self, '_op_' + undo[0])(op)
                undone.append(undo[1])
            except (NetlinkError, OSError):
                pass        # best effort: the original error is what the user must see
        return undone

    def _index(self, namespace, name):
        # Looked up once per interface and call, with _rtnl: pyroute2's lookup decodes the whole
        # link message, which costs more than the change it is looked up for.
        key = (namespace, name)
        if key not in self._indexes:
            index = _rtnl.link_index(self.reader(namespace), name)
            if index is None:
                raise NotFound('%s does not exist in %s' % (name, where(namespace)))
            self._indexes[key] = index
        return self._indexes[key]

    def _op_netns_create(self, op):
        path = netns_path(op.name)
        if os.path.exists(path) and not is_mounted(path):
            os.unlink(path)     # a stale name left by an interrupted tool holds no namespace
        create_netns(op.name)
        self._mounted_now(op.name, True)

    def _op_netns_attach(self, op):
        _load_pyroute2()
        pyroute2_netns.attach(op.name, op.args['pid'])
        self._mounted_now(op.name, True)

    def _op_netns_delete(self, op):
        self._handles.discard(op.name)
        self._readers.discard(op.name)
        for link in op.args.get('takes', []):
            # watch before the name goes: the kernel may end the namespace at once
            if link['namespace'] not in self._ending:
                self._ending[link['namespace']] = (self._watch(link['namespace']), set())
            self._ending[link['namespace']][1].add(link['index'])
        remove_netns(op.name)
        self._mounted_now(op.name, False)

    def _watch(self, namespace):
        return LinkWatch() if namespace is None else in_namespace(netns_path(namespace), LinkWatch)

    def _wait_ended(self):
        """Return once the links that end with removed namespaces are gone: the kernel ends
        namespaces in a worker, and a run must leave no half-removed state behind. A link whose
        namespace outlived its name (held by an open file) is deleted here."""
        ending, self._ending = self._ending, {}
        for namespace, (watch, indexes) in sorted(ending.items(), key=lambda item: item[0] or ''):
            try:
                left = watch.wait_deleted(indexes)
            finally:
                watch.close()
            for index in sorted(left):
                try:
                    self.handle(namespace).link('del', index=index)
                except NetlinkError as error:
                    if error.code != errno.ENODEV:
                        raise KernelError('link %d' % index, 'delete a veth pair whose namespace outlived its name',
                                          kernel_reason(error))

    def _mounted_now(self, name, mounted):
        if self._mounts is not None:
            (self._mounts.add if mounted else self._mounts.discard)(netns_path(name))

    def _op_link_add(self, op):
        handle = self.handle(op.namespace)
        if op.args['kind'] == 'bridge':
            handle.link('add', ifname=op.name, kind='bridge')
            return
        if op.args['kind'] == 'vxlan':
            spec = {'vxlan_id': op.args['vni'], 'vxlan_port': op.args['dstport'],
                    'vxlan_learning': 1 if op.args['learning'] else 0}
            if op.args['local']:
                spec['vxlan_local'] = op.args['local']
            if op.args['dev']:
                spec['vxlan_link'] = self._index(op.namespace, op.args['dev'])
            if op.args.get('proxy'):
                spec['vxlan_proxy'] = 1     # answer ARP from the neighbour table, as Docker's overlay does
            handle.link('add', ifname=op.name, kind='vxlan', **spec)
            return
        if op.args['kind'] in ('macvlan', 'ipvlan', 'vlan'):
            # made on its parent in the parent's namespace; an endpoint's is moved into its namespace next
            spec = {'link': self._index(op.namespace, op.args['parent'])}
            if op.args['kind'] == 'macvlan':
                spec['macvlan_mode'] = op.args['mode']
            elif op.args['kind'] == 'ipvlan':
                spec['ipvlan_mode'] = IPVLAN_MODES[op.args['mode']]
            else:
                spec['vlan_id'] = op.args['vlan_id']
            handle.link('add', ifname=op.name, kind=op.args['kind'], **spec)
            return
        peer = {'ifname': op.args['peer']}
        if op.args['peer_namespace'] != op.namespace:
            self.require_namespace(op.args['peer_namespace'], 'peer_namespace')
            if op.args['peer_namespace'] is None:
                peer['net_ns_pid'] = os.getpid()     # the module's own namespace has no name
            else:
                peer['net_ns_fd'] = op.args['peer_namespace']
        handle.link('add', ifname=op.name, kind='veth', peer=peer)

    def _op_link_del(self, op):
        self.reader(op.namespace).delete_link(self._index(op.namespace, op.name))
        self._indexes = {}      # a veth takes its peer along

    def _op_link_move(self, op):
        handle = self.handle(op.namespace)
        index = self._index(op.namespace, op.name)
        self._indexes.pop((op.namespace, op.name))
        handle.link('set', index=index, state='down')   # older kernels refuse to rename a link that is up
        if op.args['same_namespace']:
            handle.link('set', index=index, ifname=op.args['new_name'])
        elif op.args['to_namespace'] is None:
            handle.link('set', index=index, net_ns_pid=os.getpid(), ifname=op.args['new_name'])
        else:
            handle.link('set', index=index, net_ns_fd=op.args['to_namespace'], ifname=op.args['new_name'])

    def _op_link_set(self, op):
        handle = self.handle(op.namespace)
        index = self._index(op.namespace, op.name)
        args = op.args
        # One request for what a plain link change carries (address, MTU, alias, master, up or
        # down: the end state is the same in any order); kind-specific settings need their own.
        change = dict((field, args[key]) for key, field in (('address', 'address'), ('mtu', 'mtu'), ('alias', 'ifalias'))
                      if key in args)
        if 'master' in args:
            change['master'] = self._index(op.namespace, args['master']) if args['master'] else 0
        if 'up' in args:
            change['state'] = 'up' if args['up'] else 'down'
        if 'link_local' in args and os.path.isdir('/proc/sys/net/ipv6'):     # else the kernel has no IPv6
            mode = _rtnl.IN6_ADDR_GEN_MODE_EUI64 if args['link_local'] else _rtnl.IN6_ADDR_GEN_MODE_NONE
            change['IFLA_AF_SPEC'] = {'attrs': [('AF_INET6', {'attrs': [('IFLA_INET6_ADDR_GEN_MODE', mode)]})]}
        if change:
            handle.link('set', index=index, **change)
        if 'hairpin' in args:
            handle.link('set', index=index, kind='bridge_slave', mode=1 if args['hairpin'] else 0)
        if 'neigh_suppress' in args:      # an EVPN VTEP's port: FRR answers ARP and ND, the bridge learns nothing
            handle.link('set', index=index, kind='bridge_slave', neigh_suppress=1 if args['neigh_suppress'] else 0,
                        learning=1 if args['port_learning'] else 0)
        if 'stp' in args:
            handle.link('set', index=index, kind='bridge', br_stp_state=1 if args['stp'] else 0)
        if 'learning' in args:
            handle.link('set', index=index, kind='vxlan', vxlan_learning=1 if args['learning'] else 0)

    def _op_addr_add(self, op, action='add'):
        iface = ipaddress.ip_interface(op.args['address'])
        # An IPv6 address is usable at once, as Docker's are: duplicate address detection would
        # hold it tentative for a second or two, and IPAM already made it unique on the link.
        extra = {'flags': IFA_F_NODAD} if iface.version == 6 and action == 'add' else {}
        self.handle(op.namespace).addr(action, index=self._index(op.namespace, op.name),
                                       address=str(iface.ip), prefixlen=iface.network.prefixlen, **extra)

    def _op_addr_del(self, op):
        self._op_addr_add(op, 'del')

    def _op_fdb_add(self, op, action='append'):
        # append, not add: several all-zero (flood) entries to different VTEPs coexist
        self.handle(op.namespace).fdb(action, ifindex=self._index(op.namespace, op.name),
                                      lladdr=op.args['mac'], dst=op.args['dst'])

    def _op_fdb_del(self, op):
        self._op_fdb_add(op, 'del')

    def _op_fdb_replace(self, op, dst=None):
        # pyroute2 fills in state and flags for add, append and del only: without NTF_SELF the kernel
        # gives a bridge port's entry to its bridge (a static entry in br0), else refuses
        self.handle(op.namespace).fdb('replace', ifindex=self._index(op.namespace, op.name), lladdr=op.args['mac'],
                                      dst=dst or op.args['dst'], state=NUD_PERMANENT | NUD_NOARP, flags=NTF_SELF)

    def _op_fdb_restore(self, op):
        self._op_fdb_replace(op, op.args['was'])

    def _op_neigh_add(self, op, action='add'):
        self.handle(op.namespace).neigh(action, dst=op.args['ip'], lladdr=op.args['mac'],
                                        ifindex=self._index(op.namespace, op.name), state=NUD_PERMANENT)

    def _op_neigh_replace(self, op):
        self._op_neigh_add(op, 'replace')

    def _op_neigh_del(self, op):
        self._op_neigh_add(op, 'del')

    def _op_route_add(self, op, action='add'):
        route = op.args['route']
        spec = {'dst': route['dst'], 'table': MAIN_TABLE}
        if route.get('gateway'):
            spec['gateway'] = route['gateway']
        if route.get('dev'):
            spec['oif'] = self._index(op.namespace, route['dev'])
        if route.get('metric') is not None:
            spec['priority'] = route['metric']
        self.handle(op.namespace).route(action, **spec)

    def _op_route_replace(self, op):
        self._op_route_add(op, 'replace')

    def _op_route_del(self, op):
        self._op_route_add(op, 'del')
