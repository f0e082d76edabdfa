from helpers import converge, rejected, task


def test_lifecycle_across_namespaces(play, probe):
    play([task('netns', name='c1'), task('netns', name='c2'),
          task('bridge', name='br0', addresses=['10.0.0.1/24'])], expect_rc=0)
    converge(play, probe, [
        task('veth', name='v1', peer='eth0', peer_namespace='c1', peer_addresses=['10.0.0.2/24'], master='br0'),
        task('veth', name='v1', peer='eth0', peer_namespace='c1', peer_addresses=['10.0.0.12/24'],
             mtu=1450, peer_mac='02:42:0a:00:00:0c'),
    ])
    eth0 = probe.link('eth0', 'c1')
    assert eth0['mtu'] == 1450 and eth0['address'] == '02:42:0a:00:00:0c'
    assert probe.link('v1')['mtu'] == 1450
    assert probe.addresses('eth0', 'c1') == ['10.0.0.12/24']
    assert probe.ping('c1', '10.0.0.1').returncode == 0

    # Peer wanted in c2 now: the pair is recreated, and the diff says where the peer was.
    run = converge(play, probe, [task('veth', name='v1', peer='eth0', peer_namespace='c2', master='br0',
                                      peer_addresses=['10.0.0.12/24'])])[0]
    assert run['result']['diff']['before']['peer']['name'] is None
    assert probe.link('eth0', 'c1') is None and probe.addresses('eth0', 'c2') == ['10.0.0.12/24']
    assert probe.ping('c2', '10.0.0.1').returncode == 0

    converge(play, probe, [task('veth', name='v1', state='absent')])
    assert probe.link('v1') is None and probe.link('eth0', 'c2') is None


def test_hand_made_pair_is_moved_and_renamed(host, play, probe):
    """Seed 001 by hand: ip link add veth_d366 type veth peer name veth_d366_peer."""
    play([task('netns', name='netns666')], expect_rc=0)
    host.run(['ip', 'link', 'add', 'veth_d366', 'type', 'veth', 'peer', 'name', 'veth_d366_peer'])
    index = probe.link('veth_d366')['ifindex']
    run = converge(play, probe, [task('veth', name='veth_d366', peer='eth0', peer_namespace='netns666',
                                      peer_addresses=['10.0.0.2/24'])])[0]
    assert run['result']['diff']['before']['peer'] == {'name': 'veth_d366_peer', 'namespace': None,
                                                       'addresses': [], 'up': False}
    assert probe.link('veth_d366')['ifindex'] == index            # moved, not recreated
    assert probe.link('veth_d366_peer') is None
    assert probe.addresses('eth0', 'netns666') == ['10.0.0.2/24']


def test_both_ends_in_the_host_namespace(play, probe):
    converge(play, probe, [task('veth', name='va', peer='vb', addresses=['10.9.0.1/30'], peer_addresses=[])])
    assert probe.link('vb')['link'] == 'va'


def test_bad_input_fails_before_any_change(host, play, probe):
    play([task('netns', name='c1')], expect_rc=0)
    host.run(['ip', '-n', 'c1', 'link', 'add', 'eth0', 'type', 'bridge'])

    def veth(**changes):
        args = {'name': 'v1', 'peer': 'eth1', 'peer_namespace': 'c1'}
        args.update(changes)
        return task('veth', **args)

    rejected(play, probe, veth(name='veth-name-is-16b'), 'veth-name-is-16b')
    rejected(play, probe, veth(peer='x' * 16), 'x' * 16)
    rejected(play, probe, veth(peer_namespace='ghost'), 'ghost')
    rejected(play, probe, veth(mtu=70000), '70000')
    rejected(play, probe, veth(peer_addresses=['10.0.0.0/24']), '10.0.0.0/24')
    rejected(play, probe, veth(mac='02:00:00:00:00:01', peer_mac='02:00:00:00:00:01'),
             'mac', 'peer_mac')
    rejected(play, probe, veth(master='nobridge'), 'nobridge')
    rejected(play, probe, veth(peer='eth0'), 'eth0', 'c1', 'taken')
    rejected(play, probe, task('veth', name='v1'), 'peer')
