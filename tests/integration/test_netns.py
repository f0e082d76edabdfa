from helpers import converge, rejected, task


def test_create_rerun_remove(play, probe):
    reports = converge(play, probe, [task('netns', name='web')])
    netns = reports[0]['result']['netns']
    assert netns['name'] == 'web' and netns['interfaces'] == ['lo'] and netns['id'] > 0
    assert reports[0]['result']['diff'] == {'before': {'state': 'absent', 'loopback_up': None},
                                            'after': {'state': 'present', 'loopback_up': True}}
    assert probe.namespaces() == ['web']
    assert 'UP' in probe.link('lo', 'web')['flags']
    converge(play, probe, [task('netns', name='web', state='absent')])
    assert probe.namespaces() == []


def test_exact_name_lookup(play, probe):
    play([task('netns', name='mario2')], expect_rc=0)
    run = play([task('netns', name='mario')], check=True, expect_rc=0)
    assert run.results[0]['status'] == 'changed'        # 'mario' is not 'mario2'
    assert probe.namespaces() == ['mario2']


def test_adopt_process_and_rebind(host, play, probe):
    first = host.spawn(['unshare', '--net', 'sleep', '300'])
    second = host.spawn(['unshare', '--net', 'sleep', '300'])
    converge(play, probe, [task('netns', name='c1', pid=first.pid)])
    ids = [int(host.run(['stat', '-Lc', '%i', '/proc/%d/ns/net' % p.pid]).stdout) for p in (first, second)]
    assert int(host.run(['stat', '-Lc', '%i', '/run/netns/c1']).stdout) == ids[0]

    message = rejected(play, probe, task('netns', name='c1', pid=second.pid), 'c1', str(second.pid), 'force')
    assert str(ids[1]) in message

    run = converge(play, probe, [task('netns', name='c1', pid=second.pid, force=True)])[0]
    assert run['result']['diff']['after']['id'] == ids[1]
    assert run['result']['netns']['pids'] == [second.pid]

    gone = play([task('netns', name='c1', state='absent')], expect_rc=0).results[0]
    assert gone['result']['pids'] == [second.pid]                   # still held by the process
    assert any('still use the namespace' in w for w in gone['result'].get('warnings', []))


def test_bad_input_fails_before_any_change(play, probe):
    rejected(play, probe, task('netns', name='a/b'), 'a/b')
    rejected(play, probe, task('netns', name='x', pid=999999999), '999999999')
