"""Overlays with control_plane evpn, the engine's part, inside a virtual host (FRR itself runs in the
Molecule scenario ``evpn``, whose lab machines have it): the VTEP without ARP proxy, its bridge port
with neighbour suppression on and learning off, no forwarding entry of ours - and the entries FRR's
zebra installs (a flood entry, as permanent as ours, and an extern_learn one; written here by hand
in its place) are never read, kept or removed by a run. A change of control plane recreates the VTEP,
so neither control plane inherits the other's entries. Check mode changes nothing (``converge``)."""

from helpers import converge, task
from test_topology import leftovers

EVPN = {'name': 'ov', 'driver': 'overlay', 'control_plane': 'evpn', 'subnet': '10.0.9.0/24', 'ip_range': '10.0.9.0/28',
        'vni': 4242, 'local': '127.0.0.1', 'egress': False}
STATIC = dict(EVPN, control_plane='static', peers=[{'vtep': '127.0.0.2', 'endpoints': [
    {'ip': '10.0.9.20', 'mac': '02:42:0a:00:09:14', 'name': 'far'}]}])
ENDPOINTS = [{'name': 'a', 'networks': [{'name': 'ov', 'address': '10.0.9.2'}]}]


def topology(networks, **extra):
    return task('topology', networks=networks, endpoints=ENDPOINTS, **extra)


def vtep(host):
    port = host.run(['ip', 'netns', 'exec', 'ov-ov', 'bridge', '-d', 'link', 'show', 'dev', 'vxlan0']).stdout
    link = host.run(['ip', '-d', '-n', 'ov-ov', 'link', 'show', 'vxlan0']).stdout
    entries = host.run(['ip', 'netns', 'exec', 'ov-ov', 'bridge', 'fdb', 'show', 'dev', 'vxlan0']).stdout
    return port, link, sorted(line.strip() for line in entries.splitlines() if ' dst ' in line)


def test_an_evpn_vtep_is_frrs_to_fill(host, play, probe):
    before = leftovers(host, probe)
    run = converge(play, probe, [topology([EVPN])])[0]
    assert run['result']['networks']['ov']['forwarding_entries'] == 0
    assert run['result']['networks']['ov']['control_plane'] == 'evpn'
    port, link, entries = vtep(host)
    assert 'neigh_suppress on' in port and 'learning off' in port
    assert ' proxy ' not in link and 'nolearning' in link      # ARP requests go out to the other hosts
    assert entries == []

    # zebra's entries, as it writes them: a flood entry (permanent, like ours) and a learned MAC
    for argv in (['bridge', 'fdb', 'append', '00:00:00:00:00:00', 'dev', 'vxlan0', 'dst', '127.0.0.3', 'self', 'permanent'],
                 ['bridge', 'fdb', 'add', '02:42:0a:00:09:21', 'dev', 'vxlan0', 'dst', '127.0.0.3', 'self', 'extern_learn']):
        host.run(['ip', 'netns', 'exec', 'ov-ov'] + argv)
    zebras = vtep(host)[2]
    assert len(zebras) == 2
    again = converge(play, probe, [topology([EVPN])])[0]
    assert again['result']['actions'] == [] and vtep(host)[2] == zebras

    # the port's flags drift (someone turned learning on): put back
    host.run(['ip', 'netns', 'exec', 'ov-ov', 'bridge', 'link', 'set', 'dev', 'vxlan0', 'learning', 'on'])
    repaired = converge(play, probe, [topology([EVPN])])[0]
    assert any('neighbour suppression on and learning off' in a for a in repaired['result']['actions'])

    # to static: a new VTEP (zebra's entries go with the old one), ARP answered from our neighbours, our exact entries
    static = converge(play, probe, [topology([STATIC])])[0]
    assert any('delete to recreate' in a and 'control_plane evpn -> static' in a for a in static['result']['actions'])
    port, link, entries = vtep(host)
    assert ' proxy ' in link and 'neigh_suppress off' in port
    assert entries == sorted(['00:00:00:00:00:00 dst 127.0.0.2 link-netnsid 0 self permanent',
                              '02:42:0a:00:09:14 dst 127.0.0.2 link-netnsid 0 self permanent'])
    # and back to evpn: ours go with the VTEP
    back = converge(play, probe, [topology([EVPN])])[0]
    assert any('control_plane static -> evpn' in a for a in back['result']['actions'])
    assert vtep(host)[2] == []

    converge(play, probe, [task('topology', networks=[], endpoints=[])])
    assert leftovers(host, probe) == before
