# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The iptables backend, for hosts without nftables: the facts of ``facts`` as rules, in
chains laid out as Docker 29 lays out its own (a user chain first in FORWARD, one chain for
traffic into the bridges, DNAT in nat ``NETPLUMB``).

Rules are rendered in the exact form ``iptables-save`` prints, each tagged with the comment
``netplumb:<network>``; the hooks from the built-in chains are tagged ``netplumb``. A network's
rules are rewritten as a block when they differ, in one ``iptables-restore --noflush``
transaction; rules and chains the collection does not own are never flushed, reordered or
rewritten. IPv4 goes through iptables, IPv6 through ip6tables, with the same chains and the
same behaviour (every network's bridge is closed on both families, as in the nftables
backend's ``inet`` table)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.netplumb.container.plugins.module_utils._errors import Conflict
from ansible_collections.netplumb.container.plugins.module_utils._firewall.facts import ANY, TAG, check_ports
from ansible_collections.netplumb.container.plugins.module_utils import _command
from ansible_collections.netplumb.container.plugins.module_utils._kernel.netns import netns_path

USER_CHAIN = 'NETPLUMB-USER'          # like DOCKER-USER: the users' own, jumped to first
BRIDGE_CHAIN = 'NETPLUMB-BRIDGE'      # traffic into one of our bridges (DOCKER-BRIDGE / DOCKER)
FORWARD_CHAIN = 'NETPLUMB-FORWARD'    # DOCKER-FORWARD
DNAT_CHAIN = 'NETPLUMB'               # nat: published ports (DOCKER)
POSTROUTING_CHAIN = 'NETPLUMB-POSTROUTING'
HAIRPIN_CHAIN = 'NETPLUMB-HAIRPIN'    # nat: what goes into a bridge, masqueraded or left alone
GUARD_CHAIN = 'NETPLUMB-GUARD'        # raw: nothing to 127.0.0.0/8 comes in through a bridge
INPUT_CHAIN = 'NETPLUMB-INPUT'        # filter: a network's name server answers its own bridge only
TABLES = ('filter', 'nat', 'raw')
BUILTIN_CHAINS = {'filter': ['INPUT', 'FORWARD', 'OUTPUT'], 'nat': ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
                  'raw': ['PREROUTING', 'OUTPUT']}
OWNED_CHAINS = {'filter': [USER_CHAIN, BRIDGE_CHAIN, FORWARD_CHAIN, INPUT_CHAIN], 'nat': [DNAT_CHAIN, HAIRPIN_CHAIN, POSTROUTING_CHAIN],
                'raw': [GUARD_CHAIN]}


def comment(key):
    return '-m comment --comment "%s:%s"' % (TAG, key) if key else '-m comment --comment %s' % TAG


# (table, chain, spec, first): made with the first network, removed with the last; ``first``
# rules are inserted at the top, later ones first, so FORWARD starts with the user chain.
HOOKS = [
    ('filter', 'FORWARD', '%s -j %s' % (comment(None), FORWARD_CHAIN), True),
    ('filter', 'FORWARD', '%s -j %s' % (comment(None), USER_CHAIN), True),
    ('filter', FORWARD_CHAIN, '%s -j %s' % (comment(None), BRIDGE_CHAIN), True),
    ('nat', 'PREROUTING', '-m addrtype --dst-type LOCAL %s -j %s' % (comment(None), DNAT_CHAIN), False),
    ('nat', 'OUTPUT', '-m addrtype --dst-type LOCAL %s -j %s' % (comment(None), DNAT_CHAIN), False),
    ('nat', 'POSTROUTING', '%s -j %s' % (comment(None), POSTROUTING_CHAIN), False),
    ('nat', POSTROUTING_CHAIN, '%s -j %s' % (comment(None), HAIRPIN_CHAIN), True),
    ('raw', 'PREROUTING', '%s -j %s' % (comment(None), GUARD_CHAIN), False),
    ('filter', 'INPUT', '%s -j %s' % (comment(None), INPUT_CHAIN), True),
]


def _port_match(proto, port):
    return '-p %s -m %s --dport %s' % (proto, proto, port)


HOST = {4: '/32', 6: '/128'}
ICMP = {4: 'icmp', 6: 'ipv6-icmp'}


def _destination(address, port, version):
    return '%s:%s' % (address, port) if version == 4 else '[%s]:%s' % (address, port)


def network_rules(name, facts, version=4):
    """One network's facts -> its rules of one IP version in order, as (table, chain, spec)."""
    tag, rules, host = comment(name), [], HOST[version]
    by_kind = {}
    for kind, key, value in facts:
        by_kind.setdefault(kind, []).append((key, value))
    v = '_v%d' % version
    for (bridge,), _v in by_kind.get('bridges', []):
        into = [('-o %s -m conntrack --ctstate RELATED,ESTABLISHED' % bridge, 'ACCEPT')]
        into += [('-i %s -o %s' % (bridge, bridge), 'ACCEPT') for _k, _v in by_kind.get('icc', [])]
        into += [('-i %s -o %s' % (bridge, bridge), 'DROP'),
                 ('-o %s -m conntrack --ctstate DNAT' % bridge, 'ACCEPT')]
        into += [('-o %s' % bridge, 'ACCEPT') for _k, _v in by_kind.get('open', [])]
        into += [('-o %s -p %s' % (bridge, ICMP[version]), 'ACCEPT') for _k, _v in by_kind.get('routed', [])]
        into += [('-d %s%s -o %s %s' % (address, host, bridge, _port_match(proto, port)), 'ACCEPT')
                 for (address, proto, port), _v in by_kind.get('open_ports' + v, [])]
        into.append(('-o %s' % bridge, 'DROP'))
        rules += [('filter', BRIDGE_CHAIN, '%s %s -j %s' % (match, tag, target)) for match, target in into]
        rules += [('filter', FORWARD_CHAIN, '-i %s %s -j ACCEPT' % (bridge, tag)) for _k, _v in by_kind.get('outgoing', [])]
        rules.append(('filter', FORWARD_CHAIN, '-i %s %s -j DROP' % (bridge, tag)))
        for (address, _same), _v in by_kind.get('hairpin' + v, []):
            rules.append(('nat', HAIRPIN_CHAIN, '-s %s%s -d %s%s -m conntrack --ctstate DNAT %s -j MASQUERADE'
                          % (address, host, address, host, tag)))
        if version == 4:        # IPv6 has no route_localnet: the kernel routes nothing for ::1 off lo
            rules.append(('nat', HAIRPIN_CHAIN, '-s 127.0.0.0/8 -o %s %s -j MASQUERADE' % (bridge, tag)))
        rules.append(('nat', HAIRPIN_CHAIN, '-o %s %s -j ACCEPT' % (bridge, tag)))
        if version == 4:
            rules.append(('raw', GUARD_CHAIN, '-d 127.0.0.0/8 -i %s %s -j DROP' % (bridge, tag)))
    for (address, bridge), _v in by_kind.get('name_server' + v, []):
        for proto in ('udp', 'tcp'):
            rules.append(('filter', INPUT_CHAIN, '-d %s%s ! -i %s %s %s -j DROP' % (
                address, host, bridge, _port_match(proto, 53), tag)))
    for (subnet,), (address,) in by_kind.get('snat' + v, []):
        rules.append(('nat', POSTROUTING_CHAIN, '-s %s %s -j SNAT --to-source %s' % (_cidr(subnet, version), tag, address)))
    for (subnet,), _v in by_kind.get('masq' + v, []):
        rules.append(('nat', POSTROUTING_CHAIN, '-s %s %s -j MASQUERADE' % (_cidr(subnet, version), tag)))
    for (host_ip, proto, port), (address, to_port) in by_kind.get('ports' + v, []):
        where = '' if host_ip == ANY[version] else '-d %s%s ' % (host_ip, host)
        rules.append(('nat', DNAT_CHAIN, '%s%s %s -j DNAT --to-destination %s' % (
            where, _port_match(proto, port), tag, _destination(address, to_port, version))))
    return rules


def _cidr(prefix, version=4):
    return prefix if '/' in prefix else prefix + HOST[version]


def parse_save(text):
    """iptables-save output -> {table: {'chains': {name: policy}, 'rules': [(chain, spec), ...]}},
    and 'nf_tables': whether the tables are iptables-nft's (nftables tables underneath)."""
    tables, current = {'nf_tables': '(nf_tables)' in text.split('\n', 1)[0]}, None
    for line in text.splitlines():
        if line.startswith('*'):
            current = tables.setdefault(line[1:].strip(), {'chains': {}, 'rules': []})
        elif current is None or line.startswith('#') or line == 'COMMIT':
            continue
        elif line.startswith(':'):
            name, policy = (line[1:].split() + ['-'])[:2]
            current['chains'][name] = policy
        elif line.startswith('-A '):
            chain, _sep, spec = line[3:].partition(' ')
            current['rules'].append((chain, spec))
    return tables


def owner_of(spec):
    match = re.search(r'--comment "?%s(?::([^" ]+))?"?(?: |$)' % TAG, spec)
    if not match:
        return None
    return match.group(1) or ''


VERSIONS = (4, 6)
COMMANDS = {4: 'iptables', 6: 'ip6tables'}


def plan(wanted, gone, observed):
    """``wanted``: {network: facts}; ``gone``: networks whose rules go; ``observed``: {4: the
    parse_save of iptables-save, 6: of ip6tables-save (None where the host has no IPv6)}.
    Each version is planned alike (``plan_version``); returns (payload, actions, before, after)
    with payload {version: {'restore': per table, 'prune': tables}} and before/after mapping each
    network to its rules (IPv6 ones start with ``ip6tables``). Pure."""
    names = sorted(set(wanted) | set(gone))
    payload, actions = {}, []
    before, after = dict((name, []) for name in names), dict((name, []) for name in names)
    for version in VERSIONS:
        seen = observed.get(version, {})
        if seen is None:
            needs = [n for n, facts in sorted(wanted.items()) if any(f[0].endswith('_v6') for f in facts)]
            if needs:
                raise Conflict('firewall: network %s has IPv6 but ip6tables cannot be used on this host '
                               '(IPv6 disabled?)' % needs[0])
            continue
        part, changes, was, will = plan_version(version, wanted, gone, seen)
        if part:
            payload[version] = part
        prefix = '' if version == 4 else COMMANDS[version] + ' '
        actions += [prefix + change for change in changes]
        for name in names:
            before[name] += [prefix + rule for rule in was[name]]
            after[name] += [prefix + rule for rule in will[name]]
    return payload, actions, before, after


def plan_version(version, wanted, gone, observed):
    """One IP version's part of ``plan``. Our hooks and chains are made with the first network and
    removed with the last (the user chain stays while it holds rules). The payload is
    {'restore': per table, 'prune': iptables-nft tables the teardown leaves empty (deleted with
    nft, so nothing is left behind)}."""
    names = sorted(set(wanted) | set(gone))
    check_ports(wanted, _published_by_others(observed, names, version))
    desired = dict((name, network_rules(name, facts, version)) for name, facts in wanted.items())
    restore, actions = {}, []
    before = dict((name, []) for name in names)
    after = dict((name, []) for name in names)
    others = any(owner_of(spec) not in names + [''] for table in TABLES
                 for _chain, spec in observed.get(table, {}).get('rules', []) if owner_of(spec) is not None)
    keep_chains = any(wanted.values()) or others
    user_rules = [r for r in observed.get('filter', {}).get('rules', []) if r[0] == USER_CHAIN]
    for table in TABLES:
        lines, present = [], observed.get(table, {})
        present_rules, existing = present.get('rules', []), present.get('chains', {})
        hooks = [(chain, spec, first) for hook_table, chain, spec, first in HOOKS if hook_table == table]
        # what an older release made and this one does not (0.2's NETPLUMB-ISOLATION-1/2 and their
        # hooks): unhooked first, emptied and deleted last
        for chain, spec in present_rules:
            if owner_of(spec) == '' and (chain, spec) not in [(c, s) for c, s, _f in hooks]:
                lines.append('-D %s %s' % (chain, spec))
                actions.append('%s: delete the old hook -A %s %s' % (table, chain, spec))
        stale = sorted(c for c in existing if c.startswith('NETPLUMB') and c not in OWNED_CHAINS[table])
        if keep_chains:
            for chain in OWNED_CHAINS[table]:
                if chain not in existing:
                    lines.append(':%s - [0:0]' % chain)
                    actions.append('%s: create chain %s' % (table, chain))
            for chain, spec, first in hooks:
                if (chain, spec) not in present_rules:
                    lines.append(('-I %s 1 %s' if first else '-A %s %s') % (chain, spec))
                    actions.append('%s: hook %s into %s' % (table, spec.rsplit(' ', 1)[-1], chain))
        for name in names:
            # order matters within a chain only; iptables-save lists chains in an order of its own
            mine = sorted(((chain, spec) for chain, spec in present_rules if owner_of(spec) == name),
                          key=lambda rule: rule[0])
            want = sorted(((chain, spec) for t, chain, spec in desired.get(name, []) if t == table),
                          key=lambda rule: rule[0])
            before[name] += ['-t %s -A %s %s' % (table, chain, spec) for chain, spec in mine]
            after[name] += ['-t %s -A %s %s' % (table, chain, spec) for chain, spec in want]
            if mine == want:
                continue
            lines += ['-D %s %s' % rule for rule in mine] + ['-A %s %s' % rule for rule in want]
            changes = ['%s: delete -A %s %s' % (table, chain, spec) for chain, spec in mine if (chain, spec) not in want]
            changes += ['%s: add -A %s %s' % (table, chain, spec) for chain, spec in want if (chain, spec) not in mine]
            actions += changes or ['%s: reorder the rules of network %s' % (table, name)]
        if not keep_chains:
            keep = [USER_CHAIN] if user_rules else []     # the user's rules stay, and stay hooked
            for chain, spec, _first in hooks:
                if (chain, spec) in present_rules and chain not in OWNED_CHAINS[table] and \
                        spec.rsplit(' ', 1)[-1] not in keep:
                    lines.append('-D %s %s' % (chain, spec))
                    actions.append('%s: unhook %s from %s' % (table, spec.rsplit(' ', 1)[-1], chain))
            gone_chains = [c for c in OWNED_CHAINS[table] if c in existing and c not in keep]
            lines += ['-F %s' % chain for chain in gone_chains] + ['-X %s' % chain for chain in gone_chains]
            actions += ['%s: delete chain %s' % (table, chain) for chain in gone_chains]
        lines += ['-F %s' % chain for chain in stale] + ['-X %s' % chain for chain in stale]
        actions += ['%s: delete the old chain %s' % (table, chain) for chain in stale]
        if lines:
            restore[table] = lines
    prune = [] if keep_chains or not observed.get('nf_tables') else _left_empty(observed)
    actions += ['%s: delete the table, left empty' % table for table in prune]
    return ({'restore': restore, 'prune': prune} if restore or prune else {}), actions, before, after


_DNAT = re.compile(r'^(?:-d (\S+)/\d+ )?-p (\w+) -m \w+ --dport (\d+) .*--to-destination \[?([0-9a-f.:]+?)\]?:(\d+)$')


def _published_by_others(observed, names, version):
    """ports_v4/v6 facts of the networks this request does not touch, read back from their DNAT rules."""
    taken = []
    for chain, spec in observed.get('nat', {}).get('rules', []):
        owner, match = owner_of(spec), _DNAT.match(spec)
        if chain == DNAT_CHAIN and owner and owner not in names and match:
            host_ip, proto, port, address, to_port = match.groups()
            taken.append((owner, ('ports_v%d' % version, (host_ip or ANY[version], proto, port), (address, to_port))))
    return taken


def _left_empty(observed):
    """Tables with nothing but empty built-in chains at policy ACCEPT once our rules are gone."""
    empty = []
    for table in TABLES:
        present = observed.get(table)
        if present is None:
            continue
        rules = [spec for _chain, spec in present['rules'] if owner_of(spec) is None]
        chains = dict((c, p) for c, p in present['chains'].items() if not c.startswith('NETPLUMB'))  # all ours
        if not rules and set(chains) <= set(BUILTIN_CHAINS[table]) and set(chains.values()) <= {'ACCEPT'}:
            empty.append(table)
    return empty


def restore_text(restore):
    out = []
    for table in sorted(restore):
        out.append('*%s' % table)
        out.extend(restore[table])
        out.append('COMMIT')
    return '\n'.join(out) + '\n'


class Iptables(object):
    """iptables-save / iptables-restore and their ip6tables twins of the configured command
    family (nft or legacy), run in a named network namespace (which must exist) through nsenter
    when one is given."""

    EMPTY = {}

    def __init__(self, namespace=None, command='iptables'):
        self.namespace = namespace
        self.name = command
        self.commands = {4: command, 6: command.replace('iptables', 'ip6tables', 1)}

    def _argv(self, argv):
        if self.namespace is None:
            return argv
        return ['nsenter', '--net=%s' % netns_path(self.namespace), '--'] + argv

    def _run(self, argv, what, stdin=None, check=True):
        if check:
            return _command.must(self._argv(argv), what, stdin_text=stdin, package='iptables')
        try:
            proc = _command.run(self._argv(argv), stdin_text=stdin)
        except OSError:
            return None
        return proc.stdout if proc.returncode == 0 else None

    def observe(self):
        """{4: tables, 6: tables, or None where ip6tables cannot run (a kernel without IPv6)}."""
        saved = self._run([self.commands[6] + '-save'], 'firewall', check=False)
        return {4: parse_save(self._run([self.commands[4] + '-save'], 'firewall')),
                6: None if saved is None else parse_save(saved)}

    def apply(self, payload):
        for version, part in sorted(payload.items()):
            if part['restore']:
                self._run([self.commands[version] + '-restore', '--noflush'], 'firewall',
                          stdin=restore_text(part['restore']))
            for table in part['prune']:
                self._run(['nft', 'delete', 'table', 'ip' if version == 4 else 'ip6', table], 'firewall')
