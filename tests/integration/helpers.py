"""Assertions shared by the integration tests."""


def differences(before, after, path=''):
    """Where two snapshots differ, as 'path: before -> after' lines (for assertion messages)."""
    if isinstance(before, dict) and isinstance(after, dict):
        found = []
        for key in sorted(set(before) | set(after), key=str):
            found += differences(before.get(key), after.get(key), '%s/%s' % (path, key))
        return found
    if isinstance(before, list) and isinstance(after, list):
        gone = [item for item in before if item not in after]
        new = [item for item in after if item not in before]
        return ['%s: %r -> %r' % (path, gone, new)] if gone or new else []
    return [] if before == after else ['%s: %r -> %r' % (path, before, after)]


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
        seen = probe.state()
        assert seen == untouched, 'check mode changed the host: %s\n%s' % (item, '\n'.join(differences(untouched, seen)))
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
    seen = probe.state()
    assert seen == untouched, 'a rejected task changed the host: %s\n%s' % (item, '\n'.join(differences(untouched, seen)))
    return message
