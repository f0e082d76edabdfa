# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The firewall already on the host, found before anything changes.

In nftables every table's base chains see every packet: an accept in our table does not
overrule a drop in another one on the same hook. So a foreign base chain on the forward hook
whose policy is drop, or whose last rule drops or rejects everything (Debian's
``/etc/nftables.conf`` made strict, firewalld, UFW and Docker through iptables-nft, ...), would
silently drop our networks' traffic. Such a chain fails the run before any change, naming it,
unless the user asks to ``integrate`` (two rules of ours, tagged, at the top of that chain,
accepting what enters or leaves our bridges: our own table still decides what gets through;
with firewalld, whose chains it rewrites on reload, a zone of ours instead: ``firewalld``) or
to ``ignore`` it.

firewalld 2.3+ with ``StrictForwardPorts=yes`` (Debian 13 ships it, off) rejects every forwarded
packet that was DNAT'd by anyone but itself, before any zone or policy is consulted: its forward
chain jumps DNAT'd packets to ``filter_FORWARD_dnat``, which rejects all but firewalld's own
forward ports. Published ports cannot pass it whatever we add, so a host that publishes ports
fails the run before any change, naming the setting (``ignore`` makes it a warning)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.netplumb.container.plugins.module_utils._errors import Conflict
from ansible_collections.netplumb.container.plugins.module_utils._firewall.facts import TAG

IPTABLES_TABLES = ('filter', 'nat', 'mangle', 'raw', 'security')
MODES = ('fail', 'integrate', 'ignore')


def _verdict(rule):
    """'drop' or 'reject' when a rule drops everything (no match), else None."""
    kinds = [list(expr)[0] for expr in rule.get('expr', [])]
    kinds = [k for k in kinds if k != 'counter']
    return kinds[0] if kinds in (['drop'], ['reject']) else None


def parse_ruleset(listing):
    """``nft -j list ruleset`` -> base chains on the forward hook of tables not ours:
    [{family, table, chain, policy, blocks (why, or None), iptables (made by iptables-nft),
    ours (handles of our tagged rules)}]."""
    chains, rules = {}, {}
    for item in listing.get('nftables', []):
        if 'chain' in item and item['chain'].get('hook') == 'forward':
            chain = item['chain']
            if (chain['family'], chain['table']) == ('inet', TAG):
                continue
            chains[(chain['family'], chain['table'], chain['name'])] = chain
        elif 'rule' in item:
            rule = item['rule']
            rules.setdefault((rule['family'], rule['table'], rule['chain']), []).append(rule)
    found = []
    for key, chain in sorted(chains.items()):
        family, table, name = key
        mine = [r for r in rules.get(key, []) if r.get('comment') == TAG]
        others = [r for r in rules.get(key, []) if r.get('comment') != TAG]
        blocks = None
        if chain.get('policy') == 'drop':
            blocks = 'policy drop'
        elif others and _verdict(others[-1]):
            blocks = 'its last rule is an unconditional %s' % _verdict(others[-1])
        firewalld = (family, table) == ('inet', 'firewalld')
        found.append({'family': family, 'table': table, 'chain': name, 'blocks': blocks,
                      'iptables': family in ('ip', 'ip6') and table in IPTABLES_TABLES and name.isupper(),
                      'firewalld': firewalld,
                      # StrictForwardPorts=yes: DNAT'd packets go to a chain that rejects all but its own
                      'strict_forward_ports': firewalld and any(_jump(r).endswith('_dnat') for r in others),
                      'ours': [r['handle'] for r in mine],
                      'ours_text': sorted(_rule_text(r) for r in mine)})
    return found


def _jump(rule):
    for expr in rule.get('expr', []):
        if 'jump' in expr:
            return expr['jump'].get('target', '')
    return ''


def _rule_text(rule):
    """Our tagged rule read back, in the form integration_rules writes it (for comparison)."""
    for expr in rule.get('expr', []):
        match = expr.get('match')
        if match and match['left'].get('meta', {}).get('key') in ('iifname', 'oifname'):
            names = match['right']['set'] if isinstance(match['right'], dict) else [match['right']]
            return '%s { %s } accept' % (match['left']['meta']['key'], ', '.join('"%s"' % n for n in sorted(names)))
    return None


def integration_rules(bridges):
    return ['%s { %s } accept' % (key, ', '.join('"%s"' % b for b in sorted(bridges))) for key in ('iifname', 'oifname')]


def plan_coexistence(chains, bridges, mode, backend, published=()):
    """-> (nft script lines, actions, warnings), or Conflict naming the first foreign chain
    that would drop the traffic of ``bridges`` (or, ``published``: 'ENDPOINT MAPPING' of the host's
    published ports, that of the published ports). Pure."""
    lines, actions, warnings = [], [], []
    for chain in chains:
        where = '%s %s chain %s' % (chain['family'], chain['table'], chain['chain'])
        address = '%s %s %s' % (chain['family'], chain['table'], chain['chain'])
        if chain['strict_forward_ports'] and published:
            why = ('firewalld runs with StrictForwardPorts=yes (%s sends every DNAT\'d packet to %s_dnat): it rejects '
                   'the published ports (%s)' % (where, chain['chain'], ', '.join(sorted(published))))
            if mode == 'ignore':
                warnings.append(why + '; ignored as asked')
            else:
                raise Conflict('firewall: %s; set StrictForwardPorts=no in /etc/firewalld/firewalld.conf and reload '
                               'firewalld, publish no ports on this host, or firewall_coexistence: ignore' % why)
        if chain['ours'] and (mode != 'integrate' or not bridges or
                              chain['ours_text'] != sorted(integration_rules(bridges))):
            lines += ['delete rule %s handle %d' % (address, handle) for handle in chain['ours']]
            actions.append('firewall: remove our rules from %s' % where)
        if not chain['blocks'] or not bridges:
            continue
        if backend != 'nftables' and chain['iptables'] and chain['family'] == 'ip' and chain['chain'] == 'FORWARD':
            continue        # our chains are hooked first into this very chain
        if chain['firewalld'] and mode == 'integrate':
            continue        # our bridges go in a firewalld zone of ours (_firewalld), not in its chains
        if mode == 'ignore':
            warnings.append('%s (%s) may drop the networks\' traffic; ignored as asked' % (where, chain['blocks']))
        elif mode == 'integrate' and not chain['iptables']:
            if chain['ours_text'] != sorted(integration_rules(bridges)):
                lines += ['insert rule %s %s comment "%s"' % (address, rule, TAG) for rule in integration_rules(bridges)]
                actions.append('firewall: accept our bridges\' traffic at the top of %s' % where)
        else:
            advice = ('use backend iptables (its chains are hooked first into FORWARD), '
                      if chain['iptables'] else 'set firewall_coexistence: integrate (our bridges in firewalld zone '
                      'netplumb), ' if chain['firewalld'] else
                      'set firewall_coexistence: integrate (two rules of ours at its top), ')
            raise Conflict('firewall: %s (%s) would drop the traffic of the networks\' bridges (%s); %s'
                           'or firewall_coexistence: ignore' % (where, chain['blocks'], ', '.join(sorted(bridges)), advice))
    return lines, actions, warnings
