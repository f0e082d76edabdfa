"""Our firewall beside others': foreign chains that would drop our traffic are found, and
refused or integrated with (firewalld's zone and policy of ours, StrictForwardPorts)."""

import pytest

from ansible_collections.netplumb.container.plugins.module_utils._errors import Conflict
from ansible_collections.netplumb.container.plugins.module_utils._firewall import firewalld as _firewalld
from ansible_collections.netplumb.container.plugins.module_utils._firewall.coexist import parse_ruleset, plan_coexistence

RULESET = {'nftables': [
    {'chain': {'family': 'inet', 'table': 'filter', 'name': 'forward', 'hook': 'forward', 'policy': 'drop'}},
    {'chain': {'family': 'inet', 'table': 'strict', 'name': 'fwd', 'hook': 'forward', 'policy': 'accept'}},
    {'rule': {'family': 'inet', 'table': 'strict', 'chain': 'fwd', 'handle': 4,
              'expr': [{'counter': {'packets': 0, 'bytes': 0}}, {'drop': None}]}},
    {'chain': {'family': 'ip', 'table': 'filter', 'name': 'FORWARD', 'hook': 'forward', 'policy': 'drop'}},
    {'chain': {'family': 'inet', 'table': 'open', 'name': 'fwd', 'hook': 'forward', 'policy': 'accept'}},
    {'rule': {'family': 'inet', 'table': 'open', 'chain': 'fwd', 'handle': 5,
              'expr': [{'match': {'op': '==', 'left': {'meta': {'key': 'iifname'}}, 'right': 'eth9'}}, {'drop': None}]}},
    {'chain': {'family': 'inet', 'table': 'netplumb', 'name': 'forward', 'hook': 'forward', 'policy': 'accept'}}]}


def test_foreign_chains_that_would_drop_our_traffic_are_found():
    chains = dict(((c['family'], c['table'], c['chain']), c) for c in parse_ruleset(RULESET))
    assert chains[('inet', 'filter', 'forward')]['blocks'] == 'policy drop'
    assert chains[('inet', 'strict', 'fwd')]['blocks'] == 'its last rule is an unconditional drop'
    assert chains[('ip', 'filter', 'FORWARD')]['iptables'] and not chains[('inet', 'filter', 'forward')]['iptables']
    assert chains[('inet', 'open', 'fwd')]['blocks'] is None          # a drop with a match is the user's business
    assert ('inet', 'netplumb', 'forward') not in chains


def test_coexistence_fails_naming_the_chain_or_integrates():
    chains = parse_ruleset(RULESET)
    with pytest.raises(Conflict) as error:
        plan_coexistence(chains, ['br0'], 'fail', 'nftables')
    assert 'inet filter chain forward (policy drop)' in str(error.value)
    assert plan_coexistence(chains, [], 'fail', 'nftables') == ([], [], [])   # no bridge, nothing to protect
    with pytest.raises(Conflict) as error:                 # an iptables-nft chain is not ours to edit
        plan_coexistence(chains, ['br0'], 'integrate', 'nftables')
    assert 'ip filter chain FORWARD' in str(error.value) and 'use backend iptables' in str(error.value)
    lines, actions, _warnings = plan_coexistence(chains[:3], ['br0', 'br1'], 'integrate', 'nftables')
    assert lines[:2] == ['insert rule inet filter forward iifname { "br0", "br1" } accept comment "netplumb"',
                         'insert rule inet filter forward oifname { "br0", "br1" } accept comment "netplumb"']
    assert len(lines) == 4 and len(actions) == 2
    # the iptables backend hooks in first in ip filter FORWARD: only the nft tables count
    lines, _actions, warnings = plan_coexistence(chains, ['br0'], 'ignore', 'iptables')
    assert lines == [] and len(warnings) == 2


# -- IPv6 ------------------------------------------------------------------------------------------


FIREWALLD = {'nftables': [
    {'chain': {'family': 'inet', 'table': 'firewalld', 'name': 'filter_FORWARD', 'hook': 'forward',
               'policy': 'accept'}},
    {'rule': {'family': 'inet', 'table': 'firewalld', 'chain': 'filter_FORWARD', 'handle': 9,
              'expr': [{'reject': {'type': 'icmpx', 'expr': 'admin-prohibited'}}]}}]}


STRICT = {'nftables': FIREWALLD['nftables'][:1] + [
    {'rule': {'family': 'inet', 'table': 'firewalld', 'chain': 'filter_FORWARD', 'handle': 5,
              'expr': [{'match': {'op': 'in', 'left': {'ct': {'key': 'status'}}, 'right': 'dnat'}},
                       {'jump': {'target': 'filter_FORWARD_dnat'}}]}}] + FIREWALLD['nftables'][1:]}


def test_firewalld_strict_forward_ports_refuses_published_ports_only():
    chains = parse_ruleset(STRICT)
    assert [c['strict_forward_ports'] for c in chains] == [True]
    assert not parse_ruleset(FIREWALLD)[0]['strict_forward_ports']
    with pytest.raises(Conflict, match=r"StrictForwardPorts=yes \(inet firewalld chain filter_FORWARD sends every "
                                       r"DNAT'd packet to filter_FORWARD_dnat\): it rejects the published ports "
                                       r"\(api 8080:80, web 443\); set StrictForwardPorts=no"):
        plan_coexistence(chains, ['br0'], 'integrate', 'nftables', ['web 443', 'api 8080:80'])
    assert plan_coexistence(chains, ['br0'], 'integrate', 'nftables', []) == ([], [], [])   # nothing published
    _lines, _actions, warnings = plan_coexistence(chains, ['br0'], 'ignore', 'nftables', ['web 443'])
    assert any('StrictForwardPorts=yes' in w and 'ignored as asked' in w for w in warnings)


def test_firewalld_is_refused_or_integrated_with_a_zone_of_ours():
    chains = parse_ruleset(FIREWALLD)
    with pytest.raises(Conflict, match='inet firewalld chain filter_FORWARD .*our bridges in firewalld zone netplumb'):
        plan_coexistence(chains, ['br0'], 'fail', 'nftables')
    assert plan_coexistence(chains, ['br0'], 'integrate', 'nftables') == ([], [], [])   # not in its chains
    changes, actions = _firewalld.plan(['br1', 'br0'], True, {})
    zone = changes['/etc/firewalld/zones/netplumb.xml']
    assert '<zone target="ACCEPT">' in zone and zone.index('"br0"') < zone.index('"br1"')
    assert '<egress-zone name="netplumb"/>' in changes['/etc/firewalld/policies/netplumb-forward.xml']
    assert _firewalld.plan(['br0', 'br1'], True, changes) == ({}, [])              # converged
    gone, actions = _firewalld.plan([], True, changes)                             # the last network went
    assert gone == dict.fromkeys(changes) and 'firewalld: remove /etc/firewalld/zones/netplumb.xml' in actions
