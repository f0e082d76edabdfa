from helpers import converge, rejected, task


def _host(play):
    play([task('netns', name='c1'),
          task('veth', name='v1', peer='eth0', peer_namespace='c1', peer_addresses=['10.0.0.2/24', '2001:db8::2/64'],
               addresses=['10.0.0.1/24', '2001:db8::1/64'])], expect_rc=0)


def test_lifecycle(play, probe):
    _host(play)
    converge(play, probe, [
        task('route', namespace='c1', routes=[{'dst': 'default', 'gateway': '10.0.0.1'},
                                              {'dst': 'default', 'gateway': '2001:db8::1'}]),
        task('route', namespace='c1', routes=[{'dst': 'default', 'gateway': '10.0.0.3'}]),   # replaced in place
        task('route', namespace='c1', routes=[{'dst': '203.0.113.0/24', 'dev': 'eth0', 'metric': 10}]),
    ])
    routes = probe.ip('route', 'show', namespace='c1')
    assert {'dst': 'default', 'gateway': '10.0.0.3'}.items() <= routes[0].items()
    assert len([r for r in routes if r['dst'] == 'default']) == 1

    run = converge(play, probe, [task('route', namespace='c1', exclusive=True,
                                      routes=[{'dst': 'default', 'gateway': '10.0.0.1'}])])[0]
    assert run['result']['diff']['after'] == {'routes': [{'dst': '0.0.0.0/0', 'gateway': '10.0.0.1'}]}
    assert [r['dst'] for r in probe.ip('route', 'show', namespace='c1')] == ['default', '10.0.0.0/24']
    assert [r['dst'] for r in probe.ip('-6', 'route', 'show', namespace='c1') if r['dst'] == 'default'] == []

    converge(play, probe, [task('route', namespace='c1', state='absent', routes=[{'dst': 'default'}])])
    assert [r['dst'] for r in probe.ip('route', 'show', namespace='c1')] == ['10.0.0.0/24']


def test_bad_input_fails_before_any_change(play, probe):
    _host(play)
    rejected(play, probe, task('route', namespace='c1', routes=[{'dst': '10.1.0.5/24', 'dev': 'eth0'}]), '10.1.0.5/24')
    rejected(play, probe, task('route', namespace='c1', routes=[{'dst': 'default'}]), 'gateway', 'dev')
    rejected(play, probe, task('route', namespace='c1', routes=[{'dst': 'default', 'gateway': '10.0.0.999'}]),
             '10.0.0.999')
    rejected(play, probe, task('route', namespace='c1', routes=[{'dst': '::/0', 'gateway': '10.0.0.1'}]),
             'different IP versions')
    rejected(play, probe, task('route', namespace='c1', routes=[{'dst': 'default', 'dev': 'eth9'}]), 'eth9')
    rejected(play, probe, task('route', namespace='nope', routes=[{'dst': 'default', 'dev': 'eth0'}]), 'nope')
