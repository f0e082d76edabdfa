# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``netplumb-restore``: the host-side command that rebuilds the host's container networks from
the desired state the topology module kept (``desired``), with the module's own engine (observe
-> plan -> apply) and no Ansible or controller. Run at boot, and again when the host's firewall
service is restarted or reloaded, by ``netplumb-restore.service``.

Exit status: 0 done (or nothing to do), 1 the restore failed (the message names the step), 2 the
kept state is missing or corrupt (nothing changed). ``--check`` plans and prints without changing
anything. Endpoints adopted from a process that is gone are reported and left out."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import sys

from ansible_collections.netplumb.container.plugins.module_utils._errors import InvalidInput, NetplumbError
from ansible_collections.netplumb.container.plugins.module_utils._kernel.observe import Kernel
from ansible_collections.netplumb.container.plugins.module_utils._kernel.changes import PYROUTE2_IMPORT_ERROR
from ansible_collections.netplumb.container.plugins.module_utils._runner import PYROUTE2_HINT, Run, perform
from ansible_collections.netplumb.container.plugins.module_utils._boot.desired import living, read_desired
from ansible_collections.netplumb.container.plugins.module_utils._topology.host import reconcile

DEFAULT_STATE_DIR = '/var/lib/netplumb'


def restore(state_dir, check_mode=False, out=sys.stdout):
    """Rebuild from ``state_dir``'s desired state; returns the exit status."""
    try:
        state = read_desired(state_dir)
    except InvalidInput as error:
        out.write('netplumb-restore: %s\n' % error)
        return 2
    arguments, gone = living(state)
    for name in gone:
        out.write('netplumb-restore: endpoint %s is left out: the process whose namespace it adopted is gone\n' % name)
    run = Run(Kernel(assume_missing=check_mode), check_mode)
    change, _applied, step, error = perform(run, lambda r, params: reconcile(r, params, restoring=True),
                                            dict(arguments, state_dir=state_dir))
    run.close()
    for warning in (change.warnings if change else []) + run.kernel.warnings:
        out.write('netplumb-restore: warning: %s\n' % warning)
    for action in change.actions if change else []:
        out.write('%s%s\n' % ('(check) ' if check_mode else '', action))
    if error is not None:
        where = '%s: ' % step if step else ''
        out.write('netplumb-restore: failed: %s%s\n' % (where, error if isinstance(error, NetplumbError) else
                                                        getattr(error, 'strerror', None) or error))
        return 1
    out.write('netplumb-restore: %s\n' % ('nothing to do' if not change.actions else '%d change%s %s' % (
        len(change.actions), '' if len(change.actions) == 1 else 's', 'planned' if check_mode else 'applied')))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog='netplumb-restore', description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--state-dir', default=DEFAULT_STATE_DIR, help='where the topology module keeps its state')
    parser.add_argument('--check', action='store_true', help='plan and print, change nothing')
    args = parser.parse_args(argv)
    if PYROUTE2_IMPORT_ERROR:
        sys.stdout.write('netplumb-restore: pyroute2 is missing. %s\n' % PYROUTE2_HINT)
        return 2
    return restore(args.state_dir, args.check)
