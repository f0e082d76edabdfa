# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where a module's plan is run and where engine errors become fail_json."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.netplumb.container.plugins.module_utils._errors import NetplumbError
from ansible_collections.netplumb.container.plugins.module_utils._kernel import Kernel, PYROUTE2_IMPORT_ERROR

PYROUTE2_HINT = ('Install it on the managed host: "apt-get install python3-pyroute2" on Debian/Ubuntu, '
                 '"dnf install python3-pyroute2" on Fedora/RHEL, or "pip install pyroute2" '
                 '(the netplumb.container.prereqs role does this).')


def run_module(module, reconcile, describe=None):
    """``reconcile(kernel, params) -> Plan`` validates, observes and plans without
    changing anything; ``describe(kernel, params) -> dict`` adds return values read
    after the plan was applied (or, in check mode, as things are now)."""
    if PYROUTE2_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib('pyroute2') + ' ' + PYROUTE2_HINT,
                         exception=PYROUTE2_IMPORT_ERROR)
    result = {'changed': False, 'actions': []}
    try:
        with Kernel(assume_missing=module.check_mode) as kernel:
            plan = reconcile(kernel, module.params)
            result.update(plan.returns)
            for warning in plan.warnings + kernel.warnings:
                module.warn(warning)
            result['actions'] = [op.describe() for op in plan.ops]
            if module._diff:
                result['diff'] = {'before': plan.before, 'after': plan.after}
            if plan.changed and not module.check_mode:
                kernel.apply(plan.ops)
            result['changed'] = plan.changed
            if describe is not None:
                result.update(describe(kernel, module.params))
    except NetplumbError as error:
        result['msg'] = str(error)
        module.fail_json(**result)
    module.exit_json(**result)
