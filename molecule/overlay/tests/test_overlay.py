"""Seed 004's overlays on the lab, proved by packets over Testinfra's SSH backend; then the
inventory changes as a user would change it (host4 joins, host3 leaves) and every table
follows. Tests run in order."""

import json
import os
import subprocess
import tempfile

import pytest
import testinfra
import yaml

SCENARIO = os.environ.get('MOLECULE_SCENARIO_NAME', 'overlay')
LAB = '/var/lib/netplumb-lab/molecule-%s' % SCENARIO
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(os.path.dirname(HERE))
testinfra_hosts = ['ssh://host1']


def collections_env(**extra):
    """This checkout as the collection: Molecule's environment may point at a copy it installed
    in ~/.ansible/collections, which can be older than the code under test."""
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.build', 'collections'), **extra)


VTEP = dict(('host%d' % i, '198.51.100.%d' % (10 + i)) for i in range(1, 5))


@pytest.fixture(scope='module')
def hosts():
    return dict((name, testinfra.get_host('ssh://' + name, ssh_config=os.path.join(LAB, 'ssh_config')))
                for name in VTEP)


def declared():
    with open(os.path.join(HERE, 'molecule.yml')) as handle:
        return yaml.safe_load(handle)['provisioner']['inventory']


def site(inventory, *options):
    """playbooks/site.yml against the lab with ``inventory`` (molecule.yml's, edited); returns
    the topology task's result per host."""
    with open(os.path.join(LAB, 'inventory.yml')) as handle:
        lab = yaml.safe_load(handle)
    group = list(lab['all']['children'].values())[0]
    group['vars'].update(inventory['group_vars']['all'])
    group['hosts'] = dict((name, dict(group['hosts'].get(name) or {}, **inventory['host_vars'].get(name, {})))
                          for name in inventory['hosts'])
    work = tempfile.mkdtemp(prefix='np-molecule-')
    path, record = os.path.join(work, 'inventory.yml'), os.path.join(work, 'record.jsonl')
    with open(path, 'w') as handle:
        yaml.safe_dump(lab, handle)
    env = collections_env(NETPLUMB_RECORD=record, ANSIBLE_CALLBACK_PLUGINS=os.path.join(ROOT, 'tests', 'lib', 'callback'),
                          ANSIBLE_CALLBACKS_ENABLED='netplumb_record')
    proc = subprocess.run(['ansible-playbook', '-i', path, os.path.join(ROOT, 'playbooks', 'site.yml')] + list(options),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, env=env, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:]
    with open(record) as handle:
        results = [json.loads(line) for line in handle]
    # per host the step that applied the change, else (check mode, nothing to do) the one that planned it
    found = {}
    for r in results:
        if r['action'] == 'netplumb.container.topology' and (r['status'] != 'skipped' or r['host'] not in found):
            found[r['host']] = r
    return found


def inventory(hosts=('host1', 'host2', 'host3', 'host4'), **host_vars):
    inv = declared()
    inv['host_vars'].update(host_vars)
    inv['hosts'] = list(hosts)
    return inv


def ping(host, namespace, target, size=None, family=4):
    option = ('-M do -s %d ' % size if size else '') + '-%d ' % family
    return host.run('ip netns exec %s ping -c 1 -W 2 %s%s' % (namespace, option, target)).rc == 0


def address(host, namespace, family=4):
    return host.check_output('ip -n %s -%d -o addr show eth0 scope global' % (namespace, family)).split()[3].split('/')[0]


def test_same_overlay_reaches_across_hosts_by_name(hosts):
    assert ping(hosts['host1'], 'net1c1', 'net1c2') and ping(hosts['host2'], 'net1c2', 'net1c1')
    assert ping(hosts['host3'], 'net1c3', 'net1c1') and ping(hosts['host1'], 'net1c1', 'net1c3')
    assert ping(hosts['host1'], 'net2c1', 'net2c2') and ping(hosts['host2'], 'net2c2', 'net2c1')


def test_ipv6_inside_an_overlay_across_hosts(hosts):
    """net1 is dual stack: every endpoint has an address of fd00:0:1::/64, the peers' are static
    neighbours, and names resolve to both."""
    assert address(hosts['host2'], 'net1c2', 6).startswith('fd00:0:1::')
    assert ping(hosts['host1'], 'net1c1', address(hosts['host2'], 'net1c2', 6), family=6)
    assert ping(hosts['host3'], 'net1c3', 'net1c1', family=6)
    neigh = hosts['host1'].check_output('ip -n ov-net1 -6 neigh show dev vxlan0')
    assert '%s lladdr' % address(hosts['host3'], 'net1c3', 6) in neigh and 'PERMANENT' in neigh
    assert not hosts['host1'].run('ip -n net2c1 -6 -o addr show scope global').stdout.strip()   # net2: IPv4 only


def test_overlays_are_isolated(hosts):
    assert not ping(hosts['host1'], 'net1c1', address(hosts['host2'], 'net2c2'))
    assert not ping(hosts['host1'], 'net1c1', address(hosts['host1'], 'net2c1'))
    assert hosts['host1'].run('ip netns exec net1c1 getent hosts net2c2').rc != 0


def test_mtu_leaves_room_for_vxlan(hosts):
    assert hosts['host1'].check_output('ip -n net1c1 -o link show eth0').split('mtu ')[1].split()[0] == '1450'
    assert ping(hosts['host1'], 'net1c1', 'net1c2', size=1422)
    assert not ping(hosts['host1'], 'net1c1', 'net1c2', size=1423)
    # net1 is dual stack: the IPv6 header takes 20 bytes more
    assert ping(hosts['host1'], 'net1c1', 'net1c2', size=1402, family=6)
    assert not ping(hosts['host1'], 'net1c1', 'net1c2', size=1403, family=6)


def test_egress_through_the_gateway_bridge(hosts):
    assert ping(hosts['host2'], 'net1c2', '203.0.113.1')


def test_forwarding_tables_hold_every_peer(hosts):
    fdb = hosts['host1'].check_output('bridge -n ov-net1 fdb show dev vxlan0')
    assert '00:00:00:00:00:00 dst %s' % VTEP['host2'] in fdb and '00:00:00:00:00:00 dst %s' % VTEP['host3'] in fdb
    neigh = hosts['host1'].check_output('ip -n ov-net1 neigh show dev vxlan0')
    assert '%s lladdr' % address(hosts['host3'], 'net1c3') in neigh and 'PERMANENT' in neigh
    assert VTEP['host3'] not in hosts['host1'].check_output('bridge -n ov-net2 fdb show dev vxlan0')


def test_check_diff_on_the_converged_lab_reports_no_change(hosts):
    results = site(inventory(), '--check', '--diff')
    assert sorted(results) == ['host1', 'host2', 'host3', 'host4']
    assert not [h for h, r in results.items() if r['status'] != 'ok'], results


def test_a_fourth_host_joins_on_the_next_run(hosts):
    joined = inventory(host4={'netplumb_endpoints': [{'name': 'net1c4', 'networks': ['net1']}]})
    check = site(joined, '--check', '--diff')
    assert any('netns ov-net1: create network namespace' == a for a in check['host4']['result']['actions'])
    interface = check['host4']['result']['endpoints']['net1c4']['interfaces']['eth0']
    newcomer = [interface[key].split('/')[0] for key in ('address', 'ipv6_address')]
    for name in ('host1', 'host2', 'host3'):
        actions = check[name]['result']['actions']
        # the peers' only changes: flood and FDB entries to host4's VTEP, the neighbour entries of its
        # endpoint (IPv4 and IPv6), its name in the hosts files of their net1 endpoints and in the name
        # server (a reload), and the
        # desired state kept for the restore (its peers changed)
        assert len([a for a in actions if VTEP['host4'] in a]) == 2, actions
        for ip in newcomer:
            assert len([a for a in actions if 'add neighbour %s ' % ip in a]) == 1, actions
        assert all(VTEP['host4'] in a or any('neighbour %s ' % ip in a for ip in newcomer) or
                   a.startswith('/etc/netns/net1c') or a == '/var/lib/netplumb/desired.json: update' or
                   a in ('/var/lib/netplumb/dns/unbound.conf: update', 'name server (unbound, engine): reload')
                   for a in actions), actions
    real = site(joined)
    assert [real[h]['result']['actions'] for h in sorted(real)] == [check[h]['result']['actions'] for h in sorted(check)]
    assert ping(hosts['host4'], 'net1c4', 'net1c1') and ping(hosts['host3'], 'net1c3', 'net1c4')


def test_a_host_removed_from_the_group_leaves_every_table(hosts):
    site(inventory(hosts=('host1', 'host2', 'host4'),
                   host4={'netplumb_endpoints': [{'name': 'net1c4', 'networks': ['net1']}]}))
    for name in ('host1', 'host2', 'host4'):
        assert VTEP['host3'] not in hosts[name].check_output('bridge -n ov-net1 fdb show dev vxlan0')
        assert hosts[name].run('ip netns exec net1c%s getent hosts net1c3' % name[-1]).rc != 0
    assert ping(hosts['host4'], 'net1c4', 'net1c1')
