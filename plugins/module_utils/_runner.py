# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one runner of every module: check mode, diff, warnings, and the one place where errors
become fail_json.

A module's ``reconcile(run, params)`` validates, observes and plans without changing anything
and returns a ``Change``: the actions in words, the before/after views, return values, warnings
and the steps that apply it. Check mode stops there, so it never writes anything (reconcile
takes its locks through ``run.hold``, which it only does for a real run). A real run applies the
steps in order; ``changed`` is true as soon as one step did something, also when a later step
fails, and the error names the step that failed. Nothing here needs Ansible but the module's own
exit, so ``perform`` also serves the host-side restore command (``_topology.restore``)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.netplumb.container.plugins.module_utils._errors import NetplumbError
from ansible_collections.netplumb.container.plugins.module_utils._kernel.observe import Kernel
from ansible_collections.netplumb.container.plugins.module_utils._kernel.changes import PYROUTE2_IMPORT_ERROR

PYROUTE2_HINT = ('Install it on the managed host: "apt-get install python3-pyroute2" on Debian/Ubuntu, '
                 '"dnf install python3-pyroute2" on Fedora/RHEL, or "pip install pyroute2" '
                 '(the netplumb.container.prereqs role does this).')


def _view(slot):
    """A before or after view, made by its callable the first time it is read."""
    def get(self):
        view = getattr(self, slot)
        if callable(view):
            view = view()
            setattr(self, slot, view)
        return view if view is not None else {}
    return property(get, lambda self, view: setattr(self, slot, view))


class Change(object):
    """What a run would do. ``steps``: [(name, callable)] applied in order by a real run.
    ``before`` and ``after`` may be callables that make the view when it is asked for (a diff):
    a large topology's view costs more to make than a run that finds nothing to change."""

    before = _view('_before')
    after = _view('_after')

    def __init__(self, actions=None, before=None, after=None, returns=None, warnings=None, steps=None):
        self.actions = list(actions or [])
        self._before, self._after = before, after
        self.returns = returns or {}
        self.warnings = list(warnings or [])
        self.steps = list(steps or [])

    @property
    def changed(self):
        return bool(self.actions)


def object_spec(**options):
    """The argument spec of a module that manages one named object: its ``name``, the ``namespace``
    it lives in (None: the module's) and ``state``, then the module's own ``options``."""
    spec = dict(name=dict(type='str', required=True), namespace=dict(type='str'),
                state=dict(type='str', default='present', choices=['present', 'absent']))
    spec.update(options)
    return spec


def single_object(reconcile):
    """For modules whose ``reconcile(kernel, params)`` returns one plan of _objects/plan.py: a Change
    whose one step is applying its operations."""
    def reconcile_change(run, params):
        plan = reconcile(run.kernel, params)
        return Change([op.describe() for op in plan.ops], plan.before, plan.after, plan.returns, plan.warnings,
                      [('kernel', lambda: run.kernel.apply(plan.ops))])
    return reconcile_change


class Run(object):
    """What reconcile gets besides the parameters: the kernel (None for modules that need no
    netlink), whether this is check mode, and ``hold`` for resources kept until the end."""

    def __init__(self, kernel, check_mode):
        self.kernel = kernel
        self.check_mode = check_mode
        self._held = []

    def hold(self, context):
        """Enter ``context`` (a lock, an open file) and leave it when the run ends."""
        value = context.__enter__()
        self._held.append(context)
        return value

    def close(self):
        for context in reversed(self._held):
            context.__exit__(None, None, None)
        self._held = []
        if self.kernel is not None:
            self.kernel.close()


def _message(error, step):
    if isinstance(error, NetplumbError):
        text = str(error)
    else:           # IOError/OSError: say which file
        text = '%s: %s' % (getattr(error, 'filename', None) or 'file', getattr(error, 'strerror', None) or error)
    return text if step is None else '%s: %s' % (step, text)


def perform(run, reconcile, params):
    """Plan with ``reconcile`` and, unless in check mode, apply the steps in order. Returns
    (change or None, whether a step ran, the step that failed or None, the error or None)."""
    change, applied, step = None, False, None
    try:
        change = reconcile(run, params)
        if change.changed and not run.check_mode:
            for step, apply in change.steps:
                apply()
                applied = True
        return change, applied, None, None
    except (NetplumbError, IOError, OSError) as error:
        return change, applied, step, error


def run_module(module, reconcile, describe=None, netlink=True):
    """Run ``reconcile`` (and ``describe(kernel, params) -> dict``, return values read once the
    change is applied) and exit the module. ``netlink``: the module talks to the kernel."""
    if netlink and PYROUTE2_IMPORT_ERROR:
        from ansible.module_utils.basic import missing_required_lib
        module.fail_json(msg=missing_required_lib('pyroute2') + ' ' + PYROUTE2_HINT,
                         exception=PYROUTE2_IMPORT_ERROR)
    result = {'changed': False, 'actions': []}
    run = Run(Kernel(assume_missing=module.check_mode) if netlink else None, module.check_mode)
    change, applied, step, error = perform(run, reconcile, module.params)
    if change is not None:
        result.update(change.returns)
        for warning in change.warnings + (run.kernel.warnings if run.kernel else []):
            module.warn(warning)
        result['actions'] = change.actions
        if module._diff:
            result['diff'] = {'before': change.before, 'after': change.after}
        result['changed'] = change.changed if error is None else applied
    if error is None and describe is not None:
        try:
            result.update(describe(run.kernel, module.params))
        except (NetplumbError, IOError, OSError) as failure:
            error = failure
    run.close()
    if error is not None:
        result['msg'] = _message(error, step)
        module.fail_json(**result)
    module.exit_json(**result)
