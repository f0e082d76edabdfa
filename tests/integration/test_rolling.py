"""The ways operators run the network role, on a lab of three virtual hosts, proved by packets:
rolling updates (serial), endpoints that move between hosts, a host that is down, and runs of
part of the inventory at once (job slices are concurrent --limit runs).

The seed world: a bridge network on each host, the static overlay net1 and the macvlan LAN lan
(on the underlay, eth0) across all three, one endpoint of each per host."""

import json
import os
import re
import subprocess
import sys
import threading

import pytest
import yaml

from conftest import COLLECTIONS_PATH, LAB_PLAYBOOK, ROOT, Probe
from playbook import Runner
from ansible_collections.netplumb.lab.plugins.module_utils._vhost import VirtualHost, lab_processes

pytestmark = pytest.mark.any_interpreter     # the hosts' Python is the lab inventory's, whatever the pass
HOSTS = ('host1', 'host2', 'host3')
NETWORKS = [{'name': 'new_network', 'subnet': '172.18.0.0/16'},
            {'name': 'net1', 'driver': 'overlay', 'subnet': '10.0.1.0/24'},
            {'name': 'lan', 'driver': 'macvlan', 'parent': 'eth0', 'subnet': '198.51.100.0/24',
             'gateway': '198.51.100.1', 'ip_range': '198.51.100.128/26'}]


def seed_world():
    return dict((h, [{'name': 'nginx0' + h[-1], 'networks': ['new_network']},
                     {'name': 'web' + h[-1], 'networks': ['net1']},
                     {'name': 'm' + h[-1], 'networks': ['lan']}]) for h in HOSTS)


def changed_world():
    """An endpoint more on each host, and two more on host1's LAN: the duplicates serial: 1 made."""
    world = seed_world()
    for h in HOSTS:
        world[h].append({'name': 'web%sb' % h[-1], 'networks': ['net1']})
    world['host1'] += [{'name': 'm1b', 'networks': ['lan']}, {'name': 'm1c', 'networks': ['lan']}]
    return world


class Fleet(object):
    """The lab's hosts and site.yml (or a rolling copy of it) run against them."""

    def __init__(self, lab, work):
        self.lab, self.work, self.count = lab, work, 0
        with open(os.path.join(lab.dir, 'lab.json')) as handle:
            pids = dict((name, host['pid']) for name, host in json.load(handle)['hosts'].items())
        self.probes = dict((h, Probe(VirtualHost(h, pids[h], '%s/%s' % (lab.name, h)))) for h in HOSTS)
        self.rolling = os.path.join(work, 'rolling.yml')
        with open(self.rolling, 'w') as handle:
            yaml.safe_dump([{'name': 'Container networks, rolling', 'hosts': 'all', 'become': True,
                             'gather_facts': False, 'serial': '{{ rolling_serial }}',
                             'max_fail_percentage': '{{ rolling_max_fail | default(100) }}',
                             'roles': [{'role': 'netplumb.container.network'}]}], handle)

    def run(self, endpoints, *options, serial=None, host_vars=None, group_vars=None, expect_rc=0):
        """site.yml (with ``serial``: the rolling copy) with ``endpoints`` {host: [endpoint]}."""
        self.count += 1
        with open(os.path.join(self.lab.dir, 'inventory.yml')) as handle:
            inventory = yaml.safe_load(handle)
        group = inventory['all']['children']['lab']
        group['vars'].update(netplumb_networks=NETWORKS, **(group_vars or {}))
        for h in HOSTS:
            group['hosts'][h].update(netplumb_endpoints=endpoints.get(h, []), **(host_vars or {}).get(h, {}))
        path = os.path.join(self.work, 'inventory-%d.yml' % self.count)
        with open(path, 'w') as handle:
            yaml.safe_dump(inventory, handle)
        playbook = self.rolling if serial else os.path.join(ROOT, 'playbooks', 'site.yml')
        argv = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', path, playbook] + list(options)
        if serial:
            argv += ['-e', 'rolling_serial=%s' % serial]
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                              env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_PATH, ANSIBLE_NOCOLOR='1'),
                              check=False, timeout=600)
        if expect_rc is not None:
            assert proc.returncode == expect_rc, proc.stdout[-5000:]
        return proc

    @staticmethod
    def changed(proc):
        """host -> changed count, from the play recap."""
        recap = re.finditer(r'^(host\d)\s+: ok=\d+\s+changed=(\d+)', proc.stdout, re.M)
        return dict((m.group(1), int(m.group(2))) for m in recap)

    def ns(self, host, *argv):
        return self.probes[host].host.run(list(argv), check=False)

    def ping(self, host, namespace, target):
        return self.probes[host].ping(namespace, target).returncode == 0

    def address(self, host, namespace):
        return [a.split('/')[0] for a in self.probes[host].addresses('eth0', namespace)]

    def written(self):
        """Per host, what a run decides, with nothing of what the kernel makes at random (host-side
        MACs, process IDs, what bridges learn): every file the collection writes, the addresses, routes
        and permanent neighbours of every namespace, the overlay's written forwarding entries, the whole
        firewall."""
        found = {}
        for h, probe in sorted(self.probes.items()):
            found[h] = {'files': probe.files(), 'nft': probe.host.run(['nft', '-s', 'list', 'ruleset']).stdout}
            for ns in [None] + probe.namespaces():
                found[h][ns or ''] = {
                    'addresses': sorted((l['ifname'], l.get('mtu'), l.get('master'), tuple(sorted(
                        a['local'] for a in l.get('addr_info', []) if not a['local'].startswith('fe80:'))))
                        for l in probe.ip('addr', 'show', namespace=ns)),
                    'routes': probe.ip('route', 'show', namespace=ns),
                    'neighbours': sorted(json.dumps(n, sort_keys=True) for n in
                                         probe.ip('neigh', 'show', 'nud', 'permanent', namespace=ns)),
                    # written, not learned: the overlay's bridge learns from the tests' own packets
                    'fdb': sorted(json.dumps(e, sort_keys=True) for e in probe.fdb(ns)
                                  if e.get('ifname') == 'vxlan0') if ns == 'ov-net1' else []}
        return found


@pytest.fixture(scope='module')
def fleet(tmp_path_factory, module_python):
    """One lab for the module's tests (each converges the world it starts from first); destroyed at the end."""
    work = str(tmp_path_factory.mktemp('rolling'))
    runner = Runner(None, work, COLLECTIONS_PATH, module_python)

    def lab(**variables):
        return runner(None, playbook=LAB_PLAYBOOK, extra_vars=dict(variables, lab_name=lab.name), expect_rc=0)
    lab.name = 'np-rolling-%d' % os.getpid()
    lab.dir = '/var/lib/netplumb-lab/' + lab.name
    try:
        lab(lab_count=3, lab_outside=True)
        yield Fleet(lab, work)
    finally:
        lab(lab_state='absent')
        assert lab_processes(lab.name) == []


def lan_addresses(fleet, world):
    found = {}
    for h, endpoints in world.items():
        for ep in endpoints:
            if ep['networks'] == ['lan']:
                found[ep['name']] = fleet.address(h, ep['name'])[0]
    return found


def test_rolling_batches_converge_to_what_one_run_makes(fleet):
    # the seed world from empty, one host a batch
    first = fleet.run(seed_world(), serial=1)
    assert fleet.changed(first) == {'host1': 1, 'host2': 1, 'host3': 1}
    # the change, two hosts a batch: host1's new LAN endpoints get free addresses, not host2's and host3's
    fleet.run(changed_world(), serial=2)
    lan = lan_addresses(fleet, changed_world())
    assert len(set(lan.values())) == len(lan) == 5, lan
    assert (lan['m1'], lan['m2'], lan['m3']) == ('198.51.100.128', '198.51.100.129', '198.51.100.130')
    # by name, across hosts, on the overlay and the LAN (LAN endpoints: the hosts files)
    assert fleet.ping('host1', 'web1', 'web3b') and fleet.ping('host3', 'web3b', 'web2')
    assert fleet.ping('host1', 'm1c', 'm2') and fleet.ping('host3', 'm3', 'm1b')
    # a plain site.yml afterwards changes nothing
    assert fleet.changed(fleet.run(changed_world())) == {'host1': 0, 'host2': 0, 'host3': 0}
    rolled = fleet.written()
    # the same change as one run, from the same start: the same hosts, byte for byte
    fleet.run(seed_world())
    fleet.run(changed_world())
    assert fleet.written() == rolled


def moved_world():
    """web1 goes from host1 to host2; m2 and m3 swap hosts."""
    world = changed_world()
    world['host2'].append(world['host1'].pop(1))
    m2, m3 = world['host2'].pop(2), world['host3'].pop(2)
    world['host2'].append(m3)
    world['host3'].append(m2)
    return world


def test_moves_converge_every_peer_in_the_run_that_moves_them(fleet):
    fleet.run(changed_world())
    before = lan_addresses(fleet, changed_world())
    web1 = fleet.address('host1', 'web1')
    assert [ep['name'] for ep in moved_world()['host2']] == ['nginx02', 'web2', 'web2b', 'web1', 'm3']
    fleet.run(moved_world())
    assert fleet.address('host2', 'web1') == web1
    assert fleet.ping('host3', 'web3', 'web1') and fleet.ping('host2', 'web1', 'web3')
    assert lan_addresses(fleet, moved_world()) == before, 'LAN endpoints that swapped hosts swapped addresses'
    assert fleet.ping('host1', 'm1', 'm2') and fleet.ping('host2', 'm3', 'm1')
    assert fleet.changed(fleet.run(moved_world())) == {'host1': 0, 'host2': 0, 'host3': 0}


def test_a_host_that_fails_in_its_batch_stops_the_rolling_update_and_a_rerun_completes_it(fleet):
    """max_fail_percentage 0: host2 cannot apply its part (a process to adopt that is gone), so the
    play stops in host2's batch; host1 keeps what the one plan gave it, host3 is untouched."""
    start = moved_world()
    fleet.run(start)
    untouched = fleet.written()['host3']
    later = moved_world()
    for h in HOSTS:
        later[h].append({'name': 'late' + h[-1], 'networks': ['net1']})
    broken = dict(later, host2=later['host2'] + [{'name': 'adopted', 'pid': 4194303, 'networks': ['new_network']}])
    stopped = fleet.run(broken, '-e', 'rolling_max_fail=0', serial=1, expect_rc=2)
    assert re.search(r'^host2\s+: .*failed=1', stopped.stdout, re.M), stopped.stdout[-3000:]
    assert 'late1' in fleet.probes['host1'].namespaces() and fleet.written()['host3'] == untouched
    # what was there still reaches what was there; a peer learns batch 1's new endpoints in its own batch
    assert fleet.ping('host1', 'web1b', 'web2') and fleet.ping('host3', 'web3', 'web1b')
    assert not fleet.ping('host1', 'late1', 'web2')
    fleet.run(later, serial=1)
    assert fleet.ping('host1', 'late1', 'late3') and fleet.ping('host3', 'late3', 'late2')


def test_a_host_that_is_down_holds_back_only_what_it_spans(fleet):
    fleet.run(seed_world())
    down = {'host3': {'ansible_ssh_common_args': '-F %s -o ProxyCommand=false' % os.path.join(fleet.lab.dir, 'ssh_config'),
                      'ansible_control_path_dir': os.path.join(fleet.work, 'cp-down')}}
    later = changed_world()
    for h in HOSTS:
        later[h].append({'name': 'extra' + h[-1], 'networks': ['new_network']})
    # with the switch on, no host changes (today's all-or-nothing)
    before = dict((h, p.state()) for h, p in fleet.probes.items())
    stopped = fleet.run(later, host_vars=down, group_vars={'netplumb_all_or_nothing': True}, expect_rc=None)
    assert stopped.returncode != 0 and 'host3 could not be read in this run' in stopped.stdout
    assert 'netplumb_all_or_nothing is true, so no host changes' in stopped.stdout
    assert dict((h, p.state()) for h, p in fleet.probes.items()) == before
    # without: the bridge networks change on host1 and host2; net1 and lan are held back there, named with host3
    run = fleet.run(later, host_vars=down, expect_rc=4)              # 4: a host was unreachable
    assert re.search(r'^host3\s+: ok=\d+\s+changed=0\s+unreachable=1', run.stdout, re.M), run.stdout[-2000:]
    for h in ('host1', 'host2'):
        assert fleet.ping(h, 'extra' + h[-1], 'nginx0' + h[-1])
        assert 'web%sb' % h[-1] not in fleet.probes[h].namespaces()         # new on net1: waits
        assert fleet.ping(h, 'web' + h[-1], 'web3')                          # net1 as it was, host3 still in it
    assert 'network net1 is held back as the last change left it: host3 could not be read in this run' in run.stdout
    assert 'network lan is held back as the last change left it: host3' in run.stdout
    assert 'm1b' not in fleet.probes['host1'].namespaces()
    # host3 is back: the next run plans and applies everything
    fleet.run(later)
    assert fleet.ping('host1', 'web1b', 'web3b') and fleet.ping('host3', 'm3', 'm1c')


def test_concurrent_limited_runs_of_a_static_overlay_or_a_lan_refuse_naming_the_network(fleet):
    fleet.run(seed_world())
    before = dict((h, p.state()) for h, p in fleet.probes.items())
    world = changed_world()
    for networks, network in ((['net1'], 'net1'), (['lan'], 'lan')):
        only = dict((h, [ep for ep in eps if ep['networks'] == networks]) for h, eps in world.items())
        runs = {}
        threads = [threading.Thread(target=lambda h=h: runs.__setitem__(h, fleet.run(
            only, '--limit', h, expect_rc=None))) for h in ('host1', 'host2')]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for h, proc in sorted(runs.items()):
            assert proc.returncode != 0, proc.stdout[-2000:]
            assert 'network %s also spans host' % network in proc.stdout and 'which is not in this run (a --limit, ' \
                'or one slice of a sliced AWX job' in proc.stdout, proc.stdout[-2000:]
    assert dict((h, p.state()) for h, p in fleet.probes.items()) == before
