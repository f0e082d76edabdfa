"""Seed 001 rebuilt by a playbook, proved by packets."""

SEED_001 = [
    {'name': 'container', 'netplumb.container.netns': {'name': 'netns666'}},
    {'name': 'bridge', 'netplumb.container.bridge': {'name': 'br666', 'addresses': ['10.0.0.1/24']}},
    {'name': 'veth', 'netplumb.container.veth': {
        'name': 'veth_d366', 'peer': 'eth0', 'peer_namespace': 'netns666',
        'peer_addresses': ['10.0.0.2/24'], 'master': 'br666'}},
    {'name': 'default route', 'netplumb.container.route': {
        'namespace': 'netns666', 'routes': [{'dst': 'default', 'gateway': '10.0.0.1'}]}},
]


def test_seed001_topology_passes_packets(play, probe):
    first = play(SEED_001, expect_rc=0)
    assert all(r['status'] == 'changed' for r in first.results), first

    assert probe.ping('netns666', '10.0.0.1').returncode == 0
    assert probe.ping(None, '10.0.0.2').returncode == 0
    assert probe.addresses('eth0', 'netns666') == ['10.0.0.2/24']
    assert probe.link('veth_d366')['master'] == 'br666'

    second = play(SEED_001, expect_rc=0)
    assert not second.changed, second


def test_seed001_adopts_a_running_process(host, play, probe):
    container = host.spawn(['unshare', '--net', 'sleep', '300'])     # docker run --net=none
    # nsenter's pid is the sleep's: unshare and nsenter exec, they do not fork
    tasks = [{'name': 'adopt', 'netplumb.container.netns': {'name': 'netns666', 'pid': container.pid}}] + SEED_001[1:]
    run = play(tasks, expect_rc=0)
    assert run['adopt']['status'] == 'changed'
    assert container.pid in run['adopt']['result']['netns']['pids']
    ping = host.run(['nsenter', '-t', str(container.pid), '-n', 'ping', '-c', '1', '-W', '2', '10.0.0.1'], check=False)
    assert ping.returncode == 0, ping.stdout + ping.stderr
    assert not play(tasks, expect_rc=0).changed


def test_check_mode_on_a_bare_host_predicts_the_whole_playbook(play, probe):
    """--check --diff of the dependent tasks on an empty host: nothing is created, and
    every task predicts exactly the diff and the operations the real run then reports."""
    untouched = probe.state()
    check = play(SEED_001, check=True, expect_rc=0)
    assert probe.state() == untouched
    real = play(SEED_001, expect_rc=0)
    for name in ('container', 'bridge', 'veth', 'default route'):
        assert check[name]['status'] == real[name]['status'] == 'changed'
        assert check[name]['result']['diff'] == real[name]['result']['diff'], name
        assert check[name]['result']['actions'] == real[name]['result']['actions'], name
        assert 'warnings' not in real[name]['result'], real[name]
