"""Time a 3-host lab through `ansible-playbook playbooks/lab.yml`, as a user runs it.

Prints the median of N rounds for create and destroy, and each as a ratio to an empty
ansible-playbook run measured in the same rounds (the machines are shared and noisy;
the ratio drifts less than the seconds). Run as root: python3 benchmarks/lab_timing.py [N]
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tools'))

from collection_path import collections_path  # noqa: E402

PLAYBOOK = os.path.join(ROOT, 'playbooks', 'lab.yml')
EMPTY = '- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks: []\n'


def timed(argv):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_LOCALHOST_WARNING='false',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='false')
    start = time.monotonic()
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.monotonic() - start


def main(rounds):
    playbook = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
    lab = ['-e', 'lab_name=bench', '-e', 'lab_count=3', '-e', 'lab_outside=true']
    with tempfile.NamedTemporaryFile('w', suffix='.yml') as empty:
        empty.write(EMPTY)
        empty.flush()
        times = {'empty playbook': [], 'create 3 hosts': [], 're-run (no change)': [], 'destroy': []}
        for _round in range(rounds):
            times['empty playbook'].append(timed([playbook, empty.name]))
            times['create 3 hosts'].append(timed([playbook, PLAYBOOK] + lab))
            times['re-run (no change)'].append(timed([playbook, PLAYBOOK] + lab))
            times['destroy'].append(timed([playbook, PLAYBOOK, '-e', 'lab_name=bench', '-e', 'lab_state=absent']))
    base = statistics.median(times['empty playbook'])
    print('%-20s %10s %14s' % ('median of %d' % rounds, 'seconds', 'x empty run'))
    for name, values in times.items():
        print('%-20s %10.2f %14.2f' % (name, statistics.median(values), statistics.median(values) / base))
    return 0


if __name__ == '__main__':
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5))
