"""The lab: virtual hosts reached over SSH, grown and shrunk in place, destroyed without a trace."""

import json
import os
import signal
import subprocess
import sys

import pytest

import hostguard
from conftest import COLLECTIONS_PATH, LAB_PLAYBOOK, ROOT
from playbook import Runner
from ansible_collections.netplumb.lab.plugins.module_utils._vhost import VirtualHost, lab_processes, same_processes

pytestmark = pytest.mark.any_interpreter     # the lab is the tests' scaffolding: once is enough


def ssh(lab, host, command):
    return subprocess.run(['ssh', '-F', os.path.join(lab.dir, 'ssh_config'), host, command], check=False,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=60)


def pids(lab):
    with open(os.path.join(lab.dir, 'lab.json')) as handle:
        return dict((name, host['pid']) for name, host in json.load(handle)['hosts'].items())


def actions(run):
    return [r for r in run.results if r['action'].endswith('lab')][0]['result']['actions']


def test_lab_lifecycle_leaves_the_machine_as_it_was(lab):
    before = hostguard.snapshot()

    created = lab(lab_hosts=['a1', 'a2'])
    assert actions(created) == ['create underlay switch', 'create host a1 (198.51.100.11/24)',
                                'create host a2 (198.51.100.12/24)']
    assert not lab(lab_hosts=['a1', 'a2']).changed
    assert actions(lab(lab_hosts=['a1', 'a2'], check=True)) == []

    assert ssh(lab, 'a1', 'hostname').stdout.strip() == 'a1'
    assert ssh(lab, 'a1', 'readlink /proc/self/ns/net').stdout.strip() != os.readlink('/proc/self/ns/net')
    assert ssh(lab, 'a1', 'ping -c 1 -W 2 198.51.100.12').returncode == 0

    # Two hosts, one namespace name each, no conflict (and none on the machine).
    inodes = set()
    for host in ('a1', 'a2'):
        made = ssh(lab, host, 'ip netns add web && stat -Lc %i /run/netns/web')
        assert made.returncode == 0, made.stderr
        inodes.add(made.stdout.strip())
    assert len(inodes) == 2
    assert not os.path.exists('/run/netns/web')

    holders = pids(lab)
    grown = lab(lab_hosts=['a1', 'a2', 'a3'])
    assert actions(grown) == ['create host a3 (198.51.100.13/24)']
    assert pids(lab)['a1'] == holders['a1']                               # a1 untouched
    assert ssh(lab, 'a1', 'ip netns list').stdout.split()[0] == 'web'
    shrunk = lab(lab_hosts=['a1', 'a3'])
    assert actions(shrunk) == ['destroy host a2']
    assert ssh(lab, 'a3', 'ping -c 1 -W 2 198.51.100.11').returncode == 0

    outside = lab(lab_hosts=['a1', 'a3'], lab_outside=True)
    assert actions(outside) == ['create outside world (%s)' % lab.name]
    assert ssh(lab, 'a3', 'ping -c 1 -W 2 203.0.113.1').returncode == 0

    lab(lab_state='absent')
    assert not os.path.exists(lab.dir)
    assert lab_processes(lab.name) == []
    assert hostguard.differences(before, hostguard.snapshot()) == []


def test_a_failed_create_leaves_nothing(lab):
    os.makedirs(lab.dir)
    with open(os.path.join(lab.dir, 'ssh_host_ed25519_key'), 'w') as broken:
        broken.write('not a key\n')                     # sshd of the first host will refuse to start
    run = lab(lab_hosts=['b1', 'b2'], expect_rc=2)
    message = run.failed[0]['result']['msg']
    assert 'virtual host b1' in message and 'start sshd' in message
    assert lab_processes(lab.name) == []
    assert not os.path.exists(lab.dir)


def test_destroy_finds_processes_the_state_file_lost(lab):
    lab(lab_hosts=['c1'])
    stray = subprocess.Popen(['sleep', '300'], env=dict(os.environ, NETPLUMB_VHOST=lab.name + '/c2'))
    os.unlink(os.path.join(lab.dir, 'lab.json'))          # as after a crash before the state was saved
    lab(lab_state='absent')
    assert stray.wait(timeout=10) == -9
    assert lab_processes(lab.name) == []


def test_bad_lab_input_fails_before_any_change(lab):
    for variables, words in ((dict(lab_hosts=['Bad_Name']), ['Bad_Name']),
                             (dict(lab_hosts=['switch']), ['switch']),
                             (dict(lab_count=3, lab_underlay='198.51.100.0/29'), ['198.51.100.0/29']),
                             (dict(lab_count=2, lab_underlay='198.51.100.7/24'), ['198.51.100.7/24'])):
        run = lab(expect_rc=2, **variables)
        message = run.failed[0]['result']['msg']
        assert all(word in message for word in words), message
        assert not os.path.exists(lab.dir)


PROBE = '''- hosts: all
  gather_facts: false
  tasks:
    - name: Which network namespace answers
      ansible.builtin.command: readlink /proc/self/ns/net
      changed_when: false
'''


def test_two_labs_with_the_same_host_names_reach_only_their_own_hosts(tmp_path, module_python):
    """Ansible keys SSH connection sharing on the inventory name: without a control path of each
    lab's own, a playbook for lab B would run over lab A's open connection to its host1."""
    runner = Runner(None, str(tmp_path), COLLECTIONS_PATH, module_python)
    labs = ['np-itest-%d-a' % os.getpid(), 'np-itest-%d-b' % os.getpid()]
    probe = tmp_path / 'probe.yml'
    probe.write_text(PROBE)
    # one ANSIBLE_HOME for both labs, as for a user who drives two labs from one account
    record = tmp_path / 'probe.jsonl'
    env = dict(os.environ, ANSIBLE_HOME=str(tmp_path / 'ansible-home'), ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_PATH,
               ANSIBLE_NOCOLOR='1', NETPLUMB_RECORD=str(record), ANSIBLE_CALLBACKS_ENABLED='netplumb_record',
               ANSIBLE_CALLBACK_PLUGINS=os.path.join(ROOT, 'tests', 'lib', 'callback'))
    try:
        for name in labs:
            runner(None, playbook=LAB_PLAYBOOK, extra_vars={'lab_name': name, 'lab_hosts': ['host1']}, expect_rc=0)
        seen = {}
        for name in labs + labs:        # interleaved: each run finds the other lab's connection still open
            proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), str(probe),
                                   '-i', '/var/lib/netplumb-lab/%s/inventory.yml' % name], env=env, check=False,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, universal_newlines=True, timeout=300)
            assert proc.returncode == 0, proc.stdout[-3000:]
            last = record.read_text().splitlines()[-1]
            seen.setdefault(name, set()).add(json.loads(last)['result']['stdout'])
        for name in labs:
            with open('/var/lib/netplumb-lab/%s/lab.json' % name) as handle:
                holder = json.load(handle)['hosts']['host1']['pid']
            assert seen[name] == {os.readlink('/proc/%d/ns/net' % holder)}, seen
    finally:
        for name in labs:
            runner(None, playbook=LAB_PLAYBOOK, extra_vars={'lab_name': name, 'lab_state': 'absent'})
            assert lab_processes(name) == []


def test_a_lab_whose_sshd_or_holder_died_is_repaired_by_running_it_again(lab):
    lab(lab_hosts=['r1'])
    holder = pids(lab)['r1']
    VirtualHost('r1', holder, '%s/r1' % lab.name).run(['sh', '-c', 'kill "$(cat /run/sshd.pid)"'])
    assert ssh(lab, 'r1', 'true').returncode != 0
    assert actions(lab(lab_hosts=['r1'])) == ['start sshd on host r1']
    assert pids(lab)['r1'] == holder and ssh(lab, 'r1', 'hostname').stdout.strip() == 'r1'

    with open(os.path.join(lab.dir, 'lab.json')) as handle:
        sshd = json.load(handle)['hosts']['r1']['sshd']
    os.kill(holder, signal.SIGKILL)
    repaired = lab(lab_hosts=['r1'])
    assert actions(repaired) == ['create host r1 (198.51.100.11/24)']
    assert ssh(lab, 'r1', 'ping -c 1 -W 2 198.51.100.11').returncode == 0
    assert same_processes([sshd]) == [], 'the dead host left its sshd behind'
    assert not lab(lab_hosts=['r1']).changed
