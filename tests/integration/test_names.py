"""Names for every process in an endpoint's namespace (seed 003's embedded DNS), proved by the
answers processes get: under ``ip netns exec``, under nsenter with the host's stub resolv.conf,
in an adopted process; aliases, scope, PTR, IPv6, forwarding and internal networks; who may
not ask; a port 53 already taken; reload without restart; nothing left after teardown.

The virtual host's /etc/resolv.conf names no server; the tests that need the outside world start
an upstream on its loopback (unbound with a static zone at 127.0.0.53) and name it there, so no
query ever leaves the virtual host."""

import os

from helpers import converge, rejected, task
from test_topology import leftovers
from upstream import OUTSIDE_ADDRESS, OUTSIDE_NAME, start_upstream

DEFAULT = {'name': 'bridge', 'bridge': 'np0', 'subnet': '172.17.0.0/16', 'resolve_names': False}
NEW = {'name': 'new_network', 'subnet': '172.18.0.0/16', 'ipv6_subnet': 'fd00:18::/64', 'dns_search': ['lab.example']}
INTERNAL = {'name': 'back', 'subnet': '172.19.0.0/16', 'internal': True}
ENDPOINTS = [{'name': 'nginx01', 'networks': [{'name': 'new_network', 'aliases': ['web']}]},
             {'name': 'nginx02', 'networks': [{'name': 'new_network', 'aliases': ['web']}]},
             {'name': 'nginx03'},
             {'name': 'db', 'networks': ['back']}]


def topology(networks, endpoints, **extra):
    return task('topology', networks=networks, endpoints=endpoints, **extra)


def dig(host, namespace, server, *query, argv=None):
    """One query (a second's wait, no retry): dig's exit status 0 is an answer, 9 none at all."""
    command = argv or (['ip', 'netns', 'exec', namespace] if namespace else [])
    return host.run(command + ['dig', '+short', '+time=1', '+tries=1', '@' + server] + list(query), check=False)


def addresses(host, argv, name):
    """Every address getent ahosts gives for ``name`` (a line per address and socket type)."""
    proc = host.run(list(argv) + ['getent', 'ahosts', name], check=False)
    return set(line.split()[0] for line in proc.stdout.splitlines())


def address_of(run, endpoint, key='address'):
    return run['result']['endpoints'][endpoint]['interfaces']['eth0'][key].split('/')[0]


def server_pid(host):
    path = '/proc/%d/root/var/lib/netplumb/dns/unbound.pid' % host.pid
    with open(path) as handle:
        return int(handle.read().strip())


def test_names_for_every_process(host, play, probe, tmp_path):
    start_upstream(host, str(tmp_path))
    adopted = host.spawn(['unshare', '--net', 'sleep', '300'])        # a process started by other tools
    endpoints = ENDPOINTS + [{'name': 'worker', 'pid': adopted.pid, 'networks': ['new_network']}]
    run = converge(play, probe, [topology([DEFAULT, NEW, INTERNAL], endpoints)])[0]
    ip = dict((name, address_of(run, name)) for name in ('nginx01', 'nginx02', 'nginx03', 'db', 'worker'))
    gateway = '172.18.0.1'
    assert run['result']['endpoints']['nginx01']['name_server'] == gateway

    # ip netns exec puts /etc/netns/nginx01/resolv.conf in place; aliases are in no hosts file
    exec_in = ['ip', 'netns', 'exec', 'nginx01']
    assert addresses(host, exec_in, 'web') == set([ip['nginx01'], ip['nginx02'], address_of(run, 'nginx01', 'ipv6_address'),
                                                   address_of(run, 'nginx02', 'ipv6_address')])
    # nsenter keeps the host's /etc/resolv.conf (127.0.0.53) and /etc/hosts: only the redirect answers
    for argv in (['nsenter', '--net=/run/netns/nginx01'], ['nsenter', '-t', str(adopted.pid), '--net']):
        assert ip['nginx02'] in addresses(host, argv, 'nginx02'), argv
        assert addresses(host, argv, OUTSIDE_NAME) == set([OUTSIDE_ADDRESS]), argv
    assert ip['worker'] in addresses(host, ['nsenter', '-t', str(adopted.pid), '--net'], 'worker')

    # an alias of two endpoints: both addresses in every answer, each first in turn
    firsts = set(dig(host, 'nginx01', gateway, 'web').stdout.split()[0] for _query in range(12))
    assert firsts == set([ip['nginx01'], ip['nginx02']]), firsts
    # names of other networks are not answered: nginx03 is on the default network, db on another
    for name in ('nginx03', 'db'):
        assert dig(host, 'nginx01', gateway, name).stdout == '', name
        assert addresses(host, ['nsenter', '--net=/run/netns/nginx01'], name) == set(), name
    # PTR, IPv6, the search domain, a name that is nowhere
    assert dig(host, 'nginx01', gateway, '-x', ip['nginx02']).stdout.split() == ['nginx02.']
    assert dig(host, 'nginx01', gateway, 'AAAA', 'nginx02').stdout.split() == [address_of(run, 'nginx02', 'ipv6_address')]
    assert 'search lab.example' in host.run(['cat', '/etc/netns/nginx01/resolv.conf']).stdout
    assert dig(host, 'nginx01', gateway, 'nowhere.example').stdout == ''

    # the default network gets no names, but the host's upstream; an internal network no upstream
    assert addresses(host, ['ip', 'netns', 'exec', 'nginx03'], OUTSIDE_NAME) == set([OUTSIDE_ADDRESS])
    assert addresses(host, ['ip', 'netns', 'exec', 'nginx03'], 'nginx01') == set()
    internal = run['result']['endpoints']['db']['name_server']
    assert dig(host, 'db', internal, 'db').stdout.split() == [ip['db']]
    assert dig(host, 'db', internal, OUTSIDE_NAME).stdout == ''
    assert addresses(host, ['nsenter', '--net=/run/netns/db'], OUTSIDE_NAME) == set()

    # nobody but the network's own endpoints reaches its name server: not another network's
    # endpoint, not the host itself, not a routed neighbour
    assert dig(host, 'nginx03', gateway, 'nginx01').returncode == 9
    assert dig(host, None, gateway, 'nginx01').returncode == 9
    neighbour = 'np-neighbour'
    host.run(['ip', 'netns', 'add', neighbour])
    try:
        host.run(['ip', 'link', 'add', 'npn0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', neighbour])
        host.run(['ip', 'addr', 'add', '198.51.100.1/24', 'dev', 'npn0'])
        host.run(['ip', 'link', 'set', 'npn0', 'up'])
        host.run(['ip', '-n', neighbour, 'addr', 'add', '198.51.100.2/24', 'dev', 'eth0'])
        host.run(['ip', '-n', neighbour, 'link', 'set', 'eth0', 'up'])
        host.run(['ip', '-n', neighbour, 'route', 'add', '172.16.0.0/12', 'via', '198.51.100.1'])
        assert probe.ping(neighbour, gateway).returncode == 0           # it is routed there
        assert dig(host, neighbour, gateway, 'nginx01').returncode == 9
        assert dig(host, neighbour, gateway, '+tcp', 'nginx01').returncode == 9
    finally:
        host.run(['ip', 'link', 'del', 'npn0'], check=False)
        host.run(['ip', 'netns', 'del', neighbour], check=False)

    # a new endpoint: a reload, not a restart; its name answers once the module returned
    pid = server_pid(host)
    converge(play, probe, [topology([DEFAULT, NEW, INTERNAL], endpoints + [{'name': 'nginx05', 'networks': ['new_network']}])])
    assert server_pid(host) == pid
    assert len(addresses(host, ['nsenter', '--net=/run/netns/nginx01'], 'nginx05')) == 2

    # teardown: the server stops, and nothing of it is left
    converge(play, probe, [topology([], [])])
    assert leftovers(host, probe) == {'netns': [], 'links': [], 'rules': [], 'files': []}
    assert not os.path.exists('/proc/%d' % pid) or pid not in host.processes()
    assert host.run(['nsenter', '-t', str(adopted.pid), '--net', 'nft', 'list', 'tables']).stdout == ''


def test_a_name_server_on_every_address_is_refused_before_any_change(host, play, probe, tmp_path):
    taken = start_upstream(host, str(tmp_path), address='0.0.0.0')
    message = rejected(play, probe, topology([NEW], ENDPOINTS[:2]), 'port 53/udp on every address (0.0.0.0)',
                       'unbound (pid %d)' % taken.pid, 'name_server: hosts')
    assert 'bind-interfaces' in message
    # one bound to the host's own loopback only (a stub) is no obstacle: both answer
    taken.terminate()
    taken.wait()
    start_upstream(host, str(tmp_path))
    converge(play, probe, [topology([NEW], ENDPOINTS[:2])])
    assert addresses(host, ['nsenter', '--net=/run/netns/nginx01'], 'nginx02')
    assert addresses(host, ['nsenter', '--net=/run/netns/nginx01'], OUTSIDE_NAME) == set([OUTSIDE_ADDRESS])
    converge(play, probe, [topology([], [])])


def test_hosts_only_starts_no_server(host, play, probe):
    run = converge(play, probe, [topology([NEW], ENDPOINTS[:2], name_server='hosts')])[0]
    assert run['result']['endpoints']['nginx01']['name_server'] is None
    assert host.run(['test', '-e', '/etc/netns/nginx01/resolv.conf'], check=False).returncode == 1
    assert addresses(host, ['ip', 'netns', 'exec', 'nginx01'], 'nginx02')      # the hosts file
    converge(play, probe, [topology([], [])])
