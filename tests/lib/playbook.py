"""Run tasks through a real ``ansible-playbook`` inside a virtual host, and read back
every task's result (via the netplumb_record callback)."""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


class Run(object):
    def __init__(self, proc, results):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.results = results

    @property
    def changed(self):
        return any(r['status'] == 'changed' for r in self.results)

    @property
    def failed(self):
        return [r for r in self.results if r['status'] == 'failed']

    def __getitem__(self, task_name):
        for r in self.results:
            if r['task'] == task_name:
                return r
        raise KeyError('no result for task %r; ran: %s\n%s' % (
            task_name, [r['task'] for r in self.results], self.stdout[-3000:]))

    def __repr__(self):
        return 'Run(rc=%d, results=%s)' % (self.rc, json.dumps(self.results, indent=1)[:4000])


def _run_here(argv, check, env):
    return subprocess.run(argv, check=check, env=dict(os.environ, **env), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=600)


class Runner(object):
    """``Runner(host, workdir, collections_path, python)(tasks, check=False)``; with host
    None the playbook runs on this machine itself (only for the lab, which makes its own
    namespaces)."""

    def __init__(self, host, workdir, collections_path, python=None):
        self.host = host
        self.workdir = workdir
        self.collections_path = collections_path
        self.python = python or sys.executable
        self.count = 0

    def __call__(self, tasks, check=False, diff=True, expect_rc=None, extra_vars=None, playbook=None,
                 hosts=None, forks=5, inventory=None, record=True):
        """Run ``tasks`` on localhost, or an existing ``playbook`` file; ``inventory`` (a
        path) replaces the host list. ``record=False``: no results kept (for timing: the
        recording callback is the tests', not a user's, cost)."""
        self.count += 1
        keep, record = record, os.path.join(self.workdir, 'record-%d.jsonl' % self.count)
        if playbook is None:
            playbook = os.path.join(self.workdir, 'play-%d.yml' % self.count)
            play = [{'name': 'test', 'hosts': 'all' if hosts else 'localhost', 'gather_facts': False, 'tasks': tasks}]
            with open(playbook, 'w') as handle:
                json.dump(play, handle, indent=1)      # JSON is YAML
        argv = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), playbook,
                '-i', inventory or ','.join(hosts or ['localhost']) + ',', '-c', 'local', '--forks', str(forks),
                # virtual hosts share the machine's files: the network role installs nothing for the
                # restore at boot there (/etc/systemd, /usr would be the machine's)
                '-e', json.dumps(dict({'ansible_python_interpreter': self.python, 'netplumb_restore_at_boot': False},
                                      **(extra_vars or {})))]
        if check:
            argv.append('--check')
        if diff:
            argv.append('--diff')
        tmp = os.path.join(self.workdir, 'ansible-tmp')
        run = self.host.run if self.host is not None else _run_here
        env = {'NETPLUMB_RECORD': record, 'ANSIBLE_CALLBACK_PLUGINS': os.path.join(HERE, 'callback'),
               'ANSIBLE_CALLBACKS_ENABLED': 'netplumb_record'} if keep else {}
        proc = run(argv, check=False, env=dict(env, **{
            'ANSIBLE_COLLECTIONS_PATH': self.collections_path,
            'ANSIBLE_LOCAL_TEMP': tmp,
            'ANSIBLE_REMOTE_TEMP': tmp,
            'ANSIBLE_HOME': os.path.join(self.workdir, 'ansible-home'),
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_RETRY_FILES_ENABLED': '0',
            'ANSIBLE_PYTHON_INTERPRETER': self.python,
        }))
        results = []
        if os.path.exists(record):
            with open(record) as handle:
                results = [json.loads(line) for line in handle]
        run = Run(proc, results)
        if expect_rc is not None:
            assert run.rc == expect_rc, 'ansible-playbook rc %d != %d\n%s\n%s' % (
                run.rc, expect_rc, proc.stdout[-4000:], proc.stderr[-2000:])
        return run
