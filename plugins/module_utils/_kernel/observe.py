# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel side of the engine: observe state over netlink into plain data (``Kernel``),
and apply planned operations (its other half, ``changes.Changes``)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.netplumb.container.plugins.module_utils._errors import NotFound
from ansible_collections.netplumb.container.plugins.module_utils._kernel import rtnl as _rtnl
from ansible_collections.netplumb.container.plugins.module_utils._kernel.changes import NUD_PERMANENT, Changes
from ansible_collections.netplumb.container.plugins.module_utils._kernel.handles import Handles

NTF_EXT_LEARNED = 0x10      # an entry a control plane (FRR's zebra) installed: never ours to keep or remove
from ansible_collections.netplumb.container.plugins.module_utils._kernel.links import link_views
from ansible_collections.netplumb.container.plugins.module_utils._kernel.netns import (
    in_namespace, held_namespace_ids, kernel_reason, mount_points, namespace_id, namespace_pids, netns_exists,
    netns_path)


class Kernel(Changes):
    """Netlink handles per namespace (None = the namespace the module runs in): _rtnl's lean
    readers for observation (cached dumps), pyroute2 for changes. Use as a context manager.

    In check mode (``assume_missing``) a namespace, bridge, port or device that the
    request refers to but that does not exist yet is assumed to be made by an earlier
    task of the same run: observation sees it empty and ``warnings`` says so, so a
    playbook of dependent tasks can be checked on a bare host. A real run fails instead."""

    def __init__(self, assume_missing=False):
        self.assume_missing = assume_missing
        self.warnings = []
        self._handles = Handles()      # pyroute2's, for changes
        self._readers = Handles()      # _rtnl's, for observation
        self._links = {}
        self._mounts = None
        self._indexes = {}
        self._held = None
        self._kinds = {}
        self._ending = {}       # namespace -> (watch socket, indexes of links that end with namespaces)

    def netns_exists(self, name):
        # one read of mountinfo per observation, not one per question: hosts have hundreds of namespaces
        if self._mounts is None:
            self._mounts = mount_points()
        return netns_exists(name, self._mounts)

    def missing(self, message):
        if not self.assume_missing:
            raise NotFound(message)
        warning = '%s; check mode assumes an earlier task creates it (a real run fails if none does)' % message
        if warning not in self.warnings:
            self.warnings.append(warning)

    def _absent_namespace(self, namespace, option):
        """True (after a warning) for a missing namespace in check mode; raises otherwise."""
        if namespace is None or self.netns_exists(namespace):
            return False
        self.missing('%s: network namespace %s does not exist (%s is not mounted)'
                     % (option, namespace, netns_path(namespace)))
        return True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._handles.close()
        self._readers.close()

    # ---------------------------------------------------------- namespaces

    def require_namespace(self, namespace, option='namespace'):
        if namespace is not None and not self.netns_exists(namespace):
            raise NotFound('%s: network namespace %s does not exist (%s is not mounted)'
                           % (option, namespace, netns_path(namespace)))

    def reader(self, namespace):
        """The observation socket of ``namespace`` (which must exist)."""
        def opener():
            try:
                return _rtnl.Socket() if namespace is None else in_namespace(netns_path(namespace), _rtnl.Socket)
            except OSError as error:
                raise NotFound('network namespace %s cannot be opened: %s' % (namespace, kernel_reason(error)))
        return self._readers.get(namespace or '', opener)

    def observe_netns(self, name, pid=None, holders=False, inside=True):
        """``holders``: also whether a process is in the namespace (``held``), for one that may go;
        ``inside``: also the state of its loopback (a namespace that goes is not entered)."""
        path = netns_path(name)
        exists = self.netns_exists(name)
        observed = {'exists': exists, 'stale': os.path.exists(path) and not exists,
                    'id': namespace_id(path) if exists else None, 'loopback_up': None}
        if holders and exists:
            if self._held is None:
                self._held = held_namespace_ids()
            observed['held'] = observed['id'] in self._held
        if exists and inside:
            observed['loopback_up'] = self.links(name).get('lo', {}).get('up')
        if pid is not None:
            pid_path = '/proc/%d/ns/net' % pid
            try:
                observed['pid_id'] = namespace_id(pid_path)
            except OSError as error:
                raise NotFound('pid: process %d has no network namespace to adopt (%s: %s)'
                               % (pid, pid_path, kernel_reason(error)))
            observed['pid_loopback_up'] = (observed['loopback_up'] if observed['pid_id'] == observed['id']
                                           else self._loopback_up(pid_path))
        return observed

    def _loopback_up(self, path):
        """State of lo in the namespace at ``path`` (a process's, which has no name yet)."""
        reader = in_namespace(path, _rtnl.Socket)
        try:
            return any(link['name'] == 'lo' and link['up'] for link in _rtnl.links(reader).values())
        finally:
            reader.close()

    def describe_netns(self, name):
        """What the netns module returns: id, processes holding it, interfaces."""
        path = netns_path(name)
        if not netns_exists(name):
            return None
        ns_id = namespace_id(path)
        return {'name': name, 'path': path, 'id': ns_id, 'pids': namespace_pids(ns_id),
                'interfaces': sorted(self.links(name))}

    # ---------------------------------------------------------- observe

    def invalidate(self):
        self._links = {}
        self._mounts = None
        self._indexes = {}
        self._held = None

    def supports(self, kind):
        """Whether the kernel makes links of ``kind`` (macvlan, ipvlan, vlan); asked in the
        namespace the module runs in, once per kind and run."""
        if kind not in self._kinds:
            self._kinds[kind] = _rtnl.link_kind_known(self.reader(None), kind)
        return self._kinds[kind]

    def links(self, namespace, option='namespace'):
        """name -> {name, index, kind, mtu, mac, up, master, hairpin, peer_index, peer_netnsid, stp, addresses}."""
        key = namespace or ''
        if key not in self._links and self._absent_namespace(namespace, option):
            return {}
        if key not in self._links:
            self.require_namespace(namespace)
            reader = self.reader(namespace)
            self._links[key] = link_views(_rtnl.links(reader), _rtnl.addresses(reader))
        return self._links[key]

    def fdb(self, namespace, name):
        """Static VTEP entries of a vxlan device: [{mac, dst}] (bridge entries without a
        destination are the bridge's, not ours; those an EVPN daemon installed, extern_learn, are
        its own: on a host running FRR, zebra learns a static overlay's VNI too)."""
        link = self.links(namespace).get(name)
        if link is None:
            return []
        return [{'mac': entry['mac'], 'dst': entry['dst']}
                for entry in _rtnl.neighbours(self.reader(namespace), _rtnl.AF_BRIDGE, link['index'])
                if entry['dst'] is not None and not entry['flags'] & NTF_EXT_LEARNED]

    def neighbours(self, namespace, name):
        """Permanent neighbour (ARP/ND) entries of an interface: [{ip, mac}]."""
        link = self.links(namespace).get(name)
        if link is None:
            return []
        return [{'ip': entry['dst'], 'mac': entry['mac']}
                for entry in _rtnl.neighbours(self.reader(namespace), _rtnl.AF_UNSPEC, link['index'])
                if entry['state'] & NUD_PERMANENT and entry['mac'] and not entry['flags'] & NTF_EXT_LEARNED]

    def routes(self, namespace):
        """Unicast routes of the main table: [{dst, gateway, dev, metric, proto}]."""
        if self._absent_namespace(namespace, 'namespace'):
            return []
        names = dict((link['index'], name) for name, link in self.links(namespace).items())
        found = _rtnl.routes(self.reader(namespace))
        for route in found:
            route['dev'] = names.get(route.pop('oif'))
        return found
