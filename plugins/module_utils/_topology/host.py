# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The topology module against one host: observe what the plan needs, then the steps that apply
it. ``reconcile`` is the whole module: validate -> observe -> resolve -> plan -> steps."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import socket

from ansible_collections.netplumb.container.plugins.module_utils._dns import server as name_server
from ansible_collections.netplumb.container.plugins.module_utils._dns import redirect
from ansible_collections.netplumb.container.plugins.module_utils._firewall import firewalld as _firewalld
from ansible_collections.netplumb.container.plugins.module_utils._firewall.backends import backend, nft_available
from ansible_collections.netplumb.container.plugins.module_utils._kernel.sysctl import Sysctl
from ansible_collections.netplumb.container.plugins.module_utils._firewall.coexist import parse_ruleset
from ansible_collections.netplumb.container.plugins.module_utils._firewall.facts import BRIDGE_NF, route_localnet
from ansible_collections.netplumb.container.plugins.module_utils._firewall.nftables import Nft, parse_table
from ansible_collections.netplumb.container.plugins.module_utils._files import ensure_dir, exclusive, read_text, remove_file, write_atomically
from ansible_collections.netplumb.container.plugins.module_utils._objects.ipam import Store
from ansible_collections.netplumb.container.plugins.module_utils._runner import Change
from ansible_collections.netplumb.container.plugins.module_utils._boot import files as boot
from ansible_collections.netplumb.container.plugins.module_utils._boot.desired import desired_path, digest, read_desired
from ansible_collections.netplumb.container.plugins.module_utils._topology.hold import hold_back
from ansible_collections.netplumb.container.plugins.module_utils._topology.model import model as semantic_model
from ansible_collections.netplumb.container.plugins.module_utils._topology.model import thaw
from ansible_collections.netplumb.container.plugins.module_utils._kernel.netns import hosts_path, resolv_path
from ansible_collections.netplumb.container.plugins.module_utils._topology.names import OVERLAY_VTEP
from ansible_collections.netplumb.container.plugins.module_utils._kernel.sysctl import (
    SYSCTL_FORWARD, SYSCTL_FORWARD_V6, SYSCTL_NEIGHBOURS)
from ansible_collections.netplumb.container.plugins.module_utils._topology.planner import plan
from ansible_collections.netplumb.container.plugins.module_utils._topology.record import pending, read_record, record_path, write_record
from ansible_collections.netplumb.container.plugins.module_utils._topology.model_networks import lan_network
from ansible_collections.netplumb.container.plugins.module_utils._topology.resolve import lan_kinds, resolve

LOCK = '.topology.lock'


def observe(kernel, model, record, store, firewall, sysctl, keep=None, state_dir=None):
    """Everything the planner reads, in one look: namespaces of declared and recorded endpoints
    and overlays, host links, pools, hosts files, firewall rules, sysctls; with ``keep`` (the
    params of a run that keeps the desired state), the desired state file and the boot files."""
    namespaces = {}
    for ep in model['endpoints']:
        if ep['namespace']:
            namespaces[ep['namespace']] = ep['pid'] if ep['state'] == 'present' else None
    for rec in record['endpoints'].values():
        if rec.get('namespace'):
            namespaces.setdefault(rec['namespace'], None)
    overlays = set(n['namespace'] for n in model['networks'] if n['namespace'])
    overlays.update(rec['namespace'] for rec in record['networks'].values() if rec.get('namespace'))
    staying = set(ep['namespace'] for ep in model['endpoints'] if ep['state'] == 'present')
    redirects = dict((rec['namespace'], rec['dns']) for rec in record['endpoints'].values() if rec.get('dns'))
    # a LAN interface is deleted inside the namespace when a process keeps the namespace alive
    on_lans = set(rec['namespace'] for rec in record['endpoints'].values()
                  if any(att.get('driver') for att in (rec.get('attachments') or {}).values()))
    seen = {}
    for ns, pid in sorted(namespaces.items()) + [(ns, None) for ns in sorted(overlays)]:
        # A namespace that goes is not read inside: what its removal deletes on the host side
        # (veth ends, records, files) is read there, and the rest ends with the namespace.
        going = ns in namespaces and ns not in staying and ns not in overlays
        netns = kernel.observe_netns(ns, pid, holders=going, inside=not going or ns in on_lans)
        inside = netns['exists'] and (not going or ns in on_lans)
        seen[ns] = {'netns': netns, 'links': kernel.links(ns) if inside else {},
                    'routes': kernel.routes(ns) if inside else [],
                    'dns_redirect': inside and redirect.made(ns, redirects.get(ns))}
        if ns in overlays and OVERLAY_VTEP in seen[ns]['links']:
            seen[ns]['fdb'] = kernel.fdb(ns, OVERLAY_VTEP)
            seen[ns]['neighbours'] = kernel.neighbours(ns, OVERLAY_VTEP)
    # one nftables listing: our table (nftables backend) and the other tables' chains (coexistence)
    ruleset = Nft().list_ruleset() if nft_available() else {'nftables': []}
    sysctls = [SYSCTL_FORWARD, SYSCTL_FORWARD_V6, SYSCTL_NEIGHBOURS] + sorted(BRIDGE_NF.values()) + [
        route_localnet(n['bridge']) for n in model['networks'] if n['driver'] == 'bridge']
    host_links = kernel.links(None)
    kinds = set(kind for n in model['networks'] if n['state'] == 'present' and lan_network(n)
                for kind in lan_kinds(n, host_links))
    observed = {
        'record': record, 'pools': store.all(), 'host_links': host_links, 'namespaces': seen,
        'kinds': dict((kind, kernel.supports(kind)) for kind in sorted(kinds)),
        'host_routes': kernel.routes(None),
        'hosts': dict((hosts_path(ns), read_text(hosts_path(ns))) for ns in namespaces),
        'resolv': dict((resolv_path(ns), read_text(resolv_path(ns))) for ns in namespaces),
        'dns': name_server.observe(state_dir, asks_names(model)),
        'firewall': {'backend': firewall.name,
                     'state': parse_table(ruleset) if firewall.name == 'nftables' else firewall.observe()},
        'foreign': parse_ruleset(ruleset),
        'firewalld_files': _firewalld.observe(),
        'hostname': socket.gethostname(),
        'sysctl': dict((k, sysctl.get(k)) for k in sysctls)}
    retired = retired_backend(record, firewall.name)
    if retired:
        observed['retired_firewall'] = {'backend': retired, 'state': backend(retired).observe()}
    if keep is not None:
        observed['desired'] = read_text(desired_path(keep['state_dir']))
        observed['boot_files'] = boot.observe_files()
        # the sources the boot copy must hold, the restore command's among them (it imports this file)
        from ansible_collections.netplumb.container.plugins.module_utils._topology import restore  # noqa: F401 pylint: disable=unused-import
        observed['engine'] = boot.engine_files()
    return observed


def asks_names(model):
    """Whether the declarations may need the name server (then the host is looked at for it)."""
    return model['name_server'] == 'unbound' and any(
        n['state'] == 'present' and n['driver'] == 'bridge' for n in model['networks'])


def _redirect_steps(redirects, made):
    """The steps of the DNS redirects a plan removes (``made`` False) or makes."""
    return [('DNS redirect in namespace %s' % ns, lambda ns=ns, wanted=wanted: redirect.apply(ns, wanted))
            for ns, wanted in sorted(redirects.items()) if (wanted is not None) == made]


def retired_backend(record, current):
    """The backend the host's rules were made with when it is of the other kind than ``current``
    (nftables vs iptables), else None. A record without one is 0.2's: iptables."""
    if not [r for r in record['networks'].values() if not r.get('namespace')]:
        return None
    before = record.get('firewall_backend', 'iptables')
    return before if (before == 'nftables') != (current == 'nftables') else None


class StateDir(object):
    """The state directory, locked for one run at a time, and left as it was before the first run
    once nothing of ours is in it: no record, desired state, pools, lock file - and no directory,
    when a run of ours made it (the record says so while it lasts)."""

    def __init__(self, path):
        self.path = path
        self.made = not os.path.isdir(path)
        self._lock = None

    def __enter__(self):
        self._lock = exclusive(os.path.join(self.path, LOCK))
        self._lock.__enter__()
        return self

    def __exit__(self, *failure):
        try:
            if not os.path.exists(record_path(self.path)) and not os.path.exists(desired_path(self.path)):
                Store(os.path.join(self.path, 'ipam')).tidy()
                for name in os.listdir(self.path):
                    if name.endswith('.tmp') or name == LOCK:
                        os.unlink(os.path.join(self.path, name))
                if self.made and not os.listdir(self.path):
                    os.rmdir(self.path)
        finally:
            self._lock.__exit__(*failure)

    def finish(self, record):
        """The last step: the new record, or with nothing of ours left, none (``__exit__`` tidies)."""
        if record['networks'] or record['endpoints']:
            write_record(self.path, dict(record, state_dir_made=self.made))
        else:
            remove_file(record_path(self.path))

    def plan_finish(self, record, old, actions):
        """The record's removal said as an action, so check mode predicts it."""
        self.made = self.made or bool(old.get('state_dir_made'))
        if not record['networks'] and not record['endpoints'] and os.path.exists(record_path(self.path)):
            actions.append('%s: remove (nothing of netplumb\'s is left on the host)' % record_path(self.path))


def _lock(run, state_dir):
    """One run at a time on a host. Check mode takes no lock and creates nothing."""
    state = StateDir(state_dir)
    if not run.check_mode:
        run.hold(state)
    return state


def _write_files(files):
    for path, text in sorted(files.items()):
        if text is None:
            remove_file(path)
            if not os.listdir(os.path.dirname(path)):
                os.rmdir(os.path.dirname(path))
        else:
            ensure_dir(os.path.dirname(path), 0o755)
            write_atomically(path, text, 0o644)


def _write_pools(store, pools):
    with store.locked(create=True):
        for name, data in sorted(pools.items()):
            if data is not None:
                store.write(name, data)


def _remove_pools(store, pools):
    """Last, once nothing of the pools' networks is left."""
    with store.locked(create=True):
        for name, data in sorted(pools.items()):
            if data is None:
                store.remove(name)


def diff_view(view):
    """The before or after view as the diff shows it: an endpoint's hosts file by its digest. Its
    lines are the leases of its networks, which the networks' views list once; in full, a thousand
    endpoints would make a diff of a thousand files of a thousand lines."""
    view = thaw(view)
    for endpoint in view['endpoints'].values():
        if 'hosts' in endpoint:
            endpoint['hosts'] = {'path': endpoint['hosts']['path'], 'digest': digest(endpoint['hosts']['text'])}
    return view


def reconcile(run, params, restoring=False):
    """The module: ``params`` as AnsibleModule validated them with the spec (``spec``), so only
    the semantic checks are left to run. ``restoring``: they are a kept desired state
    (``desired``), checked when they were kept, and are not kept again."""
    state_dir = params['state_dir']
    held = sorted(params.get('hold') or [])
    if held:
        params, waiting = hold_back(params, read_desired(state_dir)['arguments']
                                    if os.path.exists(desired_path(state_dir)) else {})
    model = semantic_model(params)
    store = Store(os.path.join(state_dir, 'ipam'))
    firewall, sysctl = backend(params['backend']), Sysctl()
    state = _lock(run, state_dir)
    record = read_record(state_dir)
    # a restore rebuilds from the desired state and keeps nothing new
    keep = None if restoring else params
    observed = dict(observe(run.kernel, model, record, store, firewall, sysctl, keep, state_dir), restoring=restoring)
    result = plan(resolve(model, observed), observed, params['purge'], keep)
    steps = [('record', lambda: write_record(state_dir, pending(record, result.record))),
             ('ipam leases', lambda: _write_pools(store, result.pools))]
    # a redirect goes while its namespace still has its name (the kernel step may remove it), and
    # comes once the namespace is made
    steps += _redirect_steps(result.redirects, made=False)
    steps.append(('kernel', lambda: run.kernel.apply(result.ops)))
    if result.retired:
        steps.append(('firewall (%s, used before)' % result.retired[0],
                      lambda: backend(result.retired[0]).apply(result.retired[1])))
    if result.firewall:
        steps.append(('firewall', lambda: firewall.apply(result.firewall)))
    if result.coexistence:
        steps.append(('firewall coexistence', lambda: Nft().apply('\n'.join(result.coexistence) + '\n')))
    if result.firewalld:
        steps.append(('firewalld', lambda: _firewalld.apply(result.firewalld, _firewalld.running(observed['foreign']))))
    steps += [('sysctl %s' % key, lambda key=key, value=value: sysctl.set(key, value))
              for key, value in sorted(result.sysctls.items())]
    steps += _redirect_steps(result.redirects, made=True)
    steps += [('files (hosts, resolv.conf, the desired state)', lambda: _write_files(result.files))]
    if result.name_server and result.name_server['changed']:
        steps.append(('name server', lambda: name_server.apply(result.name_server, observed['dns'])))
    steps += [('ipam pools', lambda: _remove_pools(store, result.pools)),
              ('restore at boot', lambda: boot.apply_files(result.boot_files)),
              ('record', lambda: state.finish(result.record))]
    state.plan_finish(result.record, record, result.actions)
    warnings = list(result.warnings)
    if held:
        one = len(held) == 1
        warnings.append('%s %s held back as the last change left %s%s' % (
            'network' if one else 'networks', ', '.join(held), 'it' if one else 'them',
            '; waiting to be planned: %s' % ', '.join(waiting) if waiting else ''))
    return Change(result.actions, lambda: diff_view(result.before), lambda: diff_view(result.after),
                  thaw(result.returns), warnings, steps=steps)
