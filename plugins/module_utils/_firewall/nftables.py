# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nftables backend: one table of ours, ``inet netplumb``, for IPv4 and IPv6.

Its rules are fixed (``CHAINS``); what changes with networks and published ports are the
elements of its named sets and maps (``SETS``), each tagged with its network's name in the
element's comment, so a lookup costs the same with 1 network or 100 and a network's part can
be told from the others'. Every rule carries a comment holding a digest of its text: a chain
whose digests differ from ours is rewritten whole. A whole change is one ``nft`` transaction;
the table is observed as JSON. The chain ``user`` is the users' own (like Docker's
DOCKER-USER): created empty, jumped to first from the forward hook, never flushed."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import json

from ansible_collections.netplumb.container.plugins.module_utils._errors import KernelError
from ansible_collections.netplumb.container.plugins.module_utils._firewall.facts import TAG, check_ports, describe
from ansible_collections.netplumb.container.plugins.module_utils import _command
from ansible_collections.netplumb.container.plugins.module_utils._kernel.netns import in_namespace, netns_path

TABLE = 'inet %s' % TAG
USER_CHAIN = 'user'
EMPTY = {'exists': False, 'chains': {}, 'sets': {}, 'user_rules': 0}   # what a host without our table shows

# name: (key type, value type or None, interval)
SETS = {
    'bridges': ('ifname', None, False),                   # every bridge of ours
    'same': ('ifname . ifname', None, False),             # a bridge to itself
    'icc': ('ifname . ifname', None, False),              # ... where its endpoints may talk
    'outgoing': ('ifname', None, False),                  # bridges with a way out (not internal)
    'open': ('ifname', None, False),                      # gateway mode nat-unprotected
    'routed': ('ifname', None, False),                    # gateway mode routed
    'masq_v4': ('ipv4_addr', None, True),
    'masq_v6': ('ipv6_addr', None, True),
    'snat_v4': ('ipv4_addr', 'ipv4_addr', True),
    'ports_v4': ('ipv4_addr . inet_proto . inet_service', 'ipv4_addr . inet_service', True),
    'ports_v6': ('ipv6_addr . inet_proto . inet_service', 'ipv6_addr . inet_service', True),
    'open_ports_v4': ('ipv4_addr . inet_proto . inet_service', None, False),
    'open_ports_v6': ('ipv6_addr . inet_proto . inet_service', None, False),
    'hairpin_v4': ('ipv4_addr . ipv4_addr', None, False),
    'hairpin_v6': ('ipv6_addr . ipv6_addr', None, False),
    'name_servers_v4': ('ipv4_addr', None, False),           # gateways the host's name server answers on
    'name_server_v4': ('ipv4_addr . ifname', None, False),   # ... and the bridge it answers there
}

L4 = 'meta l4proto { tcp, udp, sctp }'
# (name, base chain definition or None, rules); created in this order
CHAINS = [
    (USER_CHAIN, None, None),
    ('into_network', None, [
        'ct state established,related accept',
        'iifname . oifname @icc accept',
        'iifname . oifname @same drop',
        'ct status dnat accept',
        'oifname @open accept',
        'oifname @routed meta l4proto { icmp, ipv6-icmp } accept',
        '%s ip daddr . meta l4proto . th dport @open_ports_v4 accept' % L4,
        '%s ip6 daddr . meta l4proto . th dport @open_ports_v6 accept' % L4,
        'drop']),
    ('out_of_network', None, [
        'iifname @outgoing accept',
        'drop']),
    ('forward', 'type filter hook forward priority filter; policy accept;', [
        'jump %s' % USER_CHAIN,
        'oifname @bridges jump into_network',
        'iifname @bridges jump out_of_network']),
    ('published', None, [
        '%s dnat ip to ip daddr . meta l4proto . th dport map @ports_v4' % L4,
        '%s dnat ip6 to ip6 daddr . meta l4proto . th dport map @ports_v6' % L4]),
    ('prerouting', 'type nat hook prerouting priority dstnat; policy accept;', [
        'fib daddr type local jump published']),
    ('output', 'type nat hook output priority -100; policy accept;', [
        'fib daddr type local jump published']),
    ('postrouting', 'type nat hook postrouting priority srcnat; policy accept;', [
        'ct status dnat ip saddr . ip daddr @hairpin_v4 masquerade',
        'ct status dnat ip6 saddr . ip6 daddr @hairpin_v6 masquerade',
        'ip saddr 127.0.0.0/8 oifname @bridges masquerade',
        'oifname @bridges accept',
        'snat ip to ip saddr map @snat_v4',
        'ip saddr @masq_v4 masquerade',
        'ip6 saddr @masq_v6 masquerade']),
    # a network's name server answers its own bridge only: not another network, the host's
    # other interfaces or a routed neighbour
    ('name_servers', 'type filter hook input priority filter; policy accept;', [
        'meta l4proto { tcp, udp } th dport 53 ip daddr @name_servers_v4 ip daddr . iifname != @name_server_v4 drop']),
    # route_localnet lets 127.0.0.1 leave through a bridge; nothing may come in that way
    ('guard', 'type filter hook prerouting priority raw; policy accept;', [
        'iifname @bridges ip daddr 127.0.0.0/8 drop']),
]


def digest(chain, rule):
    return '%s:%s' % (TAG, hashlib.sha1(('%s %s' % (chain, rule)).encode()).hexdigest()[:12])


def _component(kind, text):
    return '"%s"' % text if kind == 'ifname' else text


def element(fact, with_comment=True, owner=None):
    """A fact as nft writes a set or map element."""
    name, key, value = fact
    key_types, value_types = SETS[name][0].split(' . '), (SETS[name][1] or '').split(' . ')
    text = ' . '.join(_component(t, k) for t, k in zip(key_types, key))
    if with_comment:
        text += ' comment "%s"' % owner
    if value:
        text += ' : ' + ' . '.join(_component(t, v) for t, v in zip(value_types, value))
    return text


# -- observing ---------------------------------------------------------------------------------

def _atom(value):
    if isinstance(value, dict):
        if 'prefix' in value:
            return '%s/%d' % (value['prefix']['addr'], value['prefix']['len'])
        if 'range' in value:
            return '%s-%s' % tuple(value['range'])
        if 'concat' in value:
            return tuple(_atom(v) for v in value['concat'])
    return str(value)


def _tuple(value):
    atom = _atom(value)
    return atom if isinstance(atom, tuple) else (atom,)


def parse_table(listing):
    """Our table in ``nft -j list ruleset`` (one listing serves this and ``coexist``) ->
    {exists, chains: {name: [digests]}, sets: {name: [(owner, fact)]}, user_rules}."""
    state = {'exists': False, 'chains': {}, 'sets': {}, 'user_rules': 0}
    for item in listing.get('nftables', []):
        data = list(item.values())[0]
        if not isinstance(data, dict) or (data.get('family'), data.get('table', data.get('name'))) != ('inet', TAG):
            continue
        if 'table' in item:
            state['exists'] = True
        elif 'chain' in item:
            state['chains'].setdefault(item['chain']['name'], [])
        elif 'set' in item or 'map' in item:
            data = item.get('set') or item.get('map')
            elements = state['sets'].setdefault(data['name'], [])
            for entry in data.get('elem', []):
                value = ()
                if isinstance(entry, list):
                    entry, value = entry[0], _tuple(entry[1])
                owner = None
                if isinstance(entry, dict) and 'elem' in entry:
                    owner, entry = entry['elem'].get('comment'), entry['elem']['val']
                elements.append((owner, (data['name'], _tuple(entry), value)))
        elif 'rule' in item:
            rule = item['rule']
            state['chains'].setdefault(rule['chain'], []).append(rule.get('comment'))
            if rule['chain'] == USER_CHAIN:
                state['user_rules'] += 1
    return state


class Nft(object):
    """libnftables through its Python binding where the host has it (Debian's python3-nftables),
    else the ``nft`` command: the same text in, the same JSON out."""
    name = 'nftables'
    EMPTY = EMPTY

    def __init__(self, namespace=None):
        self.namespace = namespace

    def _binding(self, text, json_out):
        import nftables   # pylint: disable=import-error,import-outside-toplevel
        nft = nftables.Nftables()
        nft.set_json_output(json_out)
        return nft.cmd(text)

    def _command(self, text, json_out):
        # a listing is given as arguments: read from standard input, a missing table lists nothing and exits 0
        argv = ['nft', '-j'] + text.split() if json_out else ['nft', '-f', '-']
        if self.namespace is not None:
            argv = ['nsenter', '--net=%s' % netns_path(self.namespace), '--'] + argv
        try:
            proc = _command.run(argv, stdin_text=None if json_out else text)
        except OSError as error:
            raise KernelError('firewall', 'run nft', '%s (install nftables)' % error.strerror)
        return proc.returncode, proc.stdout, proc.stderr

    def run(self, text, json_out=False):
        """(rc, output, error) of an nft script."""
        if binding_available():
            if self.namespace is None:
                return self._binding(text, json_out)
            return in_namespace(netns_path(self.namespace), lambda: self._binding(text, json_out))
        return self._command(text, json_out)

    def observe(self):
        return parse_table(self.list_ruleset())

    def list_ruleset(self):
        rc, out, err = self.run('list ruleset', json_out=True)
        if rc != 0:
            raise KernelError('firewall', 'list ruleset', err.strip())
        return json.loads(out) if out.strip() else {'nftables': []}

    def apply(self, script):
        rc, _out, err = self.run(script)
        if rc != 0:
            raise KernelError('firewall', 'apply an nft transaction', err.strip())


def binding_available():
    try:
        import nftables  # noqa: F401  pylint: disable=import-error,import-outside-toplevel,unused-import
    except ImportError:
        return False
    return True


# -- planning (pure) ---------------------------------------------------------------------------

def plan(wanted, gone, state):
    """``wanted``: {network: facts}; ``gone``: networks whose facts go; ``state``: parse_table.
    Returns (nft script or '', actions, before, after); before/after map each network of
    ``wanted`` and ``gone`` to its elements in words. Elements of other networks stay."""
    names = set(wanted) | set(gone)
    have = {}
    for elements in state['sets'].values():
        for owner, fact in elements:
            have.setdefault(owner, set()).add(fact)
    before = dict((name, sorted(describe(f) for f in have.get(name, ()))) for name in names)
    after = dict((name, sorted(describe(f) for f in wanted.get(name, ()))) for name in names)
    others = [owner for owner in have if owner not in names]
    check_ports(wanted, [(owner, fact) for owner in others for fact in have[owner]])
    lines, actions = [], []
    if not any(wanted.values()) and not others:
        if state['exists']:
            lines, actions = _teardown(state)
        return '\n'.join(lines) + ('\n' if lines else ''), actions, before, after
    if not state['exists']:
        lines.append('add table %s' % TABLE)
        actions.append('nftables: create table %s' % TABLE)
    for name in sorted(SETS):
        if name not in state['sets']:
            key, value, interval = SETS[name]
            lines.append('add %s %s %s { type %s%s;%s }' % (
                'map' if value else 'set', TABLE, name, key, ' : ' + value if value else '',
                ' flags interval;' if interval else ''))
    for chain, base, _rules in CHAINS:
        if chain not in state['chains']:
            lines.append('add chain %s %s%s' % (TABLE, chain, ' { %s }' % base if base else ''))
            actions.append('nftables: create chain %s' % chain)
    for chain, _base, rules in CHAINS:
        if rules is None or state['chains'].get(chain) == [digest(chain, r) for r in rules]:
            continue
        if state['chains'].get(chain):
            lines.append('flush chain %s %s' % (TABLE, chain))
            actions.append('nftables: rewrite the rules of chain %s' % chain)
        lines += ['add rule %s %s %s comment "%s"' % (TABLE, chain, rule, digest(chain, rule)) for rule in rules]
    for name in sorted(names):
        old, new = have.get(name, set()), set(wanted.get(name, ()))
        for fact in sorted(old - new):
            lines.append('delete element %s %s { %s }' % (TABLE, fact[0], element((fact[0], fact[1], ()), False)))
            actions.append('nftables: network %s: remove %s' % (name, describe(fact)))
        for fact in sorted(new - old):
            lines.append('add element %s %s { %s }' % (TABLE, fact[0], element(fact, owner=name)))
            actions.append('nftables: network %s: add %s' % (name, describe(fact)))
    return '\n'.join(lines) + ('\n' if lines else ''), actions, before, after


def _teardown(state):
    """The last network gone: the table goes, unless users put rules in their chain: then only
    that chain stays, unhooked (it can be hooked again by the next network)."""
    if not state['user_rules']:
        return ['delete table %s' % TABLE], ['nftables: delete table %s' % TABLE]
    lines, actions = [], []
    for chain, _base, _rules in reversed(CHAINS):
        if chain != USER_CHAIN and chain in state['chains']:
            lines.append('delete chain %s %s' % (TABLE, chain))
            actions.append('nftables: delete chain %s' % chain)
    lines = ['flush chain %s %s' % (TABLE, c) for c, _b, _r in CHAINS if c != USER_CHAIN and c in state['chains']] + lines
    for name in sorted(state['sets']):
        lines.append('delete %s %s %s' % ('map' if SETS.get(name, (0, None))[1] else 'set', TABLE, name))
    if lines:       # once only the user chain is left, there is nothing more to do
        actions.append('nftables: keep chain %s with its %d rule(s) of yours' % (USER_CHAIN, state['user_rules']))
    return lines, actions
