# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planner phase for names: which endpoints the host's name server answers, with what, and where
they ask it. Pure: it reads the context and the leases, and returns its part.

Each endpoint with a bridge network that has a gateway on the host asks the name server at that
gateway (its first such network). It is answered, from a view of its own, the names of the
networks it is on that resolve names (its peers, their aliases, an overlay's endpoints on other
hosts) and, when one of its networks has a way out, every other name through the host's
upstream servers. The default network ``bridge`` (``resolve_names: false``) gets no names, only
the forwarding, as Docker's."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import ipaddress

from ansible_collections.netplumb.container.plugins.module_utils._dns import unbound
from ansible_collections.netplumb.container.plugins.module_utils._errors import Conflict
from ansible_collections.netplumb.container.plugins.module_utils._topology.endpoints import network_members
from ansible_collections.netplumb.container.plugins.module_utils._topology.model_networks import routed_network
from ansible_collections.netplumb.container.plugins.module_utils._kernel.netns import resolv_path
from ansible_collections.netplumb.container.plugins.module_utils._topology.parts import TopologyPlan

DOCKER_RESOLVER = '127.0.0.11'
LIBC_DEFAULT = '127.0.0.1'


def server_network(ctx, ep):
    """The endpoint's network whose gateway answers its queries, or None: a present bridge
    network with an address on the host (not ``isolated``), its first."""
    if ctx.name_server != 'unbound' or not ep['namespace']:
        return None
    for att in ctx.attached(ep):
        net = ctx.nets[att['name']]
        if net['driver'] == 'bridge' and net['gateway_mode'] != 'isolated':
            return att
    return None


def _names_of(ctx, net, leases, members):
    """[(name, address)] of a network that resolves names: each of its names and aliases with
    each address (``endpoints.network_members``, which the hosts files list too)."""
    return [(name, address) for endpoint, addresses, aliases in network_members(ctx, net, members, leases)
            for name in [endpoint] + list(aliases) for address in addresses]


def _view(networks, forward, blocks):
    """The names an endpoint on ``networks`` sees: each name from the first of its networks that
    has it (Docker answers a peer on two shared networks with one address)."""
    names, taken = [], set()
    for network in networks:
        block = blocks[network]
        own = set(name for name, _address in block)
        names += [(name, address) for name, address in block if name not in taken]
        taken |= own
    return {'forward': forward, 'names': names}


def view_name(networks, forward):
    """A view per set of networks (endpoints that share them share it), named by their digest."""
    text = '%s|%s' % (','.join(networks), forward)
    return 'np-' + hashlib.sha1(text.encode('utf-8')).hexdigest()[:12]


def plan_server(ctx, leases):
    """(server data for ``unbound.config_text`` or None, {endpoint: {network, address, server,
    ifname}}): who asks the server where, and what each is answered."""
    seen = ctx.observed['dns']
    members, blocks, askers = {}, {}, {}
    for ep in ctx.present_eps:
        for att in ctx.attached(ep):
            members.setdefault(att['name'], []).append(ep['name'])
    server = {'listen': set(), 'clients': {}, 'views': {}, 'upstream': list(seen['upstream'])}
    for ep in ctx.present_eps:
        att = server_network(ctx, ep)
        if att is None:
            continue
        net = ctx.nets[att['name']]
        gateway = net['pool']['gateway']
        address = leases[net['name']][ep['name']]
        named = [a['name'] for a in ctx.attached(ep) if ctx.nets[a['name']]['resolve_names']]
        forward = bool(seen['upstream']) and any(routed_network(ctx.nets[a['name']]) for a in ctx.attached(ep))
        for network in named:
            if network not in blocks:
                blocks[network] = _names_of(ctx, ctx.nets[network], leases, members.get(network, []))
        view = view_name(named, forward)
        if view not in server['views']:
            server['views'][view] = _view(named, forward, blocks)
        server['listen'].add(gateway)
        server['clients'][address] = view
        askers[ep['name']] = {'network': net['name'], 'address': address, 'server': gateway, 'ifname': att['ifname'],
                              'search': _search(ctx, ep)}
    if not askers:
        return None, askers
    server['listen'] = sorted(server['listen'], key=ipaddress.ip_address)
    return server, askers


def _search(ctx, ep):
    """The endpoint's dns_search, else its networks' in order."""
    if ep.get('dns_search'):
        return list(ep['dns_search'])
    search = []
    for att in ctx.attached(ep):
        search += [d for d in ctx.nets[att['name']].get('dns_search') or [] if d not in search]
    return search


def check_port(listen, listeners):
    """Before any change: port 53 of the addresses the server binds is free, but for our own
    server. ``listeners``: [{proto, address, pid, program, ours}] on port 53 of the host."""
    for sock in listeners:
        if sock['ours']:
            continue
        if sock['address'] in ('0.0.0.0', '::') or sock['address'] in listen:
            where = 'every address (%s)' % sock['address'] if sock['address'] in ('0.0.0.0', '::') else sock['address']
            raise Conflict('name_server: port 53/%s on %s is taken by %s; netplumb\'s name server binds each '
                           'network\'s gateway (%s). Have the other server bind its own addresses only (dnsmasq: '
                           'bind-interfaces; systemd-resolved binds 127.0.0.53 and is fine) or set name_server: hosts'
                           % (sock['proto'], where, sock['program'] or 'another program', ', '.join(listen)))


def plan_names(ctx, leases, fresh):
    """The name server's part: its configuration file and what to do with the server (start,
    reload, restart, stop), each asking endpoint's resolv.conf and the stub redirect in its
    namespace (``fresh``: namespaces made or remade by this run, which hold no redirect yet).
    Returns (part, the networks whose gateway the server answers on: the firewall opens port 53
    there to the network's own endpoints only)."""
    part, seen = TopologyPlan(), ctx.observed['dns']
    server, askers = plan_server(ctx, leases)
    if server is not None:
        if not seen['installed']:
            raise Conflict('name_server: unbound, which serves the networks\' names, is not installed on this host '
                           '(%s); install it (apt-get install unbound) or set name_server: hosts' % seen['program'])
        check_port(server['listen'], seen['listeners'])
    text = unbound.config_text(server, seen['paths']) if server else None
    unit = unbound.unit_text(seen['paths']['config']) if text and seen['supervisor'] == 'systemd' else None
    action = _server_action(seen, text)
    for path, now, wanted in ((seen['paths']['config'], seen['written'], text), (unbound.UNIT_PATH, seen['unit'], unit)):
        if now != wanted:
            part.actions.append('%s: %s' % (path, 'remove' if wanted is None else 'write' if now is None else 'update'))
    if action:
        part.actions.append('name server (unbound, %s): %s' % (seen['supervisor'], action))
    part.name_server = {'config': text, 'unit': unit, 'action': action, 'changed': bool(part.actions)}
    part.before['name_server'] = _server_view(seen['config'], seen['running'], seen)
    part.after['name_server'] = _server_view(text, text is not None, seen)
    # a resolv.conf that names no server makes the C library ask 127.0.0.1
    stubs = [DOCKER_RESOLVER] + [a for a in seen['upstream'] or [LIBC_DEFAULT] if _loopback4(a) and a != DOCKER_RESOLVER]
    for ep in ctx.present_eps:
        ns, rec = ep['namespace'], ctx.record['endpoints'].get(ep['name']) or {}
        if not ns:
            continue
        asker = askers.get(ep['name'])
        path = resolv_path(ns)
        text = unbound.resolv_text(ep['name'], asker['server'], asker['search']) if asker else None
        now = ctx.observed['resolv'].get(path)
        if now != text:
            part.files[path] = text
            part.actions.append('%s: %s' % (path, 'remove' if text is None else 'write' if now is None else 'update'))
        wanted = {'server': asker['server'], 'ifname': asker['ifname'], 'stubs': stubs} if asker else None
        # what the namespace holds: the record's redirect, where the kernel shows it is there
        seen_ns = ctx.observed['namespaces'].get(ns) or {}
        had = rec.get('dns') if ep['name'] not in fresh and seen_ns.get('dns_redirect') else None
        if had != wanted:
            part.redirects[ns] = wanted
            part.actions.append('namespace %s: %s' % (ns, 'redirect DNS queries to loopback stubs (%s) to %s'
                                                      % (', '.join(stubs), asker['server']) if asker else
                                                      'remove the DNS redirect'))
        part.dns_records[ep['name']] = wanted
        part.returns['endpoints'][ep['name']] = {'name_server': asker['server'] if asker else None}
    return part, set(asker['network'] for asker in askers.values())


def _loopback4(address):
    ip = ipaddress.ip_address(address)
    return ip.version == 4 and ip.is_loopback


def _server_action(seen, text):
    if text is None:
        return 'stop' if seen['running'] else None
    if not seen['running']:
        return 'start'
    if unbound.listen_of(seen['config']) != unbound.listen_of(text):
        return 'restart'            # unbound binds its addresses once
    return 'reload' if seen['config'] != text else None


def _server_view(text, running, seen):
    """What --diff shows of the server: its configuration line by line (a changed name is a
    changed line) and whether it runs."""
    if text is None and not running:
        return {}
    return {'config': seen['paths']['config'], 'lines': (text or '').splitlines(), 'running': running}
