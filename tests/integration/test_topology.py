"""The topology module (the network role's engine) in a virtual host: seeds 003 and 004
proved by packets, removal proved by an empty host."""

import json
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
    rules = [line for line in host.run(['iptables-save']).stdout.splitlines() if 'etplumb' in line.lower()]
    files = host.run(['find', '/etc/netns', '/var/lib/netplumb/ipam', '-type', 'f', '!', '-name', '.lock'],
                     check=False).stdout.split()
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
