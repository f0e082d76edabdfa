# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""netplumb.container.play_info: the play's run and strategy, read on the controller (Ansible
has no variable for the strategy), so the network role refuses at its first task a strategy
under which hosts would not wait for the one plan."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.plugins.action import ActionBase

# strategies under which every host of a batch ends a task before any starts the next one
IN_STEP = ('linear', 'debug', 'ansible.builtin.linear', 'ansible.builtin.debug', 'mitogen_linear')


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        if self._task.args:
            return dict(result, failed=True, msg='play_info takes no options (got %s)' % ', '.join(sorted(self._task.args)))
        play = self._task.get_play()
        strategy = play.strategy or 'linear'
        result.update(changed=False, run=str(play._uuid), strategy=strategy)
        if strategy not in IN_STEP:
            result.update(failed=True, msg=(
                'the play\'s strategy is %s: its hosts run ahead of each other, and the netplumb.container.network role '
                'plans the whole inventory once, for every host to wait for - use strategy linear (the default), with '
                'serial for a rolling update' % strategy))
        return result
