"""The topology module (the network role's engine) in a virtual host: seeds 003 and 004
proved by packets, removal proved by an empty host."""

import json
import os
import time

from helpers import converge, rejected, task
from test_nat_rule import TCP, connect

DEFAULT = {'name': 'bridge', 'bridge': 'np0', 'subnet': '172.17.0.0/16', 'resolve_names': False}
NEW = {'name': 'new_network', 'subnet': '172.18.0.0/16'}
SEED_003 = [{'name': 'nginx01', 'networks': ['new_network']},
            {'name': 'nginx02', 'networks': ['new_network']},
            {'name': 'nginx03'}]


def topology(networks, endpoints, **extra):
    return task('topology', networks=networks, endpoints=endpoints, **extra)


def resolves(host, namespace, name):
    return host.run(['ip', 'netns', 'exec', namespace, 'getent', 'hosts', name], check=False).returncode == 0


def ping(probe, namespace, target):
    return probe.ping(namespace, target).returncode == 0


def leftovers(host, probe):
    """What a removal must not leave: namespaces, interfaces, rules, files, leases."""
    links = sorted(l['ifname'] for l in probe.ip('link', 'show'))
    # the firewall of either backend: the modules run nftables here, iptables where the host has no nft
    rules = [line for line in host.run(['iptables-save']).stdout.splitlines() if 'etplumb' in line.lower()]
    rules += host.run(['nft', 'list', 'table', 'inet', 'netplumb'], check=False).stdout.splitlines()
    files = host.run(['find', '/etc/netns', '/var/lib/netplumb', '-mindepth', '1'], check=False).stdout.split()
    return {'netns': probe.namespaces(), 'links': [l for l in links if l != 'lo'], 'rules': rules, 'files': files}


def test_seed003_names_networks_and_connect(host, play, probe):
    run = converge(play, probe, [topology([DEFAULT, NEW], SEED_003)])[0]
    eps = run['result']['endpoints']
    ip = dict((name, ep['interfaces']['eth0']['address'].split('/')[0]) for name, ep in eps.items())
    assert ip['nginx01'].startswith('172.18.') and ip['nginx03'].startswith('172.17.')
    assert eps['nginx01']['interfaces']['eth0']['mac'] == '02:42:ac:12:00:02'
    assert probe.link('eth0', 'nginx01')['address'] == '02:42:ac:12:00:02'
    # same user-defined network: by name; another network: neither name nor packets
    assert ping(probe, 'nginx01', 'nginx02') and ping(probe, 'nginx02', 'nginx01')
    assert not resolves(host, 'nginx01', 'nginx03') and not resolves(host, 'nginx03', 'nginx01')
    assert not ping(probe, 'nginx03', ip['nginx01'])
    assert ping(probe, 'nginx03', '172.17.0.1')                  # its own gateway

    # docker network connect new_network nginx03: eth1, then it reaches nginx01 by name
    connected = SEED_003[:2] + [{'name': 'nginx03', 'networks': ['bridge', 'new_network']}]
    run = converge(play, probe, [topology([DEFAULT, NEW], connected)])[0]
    assert run['result']['endpoints']['nginx03']['interfaces']['eth1']['network'] == 'new_network'
    assert ping(probe, 'nginx03', 'nginx01') and ping(probe, 'nginx01', 'nginx03')
    assert probe.addresses('eth0', 'nginx03') == [ip['nginx03'] + '/16']     # eth0 kept its lease

    # docker network disconnect: eth1 goes, the name with it
    converge(play, probe, [topology([DEFAULT, NEW], SEED_003)])
    assert probe.link('eth1', 'nginx03') is None and not resolves(host, 'nginx01', 'nginx03')


def test_renaming_an_interface_keeps_address_and_route(host, play, probe):
    play([topology([DEFAULT, NEW], SEED_003)], expect_rc=0)
    address = probe.addresses('eth0', 'nginx03')
    renamed = SEED_003[:2] + [{'name': 'nginx03', 'networks': [{'name': 'bridge', 'ifname': 'lan0'}]}]
    converge(play, probe, [topology([DEFAULT, NEW], renamed)])
    assert probe.link('eth0', 'nginx03') is None and probe.addresses('lan0', 'nginx03') == address
    assert 'default via 172.17.0.1 dev lan0' in host.run(['ip', '-n', 'nginx03', 'route']).stdout
    assert ping(probe, 'nginx03', '172.17.0.1')


def test_network_rm_refuses_while_endpoints_remain(host, play, probe):
    play([topology([DEFAULT, NEW], SEED_003)], expect_rc=0)
    absent = dict(NEW, state='absent')
    rejected(play, probe, topology([DEFAULT, absent], SEED_003), 'new_network', 'nginx01', 'force')
    converge(play, probe, [topology([DEFAULT, dict(absent, force=True)], SEED_003)])
    assert probe.link('eth0', 'nginx01') is None and 'nginx01' in probe.namespaces()
    assert 'netplumb:new_network' not in host.run(['iptables-save']).stdout
    assert 'new_network' not in host.run(['nft', 'list', 'table', 'inet', 'netplumb']).stdout


def test_removal_leaves_nothing_behind(host, play, probe):
    before = leftovers(host, probe)
    play([topology([DEFAULT, NEW, {'name': 'quiet', 'icc': False}],
                   SEED_003 + [{'name': 'web', 'networks': ['quiet'], 'published': ['8080:80']},
                               {'name': 'sidecar', 'mode': 'container:web'}, {'name': 'lonely', 'mode': 'none'}])],
         expect_rc=0)
    assert len(probe.namespaces()) == 5
    # one endpoint marked absent, then everything dropped from the list
    converge(play, probe, [topology([DEFAULT, NEW], [dict(SEED_003[0], state='absent')] + SEED_003[1:])])
    assert 'nginx01' not in probe.namespaces() and 'quiet' not in json.dumps(leftovers(host, probe))
    gone = converge(play, probe, [topology([], [])])[0]['result']
    # namespaces no process holds end with their names, and the kernel takes their veth pairs along
    assert [a for a in gone['actions'] if 'the namespace ends, and its veth pairs' in a]
    assert not [a for a in gone['actions'] if 'delete veth pair' in a]
    assert leftovers(host, probe) == before


def test_published_port_from_three_clients_and_egress(host, play, probe, tmp_path):
    """Seed 004 on top of the module: another host, the host itself, another endpoint."""
    play([task('netns', name='world'),
          task('veth', name='uplink', addresses=['203.0.113.254/24'], peer='eth0', peer_namespace='world',
               peer_addresses=['203.0.113.1/24'])], expect_rc=0)
    endpoints = [{'name': 'web', 'networks': ['new_network'], 'published': ['8080:80']},
                 {'name': 'client', 'networks': ['new_network']}]
    converge(play, probe, [topology([DEFAULT, NEW], endpoints)])
    log = str(tmp_path / 'world.log')
    host.spawn(['ip', 'netns', 'exec', 'web', 'python3', TCP, 'serve', '80', str(tmp_path / 'web.log')])
    host.spawn(['ip', 'netns', 'exec', 'world', 'python3', TCP, 'serve', '80', log])
    time.sleep(0.5)
    assert connect(host, 'world', '203.0.113.254', 8080)           # another host
    assert connect(host, None, '203.0.113.254', 8080)              # the host itself
    assert connect(host, 'client', '203.0.113.254', 8080)          # an endpoint on the same bridge
    assert connect(host, 'client', '203.0.113.1', 80)              # egress, masqueraded
    with open(log) as handle:
        assert handle.read().split()[-1] == '203.0.113.254'


def test_icc_off_and_internal(host, play, probe):
    nets = [{'name': 'quiet', 'subnet': '10.1.0.0/24', 'icc': False},
            {'name': 'inside', 'subnet': '10.2.0.0/24', 'internal': True}]
    eps = [{'name': 'q1', 'networks': ['quiet']}, {'name': 'q2', 'networks': ['quiet']},
           {'name': 'i1', 'networks': ['inside']}, {'name': 'i2', 'networks': ['inside']}]
    play([task('netns', name='world'),
          task('veth', name='uplink', addresses=['203.0.113.254/24'], peer='eth0', peer_namespace='world',
               peer_addresses=['203.0.113.1/24'])], expect_rc=0)
    run = converge(play, probe, [topology(nets, eps)])[0]
    assert not ping(probe, 'q1', 'q2') and ping(probe, 'q1', '203.0.113.1')
    assert ping(probe, 'i1', 'i2') and not ping(probe, 'i1', '203.0.113.1')
    assert not ping(probe, 'i1', '10.1.0.2')                       # isolated from the other network
    assert 'default' not in json.dumps(probe.ip('route', 'show', namespace='i1'))
    assert run['result']['networks']['quiet']['gateway'] == '10.1.0.1'


def test_carved_subnets_static_addresses_and_adoption(host, play, probe):
    container = host.spawn(['unshare', '--net', 'sleep', '300'])
    nets = [{'name': 'a'}, {'name': 'b'},
            {'name': 'c', 'subnet': '10.3.0.0/24', 'ip_range': '10.3.0.128/25'}]
    eps = [{'name': 'adopted', 'pid': container.pid, 'networks': ['a']},
           {'name': 'fixed', 'networks': [{'name': 'c', 'address': '10.3.0.9', 'ifname': 'lan0'}]},
           {'name': 'ranged', 'networks': ['c', 'b']}]
    run = converge(play, probe, [topology(nets, eps)])[0]['result']
    assert [run['networks'][n]['subnet'] for n in 'ab'] == ['172.31.0.0/24', '172.31.1.0/24']
    assert run['endpoints']['fixed']['interfaces']['lan0']['address'] == '10.3.0.9/24'
    assert run['endpoints']['ranged']['interfaces']['eth0']['address'] == '10.3.0.128/24'
    assert run['endpoints']['ranged']['interfaces']['eth1']['network'] == 'b'
    inode = host.run(['stat', '-L', '-c', '%i', '/proc/%d/ns/net' % container.pid]).stdout.strip()
    assert host.run(['stat', '-L', '-c', '%i', '/run/netns/adopted']).stdout.strip() == inode
    assert ping(probe, 'adopted', '172.31.0.1') and ping(probe, 'ranged', '10.3.0.9')
    # removing the adopted endpoint unnames the namespace; the process keeps it
    removal = converge(play, probe, [topology(nets, eps[1:])])[0]['result']
    assert 'adopted' not in probe.namespaces() and container.poll() is None
    # the process keeps the namespace alive: its veth pair is deleted first, not left to the kernel
    assert [a for a in removal['actions'] if a.endswith('delete veth pair (netplumb endpoint adopted on a)')]
    assert not [link for link in probe.ip('-d', 'link', 'show') if link.get('ifalias') == 'netplumb endpoint adopted on a']


def test_bad_input_fails_before_any_change(host, play, probe):
    play([topology([DEFAULT, NEW], SEED_003)], expect_rc=0)
    for networks, endpoints, words in (
            ([DEFAULT, NEW], SEED_003 + [{'name': 'x', 'networks': ['nowhere']}], ['nowhere', 'not declared']),
            ([DEFAULT, dict(NEW, subnet='172.18.0.5/16')], SEED_003, ['172.18.0.5/16']),
            ([DEFAULT, dict(NEW, subnet='172.17.128.0/24')], SEED_003, ['overlaps', 'bridge']),
            ([DEFAULT, dict(NEW, bridge='np0')], SEED_003, ['np0', 'bridge']),
            ([DEFAULT, NEW], SEED_003 + [{'name': 'nginx01'}], ['nginx01', 'twice']),
            ([DEFAULT, NEW], [{'name': 'a', 'networks': [{'name': 'bridge', 'address': '10.9.9.9'}]}], ['10.9.9.9']),
            ([DEFAULT, NEW], [{'name': 'a', 'published': ['80:']}], ["'80:'"]),
            ([DEFAULT, NEW], [{'name': 'a', 'published': ['8080:80']}, {'name': 'b', 'published': ['8080:81']}],
             ['8080', 'a']),
            ([DEFAULT, NEW], [{'name': 'a', 'mode': 'container:ghost'}], ['ghost']),
            ([DEFAULT, NEW], [{'name': 'a', 'mode': 'host', 'networks': ['bridge']}], ['mode host']),
            ([DEFAULT, dict(NEW, mtu=20)], SEED_003, ['20']),
            ([dict(DEFAULT, colour='red')], [], ['colour']),
            ([DEFAULT, dict(NEW, driver='overlay')], SEED_003, ['overlay'])):
        rejected(play, probe, topology(networks, endpoints), *words)


# Counts the IPv6 frames each bridge of the host receives for a while (an AF_PACKET socket: no
# tool needed), by the sender's MAC; "ready" once listening.
CAPTURE = r'''
import json, os, socket, sys, time
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86dd))
sock.settimeout(0.2)
bridges, seconds, out = sys.argv[1].split(','), float(sys.argv[2]), sys.argv[3]
open(out + '.ready', 'w').close()
senders, end = dict((b, {}) for b in bridges), time.monotonic() + seconds
while time.monotonic() < end:
    try:
        frame, where = sock.recvfrom(2048)
    except socket.timeout:
        continue
    if where[0] in senders:
        mac = ':'.join('%02x' % b for b in bytearray(frame[6:12]))
        senders[where[0]][mac] = senders[where[0]].get(mac, 0) + 1
with open(out + '.tmp', 'w') as handle:
    json.dump(senders, handle)
os.rename(out + '.tmp', out)
'''


def test_no_ipv6_chatter_from_endpoints_of_an_ipv4_network(host, play, probe, tmp_path):
    """Ports of an IPv4-only network come up without IPv6 link-local addresses, so none of them
    solicits, reports or checks one: such frames would be flooded to every port, a storm when a
    thousand come up at once. On a dual-stack network the endpoint's interface keeps its own."""
    v4 = {'name': 'v4', 'bridge': 'npv4', 'subnet': '10.77.0.0/24'}
    dual = {'name': 'dual', 'bridge': 'npv6', 'subnet': '10.78.0.0/24', 'ipv6_subnet': 'fd00:78::/64'}
    first = [{'name': 'a0', 'networks': ['v4']}, {'name': 'd0', 'networks': ['dual']}]
    converge(play, probe, [topology([v4, dual], first)])       # both bridges are there to listen on
    script, out = tmp_path / 'capture.py', str(tmp_path / 'senders.json')
    script.write_text(CAPTURE)
    host.spawn(['python3', str(script), 'npv4,npv6', '4', out])
    for _wait in range(100):
        if os.path.exists(out + '.ready'):
            break
        time.sleep(0.05)
    more = first + [{'name': 'a%d' % i, 'networks': ['v4']} for i in range(1, 9)] + [{'name': 'd1', 'networks': ['dual']}]
    play([topology([v4, dual], more)], expect_rc=0)
    for _wait in range(200):
        if os.path.exists(out):
            break
        time.sleep(0.05)
    with open(out) as handle:
        senders = json.load(handle)
    own = dict((name, probe.link(name)['address']) for name in ('npv4', 'npv6'))
    d1 = probe.link('eth0', 'd1')['address']
    assert senders['npv6'].get(d1), 'the capture saw no IPv6 frame from d1 on the dual-stack network: %s' % senders
    assert [mac for mac in senders['npv4'] if mac != own['npv4']] == [], senders['npv4']
    # what the frames would have come from: no link-local address but the dual-stack endpoint's

    def link_local(name, namespace):
        return [a['local'] for a in probe.link(name, namespace).get('addr_info', []) if a['local'].startswith('fe80:')]
    assert link_local('eth0', 'a5') == [] and link_local('eth0', 'd1') != []
    ports = [link for link in probe.ip('-d', 'addr', 'show') if link.get('master') in ('npv4', 'npv6')]
    with_ipv6 = [link['ifname'] for link in ports if [a for a in link.get('addr_info', []) if a['family'] == 'inet6']]
    assert len(ports) == 11 and with_ipv6 == [], 'a bridge port has an IPv6 address: %s' % with_ipv6
    # and the networks work: IPv4 across the IPv4 network, IPv6 on the dual-stack one
    assert ping(probe, 'a8', '10.77.0.2') and ping(probe, 'a1', '10.77.0.1')
    assert probe.ping('d1', 'fd00:78::1').returncode == 0


def test_a_network_past_the_bridge_port_limit_is_refused_before_any_change(host, play, probe, tmp_path):
    """The kernel gives a bridge 1023 ports and refuses the next with EXFULL - after a thousand
    endpoints were made, which the run then undid. The module refuses such a network up front."""
    batch = tmp_path / 'ports'
    batch.write_text('link add brlimit type bridge\n' + ''.join(
        'link add pl%d type veth peer name pr%d\nlink set pl%d master brlimit\n' % (i, i, i) for i in range(1024)))
    refused = host.run(['ip', '-batch', str(batch)], check=False)
    assert 'Exchange full' in refused.stderr, refused.stderr[-500:]
    assert len(probe.ip('link', 'show', 'master', 'brlimit')) == 1023      # the batch's last port is the one refused
    wide = {'name': 'wide', 'bridge': 'npwide', 'subnet': '10.60.0.0/16', 'resolve_names': False}
    rejected(play, probe, topology([wide], [{'name': 'w%d' % i, 'networks': ['wide']} for i in range(1024)]),
             'networks (wide): 1024 endpoints on this host, and its bridge npwide holds at most 1023 ports')


def test_objects_named_like_ours_that_we_did_not_make_are_refused_and_left_alone(host, play, probe):
    """A VXLAN device of the VTEP's temporary name, a namespace named like an overlay's, a veth
    named like an endpoint's host end: each refused before any change, naming it, and each still
    there, as it was, after a converge and a teardown around it."""
    from ansible_collections.netplumb.container.plugins.module_utils._topology.names import (
        host_ifname, vtep_temporary_name)
    overlay = {'name': 'net1', 'driver': 'overlay', 'subnet': '10.0.1.0/24', 'vni': 4242, 'local': '127.0.0.1',
               'peers': []}
    vtep, end = vtep_temporary_name('net1'), host_ifname('nginx03', 'bridge')
    cases = [
        (['ip', 'link', 'add', vtep, 'type', 'vxlan', 'id', '99', 'dstport', '4790', 'local', '127.0.0.1'],
         topology([DEFAULT, overlay], [{'name': 'w1', 'networks': ['net1']}]),
         ['network net1: vxlan %s already exists in the host namespace and netplumb did not make it' % vtep]),
        (['ip', 'netns', 'add', 'ov-net1'], topology([DEFAULT, overlay], [{'name': 'w1', 'networks': ['net1']}]),
         ['network net1: namespace ov-net1 already exists and netplumb did not make it']),
        (['ip', 'link', 'add', end, 'type', 'veth', 'peer', 'name', 'theirs0'], topology([DEFAULT, NEW], SEED_003),
         ['endpoints (nginx03).networks (bridge): interface %s already exists' % end, 'netplumb did not make it']),
    ]
    for make, item, fragments in cases:
        host.run(make)
        before = probe.state()
        rejected(play, probe, item, *fragments)
        play([topology([DEFAULT, NEW], SEED_003[:2])], expect_rc=0)
        play([topology([], [])], expect_rc=0)
        after = probe.state()
        # the sysctls Docker turns on (forwarding, bridge netfilter) stay on, by design
        assert dict(after, sysctl=None) == dict(before, sysctl=None), make


def test_topology_info_inspects_every_network_as_docker_network_inspect_does(host, play, probe):
    endpoints = [dict(SEED_003[0], published=['8080:80']), SEED_003[1], SEED_003[2]]
    converge(play, probe, [topology([DEFAULT, dict(NEW, enable_ipv6=True, ipv6_subnet='fd00:18::/64',
                                                   ip_range='172.18.5.0/24')], endpoints)])
    seen = play([task('topology_info')], expect_rc=0).results[0]['result']['inspect']
    assert sorted(seen) == ['bridge', 'new_network']
    new = seen['new_network']
    assert (new['driver'], new['scope']) == ('bridge', 'local')
    assert new['options']['icc'] is True and new['options']['gateway_mode'] == 'nat'
    assert new['options']['bridge'] in [l['ifname'] for l in probe.ip('link', 'show', 'type', 'bridge')]
    v4, v6 = new['subnets']
    # 172.18.5.0/24: 256 addresses; the gateway 172.18.0.1 is outside the range; two leased
    assert (v4['subnet'], v4['gateway'], v4['ip_range'], v4['leased'], v4['free']) == \
        ('172.18.0.0/16', '172.18.0.1', '172.18.5.0/24', 2, 254)
    assert (v6['subnet'], v6['leased']) == ('fd00:18::/64', 2)
    nginx01 = new['endpoints']['nginx01']
    # what the kernel shows is what inspect says
    eth0 = probe.link('eth0', 'nginx01')
    assert nginx01['mac_address'] == eth0['address'] and nginx01['interface'] == 'eth0'
    assert nginx01['ipv4_address'] + '/16' in probe.addresses('eth0', 'nginx01')
    assert nginx01['ipv6_address'].startswith('fd00:18::') and nginx01['published'] == ['8080:80']
    assert sorted(seen['bridge']['endpoints']) == ['nginx03'] and seen['bridge']['subnets'][0]['leased'] == 1


def test_the_module_names_a_bad_value_and_its_place_as_the_role_does(host, play, probe):
    rejected(play, probe, topology([NEW], [{'name': 'web', 'networks': ['new_network'], 'published': {'9000': 80}}]),
             "endpoints[0] (web).published: {'9000': 80}")
    rejected(play, probe, topology([dict(NEW, mtu='big')], []), "networks[0] (new_network).mtu: 'big'")
    rejected(play, probe, topology([NEW], [{'name': 'web', 'networks': ['new_network'], 'colour': 'red'}]),
             'endpoints[0] (web): unknown field colour')
