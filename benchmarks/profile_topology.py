"""Where the topology module's time goes, per phase, on one host with one bridge network and N
endpoints: converge (a fresh host), no-change re-run, teardown (nothing declared). The engine
runs in-process under cProfile, inside a fresh virtual host, with the interpreter given (Debian's
pyroute2 or the newest); prints wall seconds per phase, per endpoint, and the top functions.

    python3 benchmarks/profile_topology.py [--endpoints N] [--python /usr/bin/python3] [--top 15]
"""

import argparse
import json
import os
import sys
import tempfile

from virtual_hosts import VirtualHost, collections_path

# Runs inside the virtual host. Arguments: collections path, params JSON file, check (0/1), top N,
# where Ansible is.
DRIVER = r'''
import cProfile, json, pstats, sys, time, io
sys.path.insert(0, sys.argv[1])
sys.path.append(sys.argv[5])    # Ansible (for the argument check), after the interpreter's own pyroute2
from ansible_collections.netplumb.container.plugins.module_utils._kernel.observe import Kernel
from ansible_collections.netplumb.container.plugins.module_utils._runner import Run, perform
from ansible_collections.netplumb.container.plugins.module_utils._topology.host import reconcile
with open(sys.argv[2]) as handle:
    params = json.load(handle)
check = sys.argv[3] == '1'
top = int(sys.argv[4])
profile = cProfile.Profile()
start = time.monotonic()
if top:
    profile.enable()
run = Run(Kernel(assume_missing=check), check)
change, applied, step, error = perform(run, reconcile, params)
run.close()
profile.disable()
seconds = time.monotonic() - start
assert error is None, (step, error)
print(json.dumps({'seconds': seconds, 'actions': len(change.actions), 'pyroute2': 'pyroute2' in sys.modules}))
if top:
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats('tottime').print_stats(top)
    print(out.getvalue())
'''


def validated(declarations):
    """The module's parameters with their defaults, as AnsibleModule hands them to reconcile."""
    sys.path.insert(0, collections_path())
    from ansible_collections.netplumb.container.plugins.module_utils._topology.spec import check_arguments
    params, problem = check_arguments(dict(declarations, restore_at_boot=False, state_dir='/var/lib/netplumb'))
    assert problem is None, problem
    return params


def ansible_path():
    import ansible
    return os.path.dirname(os.path.dirname(ansible.__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--endpoints', type=int, default=200)
    parser.add_argument('--python', default='/usr/bin/python3')
    parser.add_argument('--top', type=int, default=15, help='functions to show (0: time only, no profiler)')
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix='np-profile-')
    driver = os.path.join(work, 'driver.py')
    with open(driver, 'w') as handle:
        handle.write(DRIVER)
    declared = validated({
        'networks': [{'name': 'bench', 'subnet': '10.88.0.0/16', 'bridge': 'br0', 'masquerade': False}],
        'endpoints': [{'name': 'ep%d' % i, 'networks': ['bench']} for i in range(args.endpoints)]})
    phases = [('check on a fresh host', declared, True), ('converge', declared, False),
              ('no change (check)', declared, True), ('no change', declared, False),
              ('teardown', validated({'networks': [], 'endpoints': []}), False)]
    host = VirtualHost.create('np-profile-%d' % os.getpid())
    try:
        for name, params, check in phases:
            path = os.path.join(work, 'params.json')
            with open(path, 'w') as handle:
                json.dump(params, handle)
            proc = host.run([args.python, driver, collections_path(), path, '1' if check else '0', str(args.top),
                             ansible_path()],
                            check=False)
            if proc.returncode:
                sys.exit('%s failed:\n%s' % (name, proc.stderr[-3000:]))
            summary, profile = proc.stdout.split('\n', 1)
            summary = json.loads(summary)
            print('== %s: %.3f s, %.2f ms per endpoint, %d actions%s' % (
                name, summary['seconds'], 1000 * summary['seconds'] / args.endpoints, summary['actions'],
                ', pyroute2 loaded' if summary['pyroute2'] else ''))
            print(profile.strip()[:6000])
    finally:
        host.destroy()


if __name__ == '__main__':
    sys.exit(main())
