"""playbooks/site.yml (role network) as a user runs it: --check --diff on an empty host
lists every object and creates nothing; on a converged host it reports no change; a bad
declaration on one host, or a host that cannot apply its plan, stops every host before any change."""

import json
import os
import subprocess

from test_topology import DEFAULT, NEW, SEED_003

SITE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                    'playbooks', 'site.yml')
DECLARED = {'netplumb_networks': [DEFAULT, NEW], 'netplumb_endpoints': SEED_003}


PLAN_TASK = "Plan the host's change (read-only, the same code as --check)"
APPLY_TASK = "Apply the host's change"


def module_result(run, name=APPLY_TASK):
    return [r for r in run.results if r['task'].endswith(name)][0]


def test_check_on_empty_host_then_converge_then_check_again(play, probe):
    """On a play of one host the topology module runs once a run: no host to hold back, so no
    read-only plan before the apply step (its module checks the same before changing anything)."""
    empty = probe.state()
    check = play(None, playbook=SITE, check=True, extra_vars=DECLARED, expect_rc=0)
    assert probe.state() == empty, 'check mode changed the host'
    planned = module_result(check)['result']['actions']
    assert 'netns nginx01: create network namespace' in planned and 'np0: create bridge' in planned
    assert sum('create veth pair' in action for action in planned) == 3
    real = play(None, playbook=SITE, extra_vars=DECLARED, expect_rc=0)
    assert module_result(real)['result']['actions'] == planned
    assert module_result(real)['result'].get('diff') == module_result(check)['result'].get('diff')
    for run in (check, real):
        assert module_result(run, PLAN_TASK)['status'] == 'skipped', 'one host: the module ran twice'
    again = play(None, playbook=SITE, check=True, extra_vars=DECLARED, expect_rc=0)
    assert not again.changed, again
    rerun = play(None, playbook=SITE, extra_vars=DECLARED, expect_rc=0)
    assert not rerun.changed and module_result(rerun)['result']['actions'] == [], rerun

    assert probe.ping('nginx01', 'nginx02').returncode == 0


def good_and_bad(play, probe, tmp_path, extra_endpoint):
    """site.yml on two inventory hosts (both this virtual host): "good" as declared, "bad" with one
    more endpoint. Returns the failed results, after checking that nothing changed."""
    inventory = tmp_path / 'inventory.json'
    bad = dict(DECLARED, netplumb_endpoints=SEED_003 + [extra_endpoint])
    inventory.write_text(json.dumps({'all': {'hosts': {
        'good': dict(DECLARED, ansible_connection='local'),
        'bad': dict(bad, ansible_connection='local')}}}))
    empty = probe.state()
    run = play(None, playbook=SITE, inventory=str(inventory))
    assert run.rc != 0 and probe.state() == empty
    return run, [r for r in run.results if r['status'] == 'failed']


def test_a_bad_declaration_on_one_host_stops_every_host(host, play, probe, tmp_path):
    run, failed = good_and_bad(play, probe, tmp_path, {'name': 'x', 'networks': ['nowhere']})
    assert [r['host'] for r in failed] == ['bad'], failed
    assert 'nowhere' in failed[0]['result']['msg'] and 'bad' in failed[0]['result']['msg']
    assert not [r for r in run.results if r['task'].endswith(PLAN_TASK) or r['task'].endswith(APPLY_TASK)], \
        'a host went on'


def test_a_host_that_cannot_apply_stops_every_host_before_any_change(host, play, probe, tmp_path):
    """A fault only the host can see (here: the process to adopt is gone) fails the read-only plan
    on that host, and no host applies anything."""
    gone = subprocess.Popen(['true'])
    gone.wait()
    run, failed = good_and_bad(play, probe, tmp_path, {'name': 'legacy', 'pid': gone.pid, 'networks': ['bridge']})
    assert [(r['host'], r['task'].endswith(PLAN_TASK)) for r in failed] == [('bad', True)], failed
    assert 'process %d' % gone.pid in failed[0]['result']['msg']
    assert not [r for r in run.results if r['task'].endswith(APPLY_TASK) and r['status'] != 'skipped'], \
        'a host applied its change although another could not'


BAD_TYPES = [
    ({'netplumb_networks': [DEFAULT, 'web2']}, ["netplumb_networks[1]: 'web2' is not a mapping of fields"]),
    ({'netplumb_endpoints': [{'name': 'nginx01', 'networks': ['bridge'], 'published': {'9000': 80}}]},
     ["netplumb_endpoints[0] (nginx01).published: {'9000': 80} - "]),
    ({'netplumb_networks': [DEFAULT, dict(NEW, mtu='jumbo')]}, ["netplumb_networks[1] (new_network).mtu: 'jumbo' - "]),
    ({'netplumb_networks': [DEFAULT, dict(NEW, colour='red')]}, ['netplumb_networks[1] (new_network): unknown field']),
    # declared, and no endpoint on it: checked all the same
    ({'netplumb_networks': [DEFAULT, {'name': 'ov', 'driver': 'overlay', 'subnet': '10.9.0.0/24',
                                      'gateway_mode': 'routed'}]},
     ['netplumb_networks[1] (ov).gateway_mode: routed - only bridge networks have a gateway mode']),
]


def test_a_bad_value_is_refused_by_the_role_naming_where_it_is(play, probe):
    """Table-driven, from site.yml as a user runs it: the role's message, not Ansible's argument
    check (which names neither the item nor the value), and nothing changed."""
    empty = probe.state()
    for variables, fragments in BAD_TYPES:
        run = play(None, playbook=SITE, extra_vars=dict(DECLARED, **variables))
        failed = [r for r in run.results if r['status'] == 'failed']
        assert run.rc != 0 and len(failed) == 1, (variables, run)
        message = failed[0]['result']['msg']
        for fragment in fragments:
            assert fragment in message, (fragment, message)
        assert probe.state() == empty


def test_a_foreign_bridge_is_refused_on_every_host_and_left_alone(host, play, probe, tmp_path):
    host.run(['ip', 'link', 'add', 'brtaken', 'type', 'bridge'])
    before = probe.link('brtaken')
    inventory = tmp_path / 'inventory.json'
    taken = {'name': 'taken', 'subnet': '10.60.0.0/24', 'bridge': 'brtaken'}
    inventory.write_text(json.dumps({'all': {'hosts': {
        'good': dict(DECLARED, ansible_connection='local'),
        'bad': dict(DECLARED, netplumb_networks=[DEFAULT, NEW, taken], ansible_connection='local')}}}))
    empty = probe.state()
    run = play(None, playbook=SITE, inventory=str(inventory))
    failed = [r for r in run.results if r['status'] == 'failed']
    assert run.rc != 0 and probe.state() == empty
    assert [r['host'] for r in failed] == ['bad'], failed
    assert 'network taken: bridge brtaken already exists in the host namespace and netplumb did not make it' \
        in failed[0]['result']['msg']
    assert not [r for r in run.results if r['task'].endswith(APPLY_TASK) and r['status'] != 'skipped']
    # converged and torn down around it: the user's bridge as it was
    play(None, playbook=SITE, extra_vars=DECLARED, expect_rc=0)
    play(None, playbook=SITE, extra_vars={'netplumb_networks': [], 'netplumb_endpoints': []}, expect_rc=0)
    assert probe.link('brtaken') == before


def test_teardown_leaves_the_state_directory_as_it_was(host, play, probe):
    state, etc = '/proc/%d/root/var/lib/netplumb' % host.pid, '/proc/%d/root/etc/netns' % host.pid
    assert os.listdir(state) == [] and os.listdir(etc) == []
    play(None, playbook=SITE, extra_vars=DECLARED, expect_rc=0)
    assert 'topology.json' in os.listdir(state)
    torn = play(None, playbook=SITE, extra_vars={'netplumb_networks': [], 'netplumb_endpoints': []}, expect_rc=0)
    assert '/var/lib/netplumb/topology.json: remove' in ' '.join(module_result(torn)['result']['actions'])
    assert os.listdir(state) == [] and os.listdir(etc) == [] and probe.namespaces() == []
    again = play(None, playbook=SITE, extra_vars={'netplumb_networks': [], 'netplumb_endpoints': []}, expect_rc=0)
    assert not again.changed and os.listdir(state) == []


def test_a_strategy_whose_hosts_run_ahead_is_refused_at_the_first_task(host, play, probe, tmp_path):
    """The role plans the whole inventory once and every host waits for it: under strategy free (or
    host_pinned) each host fails at the role's first task, naming the strategy, and nothing changes."""
    inventory = tmp_path / 'inventory.json'
    inventory.write_text(json.dumps({'all': {'hosts': dict((name, dict(DECLARED, ansible_connection='local'))
                                                           for name in ('one', 'two'))}}))
    playbook = tmp_path / 'free.yml'
    playbook.write_text(json.dumps([{'hosts': 'all', 'gather_facts': False, 'strategy': 'free',
                                     'roles': [{'role': 'netplumb.container.network'}]}]))
    empty = probe.state()
    run = play(None, playbook=str(playbook), inventory=str(inventory))
    assert run.rc != 0 and probe.state() == empty
    failed = [r for r in run.results if r['status'] == 'failed']
    assert sorted(r['host'] for r in failed) == ['one', 'two'], failed
    for result in failed:
        assert result['task'].endswith('refuse a strategy under which hosts would not wait for the one plan')
        assert "the play's strategy is free" in result['result']['msg'] and 'use strategy linear' in \
            result['result']['msg']
