# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback: append every task result as one JSON line to $NETPLUMB_RECORD."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: netplumb_record
type: aggregate
short_description: Record task results as JSON lines for the test suite
description: Writes one JSON object per task result to the file named by the NETPLUMB_RECORD environment variable.
requirements:
  - enabled in callbacks_enabled
'''

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'netplumb_record'
    CALLBACK_NEEDS_ENABLED = True

    def _record(self, result, status):
        path = os.environ.get('NETPLUMB_RECORD')
        if not path:
            return
        entry = {
            'task': result._task.get_name(),
            'action': result._task.action,
            'host': result._host.get_name(),
            'status': status,
            'result': self._clean(result._result),
        }
        with open(path, 'a') as record:
            record.write(json.dumps(entry, default=str) + '\n')

    def _clean(self, value):
        return json.loads(json.dumps(value, default=str))

    def v2_runner_on_ok(self, result):
        self._record(result, 'changed' if result._result.get('changed') else 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, 'failed')

    def v2_runner_on_skipped(self, result):
        self._record(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._record(result, 'unreachable')
