"""macvlan networks (seeds 002/003: Docker's third driver) inside a virtual host, proved by packets.

The LAN is a veth pair: ``lan0`` in the virtual host (its address 10.77.0.2/24, the parent) and
``eth0`` in a namespace ``router`` (10.77.0.1, the LAN's router, which also holds 203.0.113.1 -
the outside world - and runs a TCP server that logs its peers' addresses). What the host cannot
do without a shim (reach its own endpoints) and what no run may do (change anything when a
declaration is refused) are proved too. The multi-host case (addresses unique across the
inventory, endpoints on two hosts reaching each other) is the Molecule scenario ``lan``."""

import os
import time

from helpers import converge, rejected, task
from test_topology import leftovers

TCP = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'lib', 'tcp.py')
LAN = {'name': 'lan', 'driver': 'macvlan', 'parent': 'lan0', 'subnet': '10.77.0.0/24', 'gateway': '10.77.0.1',
       'ip_range': '10.77.0.128/25'}
OUTSIDE = '203.0.113.1'


def topology(networks, endpoints, **extra):
    return task('topology', networks=networks, endpoints=endpoints, **extra)


def lan(host, tmp_path):
    """The LAN and its router; returns the router server's log."""
    for argv in (['ip', 'netns', 'add', 'router'],
                 ['ip', 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', 'router'],
                 ['ip', 'addr', 'add', '10.77.0.2/24', 'dev', 'lan0'], ['ip', 'link', 'set', 'lan0', 'up'],
                 ['ip', '-n', 'router', 'addr', 'add', '10.77.0.1/24', 'dev', 'eth0'],
                 ['ip', '-n', 'router', 'addr', 'add', OUTSIDE + '/32', 'dev', 'lo'],
                 ['ip', '-n', 'router', 'link', 'set', 'eth0', 'up'], ['ip', '-n', 'router', 'link', 'set', 'lo', 'up'],
                 ['ip', 'route', 'add', OUTSIDE + '/32', 'via', '10.77.0.1']):
        host.run(argv)
    log = str(tmp_path / 'outside.log')
    host.spawn(['ip', 'netns', 'exec', 'router', 'python3', TCP, 'serve', '80', log])
    time.sleep(0.5)
    return log


def connect(host, ns, ip, port=80):
    argv = (['ip', 'netns', 'exec', ns] if ns else []) + ['python3', TCP, 'connect', ip, str(port)]
    return host.run(argv, check=False).returncode == 0


def address_of(run, endpoint, ifname='eth0'):
    return run['result']['endpoints'][endpoint]['interfaces'][ifname]['address'].split('/')[0]


def test_endpoints_on_the_lan_at_their_own_address(host, play, probe, tmp_path):
    log = lan(host, tmp_path)
    before = leftovers(host, probe)
    endpoints = [{'name': 'a', 'networks': ['lan']}, {'name': 'b', 'networks': [{'name': 'lan', 'aliases': ['bee']}]}]
    run = converge(play, probe, [topology([LAN], endpoints)])[0]
    a, b = address_of(run, 'a'), address_of(run, 'b')
    assert (a, b) == ('10.77.0.128', '10.77.0.129')          # from the ip_range, not the LAN's hosts
    eth0 = probe.link('eth0', 'a')
    assert eth0['linkinfo']['info_kind'] == 'macvlan' and eth0['linkinfo']['info_data']['mode'] == 'bridge'
    assert eth0['address'] == '02:42:0a:4d:00:80'
    # the router, each other by name (the hosts files: a LAN endpoint cannot reach the host's name server, so an
    # alias, which only the name server answers, is not a name there), and the outside world with no NAT: the
    # server logs a's own address
    assert probe.ping('a', '10.77.0.1').returncode == 0
    assert probe.ping('a', 'b').returncode == 0 and probe.ping('b', 'a').returncode == 0
    assert connect(host, 'a', OUTSIDE)
    with open(log) as handle:
        assert handle.read().split() == [a]
    assert probe.ip('route', 'show', 'default', namespace='a')[0]['gateway'] == '10.77.0.1'
    # nothing of ours in the firewall or the host's routes: the LAN is not NATed or filtered by us
    assert host.run(['nft', 'list', 'table', 'inet', 'netplumb'], check=False).returncode != 0
    # the kernel delivers nothing from a parent to its own macvlan interfaces: the host cannot reach them
    assert probe.ping(None, a).returncode != 0

    # with the shim, it can (and its address comes from the pool, beside the endpoints')
    shimmed = converge(play, probe, [topology([dict(LAN, host_shim=True)], endpoints)])[0]
    shim = shimmed['result']['networks']['lan']['host_shim']
    assert shim['addresses'] == ['10.77.0.130/32']
    assert probe.ping(None, a).returncode == 0 and probe.ping(None, b).returncode == 0
    assert connect(host, None, OUTSIDE)                       # the host's own way out is untouched
    assert sorted(r['dst'] for r in probe.ip('route', 'show', 'dev', shim['interface'])) == [a, b]

    # drift: the endpoint's interface deleted by hand is made again
    host.run(['ip', '-n', 'a', 'link', 'del', 'eth0'])
    repaired = play([topology([dict(LAN, host_shim=True)], endpoints)], expect_rc=0).results[0]
    assert repaired['status'] == 'changed'
    assert probe.ping('a', 'b').returncode == 0 and probe.ping(None, a).returncode == 0

    # the shim goes when it is no longer asked for, and with it the host's way to its endpoints
    converge(play, probe, [topology([LAN], endpoints)])
    assert probe.ping(None, a).returncode != 0 and probe.ping('a', 'b').returncode == 0

    # b moves to a bridge network under the same interface name: its macvlan goes first
    bridge = {'name': 'web', 'subnet': '172.28.0.0/24'}
    moved = converge(play, probe, [topology([LAN, bridge], [endpoints[0], {'name': 'b', 'networks': ['web']}])])[0]
    assert probe.link('eth0', 'b')['linkinfo']['info_kind'] == 'veth'
    assert address_of(moved, 'b').startswith('172.28.0.')

    converge(play, probe, [topology([], [])])
    assert leftovers(host, probe) == before


def test_refused_before_any_change(host, play, probe, tmp_path):
    lan(host, tmp_path)
    only_lan = [{'name': 'a', 'networks': ['lan'], 'published': ['8080:80']}]
    rejected(play, probe, topology([LAN], only_lan), 'endpoints (a).published', 'only on macvlan network lan',
             'no NAT')
    rejected(play, probe, topology([dict(LAN, parent='nowhere0')], []), 'networks (lan).parent',
             'nowhere0 is not an interface of this host', 'lan0')
    rejected(play, probe, topology([dict(LAN, subnet='10.78.0.0/24', gateway=None, ip_range=None)], []),
             'networks (lan).subnet', 'not the LAN of parent lan0', '10.77.0.0/24')
    rejected(play, probe, topology([dict(LAN, bridge='br9')], []), 'networks[0] (lan).bridge')
    # what this kernel lacks: ipvlan and 802.1q, named with the module
    rejected(play, probe, topology([dict(LAN, driver='ipvlan')], []), 'networks (lan).driver', 'ipvlan',
             'module ipvlan')
    rejected(play, probe, topology([dict(LAN, parent='lan0.10')], []), 'networks (lan).parent (lan0.10)',
             'module 8021q')
    host.run(['ip', 'link', 'set', 'lan0', 'down'])
    rejected(play, probe, topology([LAN], []), 'networks (lan).parent', 'lan0 is down')
