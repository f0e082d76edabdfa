import json
import multiprocessing
import os

import pytest

from ansible_collections.netplumb.container.plugins.module_utils._errors import Conflict, InvalidInput
from ansible_collections.netplumb.container.plugins.module_utils._objects.ipam import (
    Store, check_overlap, check_redefinition, next_subnet, plan_leases, pool_spec)

POOL = pool_spec('web', '10.0.0.0/24')


def test_pool_defaults_gateway_to_first_address():
    assert POOL == {'name': 'web', 'subnet': '10.0.0.0/24', 'gateway': '10.0.0.1', 'ip_range': None, 'reserved': []}


@pytest.mark.parametrize('args, words', [
    (('web', '10.0.0.5/24'), ['10.0.0.5/24', 'pool.subnet']),
    (('web', '10.0.0.0/24', '10.0.1.1'), ['10.0.1.1', 'not in the subnet']),
    (('web', '10.0.0.0/24', '10.0.0.255'), ['broadcast']),
    (('web', '10.0.0.0/24', None, '10.0.1.0/25'), ['10.0.1.0/25', 'not inside']),
    (('web', '10.0.0.0/24', None, None, ['10.0.9.9']), ['10.0.9.9']),
    (('a/b', '10.0.0.0/24'), ['a/b']),
])
def test_pool_validation(args, words):
    with pytest.raises(InvalidInput) as error:
        pool_spec(*args)
    for word in words:
        assert word in str(error.value)


def test_addresses_in_order_and_stable_per_owner():
    leases, changes = plan_leases(POOL, {}, [{'owner': 'web/a'}, {'owner': 'web/b'}], 'present', False)
    assert leases == {'web/a': '10.0.0.2', 'web/b': '10.0.0.3'}
    assert changes == ['lease 10.0.0.2 to web/a', 'lease 10.0.0.3 to web/b']
    again, changes = plan_leases(POOL, leases, [{'owner': 'web/b'}, {'owner': 'web/a'}], 'present', False)
    assert again == leases and changes == []


def test_range_reserved_and_static():
    pool = pool_spec('p', '172.18.0.0/16', '172.18.0.1', '172.18.5.0/30', ['172.18.5.1'])
    leases, _changes = plan_leases(pool, {}, [{'owner': 'x'}, {'owner': 'db', 'address': '172.18.0.10'}], 'present', False)
    assert leases == {'x': '172.18.5.0', 'db': '172.18.0.10'}     # a host address of the /16; .5.1 is reserved
    with pytest.raises(Conflict) as error:
        plan_leases(pool, leases, [{'owner': 'y'}, {'owner': 'z'}, {'owner': 'w'}], 'present', False)
    assert 'pool p' in str(error.value) and 'exhausted' in str(error.value)


@pytest.mark.parametrize('address, words', [
    ('10.0.0.1', ['gateway']), ('10.0.0.0', ['network or broadcast']), ('10.0.0.2', ['web/a']),
    ('10.0.1.7', ['not in the subnet']),
])
def test_static_conflicts(address, words):
    with pytest.raises((Conflict, InvalidInput)) as error:
        plan_leases(POOL, {'web/a': '10.0.0.2'}, [{'owner': 'web/b', 'address': address}], 'present', False)
    for word in words + [address]:
        assert word in str(error.value)


def test_release_and_exclusive():
    leases = {'a': '10.0.0.2', 'b': '10.0.0.3'}
    released = plan_leases(POOL, leases, [{'owner': 'a'}], 'absent', False)
    assert released == ({'b': '10.0.0.3'}, ['release 10.0.0.2 from a'])
    exclusive = plan_leases(POOL, leases, [{'owner': 'a'}], 'present', True)
    assert exclusive == ({'a': '10.0.0.2'}, ['release 10.0.0.3 from b'])


def test_exhausted_pool_names_itself():
    pool = pool_spec('tiny', '10.9.0.0/30')
    with pytest.raises(Conflict) as error:
        plan_leases(pool, {}, [{'owner': 'a'}, {'owner': 'b'}], 'present', False)
    assert str(error.value) == 'pool tiny (10.9.0.0/30) is exhausted: no free address for b'


def test_overlap_and_redefinition():
    with pytest.raises(Conflict) as error:
        check_overlap(pool_spec('b', '10.0.0.128/25'), [POOL])
    assert 'overlaps pool web (10.0.0.0/24)' in str(error.value)
    check_overlap(POOL, [POOL])
    with pytest.raises(Conflict) as error:
        check_redefinition(POOL, pool_spec('web', '10.0.0.0/25', '10.0.0.3'), {'web/a': '10.0.0.3'})
    assert 'web/a holds 10.0.0.3' in str(error.value)


def test_next_subnet_like_docker():
    assert next_subnet(['172.16.0.0/12'], 16, ['172.16.0.0/16', '172.17.0.0/16']) == '172.18.0.0/16'
    assert next_subnet(['10.0.0.0/8'], 24, ['10.0.0.0/24', '10.0.1.0/25']) == '10.0.2.0/24'
    assert next_subnet(['172.31.0.0/16', '192.168.0.0/16'], 20, ['172.31.0.0/16']) == '192.168.0.0/20'
    with pytest.raises(Conflict):
        next_subnet(['10.0.0.0/30'], 31, ['10.0.0.0/30'])


def test_store_refuses_corruption(tmp_path):
    (tmp_path / 'web.json').write_text('{"pool": ')
    with pytest.raises(InvalidInput) as error:
        Store(str(tmp_path)).read('web')
    assert str(tmp_path / 'web.json') in str(error.value) and 'corrupt' in str(error.value)
    assert (tmp_path / 'web.json').read_text() == '{"pool": '


def test_a_store_another_run_just_created_is_no_error(tmp_path, monkeypatch):
    path = str(tmp_path / 'store')
    os.makedirs(path)
    isdir, asked = os.path.isdir, []

    def missing_a_moment_ago(p):
        asked.append(p)
        return isdir(p) and asked.count(path) > 1
    monkeypatch.setattr(os.path, 'isdir', missing_a_moment_ago)
    with Store(path).locked(create=True) as usable:
        assert usable and asked.count(path) >= 2       # found missing, then there after all


def _allocate(args):
    path, owner = args
    store = Store(path)
    with store.locked(create=True):
        data = store.read('web') or {'pool': POOL, 'leases': {}}
        leases, _changes = plan_leases(data['pool'], data['leases'], [{'owner': owner}], 'present', False)
        store.write('web', {'pool': data['pool'], 'leases': leases})
    return leases[owner]


def test_concurrent_processes_get_distinct_addresses(tmp_path):
    # the store does not exist yet: every process may find it missing and create it at once
    with multiprocessing.Pool(20) as workers:
        got = workers.map(_allocate, [(str(tmp_path / 'store'), 'web/c%d' % i) for i in range(20)])
    assert len(set(got)) == 20
    stored = json.loads((tmp_path / 'store' / 'web.json').read_text())['leases']
    assert sorted(stored.values()) == sorted(got)
