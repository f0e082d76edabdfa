"""The firewall without a kernel: the facts of a network, both backends' plans, and the
nftables table whose rules do not grow with networks and published ports."""

import json

import pytest

from ansible_collections.netplumb.container.plugins.module_utils._firewall import iptables as _iptables
from ansible_collections.netplumb.container.plugins.module_utils._firewall import nftables as _nftables
from ansible_collections.netplumb.container.plugins.module_utils._errors import Conflict, InvalidInput
from ansible_collections.netplumb.container.plugins.module_utils._firewall.facts import (
    check_ports, network_facts, parse_port)


@pytest.mark.parametrize('spec, parsed', [
    ('8080:80', (None, (8080, 8080), (80, 80), 'tcp')),
    ('127.0.0.1:5353:53/udp', ('127.0.0.1', (5353, 5353), (53, 53), 'udp')),
    ('8000-8010:8000-8010/tcp', (None, (8000, 8010), (8000, 8010), 'tcp')),
    ('[::1]:8080:80', ('::1', (8080, 8080), (80, 80), 'tcp')),
])
def test_parse_port(spec, parsed):
    port = parse_port(spec, 'published[0]')
    assert (port.host_ip, port.host_ports, port.container_ports, port.proto) == parsed and port.spec == spec


@pytest.mark.parametrize('spec', ['80:', ':80', '80', '0:80', '8080:70000', '8000-7000:80', '8000-8002:80',
                                  '1.2.3:80:80', '80:80/icmp', '[::g]:80:80'])
def test_parse_port_rejects_naming_the_spec(spec):
    with pytest.raises(InvalidInput) as error:
        parse_port(spec, 'endpoints[0] (web).published[3]')
    assert 'endpoints[0] (web).published[3]' in str(error.value) and repr(spec) in str(error.value)


NET = {'name': 'web', 'bridge': 'br0', 'subnets': ['10.0.0.0/24'], 'gateway_mode': 'nat', 'masquerade': True,
       'snat_to': None, 'icc': True, 'internal': False, 'published': []}


def published(spec, address='10.0.0.2'):
    return [{'port': parse_port(spec, 'published[0]'), 'addresses': [address]}]


def kinds(facts):
    return sorted(set(fact[0] for fact in facts))


def test_seed001_network_facts():
    assert network_facts(NET) == [
        ('bridges', ('br0',), ()), ('icc', ('br0', 'br0'), ()), ('masq_v4', ('10.0.0.0/24',), ()),
        ('outgoing', ('br0',), ()), ('same', ('br0', 'br0'), ())]


def test_published_port_facts_keep_client_addresses():
    facts = network_facts(dict(NET, icc=False, published=published('198.51.100.11:8080:80')))
    assert ('ports_v4', ('198.51.100.11', 'tcp', '8080'), ('10.0.0.2', '80')) in facts
    # the endpoint reaching itself is the only hairpin masqueraded; no subnet-wide rule
    assert ('hairpin_v4', ('10.0.0.2', '10.0.0.2'), ()) in facts
    assert kinds(facts) == ['bridges', 'hairpin_v4', 'masq_v4', 'outgoing', 'ports_v4', 'same']
    ranged = network_facts(dict(NET, published=published('8000-8002:8000-8002/udp')))
    assert [f[1][2] for f in ranged if f[0] == 'ports_v4'] == ['8000', '8001', '8002']


@pytest.mark.parametrize('mode, expected', [
    ('nat-unprotected', ['bridges', 'hairpin_v4', 'icc', 'masq_v4', 'open', 'outgoing', 'ports_v4', 'same']),
    ('routed', ['bridges', 'icc', 'open_ports_v4', 'outgoing', 'routed', 'same']),
    ('isolated', ['bridges', 'icc', 'same']),
])
def test_gateway_modes(mode, expected):
    facts = network_facts(dict(NET, gateway_mode=mode, published=published('8080:80')))
    assert kinds(facts) == expected
    if mode == 'routed':     # no NAT: the container port is opened, the host port ignored
        assert ('open_ports_v4', ('10.0.0.2', 'tcp', '80'), ()) in facts


def test_internal_and_snat():
    assert kinds(network_facts(dict(NET, internal=True))) == ['bridges', 'icc', 'same']
    assert ('snat_v4', ('10.0.0.0/24',), ('198.51.100.11',)) in network_facts(dict(NET, snat_to='198.51.100.11'))


def test_a_host_port_is_published_once():
    mine = {'web': network_facts(dict(NET, published=published('8080:80')))}
    other = ('ports_v4', ('198.51.100.11', 'tcp', '8080'), ('10.1.0.2', '80'))
    with pytest.raises(Conflict) as error:
        check_ports(mine, [('other', other)])
    assert '8080/tcp on every address is already published by network other' in str(error.value)
    check_ports(mine, [('other', ('ports_v4', ('198.51.100.11', 'tcp', '8081'), ('10.1.0.2', '80')))])


# -- nftables ------------------------------------------------------------------------------------

def applied(script, state=None):
    """The table an nft script leaves, as parse_table reads it (what the kernel would list)."""
    state = json.loads(json.dumps(state or _nftables.EMPTY))
    for line in script.splitlines():
        words = line.split()
        if line.startswith('delete table'):
            state = json.loads(json.dumps(_nftables.EMPTY))
        elif line.startswith('add table'):
            state['exists'] = True
        elif line.startswith(('add set', 'add map')):
            state['sets'].setdefault(words[4], [])
        elif line.startswith('add chain'):
            state['chains'].setdefault(words[4], [])
        elif line.startswith('flush chain'):
            state['chains'][words[4]] = []
        elif line.startswith('delete chain'):
            del state['chains'][words[4]]
        elif line.startswith(('delete set', 'delete map')):
            del state['sets'][words[4]]
        elif line.startswith('add rule'):
            state['chains'][words[4]].append(line.rsplit('comment "', 1)[1].rstrip('"'))
    return state


def nft_state(wanted):
    """A host whose table holds exactly ``wanted``."""
    script, _actions, _before, _after = _nftables.plan(wanted, [], _nftables.EMPTY)
    state = applied(script)
    for name, facts in wanted.items():
        for fact in facts:
            state['sets'][fact[0]].append((name, fact))
    return state


def networks(count, ports=1):
    wanted = {}
    for index in range(count):
        wanted['n%d' % index] = network_facts(dict(
            NET, name='n%d' % index, bridge='br%d' % index, subnets=['10.%d.%d.0/24' % (index // 256, index % 256)],
            published=[{'port': parse_port('%d:80' % (10000 + index * ports + p), 'published[0]'),
                        'addresses': ['10.%d.%d.2' % (index // 256, index % 256)]} for p in range(ports)]))
    return wanted


@pytest.mark.parametrize('count', [1, 10, 100])
def test_nft_rules_do_not_grow_with_networks_and_ports(count):
    script, _a, _b, _after = _nftables.plan(networks(count, ports=3), [], _nftables.EMPTY)
    rules = [line for line in script.splitlines() if line.startswith('add rule')]
    elements = [line for line in script.splitlines() if line.startswith('add element')]
    assert len(rules) == sum(len(r) for _c, _b, r in _nftables.CHAINS if r) == 27
    assert len(elements) == count * (5 + 3 + 1)       # 5 per network, a DNAT per port, a hairpin per endpoint


def test_nft_plan_is_empty_when_converged_and_keeps_other_networks():
    wanted = networks(3)
    state = nft_state(wanted)
    script, actions, before, after = _nftables.plan(wanted, [], state)
    assert script == '' and actions == [] and before == after
    # one network goes: its elements only; the others' stay
    script, actions, before, after = _nftables.plan({'n0': wanted['n0']}, ['n1'], state)
    assert script and all(line.startswith('delete element') for line in script.splitlines())
    assert all('network n1' in a for a in actions) and after['n1'] == []
    # the last one gone takes the table
    script, actions, _b, _a = _nftables.plan({}, ['n0', 'n1', 'n2'], state)
    assert script == 'delete table inet netplumb\n'


def test_nft_changed_rule_rewrites_its_chain_only():
    state = nft_state(networks(1))
    state['chains']['forward'] = state['chains']['forward'][:1] + ['netplumb:edited']
    script, actions, _b, _a = _nftables.plan(networks(1), [], state)
    assert script.splitlines()[0] == 'flush chain inet netplumb forward'
    assert actions == ['nftables: rewrite the rules of chain forward']


def test_nft_user_chain_is_never_flushed_and_outlives_the_networks():
    state = nft_state(networks(1))
    state['chains']['user'] = ['r1']
    state['user_rules'] = 1
    script, _actions, _b, _a = _nftables.plan(networks(1), [], state)
    assert script == ''
    script, actions, _b, _a = _nftables.plan({}, ['n0'], state)
    assert 'delete table' not in script and 'chain inet netplumb user' not in script
    assert 'nftables: keep chain user with its 1 rule(s) of yours' in actions
    left = applied(script, state)
    assert sorted(left['chains']) == ['user'] and left['sets'] == {}
    assert _nftables.plan({}, [], left)[:2] == ('', [])           # and then nothing more to do


OURS = {'family': 'inet', 'table': 'netplumb'}
LISTING = {'nftables': [
    {'metainfo': {'version': '1.0.6'}},
    {'table': {'family': 'inet', 'name': 'netplumb'}},
    {'set': dict(OURS, name='bridges', type='ifname', elem=[{'elem': {'val': 'br0', 'comment': 'web'}}])},
    {'map': dict(OURS, name='ports_v4', type=['ipv4_addr', 'inet_proto', 'inet_service'], map='ipv4_addr . inet_service',
                 elem=[[{'elem': {'val': {'concat': [{'prefix': {'addr': '0.0.0.0', 'len': 0}}, 'tcp', 8080]},
                                  'comment': 'web'}}, {'concat': ['10.0.0.2', 80]}]])},
    {'set': dict(OURS, name='open_ports_v4',
                 elem=[{'elem': {'val': {'concat': ['10.0.0.3', 'udp', {'range': [5, 7]}]}, 'comment': 'x'}}])},
    {'chain': dict(OURS, name='user')},
    {'rule': dict(OURS, chain='user', expr=[])},
    {'rule': dict(OURS, chain='forward', comment='netplumb:abc', expr=[])},
    # another table's objects are not ours, even under the same names
    {'table': {'family': 'inet', 'name': 'filter'}},
    {'set': {'family': 'inet', 'table': 'filter', 'name': 'bridges', 'elem': ['eth0']}},
    {'chain': {'family': 'ip', 'table': 'netplumb', 'name': 'forward'}},
    {'rule': {'family': 'inet', 'table': 'filter', 'chain': 'user', 'expr': []}}]}


def test_nft_listing_is_read_back_into_facts():
    state = _nftables.parse_table(LISTING)
    assert state['sets']['ports_v4'] == [('web', ('ports_v4', ('0.0.0.0/0', 'tcp', '8080'), ('10.0.0.2', '80')))]
    assert state['sets']['bridges'] == [('web', ('bridges', ('br0',), ()))]
    assert state['sets']['open_ports_v4'][0][1][1] == ('10.0.0.3', 'udp', '5-7')
    assert state['chains'] == {'user': [None], 'forward': ['netplumb:abc']} and state['user_rules'] == 1
    assert state['exists'] and sorted(state['sets']) == ['bridges', 'open_ports_v4', 'ports_v4']
    assert _nftables.parse_table({'nftables': LISTING['nftables'][8:]}) == _nftables.EMPTY    # no table of ours


# -- iptables ------------------------------------------------------------------------------------

TAG = '-m comment --comment "netplumb:web"'
SAVED = """# Generated by iptables-save
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [3:180]
:OUTPUT ACCEPT [0:0]
:SOMEONE - [0:0]
-A FORWARD -s 198.18.0.0/15 -j DROP
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:NETPLUMB - [0:0]
-A NETPLUMB -p tcp -m tcp --dport 8080 -m comment --comment "netplumb:other" -j DNAT --to-destination 10.1.0.2:80
COMMIT
"""


def test_iptables_rules_of_seed001_in_docker29_layout():
    rules = _iptables.network_rules('web', network_facts(NET))
    assert rules == [
        ('filter', 'NETPLUMB-BRIDGE', '-o br0 -m conntrack --ctstate RELATED,ESTABLISHED %s -j ACCEPT' % TAG),
        ('filter', 'NETPLUMB-BRIDGE', '-i br0 -o br0 %s -j ACCEPT' % TAG),
        ('filter', 'NETPLUMB-BRIDGE', '-i br0 -o br0 %s -j DROP' % TAG),
        ('filter', 'NETPLUMB-BRIDGE', '-o br0 -m conntrack --ctstate DNAT %s -j ACCEPT' % TAG),
        ('filter', 'NETPLUMB-BRIDGE', '-o br0 %s -j DROP' % TAG),
        ('filter', 'NETPLUMB-FORWARD', '-i br0 %s -j ACCEPT' % TAG),
        ('filter', 'NETPLUMB-FORWARD', '-i br0 %s -j DROP' % TAG),
        ('nat', 'NETPLUMB-HAIRPIN', '-s 127.0.0.0/8 -o br0 %s -j MASQUERADE' % TAG),
        ('nat', 'NETPLUMB-HAIRPIN', '-o br0 %s -j ACCEPT' % TAG),
        ('raw', 'NETPLUMB-GUARD', '-d 127.0.0.0/8 -i br0 %s -j DROP' % TAG),
        ('nat', 'NETPLUMB-POSTROUTING', '-s 10.0.0.0/24 %s -j MASQUERADE' % TAG)]


def test_iptables_published_port_rules():
    rules = _iptables.network_rules('web', network_facts(dict(NET, published=published('198.51.100.11:8080:80'))))
    assert ('nat', 'NETPLUMB', '-d 198.51.100.11/32 -p tcp -m tcp --dport 8080 %s -j DNAT --to-destination '
            '10.0.0.2:80' % TAG) in rules
    assert ('nat', 'NETPLUMB-HAIRPIN', '-s 10.0.0.2/32 -d 10.0.0.2/32 -m conntrack --ctstate DNAT %s -j MASQUERADE'
            % TAG) in rules


def test_iptables_plan_hooks_and_rules_without_touching_foreign_ones():
    payload, actions, before, after = _iptables.plan_version(4, {'web': network_facts(NET)}, [], _iptables.parse_save(SAVED))
    text = _iptables.restore_text(payload['restore'])
    assert ':NETPLUMB-FORWARD - [0:0]' in text and ':NETPLUMB - [0:0]' not in text     # exists already: not flushed
    lines = text.splitlines()
    assert lines.index('-I FORWARD 1 -m comment --comment netplumb -j NETPLUMB-FORWARD') < \
        lines.index('-I FORWARD 1 -m comment --comment netplumb -j NETPLUMB-USER')       # so the user chain is first
    assert 'SOMEONE' not in text and '198.18.0.0' not in text
    assert not [line for line in lines if line.split(' ')[0] in ('-F', '-X', '-P', '-Z')]
    assert before == {'web': []} and len(after['web']) == 11
    assert 'nat: create chain NETPLUMB-POSTROUTING' in actions


def _saved(restore, base=''):
    """iptables-save of a host after ``restore`` (additions only)."""
    tables = _iptables.parse_save(base)
    for table, lines in restore.items():
        current = tables.setdefault(table, {'chains': {}, 'rules': []})
        for line in lines:
            if line.startswith(':'):
                current['chains'][line[1:].split()[0]] = '-'
            elif line.startswith('-I '):
                chain, _one, spec = line[3:].split(' ', 2)
                current['rules'].insert(0, (chain, spec))
            elif line.startswith('-A '):
                current['rules'].append(tuple(line[3:].split(' ', 1)))
    return tables


def test_iptables_converged_is_empty_and_the_last_network_takes_chains_and_hooks():
    wanted = {'web': network_facts(NET), 'db': network_facts(dict(NET, name='db', bridge='br1'))}
    payload, _a, _b, _after = _iptables.plan_version(4, wanted, [], {})
    observed = _saved(payload['restore'], '# Generated by iptables-nft-save v1.8.9 (nf_tables)\n')
    assert _iptables.plan_version(4, wanted, [], observed)[:2] == ({}, [])
    payload, actions, _before, after = _iptables.plan_version(4, {}, ['web', 'db'], observed)
    restore = payload['restore']
    assert '-X NETPLUMB-FORWARD' in restore['filter'] and '-X NETPLUMB-USER' in restore['filter']
    assert any(line.startswith('-D FORWARD ') for line in restore['filter'])
    assert after == {'web': [], 'db': []}
    # iptables-nft tables we made exist go too (built-in chains only, empty, policy ACCEPT)
    assert payload['prune'] == ['filter', 'nat', 'raw'] and 'nat: delete the table, left empty' in actions
    # a network someone else declared (nat_rule) keeps them
    payload, actions, before, after = _iptables.plan_version(4, {}, ['web'], observed)
    assert not [line for line in payload['restore']['filter'] if line.startswith('-X')] and not payload['prune']


def test_iptables_user_chain_with_rules_stays_hooked():
    observed = _saved(_iptables.plan_version(4, {'web': network_facts(NET)}, [], {})[0]['restore'], '(nf_tables)')
    observed['filter']['rules'].append(('NETPLUMB-USER', '-s 203.0.113.9/32 -j DROP'))
    payload, _actions, _b, _a = _iptables.plan_version(4, {}, ['web'], observed)
    assert '-X NETPLUMB-USER' not in payload['restore']['filter'] and 'filter' not in payload['prune']
    assert not [line for line in payload['restore']['filter']
                if line.startswith('-D FORWARD') and line.endswith('NETPLUMB-USER')]


# -- the firewall already on the host ------------------------------------------------------------


DUAL = dict(NET, subnets=['10.0.0.0/24', 'fd00:1::/64'])


def test_dual_stack_facts_publish_on_both_families():
    facts = network_facts(dict(DUAL, published=[{'port': parse_port('8080:80', 'published[0]'),
                                                 'addresses': ['10.0.0.2', 'fd00:1::2']}]))
    assert ('masq_v6', ('fd00:1::/64',), ()) in facts
    assert ('ports_v6', ('::/0', 'tcp', '8080'), ('fd00:1::2', '80')) in facts
    assert ('ports_v4', ('0.0.0.0/0', 'tcp', '8080'), ('10.0.0.2', '80')) in facts
    # a port bound to an IPv4 host address is not published on IPv6, and the other way round
    v4_only = network_facts(dict(DUAL, published=[{'port': parse_port('198.51.100.1:8080:80', 'published[0]'),
                                                   'addresses': ['10.0.0.2', 'fd00:1::2']}]))
    assert 'ports_v6' not in kinds(v4_only) and 'ports_v4' in kinds(v4_only)
    v6_only = network_facts(dict(DUAL, published=[{'port': parse_port('[2001:db8::1]:8080:80', 'published[0]'),
                                                   'addresses': ['10.0.0.2', 'fd00:1::2']}]))
    assert ('ports_v6', ('2001:db8::1', 'tcp', '8080'), ('fd00:1::2', '80')) in v6_only
    assert 'ports_v4' not in kinds(v6_only)
    assert 'masq_v6' not in kinds(network_facts(dict(DUAL, gateway_mode='routed')))


def test_iptables_ipv6_rules_in_ip6tables_save_form():
    ports = [{'port': parse_port('8080:80', 'published[0]'), 'addresses': ['10.0.0.2', 'fd00:1::2']}]
    facts = network_facts(dict(DUAL, gateway_mode='routed', published=ports))
    rules = _iptables.network_rules('web', facts, 6)
    assert ('filter', 'NETPLUMB-BRIDGE', '-o br0 -p ipv6-icmp %s -j ACCEPT' % TAG) in rules
    assert ('filter', 'NETPLUMB-BRIDGE', '-d fd00:1::2/128 -o br0 -p tcp -m tcp --dport 80 %s -j ACCEPT' % TAG) in rules
    assert not [r for r in rules if '10.0.0' in r[2] or '127.0.0' in r[2] or r[0] == 'raw']
    nat = _iptables.network_rules('web', network_facts(dict(DUAL, published=[
        {'port': parse_port('8080:80', 'published[0]'), 'addresses': ['10.0.0.2', 'fd00:1::2']}])), 6)
    assert ('nat', 'NETPLUMB', '-p tcp -m tcp --dport 8080 %s -j DNAT --to-destination [fd00:1::2]:80' % TAG) in nat
    assert ('nat', 'NETPLUMB-POSTROUTING', '-s fd00:1::/64 %s -j MASQUERADE' % TAG) in nat


def test_iptables_plans_both_families_and_refuses_ipv6_without_ip6tables():
    facts = {'web': network_facts(DUAL)}
    payload, actions, _before, after = _iptables.plan(facts, [], {4: {}, 6: {}})
    assert sorted(payload) == [4, 6]
    assert 'ip6tables nat: add -A NETPLUMB-POSTROUTING -s fd00:1::/64 %s -j MASQUERADE' % TAG in actions
    assert [r for r in after['web'] if r.startswith('ip6tables -t filter')]
    with pytest.raises(Conflict, match='network web has IPv6 but ip6tables cannot be used'):
        _iptables.plan(facts, [], {4: {}, 6: None})
    # an IPv4-only network on a host without IPv6: planned on IPv4 alone
    payload, _a, _b, _after = _iptables.plan({'web': network_facts(NET)}, [], {4: {}, 6: None})
    assert sorted(payload) == [4]


def test_published_port_taken_by_another_network_on_ipv6():
    other = _iptables.parse_save('*nat\n:NETPLUMB - [0:0]\n-A NETPLUMB -p tcp -m tcp --dport 8080 -m comment '
                                 '--comment "netplumb:other" -j DNAT --to-destination [fd00:9::2]:80\nCOMMIT\n')
    facts = {'web': network_facts(dict(DUAL, published=[{'port': parse_port('8080:80', 'published[0]'),
                                                         'addresses': ['10.0.0.2', 'fd00:1::2']}]))}
    with pytest.raises(Conflict, match='8080/tcp on every address is already published by network other'):
        _iptables.plan(facts, [], {4: {}, 6: other})


# -- firewalld --------------------------------------------------------------------------------------
