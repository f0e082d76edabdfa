"""nat_rule inside a virtual host: seeds 000, 001 and 004 proved by TCP connections."""

import os
import re
import time

import pytest

from helpers import converge, rejected, task

TCP = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'lib', 'tcp.py')
HOST_IP = '203.0.113.254'          # the "docker host"'s address towards the outside world
WORLD_IP = '203.0.113.1'


def _topology(host, play, tmp_path, icc=True):
    """Host (the virtual host itself) with bridge br0 10.0.0.1/24 and endpoints c1 (10.0.0.2,
    a TCP server on port 80) and c2 (10.0.0.3); an outside 'world' namespace at 203.0.113.1 with a
    TCP server on port 80 that logs its peers' addresses and has no route back to 10.0.0.0/24."""
    tasks = [task('bridge', name='br0', addresses=['10.0.0.1/24'])]
    for ns, ip in (('c1', '10.0.0.2'), ('c2', '10.0.0.3')):
        tasks += [task('netns', name=ns),
                  task('veth', name='v' + ns, master='br0', peer='eth0', peer_namespace=ns,
                       peer_addresses=[ip + '/24']),
                  task('route', namespace=ns, routes=[{'dst': 'default', 'gateway': '10.0.0.1'}])]
    tasks += [task('netns', name='world'),
              task('veth', name='uplink', addresses=[HOST_IP + '/24'], peer='eth0', peer_namespace='world',
                   peer_addresses=[WORLD_IP + '/24'])]
    play(tasks, expect_rc=0)
    logs = {}
    for ns in ('c1', 'world'):
        logs[ns] = str(tmp_path / ('%s.log' % ns))
        host.spawn(['ip', 'netns', 'exec', ns, 'python3', TCP, 'serve', '80', logs[ns]])
    time.sleep(0.5)
    return logs


def connect(host, ns, ip, port):
    argv = (['ip', 'netns', 'exec', ns] if ns else []) + ['python3', TCP, 'connect', ip, str(port)]
    return host.run(argv, check=False).returncode == 0


def net(**extra):
    args = dict(name='web', bridge='br0', subnet='10.0.0.0/24', ip_forward=True)
    args.update(extra)
    return task('nat_rule', **args)


def save(host, tables=('filter', 'nat')):
    text = ''.join(host.run(['iptables-save', '-t', table]).stdout for table in tables)
    return [re.sub(r' \[\d+:\d+\]$', '', line) for line in text.splitlines() if not line.startswith('#')]


def test_egress_only_through_masquerade(host, play, probe, tmp_path):
    logs = _topology(host, play, tmp_path)
    host.run(['sysctl', '-qw', 'net.ipv4.ip_forward=1'])
    assert not connect(host, 'c1', WORLD_IP, 80)                    # no NAT: the world cannot answer
    converge(play, probe, [net()])
    assert connect(host, 'c1', WORLD_IP, 80)
    with open(logs['world']) as log:
        assert log.read().split()[-1] == HOST_IP                    # the world sees the host, not 10.0.0.2
    converge(play, probe, [net(state='absent')])
    assert not connect(host, 'c1', WORLD_IP, 80)


def test_published_port_from_three_clients(host, play, probe, tmp_path):
    """Seed 004: another host, the host itself, another endpoint on the bridge."""
    _topology(host, play, tmp_path)
    run = converge(play, probe, [net(published=[{'port': '8080:80', 'address': '10.0.0.2'}])])[0]
    assert 'ports_v4 0.0.0.0/0 . tcp . 8080 : 10.0.0.2 . 80' in run['result']['rules']
    assert connect(host, 'world', HOST_IP, 8080)                    # (a) from another host
    assert connect(host, None, HOST_IP, 8080)                       # (b) from the host itself
    assert connect(host, 'c2', HOST_IP, 8080)                       # (c) from another endpoint on the bridge
    assert not connect(host, 'world', HOST_IP, 8081)


@pytest.mark.any_interpreter     # nat_rule talks no netlink; egress and ports prove the nft transport
def test_icc_off_blocks_endpoints_of_one_bridge(host, play, probe, tmp_path):
    _topology(host, play, tmp_path)
    # Bridged traffic skips iptables unless br_netfilter is asked to pass it: the module must ask.
    host.run(['sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=0'])
    play([net()], expect_rc=0)
    assert connect(host, 'c2', '10.0.0.2', 80)
    run = converge(play, probe, [net(icc=False)])[0]
    assert 'set net.bridge.bridge-nf-call-iptables=1' in run['result']['actions']
    assert not connect(host, 'c2', '10.0.0.2', 80)
    assert connect(host, 'c2', WORLD_IP, 80)                        # egress still works


@pytest.mark.any_interpreter     # nat_rule talks no netlink; egress and ports prove the nft transport
def test_internal_network_has_no_egress(host, play, probe, tmp_path):
    _topology(host, play, tmp_path)
    converge(play, probe, [net(internal=True)])
    assert not connect(host, 'c1', WORLD_IP, 80)
    assert connect(host, 'c2', '10.0.0.2', 80)                      # inside the network: fine


@pytest.mark.any_interpreter     # nat_rule talks no netlink; egress and ports prove the nft transport
def test_foreign_rules_stay_byte_identical(host, play, probe, tmp_path):
    _topology(host, play, tmp_path)
    for argv in (['iptables', '-A', 'FORWARD', '-s', '198.18.0.0/15', '-j', 'DROP'],
                 ['iptables', '-P', 'FORWARD', 'DROP'],
                 ['iptables', '-N', 'SOMEONE-ELSE'],
                 ['iptables', '-A', 'SOMEONE-ELSE', '-p', 'tcp', '--dport', '22', '-j', 'ACCEPT'],
                 ['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-s', '198.18.0.0/15', '-j', 'RETURN']):
        host.run(argv)
    foreign = save(host)
    converge(play, probe, [net(backend='iptables', published=[{'port': '8080:80', 'address': '10.0.0.2'}], icc=False)])
    assert [line for line in save(host) if 'NETPLUMB' not in line and 'netplumb' not in line] == foreign
    assert connect(host, 'world', HOST_IP, 8080)                    # works under a DROP policy too
    play([net(backend='iptables', state='absent')], expect_rc=0)
    assert [line for line in save(host) if 'NETPLUMB' not in line and 'netplumb' not in line] == foreign
    assert not [line for line in save(host) if 'netplumb:web' in line]


@pytest.mark.any_interpreter     # nat_rule talks no netlink; egress and ports prove the nft transport
def test_bad_input_fails_before_any_change(host, play, probe, tmp_path):
    _topology(host, play, tmp_path)
    play([net(name='first', bridge='br0', published=[{'port': '8080:80', 'address': '10.0.0.2'}])], expect_rc=0)
    before = save(host)
    for args, words in ((dict(published=[{'port': '80:', 'address': '10.0.0.2'}]), ["'80:'"]),
                        (dict(published=[{'port': '70000:80', 'address': '10.0.0.2'}]), ['70000:80']),
                        (dict(published=[{'port': '8000-8002:80', 'address': '10.0.0.2'}]), ['8000-8002:80']),
                        (dict(published=[{'port': '8080:80', 'address': '10.0.0.3'}]), ['8080', 'first']),
                        (dict(published=[{'port': '8081:80', 'address': '10.9.0.3'}]), ['10.9.0.3']),
                        (dict(internal=True, published=[{'port': '8082:80', 'address': '10.0.0.2'}]), ['internal']),
                        (dict(subnet='10.0.0.5/24'), ['10.0.0.5/24']),
                        (dict(namespace='nowhere'), ['nowhere'])):
        rejected(play, probe, net(**args), *words)
    assert save(host) == before


@pytest.mark.any_interpreter     # nat_rule talks no netlink; egress and ports prove the nft transport
def test_legacy_backend_and_named_namespace(host, play, probe, tmp_path):
    """The same rules through iptables-legacy, and acting inside a named namespace."""
    logs = _topology(host, play, tmp_path)
    converge(play, probe, [net(backend='iptables-legacy', published=[{'port': '8080:80', 'address': '10.0.0.2'}])])
    legacy = host.run(['iptables-legacy-save']).stdout
    assert '"netplumb:web" -j MASQUERADE' in legacy and 'netplumb' not in host.run(['iptables-nft-save']).stdout
    assert connect(host, 'c1', WORLD_IP, 80) and connect(host, 'world', HOST_IP, 8080)
    with open(logs['world']) as log:
        assert log.read().split()[-1] == HOST_IP

    converge(play, probe, [task('nat_rule', name='inner', namespace='c2', bridge='eth0', subnet='10.9.0.0/24',
                                ip_forward=True)])
    assert 'comment "inner"' in host.run(['ip', 'netns', 'exec', 'c2', 'nft', 'list', 'table', 'inet', 'netplumb']).stdout
    assert 'inner' not in host.run(['nft', 'list', 'ruleset']).stdout
    assert host.run(['ip', 'netns', 'exec', 'c2', 'sysctl', '-n', 'net.ipv4.ip_forward']).stdout.strip() == '1'


@pytest.mark.parametrize('backend', ['nftables', pytest.param('iptables', marks=pytest.mark.any_interpreter)])
def test_dual_stack_network(host, play, probe, tmp_path, backend):
    """ipv6_subnet beside subnet: egress masqueraded and a port published on both families
    (ip6tables with the iptables backend); removal leaves no rule of ours in either."""
    logs = _topology(host, play, tmp_path)
    play([task('bridge', name='br0', addresses=['10.0.0.1/24', 'fd00:a::1/64']),
          task('veth', name='vc1', master='br0', peer='eth0', peer_namespace='c1',
               peer_addresses=['10.0.0.2/24', 'fd00:a::2/64']),
          task('route', namespace='c1', routes=[{'dst': 'default', 'gateway': '10.0.0.1'},
                                                {'dst': '::/0', 'gateway': 'fd00:a::1'}]),
          task('veth', name='uplink', addresses=[HOST_IP + '/24', '2001:db8:1::fe/64'], peer='eth0',
               peer_namespace='world', peer_addresses=[WORLD_IP + '/24', '2001:db8:1::1/64'])], expect_rc=0)
    item = net(backend=backend, ipv6_subnet='fd00:a::/64', published=[
        {'port': '8080:80', 'address': '10.0.0.2'}, {'port': '8080:80', 'address': 'fd00:a::2'}])
    run = converge(play, probe, [item])[0]
    assert 'ports_v6 ::/0 . tcp . 8080 : fd00:a::2 . 80' in run['result']['rules'] or \
        any('--to-destination [fd00:a::2]:80' in rule for rule in run['result']['rules'])
    assert connect(host, 'c1', '2001:db8:1::1', 80)
    with open(logs['world']) as log:
        assert log.read().split()[-1] == '2001:db8:1::fe'           # egress masqueraded on IPv6 too
    assert connect(host, 'world', '2001:db8:1::fe', 8080) and connect(host, 'world', HOST_IP, 8080)
    with open(logs['c1']) as log:
        assert log.read().split()[-2:] == ['2001:db8:1::1', WORLD_IP]  # client addresses kept on both
    converge(play, probe, [net(backend=backend, state='absent')])
    assert not connect(host, 'world', '2001:db8:1::fe', 8080)
    saved = host.run(['ip6tables-save']).stdout + host.run(['nft', 'list', 'ruleset']).stdout
    assert 'netplumb' not in saved.lower()


def test_a_hostile_bridge_name_is_a_name_and_never_a_command(host, tmp_path):
    """A bridge named ``b$(>p)`` (a valid interface name) in a named namespace with a published
    port: the rules and the sysctls of that bridge are made, and the command in its name never
    runs (a shell would have made the file ``p`` in the module's working directory)."""
    import json
    import sys
    from conftest import COLLECTIONS_PATH
    name = 'b$(>p)'
    host.run(['ip', 'netns', 'add', 'c2'])
    host.run(['ip', '-n', 'c2', 'link', 'add', name, 'type', 'bridge'])
    module = os.path.join(COLLECTIONS_PATH, 'ansible_collections', 'netplumb', 'container', 'plugins', 'modules',
                          'nat_rule.py')
    arguments = tmp_path / 'args.json'
    arguments.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': {
        'name': 'hostile', 'namespace': 'c2', 'bridge': name, 'subnet': '10.9.0.0/24',
        'published': [{'port': '8080:80', 'address': '10.9.0.2'}]}}))
    done = host.run([sys.executable, module, str(arguments)], env={'PYTHONPATH': COLLECTIONS_PATH},
                    cwd=str(tmp_path), check=False)
    result = json.loads(done.stdout)
    assert not result.get('failed') and result['changed'], result
    assert not os.path.exists(str(tmp_path / 'p')), 'the name ran as a command'
    assert host.run(['ip', 'netns', 'exec', 'c2', 'cat', '/proc/sys/net/ipv4/conf/%s/route_localnet' % name]
                    ).stdout.strip() == '1'
    assert name in host.run(['ip', 'netns', 'exec', 'c2', 'nft', 'list', 'table', 'inet', 'netplumb']).stdout
