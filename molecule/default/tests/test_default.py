"""Verify, over Testinfra's SSH backend, that the converge ran on the lab's virtual hosts
(not on this machine) and that seed 001's network passes packets there."""

import json
import os
import socket

import pytest

LAB = '/var/lib/netplumb-lab/molecule-%s' % os.environ.get('MOLECULE_SCENARIO_NAME', 'default')


def _lab():
    with open(os.path.join(LAB, 'lab.json')) as handle:
        return json.load(handle)


testinfra_hosts = ['ssh://%s' % name for name in sorted(_lab()['hosts'])]


@pytest.fixture
def name(host):
    return host.backend.hostname


def test_runs_on_a_virtual_host(host, name):
    assert host.check_output('hostname') == name != socket.gethostname()
    assert host.check_output('readlink /proc/self/ns/net') != os.readlink('/proc/self/ns/net')
    assert host.check_output('ip -o -4 addr show eth0').split()[3] == _lab()['hosts'][name]['address']


def test_seed001_network_is_built(host):
    assert 'netns666' in host.check_output('ip netns list')
    assert '10.0.0.2/24' in host.check_output('ip -n netns666 -o addr show eth0')
    assert host.interface('br666').addresses[0] == '10.0.0.1'
    assert 'default via 10.0.0.1' in host.check_output('ip -n netns666 route')


def test_container_and_gateway_exchange_packets(host):
    assert host.run('ip netns exec netns666 ping -c 2 -W 2 10.0.0.1').rc == 0
    assert host.run('ping -c 2 -W 2 10.0.0.2').rc == 0


def test_hosts_reach_each_other_over_the_underlay(host, name):
    for other, record in _lab()['hosts'].items():
        if other != name:
            assert host.run('ping -c 1 -W 2 %s' % record['address'].split('/')[0]).rc == 0


def test_same_namespace_name_on_every_host_is_a_different_namespace(host):
    """Each host has its own /run/netns: netns666 on host1 is not netns666 on host2."""
    inode = host.check_output('stat -Lc %i /run/netns/netns666')
    others = list(_lab()['hosts'].values())
    seen = set()
    for record in others:
        with open('/proc/%d/root/run/netns/netns666' % record['pid']) as handle:
            seen.add(os.fstat(handle.fileno()).st_ino)
    assert int(inode) in seen and len(seen) == len(others)
    assert not os.path.exists('/run/netns/netns666')
