"""The firewall proved by packets, on both backends: who reaches an endpoint, and with which
source address, in every gateway mode (the reachability matrix of issue 11)."""

import time

import pytest

from helpers import converge, task
from release_0_2 import IPTABLES_SAVE_0_2
from test_nat_rule import TCP

# Every network is dual stack, so one converge proves both families; addresses by role:
ADDRESSES = {
    4: {'HOST': '203.0.113.254',      # the host's address towards a remote host (no route to the subnets)
        'REMOTE': '203.0.113.1',
        'LAN_HOST': '198.51.100.254',  # ... and towards a LAN neighbour that routes 10.0.0.0/8 to the host
        'NEIGHBOUR': '198.51.100.1',
        'WEB': '10.10.0.2', 'PEER': '10.10.0.3', 'OTHER': '10.20.0.2', 'GATEWAY': '10.10.0.1',
        'LOOPBACK': '127.0.0.1'},
    6: {'HOST': '2001:db8:1::fe', 'REMOTE': '2001:db8:1::1',
        'LAN_HOST': '2001:db8:2::fe', 'NEIGHBOUR': '2001:db8:2::1',     # routes fd00:10::/32 to the host
        'WEB': 'fd00:10:a::2', 'PEER': 'fd00:10:a::3', 'OTHER': 'fd00:10:b::2', 'GATEWAY': 'fd00:10:a::1',
        'LOOPBACK': '::1'},
}
HOST_IP, REMOTE_IP, LAN_HOST_IP, NEIGHBOUR_IP = (ADDRESSES[4][k] for k in ('HOST', 'REMOTE', 'LAN_HOST', 'NEIGHBOUR'))
WEB, PEER, OTHER, GATEWAY = (ADDRESSES[4][k] for k in ('WEB', 'PEER', 'OTHER', 'GATEWAY'))
BACKENDS = ['nftables', 'iptables']

# who connects from where: client -> namespace (None: the host itself)
CLIENTS = {'remote': 'world', 'neighbour': 'lan', 'host': None, 'loopback': None, 'same': 'peer',
           'other': 'other', 'self': 'web'}
# what each client sees of web, per gateway mode: the role of the source address web's server
# logged, or None when nothing got through (False/True: ping)
PUBLISHED_NAT = {'remote': 'REMOTE', 'neighbour': 'NEIGHBOUR', 'host': 'HOST', 'loopback': 'GATEWAY',
                 'same': 'PEER', 'other': 'OTHER', 'self': 'GATEWAY'}
EXPECTED = {
    'nat': {
        'published': PUBLISHED_NAT,
        'unpublished': {'remote': None, 'neighbour': None, 'host': 'GATEWAY', 'same': 'PEER', 'other': None},
        'ping': {'neighbour': False, 'host': True, 'same': True, 'other': False},
        'egress': {'world': 'HOST', 'lan': 'LAN_HOST'}},
    'nat-unprotected': {
        'published': PUBLISHED_NAT,
        'unpublished': {'remote': None, 'neighbour': 'NEIGHBOUR', 'host': 'GATEWAY', 'same': 'PEER', 'other': 'OTHER'},
        'ping': {'neighbour': True, 'host': True, 'same': True, 'other': True},
        'egress': {'world': 'HOST', 'lan': 'LAN_HOST'}},
    'routed': {      # no NAT: the published container port by direct routing, the host port ignored
        'published': {'remote': None, 'neighbour': 'NEIGHBOUR', 'host': 'GATEWAY', 'same': 'PEER', 'other': 'OTHER'},
        'unpublished': {'remote': None, 'neighbour': None, 'host': 'GATEWAY', 'same': 'PEER', 'other': None},
        'ping': {'neighbour': True, 'host': True, 'same': True, 'other': True},
        'egress': {'world': None, 'lan': 'WEB'}},      # the remote host has no route back to the endpoint
    'isolated': {    # internal, and no address on the host: endpoints reach only each other
        'published': {},
        'unpublished': {'neighbour': None, 'host': None, 'same': 'PEER', 'other': None},
        'ping': {'neighbour': False, 'host': False, 'same': True, 'other': False},
        'egress': {'world': None, 'lan': None}},
}


def lab(host, play):
    """The virtual host with two dual-stack uplinks: a remote host, and a LAN neighbour routing
    the endpoints' subnets (10.0.0.0/8, fd00:10::/32) to it."""
    v4, v6 = ADDRESSES[4], ADDRESSES[6]
    play([task('netns', name='world'),
          task('veth', name='uplink', addresses=[v4['HOST'] + '/24', v6['HOST'] + '/64'], peer='eth0',
               peer_namespace='world', peer_addresses=[v4['REMOTE'] + '/24', v6['REMOTE'] + '/64']),
          task('netns', name='lan'),
          task('veth', name='lan0', addresses=[v4['LAN_HOST'] + '/24', v6['LAN_HOST'] + '/64'], peer='eth0',
               peer_namespace='lan', peer_addresses=[v4['NEIGHBOUR'] + '/24', v6['NEIGHBOUR'] + '/64']),
          task('route', namespace='lan', routes=[{'dst': '10.0.0.0/8', 'gateway': v4['LAN_HOST']},
                                                 {'dst': 'fd00:10::/32', 'gateway': v6['LAN_HOST']}])], expect_rc=0)


def topology(mode, backend):
    web = {'name': 'web', 'networks': [{'name': 'a', 'address': WEB, 'ipv6_address': ADDRESSES[6]['WEB']}]}
    if mode != 'isolated':
        web['published'] = ['8080:80']
    return task('topology', backend=backend, networks=[
        {'name': 'a', 'subnet': '10.10.0.0/24', 'ipv6_subnet': 'fd00:10:a::/64', 'gateway_mode': mode},
        {'name': 'b', 'subnet': '10.20.0.0/24', 'ipv6_subnet': 'fd00:10:b::/64'}],
        endpoints=[web, {'name': 'peer', 'networks': [{'name': 'a', 'address': PEER,
                                                       'ipv6_address': ADDRESSES[6]['PEER']}]},
                   {'name': 'other', 'networks': [{'name': 'b', 'address': OTHER,
                                                   'ipv6_address': ADDRESSES[6]['OTHER']}]}])


class Servers(object):
    """TCP servers of both families that log their peers' addresses: web on 80 and 81, world and lan on 80."""

    def __init__(self, host, tmp_path):
        self.host, self.logs = host, {}
        for ns, port in (('web', 80), ('web', 81), ('world', 80), ('lan', 80)):
            self.logs[(ns, port)] = str(tmp_path / ('%s-%d.log' % (ns, port)))
            host.spawn(['ip', 'netns', 'exec', ns, 'python3', TCP, 'serve', str(port), self.logs[(ns, port)]])
        time.sleep(0.5)

    def seen(self, ns, port, client_ns, ip, to_port):
        """The address ``ns``'s server on ``port`` logged for a connection, or None when none got through."""
        argv = (['ip', 'netns', 'exec', client_ns] if client_ns else []) + [
            'python3', TCP, 'connect', ip, str(to_port), '1.5']
        if self.host.run(argv, check=False).returncode != 0:
            return None
        with open(self.logs[(ns, port)]) as log:
            return log.read().split()[-1]


def ping(host, ns, address):
    argv = (['ip', 'netns', 'exec', ns] if ns else []) + ['ping', '-c', '1', '-W', '1', '-q', address]
    return host.run(argv, check=False).returncode == 0


def matrix(host, servers, mode, version):
    """What every client sees, by role of the address logged: the mode's EXPECTED, filled in."""
    at, expected = ADDRESSES[version], EXPECTED[mode]
    seen = {'published': {}, 'unpublished': {}, 'ping': {}, 'egress': {}}
    for client in expected['published']:
        if mode == 'routed':
            target = (at['WEB'], 80)
        else:
            target = (at[{'loopback': 'LOOPBACK', 'neighbour': 'LAN_HOST'}.get(client, 'HOST')], 8080)
        seen['published'][client] = servers.seen('web', 80, CLIENTS[client], *target)
    for client in expected['unpublished']:
        target = (at['HOST'], 81) if client == 'remote' else (at['WEB'], 81)
        seen['unpublished'][client] = servers.seen('web', 81, CLIENTS[client], *target)
    for client in expected['ping']:
        seen['ping'][client] = ping(host, CLIENTS[client], at['WEB'])
    for ns, role in (('world', 'REMOTE'), ('lan', 'NEIGHBOUR')):
        seen['egress'][ns] = servers.seen(ns, 80, 'web', at[role], 80)
    roles = dict((address, role) for role, address in at.items())
    return dict((kind, dict((who, roles.get(value, value)) for who, value in found.items()))
                for kind, found in seen.items())


# gateway mode nat on both backends in both runs (the Debian run talks to nftables through the
# libnftables binding, the newest one through the nft command); the other modes once
@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('mode', [m if m == 'nat' else pytest.param(m, marks=pytest.mark.any_interpreter)
                                  for m in sorted(EXPECTED)])
def test_reachability_matrix(host, play, probe, tmp_path, mode, backend):
    lab(host, play)
    converge(play, probe, [topology(mode, backend)])
    servers = Servers(host, tmp_path)
    wrong = {}
    for version in (4, 6):
        seen, expected = matrix(host, servers, mode, version), EXPECTED[mode]
        if version == 6 and 'loopback' in expected['published']:
            # no route_localnet in IPv6: the kernel drops the reply un-NATed to ::1 on the bridge
            # (a strict, loopback-only route lookup), so [::1] is not served, as without Docker's proxy
            expected = dict(expected, published=dict(expected['published'], loopback=None))
        wrong.update(('IPv%d %s %s' % (version, kind, who), (seen[kind][who], want)) for kind in expected
                     for who, want in expected[kind].items() if seen[kind][who] != want)
    assert not wrong, 'seen vs expected: %s' % wrong


@pytest.mark.parametrize('backend', BACKENDS)
def test_host_ip_binding_and_teardown_leave_nothing(host, play, probe, tmp_path, backend):
    """A port bound to one host address answers there only; removal leaves no table, chain or
    set of ours, and the rest of the ruleset as it was."""
    lab(host, play)
    ruleset = host.run(['nft', 'list', 'ruleset']).stdout
    item = topology('nat', backend)
    item['netplumb.container.topology']['endpoints'][0]['published'] = [LAN_HOST_IP + ':8080:80']
    converge(play, probe, [item])
    if backend == 'nftables':      # converged: the ruleset is what it was, plus our table
        assert foreign_ruleset(host) == ruleset.splitlines()
    servers = Servers(host, tmp_path)
    assert servers.seen('web', 80, 'lan', LAN_HOST_IP, 8080) == NEIGHBOUR_IP
    assert servers.seen('web', 80, 'world', HOST_IP, 8080) is None
    converge(play, probe, [task('topology', backend=backend, networks=[], endpoints=[])])
    assert host.run(['nft', 'list', 'ruleset']).stdout == ruleset
    saved = host.run(['iptables-save']).stdout + host.run(['iptables-legacy-save']).stdout
    assert 'NETPLUMB' not in saved and 'netplumb' not in saved


DEBIAN_NFTABLES_CONF = """table inet filter {
    chain input {
        type filter hook input priority filter;
    }
    chain forward {
        type filter hook forward priority filter; policy drop;
    }
    chain output {
        type filter hook output priority filter;
    }
}
"""


def foreign_ruleset(host):
    """The ruleset without our table and without our tagged rules in foreign chains."""
    text = host.run(['nft', 'list', 'ruleset']).stdout
    out, skip = [], False
    for line in text.splitlines():
        if line.startswith('table inet netplumb'):
            skip = True
        elif skip and line == '}':
            skip = False
            continue
        if not skip and 'comment "netplumb"' not in line:
            out.append(line)
    return out


def test_coexistence_with_debian_forward_drop(host, play, probe, tmp_path):
    """Debian's nftables.conf with a forward drop policy: refused before any change, naming the
    chain; with integrate, two rules of ours at its top and everything works; removal puts the
    foreign ruleset back byte for byte."""
    lab(host, play)
    conf = tmp_path / 'nftables.conf'
    conf.write_text(DEBIAN_NFTABLES_CONF)
    host.run(['nft', '-f', str(conf)])
    before, untouched = foreign_ruleset(host), probe.state()
    run = play([topology('nat', 'nftables')])
    assert run.rc != 0 and 'inet filter chain forward (policy drop)' in run.results[0]['result']['msg']
    assert probe.state() == untouched and foreign_ruleset(host) == before
    item = topology('nat', 'nftables')
    item['netplumb.container.topology']['firewall_coexistence'] = 'integrate'
    converge(play, probe, [item])
    servers = Servers(host, tmp_path)
    assert servers.seen('web', 80, 'world', HOST_IP, 8080) == REMOTE_IP
    assert servers.seen('web', 81, 'lan', WEB, 81) is None          # still closed: our table decides
    assert servers.seen('world', 80, 'web', REMOTE_IP, 80) == HOST_IP
    assert foreign_ruleset(host) == before
    converge(play, probe, [task('topology', networks=[], endpoints=[], firewall_coexistence='integrate')])
    assert host.run(['nft', 'list', 'ruleset']).stdout.splitlines() == before


def filter_table(host):
    """iptables-nft's filter table without comments and counters."""
    text = host.run(['iptables-nft-save', '-t', 'filter']).stdout
    return [line.split(' [')[0] for line in text.splitlines() if not line.startswith('#')]


@pytest.mark.parametrize('backend', ['nftables', pytest.param('iptables', marks=pytest.mark.any_interpreter)])
def test_coexistence_with_docker_style_iptables(host, play, probe, tmp_path, backend):
    """FORWARD policy DROP through iptables-nft, as Docker and UFW leave it: the nftables
    backend refuses before any change (an accept in its table cannot overrule that drop); the
    iptables backend hooks in first and works, leaving the foreign rules as they were."""
    lab(host, play)
    for argv in (['iptables-nft', '-N', 'DOCKER-USER'], ['iptables-nft', '-A', 'FORWARD', '-j', 'DOCKER-USER'],
                 ['iptables-nft', '-P', 'FORWARD', 'DROP']):
        host.run(argv)
    foreign = filter_table(host)
    untouched = probe.state()
    if backend == 'nftables':
        run = play([topology('nat', backend)])
        assert run.rc != 0 and 'ip filter chain FORWARD (policy drop)' in run.results[0]['result']['msg']
        assert probe.state() == untouched
        return
    converge(play, probe, [topology('nat', backend)])
    servers = Servers(host, tmp_path)
    assert servers.seen('web', 80, 'world', HOST_IP, 8080) == REMOTE_IP
    assert servers.seen('world', 80, 'web', REMOTE_IP, 80) == HOST_IP
    converge(play, probe, [task('topology', backend=backend, networks=[], endpoints=[])])
    assert filter_table(host) == foreign


def test_subnet_on_a_foreign_bridge_is_refused_before_any_change(host, play, probe):
    """Another engine's bridge (a docker0 on 10.10.0.0/24) under a declared subnet: refused,
    naming it, nothing changed."""
    lab(host, play)
    host.run(['ip', 'link', 'add', 'docker0', 'type', 'bridge'])
    host.run(['ip', 'addr', 'add', '10.10.0.1/24', 'dev', 'docker0'])
    untouched, ruleset = probe.state(), host.run(['nft', 'list', 'ruleset']).stdout
    run = play([topology('nat', 'nftables')])
    assert run.rc != 0
    assert "10.10.0.0/24 overlaps the host's address 10.10.0.1/24 of docker0" in run.results[0]['result']['msg']
    assert probe.state() == untouched and host.run(['nft', 'list', 'ruleset']).stdout == ruleset


@pytest.mark.parametrize('backend', ['auto', pytest.param('iptables', marks=pytest.mark.any_interpreter)])
def test_a_host_converged_by_0_2_is_upgraded_in_one_run(host, play, probe, tmp_path, backend):
    """A host whose network 0.2 made (its iptables rules, a record that names no backend): with
    the new default the old rules go in the run that makes the nftables table; staying on
    iptables, 0.2's ISOLATION chains and hooks go. Either way: closed by default at once."""
    lab(host, play)
    item = task('topology', backend='nftables', networks=[{'name': 'web', 'bridge': 'br0', 'subnet': '10.0.0.0/24'}],
                endpoints=[{'name': 'c1', 'networks': [{'name': 'web', 'address': '10.0.0.2'}], 'published': ['8080:80']}])
    play([item], expect_rc=0)
    # make it 0.2's: its iptables rules instead of our table, and its record
    host.run(['nft', 'delete', 'table', 'inet', 'netplumb'])
    (tmp_path / 'rules').write_text(IPTABLES_SAVE_0_2)
    host.run(['iptables-restore', '--noflush', str(tmp_path / 'rules')])
    host.run(['python3', '-c', 'import json; p = "/var/lib/netplumb/topology.json"; r = json.load(open(p)); '
              'r.pop("firewall_backend"); json.dump(r, open(p, "w"))'])
    item['netplumb.container.topology']['backend'] = backend
    run = converge(play, probe, [item])[0]
    saved = host.run(['iptables-save']).stdout
    assert 'ISOLATION' not in saved and '! -d 127.0.0.0/8' not in saved
    if backend == 'auto':
        assert any(a.startswith('firewall (iptables, used before): ') for a in run['result']['actions'])
        assert 'netplumb' not in saved.lower()
    host.spawn(['ip', 'netns', 'exec', 'c1', 'python3', TCP, 'serve', '80', str(tmp_path / 'c1.log')])
    time.sleep(0.5)
    assert host.run(['ip', 'netns', 'exec', 'world', 'python3', TCP, 'connect', HOST_IP, '8080'],
                    check=False).returncode == 0
    assert open(str(tmp_path / 'c1.log')).read().split()[-1] == REMOTE_IP      # the client's address kept
    assert host.run(['ip', 'netns', 'exec', 'lan', 'python3', TCP, 'connect', '10.0.0.2', '80', '1.5'],
                    check=False).returncode != 0                                # closed: routed neighbour
