"""Hosts that reboot, proved on lab machines (Debian booted with systemd-nspawn) by packets: host1
really reboots and, with no playbook run, every endpoint is back with the same addresses, names
resolve, the published port (a systemd unit inside endpoint nginx01) answers from host2, host1
and a sibling endpoint, the overlay reaches the other hosts; a restart of the nftables service
(Debian's nftables.conf starts with "flush ruleset") brings the rules back. Tests run in order."""

import json
import os
import subprocess
import sys
import time

import pytest
import testinfra

SCENARIO = os.environ.get('MOLECULE_SCENARIO_NAME', 'machines')
LAB = '/var/lib/netplumb-lab/molecule-%s' % SCENARIO
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(os.path.dirname(HERE))
HOST1 = '198.51.100.11'
OUTSIDE = '203.0.113.1'
TCP = os.path.join(ROOT, 'tests', 'lib', 'tcp.py')
sys.path.insert(0, os.path.join(ROOT, 'tests', 'lib'))
import lab_machines  # noqa: E402 - the scenarios' shared helpers
testinfra_hosts = ['ssh://host1']

GET = ("python3 -c 'import sys, urllib.request; "
       "print(urllib.request.urlopen(sys.argv[1], timeout=3).status)' ")


def connect(name):
    return testinfra.get_host('ssh://' + name, ssh_config=os.path.join(LAB, 'ssh_config'))


@pytest.fixture(scope='module')
def hosts():
    return dict((name, connect(name)) for name in ('host1', 'host2', 'host3'))


def fetch(host, url, namespace=None):
    prefix = 'ip netns exec %s ' % namespace if namespace else ''
    return host.run(prefix + GET + url).stdout.strip() == '200'


def ping(host, namespace, target):
    return host.run('ip netns exec %s ping -c 1 -W 2 %s' % (namespace, target)).rc == 0


def addresses(host, namespace):
    return sorted(line.split()[3] for line in host.check_output(
        'ip -n %s -o addr show eth0 scope global' % namespace).splitlines())


def eventually(check, timeout=30):
    """``check()`` until it holds, or its last value once ``timeout`` seconds passed: a unit that
    systemd just started takes a moment to listen."""
    deadline = time.time() + timeout
    while True:
        value = check()
        if value is True or (isinstance(value, dict) and all(value.values())) or time.time() > deadline:
            return value
        time.sleep(0.5)


ALL_SERVED = dict.fromkeys(['host2', 'host1', 'loopback', 'sibling', 'overlay'], True)
ALL_NAMED = dict.fromkeys(['ip netns exec', 'nsenter, host stub', 'workload unit', 'overlay'], True)


def resolves(host, prefix, name):
    return host.run('%s getent hosts %s' % (prefix, name)).rc == 0


def named(hosts):
    """Names from the name server for every process of an endpoint: the alias "backend" is in no
    hosts file, and nsenter keeps the machine's own /etc/hosts and resolv.conf (a stub at
    127.0.0.53 with nothing behind it), so only the name server answers."""
    host1 = hosts['host1']
    unit = host1.run('systemctl show --property=MainPID --value web-app.service').stdout.strip()
    return {
        'ip netns exec': resolves(host1, 'ip netns exec nginx01', 'backend'),
        'nsenter, host stub': resolves(host1, 'nsenter --net=/run/netns/nginx01', 'nginx02'),
        'workload unit': unit not in ('', '0') and resolves(host1, 'nsenter -t %s --net --mount' % unit, 'backend'),
        'overlay': resolves(host1, 'nsenter --net=/run/netns/net1c1', 'net1c3'),
    }


def served(hosts):
    """Seed 003's published port from another host, the host itself and a sibling endpoint, and
    the overlay across hosts."""
    return {
        'host2': fetch(hosts['host2'], 'http://%s:8080/' % HOST1),
        'host1': fetch(hosts['host1'], 'http://%s:8080/' % HOST1),
        'loopback': fetch(hosts['host1'], 'http://127.0.0.1:8080/'),
        'sibling': fetch(hosts['host1'], 'http://nginx01/', namespace='nginx02'),
        'overlay': ping(hosts['host1'], 'net1c1', 'net1c2') and ping(hosts['host3'], 'net1c3', 'net1c1'),
    }


def site(*options):
    """playbooks/site.yml against the lab, with Molecule's inventory."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.build', 'collections'))
    inventory = os.path.join(os.environ.get('MOLECULE_EPHEMERAL_DIRECTORY', ''), 'inventory')
    return subprocess.run(['ansible-playbook', '-i', inventory, os.path.join(ROOT, 'playbooks', 'site.yml')]
                          + list(options), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, env=env, check=False)


# one DNS query for an A record, sent with Python (the machines have no dig): 'answer' or 'none'
QUERY = ("python3 -c 'import socket, struct, sys; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
         "s.settimeout(2); q = struct.pack(\">HHHHHH\", 0x1234, 0x0100, 1, 0, 0, 0) + b\"\".join("
         "bytes([len(l)]) + l.encode() for l in sys.argv[2].split(\".\")) + b\"\\0\\0\\1\\0\\1\"; "
         "s.sendto(q, (sys.argv[1], 53))\ntry: s.recv(512); print(\"answer\")\nexcept OSError: print(\"none\")' ")
GATEWAY = '172.18.0.1'


def answers(host, server, name, prefix=''):
    return host.run('%s%s %s %s' % (prefix, QUERY, server, name)).stdout.strip() == 'answer'


def test_a_remote_host_gets_no_answer_from_a_network_name_server(hosts):
    host2 = hosts['host2']
    assert answers(hosts['host1'], GATEWAY, 'nginx02', prefix='ip netns exec nginx01 ')     # the query works
    assert host2.run('ip route replace %s via %s' % (GATEWAY, HOST1)).rc == 0
    try:
        assert host2.run('ping -c 1 -W 2 %s' % GATEWAY).rc == 0         # routed to host1's gateway address
        assert not answers(host2, GATEWAY, 'nginx01')
    finally:
        host2.run('ip route del %s via %s' % (GATEWAY, HOST1))


def test_converged_and_serving(hosts):
    # the workload's unit was (re)started by the run just before: give its server time to listen
    assert eventually(lambda: served(hosts)) == ALL_SERVED
    assert eventually(lambda: named(hosts)) == ALL_NAMED
    assert hosts['host1'].service('netplumb-dns.service').is_enabled
    # the workload is the unit, in the endpoint's namespace: its server saw host2's own address
    journal = hosts['host1'].check_output('journalctl -u web-app.service --no-pager -o cat')
    assert '198.51.100.12' in journal
    assert hosts['host1'].service('netplumb-restore.service').is_enabled


def lan_address(host, namespace):
    return addresses(host, namespace)[0].split('/')[0]


def lan_reached(hosts):
    """The macvlan network on the underlay: endpoints of two hosts reach each other by name and address,
    another lab host reaches one directly, the host with the shim its own."""
    lanc1, lanc3 = lan_address(hosts['host1'], 'lanc1'), lan_address(hosts['host3'], 'lanc3')
    return {'across hosts': ping(hosts['host1'], 'lanc1', lanc3) and ping(hosts['host3'], 'lanc3', 'lanc1'),
            'from a lab host': hosts['host2'].run('ping -c 1 -W 2 %s' % lanc1).rc == 0,
            'shim': hosts['host3'].run('ping -c 1 -W 2 %s' % lanc3).rc == 0}


def outside_pid():
    with open(os.path.join(LAB, 'lab.json')) as handle:
        return json.load(handle)['outside']['pid']


def test_macvlan_endpoints_on_the_underlay_at_their_own_address(hosts, tmp_path):
    lanc1, lanc3 = lan_address(hosts['host1'], 'lanc1'), lan_address(hosts['host3'], 'lanc3')
    # from the ip_range, unique across hosts though no host declares a range of its own (Docker's would clash)
    assert sorted([lanc1, lanc3]) == ['198.51.100.192', '198.51.100.193']
    assert eventually(lambda: lan_reached(hosts)) == dict.fromkeys(['across hosts', 'from a lab host', 'shim'], True)
    # the kernel delivers nothing from a parent to its own macvlan interfaces: host1 has no shim
    assert hosts['host1'].run('ping -c 1 -W 2 %s' % lanc1).rc != 0
    # the outside world's server logs the endpoint's own LAN address: no NAT
    log = str(tmp_path / 'outside.log')
    server = subprocess.Popen(['nsenter', '-t', str(outside_pid()), '--net', sys.executable, TCP, 'serve', '8099', log])
    try:
        time.sleep(0.5)
        assert hosts['host1'].run('ip netns exec lanc1 python3 -c "import socket; socket.create_connection('
                                  '(\'%s\', 8099), timeout=3).recv(8)"' % OUTSIDE).rc == 0
        with open(log) as handle:
            assert handle.read().split() == [lanc1]
    finally:
        server.kill()
        server.wait()


def test_a_refused_declaration_changes_no_host(hosts):
    """A parent missing on host2 alone, then ports published on a macvlan-only endpoint: the role stops
    every host before any change."""
    before = dict((name, snapshot(host)) for name, host in hosts.items())
    missing = site('-e', json.dumps({'lab_lan_parent': "{{ 'nowhere0' if inventory_hostname == 'host2' else 'eth0' }}"}))
    assert missing.returncode != 0 and 'nowhere0 is not an interface of this host' in missing.stdout, missing.stdout[-3000:]
    published = site('-e', json.dumps({'netplumb_endpoints': "{{ [{'name': 'lanc1', 'networks': ['lan'], 'published': "
                                                             "['8080:80']}] if inventory_hostname == 'host1' else [] }}"}))
    assert published.returncode != 0 and 'only on macvlan network lan' in published.stdout, published.stdout[-3000:]
    assert dict((name, snapshot(host)) for name, host in hosts.items()) == before


def snapshot(host):
    """What a run would change on a host: links, addresses, routes, namespaces, the ruleset, our files."""
    return host.check_output('ip -d -o addr; ip -o route; ip netns list; nft list ruleset; '
                             'cat /var/lib/netplumb/topology.json /var/lib/netplumb/desired.json; ls -R /etc/netns')


def test_units_the_role_writes_pass_systemd_analyze_verify(hosts):
    host1 = hosts['host1']
    for unit in ('/etc/systemd/system/netplumb-restore.service', '/etc/systemd/system/netplumb-dns.service',
                 '/etc/systemd/system/web-app.service.d/netplumb-nginx01.conf'):
        assert host1.file(unit).exists, unit
    verify = host1.run('systemd-analyze verify netplumb-restore.service netplumb-dns.service web-app.service')
    assert verify.rc == 0, verify.stderr


def test_a_real_reboot_brings_everything_back_without_a_playbook(hosts):
    host1 = hosts['host1']
    before = dict((ns, addresses(host1, ns)) for ns in ('nginx01', 'nginx02', 'net1c1', 'lanc1'))
    hosts['host1'] = host1 = lab_machines.reboot(host1, lambda: connect('host1'), 'web-app.service')
    assert host1.service('netplumb-restore.service').is_running
    assert dict((ns, addresses(host1, ns)) for ns in before) == before
    assert host1.run('ip netns exec nginx01 getent hosts nginx02').rc == 0
    assert eventually(lambda: served(hosts)) == ALL_SERVED
    assert eventually(lambda: named(hosts)) == ALL_NAMED
    assert ping(host1, 'nginx01', OUTSIDE)                                       # egress
    assert eventually(lambda: lan_reached(hosts)) == dict.fromkeys(['across hosts', 'from a lab host', 'shim'], True)
    assert ping(host1, 'lanc1', OUTSIDE)
    check = site('--check')
    assert check.returncode == 0 and 'changed=1' not in check.stdout, check.stdout[-3000:]


def test_restarting_nftables_puts_the_rules_back(hosts):
    host1 = hosts['host1']
    # what Debian's /etc/nftables.conf makes, loaded alone in a scratch namespace
    foreign = host1.check_output('ip netns add scratch && ip netns exec scratch nft -f /etc/nftables.conf && '
                                 'ip netns exec scratch nft list table inet filter; ip netns del scratch')
    assert 'hook forward' in foreign
    result = host1.run('systemctl enable --now nftables.service && systemctl restart nftables.service')
    assert result.rc == 0, result.stderr
    # systemctl waits for nftables' job; the restore, restarted with it (PartOf=), may take a moment more
    assert eventually(lambda: host1.run('nft list table inet netplumb').rc == 0), 'our table is back'
    assert host1.check_output('nft list table inet filter') == foreign      # the foreign rules untouched
    assert eventually(lambda: fetch(hosts['host2'], 'http://%s:8080/' % HOST1)) and ping(host1, 'nginx01', OUTSIDE)
    assert eventually(lambda: named(hosts)) == ALL_NAMED
    assert answers(host1, GATEWAY, 'nginx02', prefix='ip netns exec nginx01 ')


def test_firewalld_beside_our_networks_and_after_its_reload_and_restart(hosts):
    """firewalld's forward chain rejects what no zone of its accepts: with integrate, the role puts
    our bridges in firewalld zone netplumb (its permanent configuration), so they work beside it
    and after firewall-cmd --reload and a restart of firewalld."""
    host1 = hosts['host1']
    assert host1.run('systemctl disable --now nftables.service && systemctl start firewalld.service').rc == 0

    def working():
        return fetch(hosts['host2'], 'http://%s:8080/' % HOST1) and ping(host1, 'nginx01', OUTSIDE)
    assert not working(), 'firewalld rejects what no zone of its accepts: our bridges are in none yet'
    run = site()
    assert run.returncode == 0, run.stdout[-3000:]
    assert 'netplumb' in host1.check_output('firewall-cmd --get-active-zones')
    assert eventually(working)
    assert host1.run('firewall-cmd --reload').rc == 0
    assert eventually(working)
    assert host1.run('systemctl restart firewalld.service').rc == 0
    assert eventually(working)


def test_firewalld_strict_forward_ports_is_refused_before_any_host_changes(hosts):
    """firewalld 2.3+ with StrictForwardPorts=yes rejects every port that anyone but itself published,
    whatever its zones and policies say: the run stops, naming the setting and the ports, before any
    host changes; set back to no, the port is served again. (Debian 12's firewalld 1.3 has no such
    setting: the trixie scenario, whose host1 is Debian 13, proves it.)"""
    host1, url = hosts['host1'], 'http://%s:8080/' % HOST1
    version = host1.check_output('firewall-cmd --version')
    if tuple(int(part) for part in version.split('.')[:2]) < (2, 3):
        pytest.skip('firewalld %s has no StrictForwardPorts (2.3 and newer have)' % version)
    strict = "sed -i 's/^#* *StrictForwardPorts=.*/StrictForwardPorts=%s/' /etc/firewalld/firewalld.conf && " \
             "systemctl restart firewalld.service"
    assert host1.run(strict % 'yes').rc == 0
    assert eventually(lambda: not fetch(hosts['host2'], url)), 'firewalld does not reject the published port'
    before = dict((name, snapshot(host)) for name, host in hosts.items())
    run = site()
    assert run.returncode != 0 and 'StrictForwardPorts=yes' in run.stdout and 'nginx01 8080:80' in run.stdout, \
        run.stdout[-3000:]
    assert dict((name, snapshot(host)) for name, host in hosts.items()) == before
    assert host1.run(strict % 'no').rc == 0
    assert eventually(lambda: fetch(hosts['host2'], url))


def test_removing_every_declaration_removes_what_the_restore_at_boot_installed(hosts):
    host1 = hosts['host1']
    run = site('-e', '{"netplumb_networks": [], "netplumb_endpoints": []}')
    assert run.returncode == 0, run.stdout[-3000:]
    for path in ('/usr/sbin/netplumb-restore', '/usr/lib/netplumb', '/etc/systemd/system/netplumb-restore.service',
                 '/etc/systemd/system/multi-user.target.wants/netplumb-restore.service',
                 '/etc/systemd/system/web-app.service.d/netplumb-nginx01.conf', '/var/lib/netplumb/desired.json',
                 '/etc/firewalld/zones/netplumb.xml', '/etc/systemd/system/netplumb-dns.service',
                 '/var/lib/netplumb/dns', '/etc/netns/nginx01/resolv.conf'):
        assert not host1.file(path).exists, path
    assert host1.file('/etc/systemd/system/web-app.service').exists          # the user's own unit stays
    assert host1.run('nft list table inet netplumb').rc != 0
    assert not host1.service('netplumb-dns.service').is_running
