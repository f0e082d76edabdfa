from helpers import converge, rejected, task


def test_lifecycle(host, play, probe):
    host.run(['ip', 'link', 'add', 'p1', 'type', 'veth', 'peer', 'name', 'p1x'])
    host.run(['ip', 'link', 'add', 'p2', 'type', 'veth', 'peer', 'name', 'p2x'])
    converge(play, probe, [
        task('bridge', name='br0', addresses=['10.0.0.1/24'], mtu=1450),
        task('bridge', name='br0', addresses=['10.0.0.1/24', '2001:db8::1/64'], stp=True, ports=['p1']),
        task('bridge', name='br0', ports=['p2']),                     # additive: p1 stays
    ])
    link = probe.link('br0')
    assert link['mtu'] == 1450 and link['linkinfo']['info_data']['stp_state'] == 1
    assert probe.addresses('br0') == ['10.0.0.1/24', '2001:db8::1/64']
    assert probe.link('p1')['master'] == 'br0' and probe.link('p2')['master'] == 'br0'

    run = converge(play, probe, [task('bridge', name='br0', ports=['p2'], exclusive=True, addresses=[])])[0]
    assert run['result']['diff']['before']['ports'] == ['p1', 'p2']
    assert run['result']['diff']['after']['ports'] == ['p2']
    assert 'master' not in probe.link('p1') and probe.addresses('br0') == []

    rejected(play, probe, task('bridge', name='br0', state='absent'), 'br0', 'p2', 'force')
    converge(play, probe, [task('bridge', name='br0', state='absent', force=True)])
    assert probe.link('br0') is None and probe.link('p2') is not None


def test_inside_a_namespace(play, probe):
    play([task('netns', name='ovl')], expect_rc=0)
    converge(play, probe, [task('bridge', name='br0', namespace='ovl', addresses=['10.0.0.1/24'])])
    assert probe.addresses('br0', 'ovl') == ['10.0.0.1/24']
    assert probe.link('br0') is None


def test_bad_input_fails_before_any_change(host, play, probe):
    host.run(['ip', 'link', 'add', 'notabridge', 'type', 'veth', 'peer', 'name', 'nb2'])
    rejected(play, probe, task('bridge', name='br-name-too-long'), 'br-name-too-long', '15')
    rejected(play, probe, task('bridge', name='br0', addresses=['10.0.0.300/24']), '10.0.0.300/24')
    rejected(play, probe, task('bridge', name='br0', addresses=['10.0.0.1']), '10.0.0.1', 'prefix')
    rejected(play, probe, task('bridge', name='br0', mtu=40), '40', 'mtu')
    rejected(play, probe, task('bridge', name='br0', mac='01:00:5e:00:00:01'), '01:00:5e:00:00:01')
    rejected(play, probe, task('bridge', name='br0', namespace='nosuchns'), 'nosuchns')
    rejected(play, probe, task('bridge', name='br0', ports=['ghost']), 'ghost')
    rejected(play, probe, task('bridge', name='notabridge'), 'notabridge', 'veth')
    assert probe.namespaces() == []


def test_kernel_failure_undoes_what_the_call_created(host, play, probe):
    host.run(['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'])
    message = rejected(play, probe, task('bridge', name='br0', addresses=['10.0.0.1/24', '2001:db8::1/64']),
                       'br0', 'add address 2001:db8::1/64', 'undid')
    assert 'delete br0' in message


def test_check_mode_never_creates_a_namespace(play, probe):
    """A missing namespace is an error in a real run; check mode assumes an earlier task
    makes it, says so in a warning, and creates nothing."""
    for module, args in (('bridge', {'name': 'br0', 'namespace': 'ghost'}),
                         ('veth', {'name': 'v1', 'peer': 'eth0', 'peer_namespace': 'ghost'}),
                         ('route', {'namespace': 'ghost', 'routes': [{'dst': 'default', 'dev': 'eth0'}]}),
                         ('nat_rule', {'name': 'x', 'namespace': 'ghost', 'bridge': 'br0', 'subnet': '10.0.0.0/24'}),
                         ('vxlan', {'name': 'vx1', 'namespace': 'ghost', 'vni': 100})):
        run = play([task(module, **args)], check=True, expect_rc=0)
        result = run.results[0]
        assert result['status'] == 'changed', result
        assert any('ghost does not exist' in w and 'assumes' in w for w in result['result']['warnings']), result
        assert play([task(module, **args)]).rc != 0
    assert probe.namespaces() == [] and probe.link('v1') is None
