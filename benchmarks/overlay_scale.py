"""Overlays across labs of 3 and 10 hosts, 50 endpoints per host on 2 overlays, through
ansible-playbook playbooks/site.yml over SSH as a user runs it. Prints, from one run, the
full converge and the no-change re-run per lab size, the forwarding entries (FDB + neighbour)
per host, and the ratios the targets are about.

    python3 benchmarks/overlay_scale.py [--sizes 3 10] [--endpoints 50]    (as root; make bench-overlay)
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tools'))

from collection_path import collections_path  # noqa: E402

PLAYBOOK = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
RECORDER = os.path.join(ROOT, 'tests', 'lib', 'callback')


def run(argv, record=None):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_LOCALHOST_WARNING='false',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='false')
    if record:
        env.update(NETPLUMB_RECORD=record, ANSIBLE_CALLBACK_PLUGINS=RECORDER, ANSIBLE_CALLBACKS_ENABLED='netplumb_record')
    start = time.monotonic()
    proc = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          check=False)
    if proc.returncode != 0:
        sys.exit('%s failed:\n%s' % (' '.join(argv[:3]), proc.stdout[-3000:]))
    return time.monotonic() - start


def measure(size, endpoints, work):
    lab = 'bench-ov%d' % size
    lab_args = ['-e', 'lab_name=%s' % lab, '-e', 'lab_count=%d' % size]
    run([PLAYBOOK, os.path.join(ROOT, 'playbooks', 'lab.yml')] + lab_args)
    try:
        with open('/var/lib/netplumb-lab/%s/inventory.yml' % lab) as handle:
            inventory = yaml.safe_load(handle)
        group = list(inventory['all']['children'].values())[0]
        group['vars']['overlay_network_networks'] = [{'name': 'net1', 'subnet': '10.1.0.0/16'},
                                                     {'name': 'net2', 'subnet': '10.2.0.0/16'}]
        for name in group['hosts']:
            group['hosts'][name]['bridge_network_endpoints'] = [
                {'name': '%s-e%d' % (name, i), 'networks': ['net%d' % (1 + i % 2)]} for i in range(endpoints)]
        path = os.path.join(work, '%s.yml' % lab)
        with open(path, 'w') as handle:
            yaml.safe_dump(inventory, handle)
        site = [PLAYBOOK, '-i', path, os.path.join(ROOT, 'playbooks', 'site.yml'), '--forks', str(size)]
        converge = run(site)
        record = os.path.join(work, '%s.jsonl' % lab)
        again = run(site, record)
        with open(record) as handle:
            results = [json.loads(line) for line in handle]
        topology = [r for r in results if r['action'] == 'netplumb.container.topology']
        assert len(topology) == size and not [r for r in topology if r['status'] != 'ok'], 'the re-run changed something'
        entries = max(sum(n.get('forwarding_entries', 0) for n in r['result']['networks'].values()) for r in topology)
        return converge, again, entries
    finally:
        run([PLAYBOOK, os.path.join(ROOT, 'playbooks', 'lab.yml'), '-e', 'lab_name=%s' % lab, '-e', 'lab_state=absent'])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs=2, default=[3, 10])
    parser.add_argument('--endpoints', type=int, default=50)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix='np-bench-')
    small, large = args.sizes
    figures = dict((size, measure(size, args.endpoints, work)) for size in (small, large))
    print('overlays net1 + net2, %d endpoints per host, ansible-playbook playbooks/site.yml over SSH' % args.endpoints)
    print('%-8s %12s %12s %22s' % ('hosts', 'converge s', 're-run s', 'forwarding entries/host'))
    for size in (small, large):
        converge, again, entries = figures[size]
        print('%-8d %12.2f %12.2f %22d' % (size, converge, again, entries))
    s_again, l_again = figures[small][1], figures[large][1]
    s_entries, l_entries = figures[small][2], figures[large][2]
    # per host: flood entry per peer and overlay, FDB + neighbour per remote endpoint
    expected = dict((n, 2 * (n - 1) + 2 * (n - 1) * args.endpoints) for n in (small, large))
    checks = [('re-run %d / %d hosts' % (large, small), l_again / s_again, 2.0),
              ('re-run growth vs hosts', (l_again / s_again) / (float(large) / small), 1.0)]
    failed = False
    for name, ratio, limit in checks:
        ok = ratio <= limit
        failed |= not ok
        print('  %-26s %6.2f   target <= %.1f  %s' % (name, ratio, limit, 'met' if ok else 'MISSED'))
    for n, got in ((small, s_entries), (large, l_entries)):
        ok = got == expected[n]
        failed |= not ok
        verdict = 'met' if ok else 'MISSED'
        print('  entries/host at %2d hosts   %6d   expected 2(n-1)(1+E) = %d  %s' % (n, got, expected[n], verdict))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
