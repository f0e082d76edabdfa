"""IPAM through ansible-playbook, with the store on the (virtual) managed host."""

import json

import pytest

from helpers import converge, rejected, task

pytestmark = pytest.mark.any_interpreter     # the ipam module talks no netlink: once is enough

STORE = '/var/lib/netplumb/ipam'      # private to each virtual host


def ipam(**args):
    return task('ipam', **args)


def read_store(host, pool):
    return json.loads(host.run(['cat', '%s/%s.json' % (STORE, pool)]).stdout)


def test_lease_rerun_release(host, play, probe):
    web = {'name': 'web', 'subnet': '10.0.0.0/24'}
    run = converge(play, probe, [ipam(pool=web, leases=[{'owner': 'web/a'}, {'owner': 'web/b'}])])[0]
    assert run['result']['leases'] == {'web/a': '10.0.0.2/24', 'web/b': '10.0.0.3/24'}
    assert run['result']['actions'] == ['create pool web 10.0.0.0/24', 'lease 10.0.0.2 to web/a',
                                        'lease 10.0.0.3 to web/b']
    again = play([ipam(pool=web, leases=[{'owner': 'web/b'}])], expect_rc=0).results[0]
    assert again['status'] == 'ok' and again['result']['leases'] == {'web/b': '10.0.0.3/24'}

    released = play([ipam(pool={'name': 'web'}, leases=[{'owner': 'web/a'}], state='absent')], expect_rc=0)
    assert released.results[0]['result']['actions'] == ['release 10.0.0.2 from web/a']
    assert read_store(host, 'web')['leases'] == {'web/b': '10.0.0.3'}
    reuse = play([ipam(pool=web, leases=[{'owner': 'web/c'}])], expect_rc=0).results[0]
    assert reuse['result']['leases'] == {'web/c': '10.0.0.2/24'}          # the freed address comes back first

    converge(play, probe, [ipam(pool={'name': 'web'}, state='absent')])
    assert host.run(['ls', STORE]).stdout.split() == []


def test_check_mode_writes_nothing(host, play):
    run = play([ipam(pool={'name': 'x', 'subnet': '10.1.0.0/24'}, leases=[{'owner': 'x/a'}])], check=True, expect_rc=0)
    assert run.results[0]['result']['leases'] == {'x/a': '10.1.0.2/24'}
    assert host.run(['test', '-e', STORE], check=False).returncode != 0


def test_twenty_concurrent_allocations_are_distinct(host, play):
    hosts = ['c%d' % i for i in range(20)]
    tasks = [ipam(pool={'name': 'busy', 'subnet': '10.2.0.0/24'}, leases=[{'owner': 'busy/{{ inventory_hostname }}'}])]
    first = play(tasks, hosts=hosts, forks=20, expect_rc=0)
    got = dict((r['host'], r['result']['leases']['busy/' + r['host']]) for r in first.results)
    assert len(got) == 20 and len(set(got.values())) == 20
    assert sorted(read_store(host, 'busy')['leases']) == sorted('busy/' + h for h in hosts)
    second = play(tasks, hosts=hosts, forks=20, expect_rc=0)
    assert not second.changed
    assert dict((r['host'], r['result']['leases']['busy/' + r['host']]) for r in second.results) == got


def test_bad_input_and_conflicts_change_nothing(host, play, probe):
    play([ipam(pool={'name': 'web', 'subnet': '10.0.0.0/30'}, leases=[{'owner': 'web/a'}])], expect_rc=0)
    before = read_store(host, 'web')
    for args, words in (
            (dict(pool={'name': 'web'}, leases=[{'owner': 'web/b'}]), ['pool web (10.0.0.0/30) is exhausted']),
            (dict(pool={'name': 'web'}, leases=[{'owner': 'web/b', 'address': '10.0.0.2'}]), ['10.0.0.2', 'web/a']),
            (dict(pool={'name': 'other', 'subnet': '10.0.0.0/24'}), ['overlaps pool web']),
            (dict(pool={'name': 'bad', 'subnet': '10.9.0.1/24'}), ['10.9.0.1/24']),
            (dict(pool={'name': 'web'}, leases=[{'owner': 'a'}, {'owner': 'a'}]), ['listed twice'])):
        rejected(play, probe, ipam(**args), *words)
    assert read_store(host, 'web') == before
    host.run(['sh', '-c', 'echo "{broken" > %s/web.json' % STORE])
    rejected(play, probe, ipam(pool={'name': 'web'}, leases=[{'owner': 'web/a'}]), '%s/web.json' % STORE, 'corrupt')
    assert host.run(['cat', '%s/web.json' % STORE]).stdout == '{broken\n'


def test_next_subnet_filter_in_a_playbook(play):
    expression = "{{ '172.16.0.0/12' | netplumb.container.next_subnet(16, used=['172.16.0.0/16', '172.17.0.0/16']) }}"
    run = play([{'name': 'carve', 'ansible.builtin.debug': {'msg': expression}},
                {'name': 'full', 'ansible.builtin.debug': {
                    'msg': "{{ '10.0.0.0/30' | netplumb.container.next_subnet(31, used=['10.0.0.0/30']) }}"}}])
    assert run['carve']['result']['msg'] == '172.18.0.0/16'
    assert run['full']['status'] == 'failed' and 'no free /31 left in 10.0.0.0/30' in run['full']['result']['msg']
