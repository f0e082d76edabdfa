"""Renames without leftovers: a network's bridge or an endpoint's namespace declared under
another name goes under its old one (it was ours: the record and our marks say so), going back to
the old names works, and two attachments that swap interface names swap them. Proved by the
host's links and namespaces and by packets."""

import pytest

from helpers import converge, task
from test_topology import leftovers

# renames are netlink requests the newest and Debian's pyroute2 send alike (test_veth covers both)
pytestmark = pytest.mark.any_interpreter

NET = {'name': 'web', 'subnet': '172.28.0.0/16'}
OTHER = {'name': 'db', 'subnet': '172.29.0.0/16'}


def topology(networks, endpoints):
    return task('topology', networks=networks, endpoints=endpoints)


def bridges(probe):
    return sorted(l['ifname'] for l in probe.ip('link', 'show', 'type', 'bridge'))


def test_a_renamed_bridge_and_namespace_leave_nothing_behind_and_the_old_names_come_back(host, play, probe):
    endpoints = [{'name': 'a', 'networks': ['web']}, {'name': 'b', 'networks': ['web']}]
    converge(play, probe, [topology([NET], endpoints)])
    first_bridges, first_namespaces = bridges(probe), probe.namespaces()
    assert first_namespaces == ['a', 'b'] and len(first_bridges) == 1

    renamed = [{'name': 'a', 'networks': ['web'], 'namespace': 'a-moved'}, endpoints[1]]
    converge(play, probe, [topology([dict(NET, bridge='nprename1')], renamed)])
    assert bridges(probe) == ['nprename1'] and probe.namespaces() == ['a-moved', 'b']
    assert probe.ping('a-moved', '172.28.0.1').returncode == 0          # its gateway, on the new bridge
    assert probe.ping('b', 'a').returncode == 0                         # by name, at its new place

    converge(play, probe, [topology([NET], endpoints)])                 # back to the old names
    assert bridges(probe) == first_bridges and probe.namespaces() == first_namespaces
    assert probe.ping('a', 'b').returncode == 0
    converge(play, probe, [topology([], [])])
    assert leftovers(host, probe) == {'netns': [], 'links': [], 'rules': [], 'files': []}


def test_two_attachments_swap_their_interface_names(host, play, probe):
    attached = [{'name': 'web', 'ifname': 'eth0'}, {'name': 'db', 'ifname': 'eth1'}]
    converge(play, probe, [topology([NET, OTHER], [{'name': 'a', 'networks': attached},
                                                   {'name': 'w', 'networks': ['web']}])])
    swapped = [{'name': 'web', 'ifname': 'eth1'}, {'name': 'db', 'ifname': 'eth0'}]
    converge(play, probe, [topology([NET, OTHER], [{'name': 'a', 'networks': swapped},
                                                   {'name': 'w', 'networks': ['web']}])])
    assert probe.addresses('eth1', 'a')[0].startswith('172.28.') and probe.addresses('eth0', 'a')[0].startswith('172.29.')
    assert probe.ping('w', 'a').returncode == 0
    converge(play, probe, [topology([], [])])
