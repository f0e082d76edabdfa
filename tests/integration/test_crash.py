"""kill -9 anywhere in an apply, or in a restore at boot: the next run repairs the host.

Each round starts the topology module (or netplumb-restore) on a host converged to one
declaration, with the next declaration - endpoints moving between networks, networks and an
overlay added and removed, published ports and IPv6 changing - and kills it with SIGKILL, by the
PID of the module process found among the descendants of the command this test started, at a
random moment of its run. Then the same declaration again must succeed, a --check after it must
find nothing to change, the endpoints must reach each other by packets, and the host must hold
exactly what the declaration says: no namespace, link, lease, firewall element or file more.
NETPLUMB_CRASH_SEED replays a run; NETPLUMB_CRASH_ROUNDS changes the number of rounds."""

import json
import os
import random
import re
import signal
import sys
import time

import pytest

from conftest import COLLECTIONS_PATH
from test_restore import RESTORE, lose_kernel_state

MODULE = os.path.join(COLLECTIONS_PATH, 'ansible_collections', 'netplumb', 'container', 'plugins', 'modules',
                      'topology.py')
STATE = '/var/lib/netplumb'
ENDPOINTS = ['e%02d' % i for i in range(1, 16)]
BRIDGE = {'name': 'bridge', 'bridge': 'np0', 'subnet': '172.17.0.0/16', 'resolve_names': False}
NEW = {'name': 'new_network', 'subnet': '172.18.0.0/16'}
NEW6 = dict(NEW, ipv6_subnet='fd00:18::/64')
EXTRA = {'name': 'extra', 'subnet': '172.19.0.0/24', 'ipv6_subnet': 'fd00:19::/64'}
OVERLAY = {'name': 'ov', 'driver': 'overlay', 'subnet': '10.0.9.0/24', 'vni': 4242, 'local': '127.0.0.1', 'peers': []}


def endpoints(networks, published):
    """Every endpoint on ``networks(index)``, and ``published`` (index -> ports)."""
    made = [{'name': name, 'networks': networks(i)} for i, name in enumerate(ENDPOINTS)]
    for i, ports in published.items():
        made[i]['published'] = ports
    return made


DECLARATIONS = [
    ([BRIDGE, NEW], endpoints(lambda i: ['new_network'], {0: ['8080:80']})),
    ([BRIDGE, NEW], endpoints(lambda i: ['bridge'], {0: ['8081:80'], 1: ['9000:90/udp']})),
    ([BRIDGE, NEW6, OVERLAY], endpoints(lambda i: [['new_network', 'bridge'], ['ov'], ['bridge']][i // 5],
                                        {2: ['8080:80']})),
    ([BRIDGE, EXTRA], endpoints(lambda i: ['extra'] if i < 10 else ['bridge', 'extra'], {12: ['8082:82']})),
]


def arguments(declaration, check=False):
    networks, eps = declaration
    return {'ANSIBLE_MODULE_ARGS': {'networks': networks, 'endpoints': eps, 'restore_at_boot': False,
                                    '_ansible_check_mode': check, '_ansible_diff': False}}


class Module(object):
    """The topology module run as Ansible runs it on a managed host (a module file and its
    arguments file), inside the virtual host."""

    def __init__(self, host, tmp_path):
        self.host, self.tmp_path, self.count = host, tmp_path, 0
        self.env = {'PYTHONPATH': COLLECTIONS_PATH}

    def argv(self, declaration, check=False):
        self.count += 1
        path = str(self.tmp_path / ('args-%d.json' % self.count))
        with open(path, 'w') as handle:
            json.dump(arguments(declaration, check), handle)
        return [sys.executable, MODULE, path]

    def run(self, declaration, check=False):
        done = self.host.run(self.argv(declaration, check), check=False, env=self.env)
        result = json.loads(done.stdout) if done.stdout.strip().startswith('{') else {'failed': True}
        assert not result.get('failed'), (done.stdout[-3000:], done.stderr[-3000:])
        return result

    def start(self, argv):
        return self.host.spawn(argv, env=self.env)


def descendants(pid):
    """``pid`` and every process below it, read from /proc (never by a name pattern)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in os.listdir('/proc/%d/task' % current) if os.path.isdir('/proc/%d' % current) else []:
            try:
                with open('/proc/%d/task/%s/children' % (current, task)) as handle:
                    todo += [int(p) for p in handle.read().split()]
            except OSError:
                pass
    return found


def kill_after(proc, delay, program):
    """SIGKILL the process that runs ``program`` (argv[1] of a Python started under ``proc``)
    after ``delay`` seconds; whether it was still running."""
    deadline = time.time() + delay
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.005)
    killed = False
    for pid in descendants(proc.pid) if proc.poll() is None else []:
        try:
            with open('/proc/%d/cmdline' % pid, 'rb') as handle:
                argv = handle.read().split(b'\0')
        except OSError:
            continue
        if len(argv) > 1 and argv[1].decode() == program:
            os.kill(pid, signal.SIGKILL)
            killed = True
    proc.wait()
    return killed


def in_host(host, path):
    return '/proc/%d/root%s' % (host.pid, path)


def holds_exactly(host, probe, result):
    """The host holds what ``result`` (the module's return values) describes, and nothing else."""
    nets, eps = result['networks'], result['endpoints']
    bridged = set(n for n, net in nets.items() if net.get('driver') != 'overlay')
    overlays = dict((n, net['namespace']) for n, net in nets.items() if net.get('driver') == 'overlay')
    want = {None: set(['lo'] + [nets[n]['bridge'] for n in bridged])}
    for ns in overlays.values():
        want[ns] = set(['lo', 'br0', 'vxlan0'])
    for name, ep in eps.items():
        want[ep['namespace']] = set(['lo'] + list(ep['interfaces']))
        for iface in ep['interfaces'].values():
            want[overlays.get(iface['network'])].add(iface['host_interface'])
    assert set(probe.namespaces()) == set(ns for ns in want if ns), probe.namespaces()
    for ns, links in want.items():
        assert set(l['ifname'] for l in probe.ip('link', 'show', namespace=ns)) == links, ns
    # leases: exactly the endpoints of each network, per family
    pools = {}
    for name in os.listdir(in_host(host, STATE + '/ipam')):
        if name.endswith('.json'):
            with open(in_host(host, STATE + '/ipam/' + name)) as handle:
                pools[name[:-5]] = sorted(json.load(handle)['leases'])
    members = dict((n, sorted(e for e, ep in eps.items() for i in ep['interfaces'].values() if i['network'] == n))
                   for n in nets)
    assert dict((p, o) for p, o in pools.items() if '@' not in p) == members
    # the firewall names no bridge of ours that is gone
    table = host.run(['nft', 'list', 'table', 'inet', 'netplumb'], check=False).stdout
    named = set(re.findall(r'"((?:np|br-)[0-9A-Za-z_-]*)"', table))
    assert named <= want[None], named - want[None]
    # files: a hosts file per endpoint namespace, nothing half-written
    assert set(os.listdir(in_host(host, '/etc/netns'))) == set(ep['namespace'] for ep in eps.values())
    leftovers = [os.path.join(d, f) for d, _s, files in os.walk(in_host(host, STATE)) for f in files
                 if f.endswith('.tmp')]
    assert not leftovers, leftovers


def reachable(probe, result):
    """Per network, its first endpoint reaches its second by packets (IPv4, and IPv6 where it has
    it) and by name from the name server: through the redirect of the host's stub (nsenter keeps
    the host's resolv.conf), which a run cut short must also have left or repaired."""
    by_network = {}
    for name, ep in sorted(result['endpoints'].items()):
        for iface in ep['interfaces'].values():
            by_network.setdefault(iface['network'], []).append((ep['namespace'], iface))
    for network, members in sorted(by_network.items()):
        if len(members) < 2 or network in ('bridge', 'gwbridge'):
            continue            # the overlay's way out has ICC off; the default network is like the others
        source, theirs = members[0][0], members[1][1]
        for key in ('address', 'ipv6_address'):
            if theirs.get(key):
                assert probe.ping(source, theirs[key].split('/')[0], count=1).returncode == 0, (network, key)
        name = [n for n, ep in result['endpoints'].items() if ep['namespace'] == members[1][0]][0]
        answer = probe.host.run(['nsenter', '--net=/run/netns/%s' % source, 'getent', 'ahostsv4', name], check=False)
        assert theirs['address'].split('/')[0] in answer.stdout.split(), (network, name, answer.stdout)


def rounds(default):
    return int(os.environ.get('NETPLUMB_CRASH_ROUNDS', default))


def seeded():
    seed = int(os.environ.get('NETPLUMB_CRASH_SEED', int(time.time())))
    print('NETPLUMB_CRASH_SEED=%d' % seed)
    return random.Random(seed)


@pytest.mark.any_interpreter     # the module runs as a file with this checkout's Ansible; the kernel is the same
def test_kill_9_anywhere_in_an_apply_is_repaired_by_the_next_run(host, probe, tmp_path):
    module, chance = Module(host, tmp_path), seeded()
    current = 0
    module.run(DECLARATIONS[current])
    started = time.time()
    module.run(DECLARATIONS[1])          # how long a whole change takes, to kill within it
    span = time.time() - started
    current, killed = 1, 0
    for number in range(rounds(50)):
        following = chance.choice([i for i in range(len(DECLARATIONS)) if i != current])
        delay = chance.uniform(0.1, 1.0) * span
        killed += kill_after(module.start(module.argv(DECLARATIONS[following])), delay, MODULE)
        current = following
        result = module.run(DECLARATIONS[current])
        again = module.run(DECLARATIONS[current], check=True)
        assert not again['changed'], (number, delay, again['actions'])
        probe.settle()
        holds_exactly(host, probe, result)
        reachable(probe, result)
    print('killed mid-run in %d of %d rounds (a whole change took %.2f s)' % (killed, rounds(50), span))
    assert killed >= rounds(50) * 0.6
    # and the teardown leaves the host as it found it
    module.run(([], []))
    assert probe.namespaces() == [] and [l['ifname'] for l in probe.ip('link', 'show')] == ['lo']
    assert host.run(['nft', 'list', 'table', 'inet', 'netplumb'], check=False).returncode != 0
    assert os.listdir(in_host(host, STATE)) == [] and os.listdir(in_host(host, '/etc/netns')) == []


def test_kill_9_anywhere_in_a_restore_is_repaired_by_the_next_restore(host, probe, tmp_path, module_python):
    python, module, chance = module_python or sys.executable, Module(host, tmp_path), seeded()
    declaration = DECLARATIONS[2]
    result = module.run(declaration)
    lose_kernel_state(host)
    started = time.time()
    assert host.run([python, '-c', RESTORE], check=False).returncode == 0
    span = time.time() - started
    killed = 0
    for number in range(rounds(10)):
        lose_kernel_state(host)
        killed += kill_after(module.start([python, '-c', RESTORE]), chance.uniform(0.1, 1.0) * span, '-c')
        done = host.run([python, '-c', RESTORE], check=False)
        assert done.returncode == 0, (number, done.stdout, done.stderr)
        again = module.run(declaration, check=True)
        assert not again['changed'], (number, again['actions'])
        probe.settle()
        holds_exactly(host, probe, result)
        reachable(probe, result)
    print('killed mid-restore in %d of %d rounds (a whole restore took %.2f s)' % (killed, rounds(10), span))
    assert killed >= rounds(10) * 0.6
