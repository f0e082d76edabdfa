"""Overlays with a BGP EVPN control plane, proved on lab machines by packets: endpoints across
three hosts, overlays isolated, MTU, IPv6, egress; FRR's entries on the VTEPs and none of ours; an
endpoint added and removed on host3 with --limit host3 reached and forgotten by the others with
no run on them; a route reflector stopped; a real reboot; a foreign FRR configuration refused
before any host changes. Tests run in order."""

import json
import os
import subprocess
import sys
import threading
import time

import pytest
import testinfra

LAB = '/var/lib/netplumb-lab/molecule-evpn'
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'lib'))
import lab_machines  # noqa: E402 - the scenarios' shared helpers
OUTSIDE = '203.0.113.1'
NET1 = {'net1c1': '10.0.1.2', 'net1c2': '10.0.1.16', 'net1c3': '10.0.1.32'}     # each host's own range
testinfra_hosts = ['ssh://host1']


def connect(name):
    return testinfra.get_host('ssh://' + name, ssh_config=os.path.join(LAB, 'ssh_config'))


@pytest.fixture(scope='module')
def hosts():
    return dict((name, connect(name)) for name in ('host1', 'host2', 'host3', 'rr1', 'rr2'))


def ping(host, namespace, target, *options):
    return host.run('ip netns exec %s ping -c 1 -W 2 %s %s' % (namespace, ' '.join(options), target)).rc == 0


def eventually(check, timeout=20):
    deadline = time.time() + timeout
    while not check():
        if time.time() > deadline:
            return False
        time.sleep(0.2)
    return True


def site(*options):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.build', 'collections'))
    inventory = os.path.join(os.environ.get('MOLECULE_EPHEMERAL_DIRECTORY', ''), 'inventory')
    return subprocess.run(['ansible-playbook', '-i', inventory, os.path.join(ROOT, 'playbooks', 'site.yml')]
                          + list(options), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, env=env, check=False)


def fdb(host, network='net1'):
    """The VTEP's entries with a destination: (mac, dst, learned by FRR)."""
    entries = []
    for line in host.check_output('ip netns exec ov-%s bridge fdb show dev vxlan0' % network).splitlines():
        words = line.split()
        if 'dst' in words:
            entries.append((words[0], words[words.index('dst') + 1], 'extern_learn' in words))
    return entries


def snapshot(host):
    """Links, addresses, routes, namespaces, the ruleset, FRR's configuration and our files (a
    reflector has none of the last)."""
    return host.run('ip -d -o addr; ip -o route; ip netns list; nft list ruleset; cat /etc/frr/frr.conf /etc/frr/daemons; '
                    'cat /var/lib/netplumb/topology.json /var/lib/netplumb/desired.json; ls -R /etc/netns').stdout


def test_endpoints_reach_each_other_across_hosts_and_nothing_else(hosts):
    host1 = hosts['host1']
    assert ping(host1, 'net1c1', NET1['net1c2']) and ping(host1, 'net1c1', NET1['net1c3'])
    assert ping(hosts['host3'], 'net1c3', NET1['net1c2'])
    assert ping(host1, 'net1c1', 'fd00:1::10')                     # IPv6: the IPv4 offset in the IPv6 subnet
    assert ping(host1, 'net2c1', '10.0.2.16')                       # the second EVPN overlay
    assert ping(host1, 's1', '10.0.3.3')                            # a static overlay on the same hosts
    assert not ping(host1, 'net1c1', '10.0.2.16')                   # another overlay: isolated
    assert not ping(host1, 'net2c1', NET1['net1c2'])
    assert host1.run('ping -c 1 -W 2 %s' % NET1['net1c2']).rc != 0   # the host itself: not on the overlay
    assert ping(host1, 'net1c1', NET1['net1c2'], '-M do -s 1422')  # MTU 1450: 1422 + 28 passes, 1423 does not
    assert not ping(host1, 'net1c1', NET1['net1c2'], '-M do -s 1423')
    assert ping(host1, 'net1c1', OUTSIDE)                           # egress through the gateway bridge


def test_forwarding_entries_are_frrs_and_none_are_ours(hosts):
    host1 = hosts['host1']
    entries = fdb(host1)
    remote = dict((mac, dst) for mac, dst, learned in entries if mac != '00:00:00:00:00:00')
    assert remote == {'02:42:0a:00:01:10': '198.51.100.12', '02:42:0a:00:01:20': '198.51.100.13'}
    assert all(learned for mac, dst, learned in entries if mac != '00:00:00:00:00:00'), entries
    assert sorted(dst for mac, dst, learned in entries if mac == '00:00:00:00:00:00') == ['198.51.100.12', '198.51.100.13']
    port = host1.check_output('ip netns exec ov-net1 bridge -d link show dev vxlan0')
    assert 'neigh_suppress on' in port and 'learning off' in port
    assert 'ov-net1' in host1.check_output('vtysh -c "show evpn vni"')
    # the static overlay beside it keeps our exact entries
    assert sorted(dst for mac, dst, learned in fdb(host1, 'net3') if not learned and mac != '00:00:00:00:00:00')


def test_an_endpoint_added_on_one_host_is_reached_from_the_others_with_no_run_there(hosts):
    before = dict((name, snapshot(hosts[name])) for name in ('host1', 'host2'))
    added = site('--limit', 'host3', '-e', json.dumps({'evpn_more': [{'name': 'net1c4', 'networks': ['net1']}]}))
    assert added.returncode == 0, added.stdout[-3000:]
    start = time.time()
    assert eventually(lambda: ping(hosts['host1'], 'net1c1', '10.0.1.33') and ping(hosts['host2'], 'net1c2', '10.0.1.33'))
    print('net1c4 answered from host1 and host2 %.1f s after the run on host3 ended' % (time.time() - start))
    assert dict((name, snapshot(hosts[name])) for name in ('host1', 'host2')) == before
    removed = site('--limit', 'host3')
    assert removed.returncode == 0, removed.stdout[-3000:]
    assert eventually(lambda: '02:42:0a:00:01:21' not in [e[0] for e in fdb(hosts['host1'])] and
                      '02:42:0a:00:01:21' not in [e[0] for e in fdb(hosts['host2'])])


def test_two_limited_runs_at_once_as_job_slices_both_apply_with_distinct_addresses(hosts):
    """AWX job slices are concurrent --limit runs: on an EVPN overlay each hands out addresses from
    its own hosts' ranges, so two at once neither refuse nor collide."""
    def both(more1, more3):
        runs = {}
        slices = {'host1,host2': {'evpn_more1': more1}, 'host3': {'evpn_more': more3}}
        threads = [threading.Thread(target=lambda limit=limit, extra=extra: runs.__setitem__(
            limit, site('--limit', limit, '-e', json.dumps(extra)))) for limit, extra in slices.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for limit, run in sorted(runs.items()):
            assert run.returncode == 0, (limit, run.stdout[-3000:])
    both([{'name': 'net1c7', 'networks': ['net1']}], [{'name': 'net1c8', 'networks': ['net1']}])
    seven = hosts['host1'].check_output('ip -n net1c7 -4 -o addr show eth0').split()[3].split('/')[0]
    eight = hosts['host3'].check_output('ip -n net1c8 -4 -o addr show eth0').split()[3].split('/')[0]
    assert (seven, eight) == ('10.0.1.3', '10.0.1.33')              # host1's range, host3's range
    assert eventually(lambda: ping(hosts['host1'], 'net1c7', eight) and ping(hosts['host3'], 'net1c8', seven))
    both([], [])
    assert 'net1c7' not in hosts['host1'].check_output('ip netns list')


def test_one_reflector_stopped_traffic_holds_and_a_new_endpoint_is_learned(hosts):
    rr1 = hosts['rr1']
    assert rr1.run('systemctl stop frr.service').rc == 0
    try:
        assert ping(hosts['host1'], 'net1c1', NET1['net1c3'])
        added = site('--limit', 'host3', '-e', json.dumps({'evpn_more': [{'name': 'net1c5', 'networks': ['net1']}]}))
        assert added.returncode == 0, added.stdout[-3000:]
        assert eventually(lambda: ping(hosts['host1'], 'net1c1', '10.0.1.33'))
    finally:
        rr1.run('systemctl start frr.service')
    assert site('--limit', 'host3').returncode == 0


def test_a_host_that_leaves_evpn_gets_frr_back_as_the_package_left_it_and_the_others_forget_it(hosts):
    host3 = hosts['host3']
    left = site('--limit', 'host3', '-e', json.dumps({'netplumb_endpoints': []}))
    assert left.returncode == 0, left.stdout[-3000:]
    assert host3.run('systemctl is-active --quiet frr.service').rc != 0
    assert host3.run('systemctl is-enabled --quiet frr.service').rc != 0
    assert host3.check_output('cat /etc/frr/frr.conf') == '' and 'bgpd=no' in host3.check_output('cat /etc/frr/daemons')
    assert not host3.file('/etc/systemd/system/frr.service.d/netplumb.conf').exists
    # its VTEP's routes are withdrawn: no flood entry to host3 is left on host1
    assert eventually(lambda: '198.51.100.13' not in [dst for mac, dst, learned in fdb(hosts['host1'])])
    back = site('--limit', 'host3')
    assert back.returncode == 0, back.stdout[-3000:]
    assert eventually(lambda: ping(hosts['host1'], 'net1c1', NET1['net1c3']))


def test_a_foreign_frr_configuration_is_refused_before_any_host_changes(hosts):
    host2 = hosts['host2']
    host2.run('cp /etc/frr/frr.conf /root/frr.conf.ours && printf "router ospf\\n network 10.9.0.0/16 area 0\\n" '
              '> /etc/frr/frr.conf')
    try:
        before = dict((name, snapshot(host)) for name, host in hosts.items())
        refused = site('-e', json.dumps({'evpn_more': [{'name': 'net1c6', 'networks': ['net1']}]}))
        assert refused.returncode != 0, refused.stdout[-3000:]
        assert "/etc/frr/frr.conf holds an FRR configuration netplumb did not write ('router ospf')" in refused.stdout
        assert dict((name, snapshot(host)) for name, host in hosts.items()) == before
    finally:
        host2.run('cp /root/frr.conf.ours /etc/frr/frr.conf')


def test_check_and_diff_show_the_frr_change_and_change_nothing(hosts):
    before = dict((name, snapshot(host)) for name, host in hosts.items())
    check = site('--check', '--diff', '-e', 'netplumb_evpn_asn=65001')
    assert check.returncode == 0, check.stdout[-3000:]
    assert '-router bgp 65000' in check.stdout and '+router bgp 65001' in check.stdout
    assert dict((name, snapshot(host)) for name, host in hosts.items()) == before


def test_a_real_reboot_brings_the_evpn_overlays_back_without_a_playbook(hosts):
    host1 = hosts['host1']
    hosts['host1'] = host1 = lab_machines.reboot(host1, lambda: connect('host1'), 'frr.service')
    assert eventually(lambda: ping(host1, 'net1c1', NET1['net1c2']) and ping(host1, 'net1c1', NET1['net1c3'])
                      and ping(host1, 'net2c1', '10.0.2.16'), timeout=60)
    assert ping(hosts['host3'], 'net1c3', NET1['net1c1'])
    # every host exactly as the playbook left it: also host2's entries of the static overlay net3, which
    # zebra would take over (and drop while host1 was down) if host1's routes for it left host1
    check = site('--check')
    assert check.returncode == 0 and 'changed=1' not in check.stdout, check.stdout[-3000:]
