"""What a user meets on a host without pyroute2, and the prereqs role."""

import subprocess

from helpers import task


def test_missing_pyroute2_names_the_package(host, play, tmp_path):
    bare = tmp_path / 'bare'
    subprocess.run(['/usr/bin/python3', '-m', 'venv', '--without-pip', str(bare)], check=True)
    play.python = str(bare / 'bin' / 'python')
    run = play([task('netns', name='web')])
    assert run.rc != 0
    message = run.results[0]['result']['msg']
    assert 'pyroute2' in message and 'apt-get install python3-pyroute2' in message
    assert host.run(['ip', 'netns', 'list']).stdout == ''


def test_prereqs_role_is_idempotent_on_a_prepared_host(play):
    play.python = '/usr/bin/python3'      # the apt module needs the system Python's apt bindings
    run = play([{'name': 'prereqs', 'ansible.builtin.include_role': {'name': 'netplumb.container.prereqs'}}],
               expect_rc=0)
    statuses = dict((r['task'].split(' : ')[-1], r['status']) for r in run.results)
    assert statuses['Install pyroute2, iproute2 and the firewall tools'] == 'ok', run
    assert statuses["Check that the modules' Python can import pyroute2"] == 'ok', run
