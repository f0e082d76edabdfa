# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The iptables backend, for hosts without nftables: the facts of ``_firewall`` as rules, in
chains laid out as Docker 29 lays out its own (a user chain first in FORWARD, one chain for
traffic into the bridges, DNAT in nat ``NETPLUMB``).

Rules are rendered in the exact form ``iptables-save`` prints, each tagged with the comment
``netplumb:<network>``; the hooks from the built-in chains are tagged ``netplumb``. A network's
rules are rewritten as a block when they differ, in one ``iptables-restore --noflush``
transaction; rules and chains the collection does not own are never flushed, reordered or
rewritten. IPv4 only (ip6tables is not driven yet)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import shlex
import subprocess

from ansible_collections.netplumb.container.plugins.module_utils._errors import KernelError
from ansible_collections.netplumb.container.plugins.module_utils._firewall import ANY, TAG, check_ports
from ansible_collections.netplumb.container.plugins.module_utils._netns import netns_path

USER_CHAIN = 'NETPLUMB-USER'          # like DOCKER-USER: the users' own, jumped to first
BRIDGE_CHAIN = 'NETPLUMB-BRIDGE'      # traffic into one of our bridges (DOCKER-BRIDGE / DOCKER)
FORWARD_CHAIN = 'NETPLUMB-FORWARD'    # DOCKER-FORWARD
DNAT_CHAIN = 'NETPLUMB'               # nat: published ports (DOCKER)
POSTROUTING_CHAIN = 'NETPLUMB-POSTROUTING'
HAIRPIN_CHAIN = 'NETPLUMB-HAIRPIN'    # nat: what goes into a bridge, masqueraded or left alone
GUARD_CHAIN = 'NETPLUMB-GUARD'        # raw: nothing to 127.0.0.0/8 comes in through a bridge
TABLES = ('filter', 'nat', 'raw')
BUILTIN_CHAINS = {'filter': ['INPUT', 'FORWARD', 'OUTPUT'], 'nat': ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
                  'raw': ['PREROUTING', 'OUTPUT']}
OWNED_CHAINS = {'filter': [USER_CHAIN, BRIDGE_CHAIN, FORWARD_CHAIN], 'nat': [DNAT_CHAIN, HAIRPIN_CHAIN, POSTROUTING_CHAIN],
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
]


def _port_match(proto, port):
    return '-p %s -m %s --dport %s' % (proto, proto, port)


def network_rules(name, facts):
    """One network's facts -> its rules in order, as (table, chain, spec)."""
    tag, rules = comment(name), []
    by_kind = {}
    for kind, key, value in facts:
        by_kind.setdefault(kind, []).append((key, value))
    for (bridge,), _v in by_kind.get('bridges', []):
        into = [('-o %s -m conntrack --ctstate RELATED,ESTABLISHED' % bridge, 'ACCEPT')]
        into += [('-i %s -o %s' % (bridge, bridge), 'ACCEPT') for _k, _v in by_kind.get('icc', [])]
        into += [('-i %s -o %s' % (bridge, bridge), 'DROP'),
                 ('-o %s -m conntrack --ctstate DNAT' % bridge, 'ACCEPT')]
        into += [('-o %s' % bridge, 'ACCEPT') for _k, _v in by_kind.get('open', [])]
        into += [('-o %s -p icmp' % bridge, 'ACCEPT') for _k, _v in by_kind.get('routed', [])]
        into += [('-d %s/32 -o %s %s' % (address, bridge, _port_match(proto, port)), 'ACCEPT')
                 for (address, proto, port), _v in by_kind.get('open_ports_v4', [])]
        into.append(('-o %s' % bridge, 'DROP'))
        rules += [('filter', BRIDGE_CHAIN, '%s %s -j %s' % (match, tag, target)) for match, target in into]
        rules += [('filter', FORWARD_CHAIN, '-i %s %s -j ACCEPT' % (bridge, tag)) for _k, _v in by_kind.get('outgoing', [])]
        rules.append(('filter', FORWARD_CHAIN, '-i %s %s -j DROP' % (bridge, tag)))
        for (address, _same), _v in by_kind.get('hairpin_v4', []):
            rules.append(('nat', HAIRPIN_CHAIN, '-s %s/32 -d %s/32 -m conntrack --ctstate DNAT %s -j MASQUERADE'
                          % (address, address, tag)))
        rules.append(('nat', HAIRPIN_CHAIN, '-s 127.0.0.0/8 -o %s %s -j MASQUERADE' % (bridge, tag)))
        rules.append(('nat', HAIRPIN_CHAIN, '-o %s %s -j ACCEPT' % (bridge, tag)))
        rules.append(('raw', GUARD_CHAIN, '-d 127.0.0.0/8 -i %s %s -j DROP' % (bridge, tag)))
    for (subnet,), (address,) in by_kind.get('snat_v4', []):
        rules.append(('nat', POSTROUTING_CHAIN, '-s %s %s -j SNAT --to-source %s' % (_cidr(subnet), tag, address)))
    for (subnet,), _v in by_kind.get('masq_v4', []):
        rules.append(('nat', POSTROUTING_CHAIN, '-s %s %s -j MASQUERADE' % (_cidr(subnet), tag)))
    for (host_ip, proto, port), (address, to_port) in by_kind.get('ports_v4', []):
        where = '' if host_ip == '0.0.0.0/0' else '-d %s/32 ' % host_ip
        rules.append(('nat', DNAT_CHAIN, '%s%s %s -j DNAT --to-destination %s:%s' % (
            where, _port_match(proto, port), tag, address, to_port)))
    return rules


def _cidr(prefix):
    return prefix if '/' in prefix else prefix + '/32'


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


def plan(wanted, gone, observed):
    """``wanted``: {network: facts}; ``gone``: networks whose rules go; ``observed``: parse_save.
    Our hooks and chains are made with the first network and removed with the last (the user
    chain stays while it holds rules). Returns (restore input per table, actions, before,
    after); before/after map each network to its rules. The restore input comes as
    {'restore': per table, 'prune': iptables-nft tables the teardown leaves empty (deleted with
    nft, so nothing is left behind)}. Pure."""
    names = sorted(set(wanted) | set(gone))
    check_ports(wanted, _published_by_others(observed, names))
    desired = dict((name, network_rules(name, facts)) for name, facts in wanted.items())
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
        if lines:
            restore[table] = lines
    prune = [] if keep_chains or not observed.get('nf_tables') else _left_empty(observed)
    actions += ['%s: delete the table, left empty' % table for table in prune]
    return ({'restore': restore, 'prune': prune} if restore or prune else {}), actions, before, after


_DNAT = re.compile(r'^(?:-d (\S+)/32 )?-p (\w+) -m \w+ --dport (\d+) .*--to-destination ([0-9.]+):(\d+)')


def _published_by_others(observed, names):
    """ports_v4 facts of the networks this request does not touch, read back from their DNAT rules."""
    taken = []
    for chain, spec in observed.get('nat', {}).get('rules', []):
        owner, match = owner_of(spec), _DNAT.match(spec)
        if chain == DNAT_CHAIN and owner and owner not in names and match:
            host_ip, proto, port, address, to_port = match.groups()
            taken.append((owner, ('ports_v4', (host_ip or ANY[4], proto, port), (address, to_port))))
    return taken


def _left_empty(observed):
    """Tables with nothing but empty built-in chains at policy ACCEPT once our rules are gone."""
    empty = []
    for table in TABLES:
        present = observed.get(table)
        if present is None:
            continue
        rules = [spec for _chain, spec in present['rules'] if owner_of(spec) is None]
        chains = dict((c, p) for c, p in present['chains'].items() if c not in OWNED_CHAINS[table])
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
    """iptables-save / iptables-restore of the configured command family (nft or legacy), run
    in a named network namespace (which must exist) through nsenter when one is given."""

    def __init__(self, namespace=None, command='iptables'):
        self.namespace = namespace
        self.command = command

    def _argv(self, argv):
        if self.namespace is None:
            return argv
        return ['nsenter', '--net=%s' % netns_path(self.namespace), '--'] + argv

    def _run(self, argv, what, stdin=None):
        try:
            proc = subprocess.run(self._argv(argv), input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  universal_newlines=True, env=dict(os.environ, LC_ALL='C'), check=False)
        except OSError as error:
            raise KernelError(what, 'run %s' % argv[0], '%s (install iptables)' % error.strerror)
        if proc.returncode != 0:
            raise KernelError(what, 'run %s' % ' '.join(shlex.quote(a) for a in argv),
                              proc.stderr.strip() or 'exit code %d' % proc.returncode)
        return proc.stdout

    def observe(self):
        return parse_save(self._run([self.command + '-save'], 'firewall'))

    def apply(self, payload):
        if payload['restore']:
            self._run([self.command + '-restore', '--noflush'], 'firewall', stdin=restore_text(payload['restore']))
        for table in payload['prune']:
            self._run(['nft', 'delete', 'table', 'ip', table], 'firewall')
