"""Seeds 003 and 004 on the lab, proved by packets over Testinfra's SSH backend. The tests
run in order: the last ones re-run playbooks/site.yml with other declarations (connect, then
remove everything), as a user editing the inventory would."""

import json
import os
import subprocess

import pytest
import testinfra
import yaml

SCENARIO = os.environ.get('MOLECULE_SCENARIO_NAME', 'bridge')
LAB = '/var/lib/netplumb-lab/molecule-%s' % SCENARIO
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
testinfra_hosts = ['ssh://host1']


def collections_env(**extra):
    """This checkout as the collection: Molecule's environment may point at a copy it installed
    in ~/.ansible/collections, which can be older than the code under test."""
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.build', 'collections'), **extra)


def _lab():
    with open(os.path.join(LAB, 'lab.json')) as handle:
        return json.load(handle)


def underlay(name):
    return _lab()['hosts'][name]['address'].split('/')[0]


@pytest.fixture(scope='module')
def host2():
    return testinfra.get_host('ssh://host2', ssh_config=os.path.join(LAB, 'ssh_config'))


@pytest.fixture(scope='module')
def server(host):
    """A TCP server on port 80 in nginx01, ended by the PID it was started with (lab hosts share
    the machine's PID namespace: a pattern would end other people's processes), and by itself
    after two minutes at the latest."""
    host.run('setsid -f sh -c \'echo $$ > /run/netplumb-test-server.pid; exec timeout 120 ip netns exec nginx01 '
             'python3 -m http.server 80\' >/dev/null 2>&1')
    host.run('for i in $(seq 50); do ip netns exec nginx01 ss -ltn | grep -q ":80 " && break; sleep 0.1; done')
    pid = int(host.check_output('cat /run/netplumb-test-server.pid'))
    yield
    host.run('kill %d && rm -f /run/netplumb-test-server.pid' % pid)     # timeout passes it on to the server


def ping(host, namespace, target):
    return host.run('ip netns exec %s ping -c 1 -W 2 %s' % (namespace, target)).rc == 0


def tcp(host, target, port, namespace=None):
    prefix = 'ip netns exec %s ' % namespace if namespace else ''
    return host.run('%snc -z -w 3 %s %d' % (prefix, target, port)).rc == 0


def address(host, namespace, ifname='eth0'):
    return host.check_output('ip -n %s -4 -o addr show %s' % (namespace, ifname)).split()[3].split('/')[0]


def site(*options, **declarations):
    """Re-run playbooks/site.yml on host1 with other declarations (extra vars win over the inventory)."""
    argv = ['ansible-playbook', '-i', os.path.join(LAB, 'inventory.yml'), '--limit', 'host1',
            os.path.join(ROOT, 'playbooks', 'site.yml'), '-e', json.dumps(declarations)] + list(options)
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False,
                          env=collections_env())
    assert proc.returncode == 0, proc.stdout[-3000:]
    return proc.stdout


def test_user_defined_network_resolves_names(host):
    assert ping(host, 'nginx01', 'nginx02') and ping(host, 'nginx02', 'nginx01')


def test_default_network_is_isolated_and_unnamed(host):
    assert host.run('ip netns exec nginx03 getent hosts nginx01').rc != 0
    assert not ping(host, 'nginx03', address(host, 'nginx01'))
    assert ping(host, 'nginx03', '172.17.0.1')


def test_published_port_from_three_clients(host, host2, server):
    """Seed 004: another host, the host itself, another endpoint on the bridge."""
    assert tcp(host2, underlay('host1'), 8080)
    assert tcp(host, underlay('host1'), 8080)
    assert tcp(host, underlay('host1'), 8080, namespace='nginx02')
    assert not tcp(host2, underlay('host1'), 8081)


def test_egress_is_masqueraded(host):
    # host2 has no route back to 172.18.0.0/16: only a masqueraded ping comes back
    assert ping(host, 'nginx01', underlay('host2'))


def test_icc_off_blocks_neighbours_but_not_egress(host):
    assert not ping(host, 'q1', address(host, 'q2'))
    assert ping(host, 'q1', underlay('host2'))


def test_internal_network_has_no_egress(host):
    assert ping(host, 'i1', address(host, 'i2'))
    assert not ping(host, 'i1', underlay('host2'))


def declared():
    with open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'molecule.yml')) as handle:
        return yaml.safe_load(handle)['provisioner']['inventory']['host_vars']['host1']


def test_check_diff_on_the_converged_lab_reports_no_change(host):
    out = site('--check', '--diff', **declared())
    assert 'changed=0' in out.split('PLAY RECAP')[1], out[-2000:]


def test_network_connect_reaches_by_name(host):
    connected = declared()
    for ep in connected['netplumb_endpoints']:
        if ep['name'] == 'nginx03':
            ep['networks'] = ['bridge', 'new_network']
    site(**connected)
    assert ping(host, 'nginx03', 'nginx01') and ping(host, 'nginx01', 'nginx03')
    assert ping(host, 'q1', underlay('host2'))                    # the other networks stay as they were


def test_removal_leaves_nothing_behind(host):
    site(netplumb_networks=[], netplumb_endpoints=[])
    assert host.check_output('ip netns list') == ''
    assert host.check_output('ip -br link show type bridge') == ''
    veths = [line.split('@')[0] for line in host.check_output('ip -br link show type veth').splitlines()]
    assert veths == ['eth0']                                       # the lab's underlay only
    assert 'etplumb' not in host.check_output('iptables-save').lower()
    assert 'netplumb' not in host.check_output('nft list ruleset')
    # the state directory as before the first run: no record, lease store or lock file
    assert host.run('find /etc/netns /var/lib/netplumb -mindepth 1').stdout == ''
