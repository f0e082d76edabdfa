"""The session guard must notice every kind of change it claims to catch."""

import copy

import pytest

import hostguard

BASE = {
    'links': [('lo', 65536, '00:00:00:00:00:00', None, ('LOOPBACK', 'UP'))],
    'addresses': [('lo', '127.0.0.1', 8)],
    'routes': ['{"dst": "default"}'],
    'iptables': ['*filter', ':FORWARD DROP', 'COMMIT'],
    'ip6tables': [],
    'nft': [],
    'sysctls': {'ipv4/ip_forward': '0'},
    'named_namespaces': [],
    'mounts': ['/', '/proc'],
    'net_namespaces': {1, 2},
}


def test_identical_snapshots_pass():
    assert hostguard.differences(BASE, copy.deepcopy(BASE)) == []


@pytest.mark.parametrize('key, value', [
    ('links', BASE['links'] + [('veth0', 1500, 'aa:bb:cc:dd:ee:ff', None, ())]),
    ('addresses', []),
    ('routes', []),
    ('iptables', ['*filter', ':FORWARD ACCEPT', 'COMMIT']),
    ('sysctls', {'ipv4/ip_forward': '1'}),
    ('named_namespaces', ['leftover']),
    ('mounts', ['/', '/proc', '/run/netns/leftover']),
])
def test_each_change_is_reported(key, value):
    after = dict(BASE, **{key: value})
    problems = hostguard.differences(BASE, after)
    assert len(problems) == 1 and problems[0].startswith(key)


def test_new_namespace_held_by_a_process_is_reported_but_ended_ones_are_not():
    assert hostguard.differences(BASE, dict(BASE, net_namespaces={1})) == []
    problems = hostguard.differences(BASE, dict(BASE, net_namespaces={1, 2, 3}))
    assert problems == ['network namespaces still held by processes: [3]']
