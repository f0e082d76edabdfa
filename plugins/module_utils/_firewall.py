# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The netfilter side of a bridge network, as Docker builds it (seeds 000, 001, 004).

Rules are plain data (table, chain, spec) rendered in the exact form ``iptables-save``
prints, each tagged with the comment ``netplumb:<network>``; the rule model knows no
backend. The iptables backend observes with ``iptables-save`` and applies a whole change
in one ``iptables-restore --noflush`` transaction. Rules and chains the collection does
not own are never flushed, reordered or rewritten.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import os
import re
import shlex
import subprocess

from ansible_collections.netplumb.container.plugins.module_utils._errors import Conflict, InvalidInput, KernelError
from ansible_collections.netplumb.container.plugins.module_utils._netns import netns_path

TAG = 'netplumb'
DNAT_CHAIN = 'NETPLUMB'                      # like Docker's DOCKER chain
POSTROUTING_CHAIN = 'NETPLUMB-POSTROUTING'
FORWARD_CHAIN = 'NETPLUMB-FORWARD'
ISOLATION_1 = 'NETPLUMB-ISOLATION-1'         # like DOCKER-ISOLATION-STAGE-1 / -2
ISOLATION_2 = 'NETPLUMB-ISOLATION-2'
OWNED_CHAINS = {'nat': [DNAT_CHAIN, POSTROUTING_CHAIN], 'filter': [FORWARD_CHAIN, ISOLATION_1, ISOLATION_2]}
_PORT = re.compile(r'^(?:(?P<host_ip>\[[0-9a-fA-F:.]+\]|[0-9.]+):)?(?P<host>\d+(?:-\d+)?):'
                   r'(?P<container>\d+(?:-\d+)?)(?:/(?P<proto>tcp|udp|sctp))?$')


def comment(key):
    return '-m comment --comment "%s:%s"' % (TAG, key) if key else '-m comment --comment %s' % TAG


# Hooks from the built-in chains into ours; shared by every network and kept once made.
HOOKS = [
    ('nat', 'PREROUTING', '-m addrtype --dst-type LOCAL %s -j %s' % (comment(None), DNAT_CHAIN), False),
    ('nat', 'OUTPUT', '! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL %s -j %s' % (comment(None), DNAT_CHAIN), False),
    ('nat', 'POSTROUTING', '%s -j %s' % (comment(None), POSTROUTING_CHAIN), False),
    # first in FORWARD, as Docker's, so a DROP policy or later rules cannot shadow it
    ('filter', 'FORWARD', '%s -j %s' % (comment(None), FORWARD_CHAIN), True),
    ('filter', FORWARD_CHAIN, '%s -j %s' % (comment(None), ISOLATION_1), True),
]


def parse_port(spec, index):
    """'[host_ip:]host_port[-end]:container_port[-end][/proto]' -> dict. Ranges map port to port."""
    option = 'published[%d].port' % index
    match = _PORT.match(str(spec).strip())
    if not match:
        raise InvalidInput('%s: %r is not a port mapping ([host_ip:]host_port:container_port[/tcp|udp|sctp])'
                           % (option, spec))
    host_ip = match.group('host_ip')
    if host_ip:
        try:
            host_ip = str(ipaddress.ip_address(host_ip.strip('[]')))
        except ValueError:
            raise InvalidInput('%s: %r has no valid host IP' % (option, spec))
        if ':' in host_ip:
            raise InvalidInput('%s: %r: IPv6 host IPs are not supported by the iptables backend yet' % (option, spec))
    ranges = []
    for part in (match.group('host'), match.group('container')):
        first, _sep, last = part.partition('-')
        first, last = int(first), int(last or first)
        if not 1 <= first <= last <= 65535:
            raise InvalidInput('%s: %r has a port or range out of 1..65535' % (option, spec))
        ranges.append((first, last))
    if ranges[0][0] != ranges[0][1] or ranges[1][0] != ranges[1][1]:
        if ranges[0] != ranges[1]:
            raise InvalidInput('%s: %r: a port range must map to the same ports (8000-8010:8000-8010)' % (option, spec))
    return {'host_ip': host_ip, 'host_ports': ranges[0], 'container_ports': ranges[1],
            'proto': match.group('proto') or 'tcp'}


def _ports(ports):
    first, last = ports
    return str(first) if first == last else '%d:%d' % (first, last)


def network_rules(net):
    """Every rule of one network, in order, as (table, chain, spec). ``net``: name, bridge,
    subnet, masquerade, snat_to, icc, internal, isolate, published [{port (parsed), address}]."""
    tag = comment(net['name'])
    bridge, subnet = net['bridge'], net['subnet']
    rules = []

    def add(table, chain, spec):
        rules.append((table, chain, spec))

    # filter: isolation first (evaluated before any accept), then the network's own accepts
    if net['internal']:
        add('filter', ISOLATION_1, '-i %s ! -o %s %s -j DROP' % (bridge, bridge, tag))
        add('filter', ISOLATION_1, '! -i %s -o %s %s -j DROP' % (bridge, bridge, tag))
    elif net['isolate']:
        add('filter', ISOLATION_1, '-i %s ! -o %s %s -j %s' % (bridge, bridge, tag, ISOLATION_2))
        add('filter', ISOLATION_2, '-o %s %s -j DROP' % (bridge, tag))
    add('filter', FORWARD_CHAIN, '-o %s -m conntrack --ctstate RELATED,ESTABLISHED %s -j ACCEPT' % (bridge, tag))
    for pub in net['published']:
        port = pub['port']
        add('filter', FORWARD_CHAIN, '-d %s/32 ! -i %s -o %s -p %s -m %s --dport %s %s -j ACCEPT' % (
            pub['address'], bridge, bridge, port['proto'], port['proto'], _ports(port['container_ports']), tag))
    add('filter', FORWARD_CHAIN, '-i %s -o %s %s -j %s' % (bridge, bridge, tag, 'ACCEPT' if net['icc'] else 'DROP'))
    if not net['internal']:
        add('filter', FORWARD_CHAIN, '-i %s ! -o %s %s -j ACCEPT' % (bridge, bridge, tag))

    # nat: egress, then published ports (DNAT, hairpin, host-originated traffic to the bridge)
    if not net['internal'] and (net['masquerade'] or net['snat_to']):
        target = '-j SNAT --to-source %s' % net['snat_to'] if net['snat_to'] else '-j MASQUERADE'
        add('nat', POSTROUTING_CHAIN, '-s %s ! -o %s %s %s' % (subnet, bridge, tag, target))
    if net['published'] and not net['internal']:
        add('nat', POSTROUTING_CHAIN, '-o %s -m addrtype --src-type LOCAL %s -j MASQUERADE' % (bridge, tag))
    for pub in net['published'] if not net['internal'] else []:
        port = pub['port']
        same = port['host_ports'] == port['container_ports'] and port['host_ports'][0] != port['host_ports'][1]
        to = pub['address'] if same else '%s:%s' % (pub['address'], _ports(port['container_ports']).replace(':', '-'))
        add('nat', POSTROUTING_CHAIN, '-s %s -d %s/32 -p %s -m %s --dport %s %s -j MASQUERADE' % (
            subnet, pub['address'], port['proto'], port['proto'], _ports(port['container_ports']), tag))
        add('nat', DNAT_CHAIN, '%s-p %s -m %s --dport %s %s -j DNAT --to-destination %s' % (
            '-d %s/32 ' % port['host_ip'] if port['host_ip'] else '', port['proto'], port['proto'],
            _ports(port['host_ports']), tag, to))
    return rules


def parse_save(text):
    """iptables-save output -> {table: {'chains': [...], 'rules': [(chain, spec), ...]}}."""
    tables, current = {}, None
    for line in text.splitlines():
        if line.startswith('*'):
            current = tables.setdefault(line[1:].strip(), {'chains': [], 'rules': []})
        elif current is None or line.startswith('#') or line == 'COMMIT':
            continue
        elif line.startswith(':'):
            current['chains'].append(line[1:].split()[0])
        elif line.startswith('-A '):
            chain, _sep, spec = line[3:].partition(' ')
            current['rules'].append((chain, spec))
    return tables


def owner_of(spec):
    match = re.search(r'--comment "?%s(?::([^" ]+))?"?(?: |$)' % TAG, spec)
    if not match:
        return None
    return match.group(1) or ''


def _check_ports(nets, observed):
    """A host port may be published once: by one network of this request, not by another's rules."""
    keys = set(net['name'] for net in nets)
    taken = {}
    for chain, spec in observed.get('nat', {}).get('rules', []):
        owner = owner_of(spec)
        if chain == DNAT_CHAIN and owner and owner not in keys:
            match = re.search(r'(?:-d (\S+)/32 )?-p (\w+) -m \w+ --dport (\S+)', spec)
            if match:
                taken[(match.group(1), match.group(2), match.group(3))] = owner
    for net in nets:
        for pub in net['published']:
            port = pub['port']
            for (host_ip, proto, ports), other in sorted(taken.items(), key=str):
                if (proto, ports) == (port['proto'], _ports(port['host_ports'])) and (
                        host_ip is None or port['host_ip'] is None or host_ip == port['host_ip']):
                    raise Conflict('published: %s%s/%s is already published by network %s' % (
                        port['host_ip'] + ':' if port['host_ip'] else '', ports.replace(':', '-'), proto, other))


def plan_rules(nets, absent, observed):
    """Rules of several networks in one transaction. ``nets``: networks to have (see
    network_rules); ``absent``: names of networks whose rules go. Our hooks and chains are
    made with the first network's rules and removed with the last ones, so nothing is left
    behind. Returns (restore input per table, actions, before, after); before/after map
    each network to its rules per table. Pure."""
    _check_ports(nets, observed)
    names = [net['name'] for net in nets] + [name for name in absent if name not in [n['name'] for n in nets]]
    desired = dict((net['name'], network_rules(net)) for net in nets)
    restore, actions, before, after = {}, [], {}, {}
    # rules of networks this request does not touch keep our chains in use
    others = any(owner_of(spec) not in names + [''] for table in ('filter', 'nat')
                 for _chain, spec in observed.get(table, {}).get('rules', []) if owner_of(spec) is not None)
    keep_chains = bool(nets) or others
    for table in ('filter', 'nat'):
        lines, present = [], observed.get(table, {})
        present_rules = present.get('rules', [])
        existing = present.get('chains', [])
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
        else:
            for chain, spec, _first in hooks:
                if (chain, spec) in present_rules and chain not in OWNED_CHAINS[table]:
                    lines.append('-D %s %s' % (chain, spec))
                    actions.append('%s: unhook %s from %s' % (table, spec.rsplit(' ', 1)[-1], chain))
        for name in names:
            # Order matters within a chain only; iptables-save lists chains in an order of its own.
            mine = sorted(((chain, spec) for chain, spec in present_rules if owner_of(spec) == name),
                          key=lambda rule: rule[0])
            wanted = sorted(((chain, spec) for t, chain, spec in desired.get(name, []) if t == table),
                            key=lambda rule: rule[0])
            before.setdefault(name, {})[table] = ['-A %s %s' % rule for rule in mine]
            after.setdefault(name, {})[table] = ['-A %s %s' % rule for rule in wanted]
            if mine == wanted:
                continue
            # The network's block is rewritten whole, so its rules keep their order.
            lines += ['-D %s %s' % rule for rule in mine] + ['-A %s %s' % rule for rule in wanted]
            changes = ['%s: delete -A %s %s' % (table, chain, spec) for chain, spec in mine
                       if (chain, spec) not in wanted]
            changes += ['%s: add -A %s %s' % (table, chain, spec) for chain, spec in wanted
                        if (chain, spec) not in mine]
            actions += changes or ['%s: reorder the rules of network %s' % (table, name)]
        if not keep_chains:
            for chain in OWNED_CHAINS[table]:
                if chain in existing:
                    lines.append('-F %s' % chain)
            for chain in OWNED_CHAINS[table]:
                if chain in existing:
                    lines.append('-X %s' % chain)
                    actions.append('%s: delete chain %s' % (table, chain))
        if lines:
            restore[table] = lines
    return restore, actions, before, after


def plan_firewall(net, observed, state):
    """One network (the nat_rule module): rules as flat per-table lists."""
    nets, absent = ([net], []) if state == 'present' else ([], [net['name']])
    restore, actions, before, after = plan_rules(nets, absent, observed)
    return restore, actions, before[net['name']], after[net['name']]


def restore_text(restore):
    out = []
    for table in sorted(restore):
        out.append('*%s' % table)
        out.extend(restore[table])
        out.append('COMMIT')
    return '\n'.join(out) + '\n'


class Iptables(object):
    """iptables-save / iptables-restore of the configured backend (nft or legacy), run in a
    named network namespace (which must exist) through nsenter when one is given."""

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

    def save(self):
        return parse_save(self._run([self.command + '-save'], 'firewall'))

    def restore(self, text):
        self._run([self.command + '-restore', '--noflush'], 'firewall', stdin=text)

    def sysctl(self, key, value=None):
        path = '/proc/sys/' + key.replace('.', '/')
        if value is None:
            return self._run(['cat', path], 'sysctl %s' % key).strip()
        self._run(['sysctl', '-qw', '%s=%s' % (key, value)], 'sysctl %s' % key)
        return None
