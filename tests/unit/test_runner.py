"""The runner's Change: views made only when a diff asks for them."""

import pytest

from ansible_collections.netplumb.container.plugins.module_utils._runner import Change, run_module


class FakeModule(object):
    def __init__(self, diff):
        self.params, self.check_mode, self._diff = {}, True, diff

    def warn(self, warning):
        pass

    def exit_json(self, **result):
        raise SystemExit(result)


def test_a_view_is_made_only_when_a_diff_asks_for_it_and_once():
    made = []

    def reconcile(run, params):
        return Change(['an action'], before=lambda: made.append('before') or {'x': 1}, after={'x': 2})
    for diff in (False, True):
        with pytest.raises(SystemExit) as exited:
            run_module(FakeModule(diff), reconcile, netlink=False)
        assert exited.value.args[0].get('diff') == ({'before': {'x': 1}, 'after': {'x': 2}} if diff else None)
    assert made == ['before']
    change = Change(before=lambda: {'x': 1})
    change.before = {'x': 3}            # modules that fill in their views later
    assert (change.before, change.after) == ({'x': 3}, {})
