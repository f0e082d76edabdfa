# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plan(resolved model, observed host) -> TopologyPlan: pure, and never changes what it is given.

Phases, in the order their operations are applied: leases, removals, networks, endpoints,
firewall and sysctls, and the new record. Each phase gets what it reads as arguments and returns
its part (operations, actions, before/after views, return values); the links a later phase plans
against are predicted from the operations of the earlier ones (``predict``), never patched."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress

from ansible_collections.netplumb.container.plugins.module_utils._boot import files as boot
from ansible_collections.netplumb.container.plugins.module_utils._boot.desired import desired_path, desired_state, desired_text, digest
from ansible_collections.netplumb.container.plugins.module_utils._topology.dns import plan_names
from ansible_collections.netplumb.container.plugins.module_utils._firewall.backends import plan_for
from ansible_collections.netplumb.container.plugins.module_utils._firewall.coexist import plan_coexistence
from ansible_collections.netplumb.container.plugins.module_utils._firewall.firewalld import plan as plan_firewalld
from ansible_collections.netplumb.container.plugins.module_utils._firewall.firewalld import running as firewalld_running
from ansible_collections.netplumb.container.plugins.module_utils._firewall.facts import network_facts, network_sysctls
from ansible_collections.netplumb.container.plugins.module_utils._kernel.sysctl import plan_sysctls as plan_sysctl_values
from ansible_collections.netplumb.container.plugins.module_utils._objects.ipam import plan_pool
from ansible_collections.netplumb.container.plugins.module_utils._topology import endpoints, networks
from ansible_collections.netplumb.container.plugins.module_utils._topology.model import thaw
from ansible_collections.netplumb.container.plugins.module_utils._topology.lan import SHIM_OWNER
from ansible_collections.netplumb.container.plugins.module_utils._topology.model_networks import lan_network, network_pools, routed_network
from ansible_collections.netplumb.container.plugins.module_utils._topology.names import host_ifname, pool_network
from ansible_collections.netplumb.container.plugins.module_utils._kernel.sysctl import (
    SYSCTL_FORWARD, SYSCTL_FORWARD_V6, SYSCTL_NEIGHBOURS)
from ansible_collections.netplumb.container.plugins.module_utils._topology.parts import TopologyPlan


class Context(object):
    """What every phase reads: the resolved model, the observed host and the old record."""

    def __init__(self, model, observed, purge):
        self.observed, self.record = observed, observed['record']
        self.coexistence, self.name_server = model['firewall_coexistence'], model['name_server']
        self.nets = dict((n['name'], n) for n in model['networks'])
        self.eps = dict((e['name'], e) for e in model['endpoints'])
        self.present_nets = [n for n in model['networks'] if n['state'] == 'present']
        self.present_eps = [e for e in model['endpoints'] if e['state'] == 'present']
        self.gone_nets = self._gone('networks', self.nets, purge)
        self.gone_eps = self._gone('endpoints', self.eps, purge)
        # declared in a namespace other than the one the record names: the old one goes
        self.moved_eps = sorted(e['name'] for e in self.present_eps if (self.record['endpoints'].get(e['name']) or {})
                                .get('namespace') not in (None, e['namespace']))
        # pool name -> prefix length of its subnet (``network_pools``)
        self.prefixes = dict((name, ipaddress.ip_network(pool['subnet']).prefixlen)
                             for n in self.present_nets for name, pool, _key in network_pools(n))

    def _gone(self, kind, declared, purge):
        """Recorded and marked absent, or (with purge) no longer declared."""
        return [name for name in sorted(self.record[kind])
                if (declared[name]['state'] == 'absent' if name in declared else purge)]

    def attached(self, ep):
        return [a for a in ep['networks'] if self.nets[a['name']]['state'] == 'present']

    def users(self, net):
        return [e for e in self.present_eps if net['name'] in [a['name'] for a in self.attached(e)]]


def plan(model, observed, purge=True, keep=None):
    """``model``: resolved (resolve.resolve). ``observed``: record, pools (name -> store data),
    host_links, namespaces (name -> {netns, links, routes[, fdb, neighbours]}), hosts (path ->
    text), firewall ({backend, state}: the backend's observation), foreign (the forward-hook base
    chains of other tables, ``_coexist.parse_ruleset``), sysctl. Recorded networks and endpoints that are
    marked absent go; unlisted ones go with ``purge`` and are otherwise left as they are. ``keep``
    (the validated params; None for a restore): the run also plans the desired state file and the
    restore-at-boot files (observed as ``desired`` and ``boot_files``)."""
    ctx = Context(model, observed, purge)
    result = TopologyPlan()
    leases_part, leases = plan_ipam(ctx)
    result.merge(leases_part)
    links = dict((ns, seen['links']) for ns, seen in observed['namespaces'].items())
    links[None] = observed['host_links']
    removals, detached = networks.plan_removals(ctx, links)
    result.merge(removals)
    links = networks.predict(links, removals.ops)
    built = networks.plan_networks(ctx, leases, links)
    result.merge(built)
    links = networks.predict(links, built.ops)
    attached, created, fresh = endpoints.plan_endpoints(ctx, leases, links, detached)
    result.merge(attached)
    names, served = plan_names(ctx, leases, fresh)
    result.merge(names)
    wanted = firewall_networks(ctx, leases, served)
    result.merge(plan_firewall(ctx, wanted, result.before['networks'], result.after['networks']))
    result.merge(plan_sysctls(ctx, wanted))
    if keep is not None:
        result.merge(plan_kept_files(model, observed, keep, result.returns))
    result.record = new_record(ctx, created, result.dns_records)
    return result


def plan_kept_files(model, observed, keep, returns):
    """The desired state file (``keep``, the params, with what this plan decided, from its
    ``returns``) and the files that rebuild the host from it at boot."""
    part = TopologyPlan()
    path = desired_path(keep['state_dir'])
    state = desired_state(keep, thaw(returns))
    # nothing left to restore: the file goes with the last network and endpoint
    text = desired_text(state) if state['arguments']['networks'] or state['arguments']['endpoints'] else None
    now = observed['desired']
    part.before['state_file'] = {'path': path, 'digest': digest(now)}
    part.after['state_file'] = {'path': path, 'digest': digest(text)}
    if now != text:
        part.files[path] = text
        part.actions.append('%s: %s' % (path, 'remove' if text is None else 'write' if now is None else 'update'))
    part.boot_files, actions, part.before['boot'], part.after['boot'] = boot.plan_files(
        boot.wanted_files(model, keep['state_dir'], keep['restore_at_boot'], observed['engine']), observed['boot_files'])
    part.actions += actions
    return part


def plan_ipam(ctx):
    """One IPAM pool per network and family, leases owned by endpoint names: (part, {pool name:
    {owner: ip}}); a network's IPv4 leases are under its name."""
    part, pools, leases = TopologyPlan(), ctx.observed['pools'], {}
    kept = set()
    for net in ctx.present_nets:
        users = ctx.users(net)
        for name, pool, key in network_pools(net):
            kept.add(name)
            data = pools.get(name)
            old = data['leases'] if data else {}
            pool = thaw(pool)     # compared with the store's plain JSON
            requests = [{'owner': e['name'], 'address': a[key]} for e in users for a in e['networks']
                        if a['name'] == net['name']]
            if lan_network(net) and net['host_shim'] and key == 'address':
                requests.append({'owner': SHIM_OWNER, 'address': net['shim_address']})
            new, said, changes = plan_pool(pool, data, requests, [p['pool'] for n, p in pools.items() if p and n != name],
                                           kept=dict((owner, old[owner]) for owner in [e['name'] for e in users] + [SHIM_OWNER]
                                                     if owner in old))
            leases[name] = new
            part.actions += ['ipam: %s' % said] if said else []
            part.actions += ['ipam: pool %s: %s' % (name, change) for change in changes]
            if data is None or data['pool'] != pool or new != old:
                part.pools[name] = {'pool': pool, 'leases': new}
    # a gone network's pools, and the IPv6 pool of a network that no longer has IPv6
    owners = set(ctx.gone_nets) | set(n['name'] for n in ctx.present_nets)
    for name in sorted(pools):
        network = pool_network(name)
        if pools[name] and name not in kept and (network in ctx.gone_nets or (network != name and network in owners)):
            part.pools[name] = None
            part.actions.append('ipam: remove pool %s' % name)
    return part, leases


def firewall_networks(ctx, leases, name_servers=()):
    """{network: facts} of every present bridge network (an overlay's traffic stays in its
    namespace) with the ports of the endpoints that publish on it (the model's ``publish_on``)
    and, on the networks in ``name_servers``, the name server at its gateway."""
    wanted = {}
    for net in ctx.present_nets:
        if net['driver'] != 'bridge':
            continue
        published = []
        for ep in ctx.present_eps:
            if ep['publish_on'] == net['name']:         # decided by the model
                addresses = [leases[name][ep['name']] for name, _pool, _key in network_pools(net)]
                published += [{'port': port, 'addresses': addresses} for port in ep['published']]
        wanted[net['name']] = network_facts({
            'name': net['name'], 'bridge': net['bridge'], 'masquerade': net['masquerade'],
            'subnets': [pool['subnet'] for _name, pool, _key in network_pools(net)],
            'snat_to': None, 'icc': net['icc'], 'internal': net['internal'], 'gateway_mode': net['gateway_mode'],
            'published': published, 'name_server': net['pool']['gateway'] if net['name'] in name_servers else None})
    return wanted


def plan_firewall(ctx, wanted, before_views, after_views):
    """Every bridge network's part of the firewall in one transaction of the host's backend.
    ``before_views``/``after_views``: the networks the earlier phases show."""
    part, firewall = TopologyPlan(), ctx.observed['firewall']
    bridges_gone = [n for n in ctx.gone_nets if not ctx.record['networks'][n].get('namespace')]
    payload, actions, before, after = plan_for(firewall['backend'])(wanted, bridges_gone, firewall['state'])
    part.firewall = payload
    part.actions += ['firewall: %s' % a for a in actions]
    bridges = [n['bridge'] for n in ctx.present_nets if n['driver'] == 'bridge']
    retired = ctx.observed.get('retired_firewall')
    if retired:
        # the host was converged with the other kind of backend (0.2 used iptables): its rules go
        # in this same run, so nothing of ours is left in the firewall we no longer use
        recorded = [n for n, r in ctx.record['networks'].items() if not r.get('namespace')]
        payload, actions, _before, _after = plan_for(retired['backend'])({}, recorded, retired['state'])
        if payload:
            part.retired = (retired['backend'], payload)
        part.actions += ['firewall (%s, used before): %s' % (retired['backend'], a) for a in actions]
    published = ['%s %s' % (ep['name'], port.spec) for ep in ctx.present_eps if ep['publish_on'] for port in ep['published']]
    part.coexistence, actions, part.warnings = plan_coexistence(ctx.observed['foreign'], bridges, ctx.coexistence,
                                                                firewall['backend'], published)
    part.actions += actions
    files = ctx.observed.get('firewalld_files') or {}
    integrate = ctx.coexistence == 'integrate' and (firewalld_running(ctx.observed['foreign']) or bool(files))
    part.firewalld, actions = plan_firewalld(bridges, integrate, files)
    part.actions += actions
    for name in after_views:
        if name in after:
            part.after['networks'][name] = {'firewall': after[name]}
    for name in before_views:
        if name in before:
            part.before['networks'][name] = {'firewall': before[name]}
    return part


def plan_sysctls(ctx, wanted):
    """What Docker turns on: forwarding for networks with a way out, and what each bridge
    network's firewall needs (``network_sysctls``). Never turned off again."""
    part, want = TopologyPlan(), {}
    if [n for n in ctx.present_nets if routed_network(n)]:
        want[SYSCTL_FORWARD] = '1'
    if [n for n in ctx.present_nets if routed_network(n) and n['enable_ipv6']]:
        want[SYSCTL_FORWARD_V6] = '1'
    for net in ctx.present_nets:
        if net['driver'] == 'bridge':
            versions = (4, 6) if net['enable_ipv6'] else (4,)
            want.update(network_sysctls(net['bridge'], net['icc'], wanted[net['name']], versions))
    # Each endpoint that reaches its gateway takes two IPv4 neighbour entries (its own, the host's),
    # and the kernel keeps one table for all namespaces: past its hard limit, new neighbours are
    # refused and first packets lost. A host-wide setting, left to the host's owner.
    limit = ctx.observed['sysctl'].get(SYSCTL_NEIGHBOURS)
    attachments = sum(len(ctx.attached(ep)) for ep in ctx.present_eps)
    if limit and limit.isdigit() and 2 * attachments >= int(limit):
        part.warnings.append('%d endpoint interfaces need up to %d IPv4 neighbour entries, as many as %s=%s allows '
                             'for the whole host: some would not reach their gateway; raise it (and gc_thresh2) '
                             'in /etc/sysctl.d' % (attachments, 2 * attachments, SYSCTL_NEIGHBOURS, limit))
    part.sysctls, actions, before, after = plan_sysctl_values(want, ctx.observed['sysctl'])
    part.actions += actions
    if want:
        part.before['sysctl'], part.after['sysctl'] = before, after
    return part


def new_record(ctx, created, dns):
    record = {
        'firewall_backend': ctx.observed['firewall']['backend'],
        'networks': dict((n['name'], dict({'bridge': n['bridge'], 'subnet': n['subnet'], 'ipv6_subnet': n['ipv6_subnet'],
                                           'driver': n['driver'], 'namespace': n['namespace'], 'vni': n['vni']},
                                          **({'parent': n['parent']} if lan_network(n) else
                                             {'control_plane': n['control_plane']} if n['namespace'] else {})))
                         for n in ctx.present_nets),
        'endpoints': dict((e['name'], {
            'mode': e['mode'], 'namespace': e['namespace'], 'created': created.get(e['name'], False),
            'dns': dns.get(e['name']),
            'attachments': dict((a['name'], _attachment_record(e, a, ctx.nets[a['name']])) for a in ctx.attached(e))})
            for e in ctx.present_eps)}
    for kind, declared, gone in (('networks', ctx.nets, ctx.gone_nets), ('endpoints', ctx.eps, ctx.gone_eps)):
        for name, entry in ctx.record[kind].items():
            if name not in declared and name not in gone:
                record[kind][name] = entry       # unlisted, kept without purge
    return record


def _attachment_record(ep, att, net):
    """A veth pair's host end and its namespace, or a LAN interface's kind and parent (it has no
    host end: it is deleted in the endpoint's namespace)."""
    if lan_network(net):
        return {'host': None, 'ifname': att['ifname'], 'namespace': None, 'driver': net['driver'], 'parent': net['parent']}
    return {'host': host_ifname(ep['name'], att['name']), 'ifname': att['ifname'], 'namespace': net['namespace']}
