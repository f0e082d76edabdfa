"""Assertions shared by the integration tests."""


def task(module, **args):
    return {'name': module, 'netplumb.container.' + module: args}


def converge(play, probe, tasks):
    """The contract of every module, task by task against the state the previous task left:
    --check --diff changes nothing and predicts exactly what the real run then reports, a second
    run changes nothing, and its observed state is what the first run predicted."""
    reports = []
    for item in tasks:
        untouched = probe.state()
        check = play([item], check=True, expect_rc=0).results[0]
        assert probe.state() == untouched, 'check mode changed the host: %s' % item
        real = play([item], expect_rc=0).results[0]
        assert check['status'] == real['status'], (check, real)
        assert check['result'].get('diff') == real['result'].get('diff'), (check, real)
        assert check['result']['actions'] == real['result']['actions'], (check, real)
        again = play([item], expect_rc=0).results[0]
        assert again['status'] == 'ok', 'the second run changed something: %s' % again
        if 'diff' in real['result']:
            # what the first run predicted is what the kernel now shows
            assert again['result']['diff']['before'] == real['result']['diff']['after'], (real, again)
        reports.append(real)
    return reports


def rejected(play, probe, item, *fragments):
    """The task fails with a message naming every fragment, and nothing changed."""
    untouched = probe.state()
    run = play([item])
    assert run.rc != 0, 'task should have failed: %s' % item
    result = run.results[0]
    assert result['status'] == 'failed', result
    message = result['result'].get('msg', '')
    for fragment in fragments:
        assert fragment in message, 'message %r does not name %r' % (message, fragment)
    assert probe.state() == untouched, 'a rejected task changed the host: %s' % item
    return message
