"""playbooks/site.yml (role network) as a user runs it: --check --diff on an empty host
lists every object and creates nothing; on a converged host it reports no change; a bad
declaration on one host stops every host before any change."""

import json
import os

from test_topology import DEFAULT, NEW, SEED_003

SITE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                    'playbooks', 'site.yml')
DECLARED = {'netplumb_networks': [DEFAULT, NEW], 'netplumb_endpoints': SEED_003}


def module_result(run):
    return [r for r in run.results if r['task'].endswith('Reconcile the host\'s bridge networks and endpoints')][0]


def test_check_on_empty_host_then_converge_then_check_again(play, probe):
    empty = probe.state()
    check = play(None, playbook=SITE, check=True, extra_vars=DECLARED, expect_rc=0)
    assert probe.state() == empty, 'check mode changed the host'
    planned = module_result(check)['result']['actions']
    assert 'netns nginx01: create network namespace' in planned and 'np0: create bridge' in planned
    assert sum('create veth pair' in action for action in planned) == 3
    real = play(None, playbook=SITE, extra_vars=DECLARED, expect_rc=0)
    assert module_result(real)['result']['actions'] == planned
    assert module_result(real)['result'].get('diff') == module_result(check)['result'].get('diff')
    again = play(None, playbook=SITE, check=True, extra_vars=DECLARED, expect_rc=0)
    assert not again.changed, again
    assert probe.ping('nginx01', 'nginx02').returncode == 0


def test_a_bad_declaration_on_one_host_stops_every_host(host, play, probe, tmp_path):
    inventory = tmp_path / 'inventory.json'
    bad = dict(DECLARED, netplumb_endpoints=SEED_003 + [{'name': 'x', 'networks': ['nowhere']}])
    inventory.write_text(json.dumps({'all': {'hosts': {
        'good': dict(DECLARED, ansible_connection='local'),
        'bad': dict(bad, ansible_connection='local')}}}))
    empty = probe.state()
    run = play(None, playbook=SITE, inventory=str(inventory))
    assert run.rc != 0 and probe.state() == empty
    failed = [r for r in run.results if r['status'] == 'failed']
    assert [r['host'] for r in failed] == ['bad'], failed
    assert 'nowhere' in failed[0]['result']['msg'] and 'bad' in failed[0]['result']['msg']
    assert not [r for r in run.results if 'Reconcile' in r['task']], 'a host went on to change'
