import pytest

from ansible_collections.netplumb.container.plugins.module_utils._errors import InvalidInput
from ansible_collections.netplumb.lab.plugins.module_utils._lab import host_addresses, plan_lab
from ansible_collections.netplumb.lab.plugins.modules.lab import desired

WANT = {'name': 'demo', 'hosts': ['host1', 'host2', 'host3'], 'underlay': '198.51.100.0/24', 'outside': False}


def test_new_lab_creates_switch_and_hosts_in_order():
    plan = plan_lab(WANT, None)
    assert plan['switch'] and plan['create'] == ['host1', 'host2', 'host3'] and plan['remove'] == []
    assert plan['addresses'] == {'host1': '198.51.100.11/24', 'host2': '198.51.100.12/24', 'host3': '198.51.100.13/24'}


def test_existing_hosts_keep_their_addresses_and_new_ones_fill_gaps():
    state = {'underlay': '198.51.100.0/24', 'switch': {'pid': 1}, 'outside': None,
             'hosts': {'host1': {'pid': 2, 'address': '198.51.100.11/24'},
                       'host3': {'pid': 3, 'address': '198.51.100.13/24'},
                       'old': {'pid': 4, 'address': '198.51.100.14/24'}}}
    plan = plan_lab(WANT, state)
    assert not plan['switch'] and plan['create'] == ['host2'] and plan['remove'] == ['old']
    assert plan['addresses'] == {'host2': '198.51.100.12/24'}


def test_converged_lab_plans_nothing():
    state = {'underlay': '198.51.100.0/24', 'switch': {'pid': 1}, 'outside': {'pid': 5},
             'hosts': dict((h, {'pid': 9, 'address': a}) for h, a in
                           zip(WANT['hosts'], host_addresses('198.51.100.0/24', 3)))}
    plan = plan_lab(dict(WANT, outside=True), state)
    assert not any([plan['switch'], plan['create'], plan['remove'], plan['outside'], plan['outside_remove']])


def test_underlay_cannot_change_under_a_running_lab():
    with pytest.raises(InvalidInput) as error:
        plan_lab(dict(WANT, underlay='198.51.100.128/25'), {'underlay': '198.51.100.0/24', 'hosts': {}})
    assert '198.51.100.128/25' in str(error.value) and 'destroy' in str(error.value)


def test_small_underlay_is_refused():
    with pytest.raises(InvalidInput) as error:
        host_addresses('198.51.100.0/28', 5)
    assert 'room for 3' in str(error.value)


def params(**kw):
    base = dict(name='demo', hosts=None, count=None, underlay='198.51.100.0/24', outside=False, state='present', kind='host', release='bookworm')
    base.update(kw)
    return base


@pytest.mark.parametrize('kw, words', [
    (dict(hosts=['Host1']), ['Host1']), (dict(hosts=['outside']), ['outside']),
    (dict(hosts=['a', 'a']), ["['a']", 'twice']), (dict(count=0), ['count', '0']),
    (dict(count=2, underlay='198.51.100.1/24'), ['198.51.100.1/24']),
    (dict(count=2, underlay='2001:db8::/64'), ['IPv4']), (dict(), ['hosts or count']),
    (dict(count=2, name='a/b'), ['a/b']),
])
def test_lab_input_validation(kw, words):
    with pytest.raises(InvalidInput) as error:
        desired(params(**kw))
    for word in words:
        assert word in str(error.value)


def test_count_names_hosts():
    assert desired(params(count=3))['hosts'] == ['host1', 'host2', 'host3']


def test_a_release_is_for_lab_machines_only():
    base = dict(name='demo', hosts=None, count=2, underlay='198.51.100.0/24', outside=False, state='present',
                kind='machine', release='trixie')
    assert desired(base)['releases'] == {'host1': 'trixie', 'host2': 'trixie'}
    with pytest.raises(InvalidInput) as error:
        desired(dict(base, kind='host'))
    assert 'release: trixie - only lab machines have a release of their own' in str(error.value)


def test_machines_of_two_releases_side_by_side():
    base = dict(name='demo', hosts=['controller', 'host1'], count=None, underlay='198.51.100.0/24', outside=False,
                state='present', kind='machine', release='bookworm')
    assert desired(dict(base, releases={'controller': 'trixie'}))['releases'] == {'controller': 'trixie', 'host1': 'bookworm'}
    with pytest.raises(InvalidInput) as error:
        desired(dict(base, releases={'host9': 'trixie'}))
    assert "releases: 'host9' is not one of the lab's hosts" in str(error.value)
    with pytest.raises(InvalidInput) as error:
        desired(dict(base, releases={'host1': 'sid'}))
    assert "releases: host1: 'sid' is not a release (bookworm, trixie)" in str(error.value)
    with pytest.raises(InvalidInput) as error:
        desired(dict(base, kind='host', releases={'host1': 'trixie'}))
    assert 'only lab machines' in str(error.value)
