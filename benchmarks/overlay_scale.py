"""Overlays across labs of 3 and 10 hosts, 50 endpoints per host on 2 overlays, through
ansible-playbook playbooks/site.yml over SSH as a user runs it. Prints, from one run, the
full converge and the no-change re-run per lab size, the forwarding entries (FDB + neighbour)
per host, the CPU seconds the modules themselves (topology_info + topology) spend per host in
the no-change run, and the ratios the targets are about.

The modules' CPU is counted on each host by the interpreter they run with: a wrapper around
/usr/bin/python3 that logs its children's user + system time (the shell's ``times``). It means
the same on this 2-core machine, where the hosts' work queues, as on a fleet.

    python3 benchmarks/overlay_scale.py [--sizes 3 10] [--endpoints 50]    (as root; make bench-overlay)

With ``--control-plane evpn``, both control planes side by side on lab machines (Debian booted with
systemd-nspawn, FRR in the image; one more machine is the route reflector): per size and control
plane the converge, the no-change re-run and its module CPU per VTEP host, the entries netplumb
writes per host (and those zebra installed), then one endpoint added on one host - the playbook
run that does it (static: the whole inventory; evpn: ``--limit`` that host), how many hosts it
changed, and the time until the new endpoint answers from every other host.

    python3 benchmarks/overlay_scale.py --control-plane evpn [--sizes 3 10]    (make bench-evpn)
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tools'))

from collection_path import collections_path  # noqa: E402

PLAYBOOK = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
RECORDER = os.path.join(ROOT, 'tests', 'lib', 'callback')


PING = '- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n'
# The modules' interpreter on every host: ``times`` appends two lines to DIR/<host name> per run,
# the shell's own CPU time and its children's - the module's (not in a pipe: a subshell's are 0).
COUNTING_PYTHON = '''#!/bin/sh
/usr/bin/python3 "$@"
status=$?
times >> %s/"$(uname -n)"
exit $status
'''


def cpu_seconds():
    """CPU time the whole machine has spent (every virtual host is a process on it)."""
    with open('/proc/stat') as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    return float(fields[0] + fields[1] + fields[2] + fields[5] + fields[6]) / os.sysconf('SC_CLK_TCK')


def module_cpu(directory):
    """host -> CPU seconds of the module runs logged in ``directory`` (see COUNTING_PYTHON)."""
    seconds = {}
    for host in os.listdir(directory):
        with open(os.path.join(directory, host)) as handle:
            lines = handle.read().splitlines()
        # every second line, "0m0.180000s 0m0.040000s": user and system time of the interpreter
        seconds[host] = sum(int(part.split('m')[0]) * 60 + float(part.split('m')[1].rstrip('s'))
                            for line in lines[1::2] for part in line.split())
    return seconds


def run(argv, record=None):
    # pipelining, as Molecule's configuration and any tuned ansible.cfg have it
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_LOCALHOST_WARNING='false',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='false', ANSIBLE_PIPELINING='1')
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
        counted = os.path.join(work, '%s-cpu' % lab)
        os.makedirs(counted)
        wrapper = os.path.join(work, '%s-python' % lab)
        with open(wrapper, 'w') as handle:
            handle.write(COUNTING_PYTHON % counted)
        os.chmod(wrapper, 0o755)
        for host in group['hosts'].values():
            host['ansible_python_interpreter'] = wrapper
        group['vars']['netplumb_networks'] = [{'name': 'net1', 'driver': 'overlay', 'subnet': '10.1.0.0/16'},
                                              {'name': 'net2', 'driver': 'overlay', 'subnet': '10.2.0.0/16'}]
        for name in group['hosts']:
            group['hosts'][name]['netplumb_endpoints'] = [
                {'name': '%s-e%d' % (name, i), 'networks': ['net%d' % (1 + i % 2)]} for i in range(endpoints)]
        path = os.path.join(work, '%s.yml' % lab)
        with open(path, 'w') as handle:
            yaml.safe_dump(inventory, handle)
        site = [PLAYBOOK, '-i', path, os.path.join(ROOT, 'playbooks', 'site.yml'), '--forks', str(size)]
        ping = os.path.join(work, 'ping.yml')
        with open(ping, 'w') as handle:
            handle.write(PING)
        fixed = run([PLAYBOOK, '-i', path, ping, '--forks', str(size)])
        ping_cpu = max(module_cpu(counted).values())    # one module run of Ansible's own, the least there is
        converge = run(site)
        record = os.path.join(work, '%s.jsonl' % lab)
        for host in os.listdir(counted):      # the ping's and the converge's runs
            os.unlink(os.path.join(counted, host))
        cpu = cpu_seconds()
        again = run(site, record)
        cpu = cpu_seconds() - cpu
        modules = module_cpu(counted)
        assert len(modules) == size, 'module CPU logged for %s' % sorted(modules)
        with open(record) as handle:
            results = [json.loads(line) for line in handle]
        # the role's read-only plan on every host; the apply step is skipped where nothing changes
        topology = [r for r in results if r['action'] == 'netplumb.container.topology' and r['status'] != 'skipped']
        assert len(topology) == size and not [r for r in topology if r['status'] != 'ok'], 'the re-run changed something'
        entries = max(sum(n.get('forwarding_entries', 0) for n in r['result']['networks'].values()) for r in topology)
        return converge, again, entries, fixed, cpu, max(modules.values()), ping_cpu
    finally:
        run([PLAYBOOK, os.path.join(ROOT, 'playbooks', 'lab.yml'), '-e', 'lab_name=%s' % lab, '-e', 'lab_state=absent'])


# On a lab machine (files of its own) the counting interpreter is written inside it, and its log read back.
MACHINE_PYTHON = '/usr/local/bin/np-counting-python'
MACHINE_LOG = '/var/tmp/np-cpu'
SETUP = """- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.copy:
        dest: %s
        mode: "0755"
        content: |
          #!/bin/sh
          /usr/bin/python3 "$@"
          status=$?
          times >> %s/"$(uname -n)"
          exit $status
      vars:
        ansible_python_interpreter: /usr/bin/python3
    - ansible.builtin.file:
        path: %s
        state: directory
        mode: "0755"
      vars:
        ansible_python_interpreter: /usr/bin/python3
""" % (MACHINE_PYTHON, MACHINE_LOG, MACHINE_LOG)


def ssh(lab, host, command):
    return subprocess.run(['ssh', '-F', '/var/lib/netplumb-lab/%s/ssh_config' % lab, host, command],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True, check=False)


def machine_cpu(lab, hosts):
    """host -> CPU seconds of the module runs logged inside each machine since the log was emptied."""
    seconds = {}
    for host in hosts:
        lines = ssh(lab, host, 'cat %s/%s 2>/dev/null' % (MACHINE_LOG, host)).stdout.splitlines()
        seconds[host] = sum(int(part.split('m')[0]) * 60 + float(part.split('m')[1].rstrip('s'))
                            for line in lines[1::2] for part in line.split())
    return seconds


def overlays(control_plane, index):
    nets = []
    for n in (1, 2):
        net = {'name': 'net%d' % n, 'driver': 'overlay', 'subnet': '10.%d.0.0/16' % n}
        if control_plane == 'evpn':
            net.update(control_plane='evpn', vni=100 + n, ip_range='10.%d.%d.0/24' % (n, index + 1))
        nets.append(net)
    return nets


def answers_everywhere(lab, vteps, target, timeout=60):
    """Seconds until an endpoint on net1 of every other host pings ``target`` (checked in parallel)."""
    start, done = time.monotonic(), {}

    def probe(host):
        while time.monotonic() - start < timeout:
            if ssh(lab, host, 'ip netns exec %s-e0 ping -c 1 -W 1 %s' % (host, target)).returncode == 0:
                done[host] = time.monotonic() - start
                return
    threads = [threading.Thread(target=probe, args=(h,)) for h in vteps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return max(done.values()) if len(done) == len(vteps) else float('inf')


def measure_machines(size, endpoints, work, control_plane):
    lab = 'bench-%s%d' % (control_plane, size)
    vteps = ['host%d' % (i + 1) for i in range(size)]
    names = vteps + (['rr1'] if control_plane == 'evpn' else [])
    run([PLAYBOOK, os.path.join(ROOT, 'playbooks', 'lab.yml'), '-e', json.dumps(
        {'lab_name': lab, 'lab_hosts': names, 'lab_kind': 'machine', 'lab_outside': False})])
    try:
        with open('/var/lib/netplumb-lab/%s/inventory.yml' % lab) as handle:
            inventory = yaml.safe_load(handle)
        group = list(inventory['all']['children'].values())[0]
        for index, name in enumerate(vteps):
            group['hosts'][name]['netplumb_networks'] = overlays(control_plane, index)
            group['hosts'][name]['netplumb_endpoints'] = [
                {'name': '%s-e%d' % (name, i), 'networks': ['net%d' % (1 + i % 2)]} for i in range(endpoints)]
        if control_plane == 'evpn':
            group['hosts']['rr1']['netplumb_underlay_address'] = group['hosts']['rr1']['lab_underlay_address'].split('/')[0]
            inventory['all']['children']['evpn_route_reflectors'] = {'hosts': {'rr1': {}}}
        path = os.path.join(work, '%s.yml' % lab)
        with open(path, 'w') as handle:
            yaml.safe_dump(inventory, handle)
        setup = os.path.join(work, 'setup.yml')
        with open(setup, 'w') as handle:
            handle.write(SETUP)
        run([PLAYBOOK, '-i', path, setup, '--forks', str(len(names))])
        for name in names:
            group['hosts'][name]['ansible_python_interpreter'] = MACHINE_PYTHON
        with open(path, 'w') as handle:
            yaml.safe_dump(inventory, handle)
        site = [PLAYBOOK, '-i', path, os.path.join(ROOT, 'playbooks', 'site.yml'), '--forks', str(len(names))]
        converge = run(site)
        for name in names:
            ssh(lab, name, 'rm -f %s/*' % MACHINE_LOG)
        record = os.path.join(work, '%s.jsonl' % lab)
        again = run(site, record)
        modules = machine_cpu(lab, vteps)
        with open(record) as handle:
            results = [json.loads(line) for line in handle]
        topology = [r for r in results if r['action'] == 'netplumb.container.topology' and r['status'] != 'skipped']
        assert not [r for r in topology if r['status'] != 'ok'], 'the re-run changed something'
        entries = max(sum(n.get('forwarding_entries', 0) for n in r['result']['networks'].values()) for r in topology)
        learned = int(ssh(lab, 'host1', 'for n in ov-net1 ov-net2; do ip netns exec $n bridge fdb show dev vxlan0; done '
                                        '| grep -c " dst "').stdout.strip() or 0)
        # one endpoint more on host1, on net1: the run a user makes for it, and who it changes
        group['hosts']['host1']['netplumb_endpoints'].append({'name': 'host1-new', 'networks': ['net1']})
        with open(path, 'w') as handle:
            yaml.safe_dump(inventory, handle)
        added_record = os.path.join(work, '%s-added.jsonl' % lab)
        added = run(site + (['--limit', 'host1'] if control_plane == 'evpn' else []), added_record)
        with open(added_record) as handle:
            results = [json.loads(line) for line in handle]
        applied = [r for r in results if r['action'] == 'netplumb.container.topology' and r['status'] == 'changed']
        new = [r for r in applied if r['host'] == 'host1'][0]['result']['endpoints']['host1-new']
        target = new['interfaces']['eth0']['address'].split('/')[0]
        answered = answers_everywhere(lab, vteps[1:], target)
        return {'converge': converge, 'again': again, 'modules': max(modules.values()), 'entries': entries,
                'learned': learned, 'added': added, 'changed_hosts': len(applied), 'answered': answered}
    finally:
        run([PLAYBOOK, os.path.join(ROOT, 'playbooks', 'lab.yml'), '-e', 'lab_name=%s' % lab, '-e', 'lab_state=absent'])


def plan_for_one_host(endpoints, sizes=(3, 10, 100, 300)):
    """[(inventory size, seconds)] of the role's controller plan (the filter network_plan, without
    Ansible around it) for a run limited to one host of an inventory of EVPN hosts: what grows
    with the fleet on the controller when one host changes."""
    if collections_path() not in sys.path:
        sys.path.insert(0, collections_path())
    from ansible_collections.netplumb.container.plugins.filter.network_plan import network_plan
    figures = []
    for size in sizes:
        hostvars = {'rr1': {'netplumb_underlay_address': '10.200.255.1', 'netplumb_restore_at_boot': False}}
        for i in range(size):
            name = 'host%d' % (i + 1)
            hostvars[name] = {
                'netplumb_networks': [{'name': 'net%d' % n, 'driver': 'overlay', 'control_plane': 'evpn', 'vni': 100 + n,
                                       'subnet': '10.%d.0.0/16' % n, 'ip_range': '10.%d.%d.%d/26' % (n, i // 4, 64 * (i % 4))}
                                      for n in (1, 2)],
                'netplumb_endpoints': [{'name': '%s-e%d' % (name, j), 'networks': ['net%d' % (1 + j % 2)]}
                                       for j in range(endpoints)],
                'netplumb_restore_at_boot': False,
                'network_gathered': {'info': {
                    'underlay': [{'address': '10.200.%d.%d' % (i // 250, i % 250 + 1), 'prefix': 16, 'device': 'eth0',
                                  'mtu': 1500}], 'default_device': 'eth0', 'frr': 'netplumb'}}}
        network_plan(hostvars, ['host1'], sorted(hostvars), reflectors=['rr1'])       # warm: imports
        start = time.perf_counter()
        network_plan(hostvars, ['host1'], sorted(hostvars), reflectors=['rr1'])
        figures.append((size, time.perf_counter() - start))
    return figures


def compare_control_planes(sizes, endpoints, work):
    figures = dict(((cp, size), measure_machines(size, endpoints, work, cp))
                   for size in sizes for cp in ('static', 'evpn'))
    print('overlays net1 + net2, %d endpoints per host, lab machines, ansible-playbook playbooks/site.yml over SSH'
          % endpoints)
    print('(the machines share this machine\'s %d CPUs; evpn: one more machine is the route reflector)' % os.cpu_count())
    print('%-7s %-6s %10s %9s %17s %13s %13s %14s %13s %15s' % (
        'plane', 'hosts', 'converge s', 're-run s', 'module CPU s/host', 'written/host', 'FRR\'s/host1',
        '+1 endpoint s', 'hosts changed', 'answers after s'))
    for (cp, size), f in sorted(figures.items(), key=lambda item: (item[0][1], item[0][0])):
        print('%-7s %-6d %10.2f %9.2f %17.2f %13d %13d %14.2f %13d %15.2f' % (
            cp, size, f['converge'], f['again'], f['modules'], f['entries'], f['learned'] if cp == 'evpn' else 0,
            f['added'], f['changed_hosts'], f['answered']))
    small, large = sizes
    evpn_s, evpn_l = figures[('evpn', small)], figures[('evpn', large)]
    checks = [('evpn module CPU per host %d / %d' % (large, small), evpn_l['modules'] / evpn_s['modules'], 1.2),
              ('static module CPU per host %d / %d' % (large, small),
               figures[('static', large)]['modules'] / figures[('static', small)]['modules'], None),
              ('evpn +1 endpoint run %d / %d' % (large, small), evpn_l['added'] / evpn_s['added'], None),
              ('static +1 endpoint run %d / %d' % (large, small),
               figures[('static', large)]['added'] / figures[('static', small)]['added'], None)]
    failed = False
    for name, ratio, limit in checks:
        ok = limit is None or ratio <= limit
        failed |= not ok
        verdict = 'target <= %.1f  %s' % (limit, 'met' if ok else 'MISSED') if limit else '(for comparison)'
        print('  %-36s %6.2f   %s' % (name, ratio, verdict))
    for size, seconds in plan_for_one_host(endpoints):
        print('  the controller\'s plan of a run on one host, %3d hosts in the inventory: %.4f s' % (size, seconds))
    for size in sizes:
        f = figures[('evpn', size)]
        ok = f['entries'] == 0 and f['changed_hosts'] == 1
        failed |= not ok
        print('  evpn at %2d hosts: %d entries written per host, the added endpoint changed %d host(s)  %s'
              % (size, f['entries'], f['changed_hosts'], 'met' if ok else 'MISSED'))
    return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs=2, default=[3, 10])
    parser.add_argument('--endpoints', type=int, default=50)
    parser.add_argument('--control-plane', choices=['static', 'evpn'], default='static',
                        help='evpn: both control planes side by side on lab machines')
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix='np-bench-')
    if args.control_plane == 'evpn':
        return compare_control_planes(args.sizes, args.endpoints, work)
    small, large = args.sizes
    figures = dict((size, measure(size, args.endpoints, work)) for size in (small, large))
    print('overlays net1 + net2, %d endpoints per host, ansible-playbook playbooks/site.yml over SSH' % args.endpoints)
    print('(the virtual hosts share this machine\'s %d CPUs: per-host work that runs in parallel on a fleet queues here)'
          % os.cpu_count())
    print('%-6s %11s %10s %18s %18s %15s %18s %12s'
          % ('hosts', 'converge s', 're-run s', 're-run CPU s/host', 'module CPU s/host', 'ping CPU s/host',
             'one-task play s', 'entries/host'))
    for size in (small, large):
        converge, again, entries, fixed, cpu, modules, ping_cpu = figures[size]
        print('%-6d %11.2f %10.2f %18.2f %18.2f %15.2f %18.2f %12d' % (size, converge, again, cpu / size, modules,
                                                                       ping_cpu, fixed, entries))
    s_again, l_again = figures[small][1], figures[large][1]
    s_entries, l_entries = figures[small][2], figures[large][2]
    s_cpu, l_cpu = figures[small][4] / small, figures[large][4] / large
    s_fixed, l_fixed = figures[small][3], figures[large][3]
    s_modules, l_modules = figures[small][5], figures[large][5]
    # per host: flood entry per peer and overlay, FDB + neighbour per remote endpoint
    expected = dict((n, 2 * (n - 1) + 2 * (n - 1) * args.endpoints) for n in (small, large))
    checks = [('re-run %d / %d hosts' % (large, small), l_again / s_again, 2.0),
              ('re-run growth vs hosts', (l_again / s_again) / (float(large) / small), 1.0),
              ('CPU per host %d / %d' % (large, small), l_cpu / s_cpu, 1.5),
              ('module CPU s/host at %d hosts' % small, s_modules, 0.3),
              ('module CPU s/host at %d hosts' % large, l_modules, 0.3),
              ('module CPU per host %d / %d' % (large, small), l_modules / s_modules, 1.2)]
    print('  (one-task playbook, %d / %d hosts: %.2f - the floor this machine sets for any re-run ratio;'
          % (large, small, l_fixed / s_fixed))
    print('   module CPU: the busiest host\'s topology_info + topology, interpreter start included; a no-change')
    print('   run needs both, and two runs of ansible.builtin.ping alone cost %.2f s - the floor under that target)'
          % (2 * min(figures[small][6], figures[large][6])))
    failed = False
    for name, ratio, limit in checks:
        ok = ratio <= limit
        failed |= not ok
        print('  %-30s %6.2f   target <= %.1f  %s' % (name, ratio, limit, 'met' if ok else 'MISSED'))
    for n, got in ((small, s_entries), (large, l_entries)):
        ok = got == expected[n]
        failed |= not ok
        verdict = 'met' if ok else 'MISSED'
        print('  entries/host at %2d hosts   %6d   expected 2(n-1)(1+E) = %d  %s' % (n, got, expected[n], verdict))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
