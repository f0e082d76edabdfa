# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host side of FRR for bgp_evpn: systemctl and frr-reload.py run with a fixed argument vector
(never a shell string)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.netplumb.container.plugins.module_utils import _command
from ansible_collections.netplumb.container.plugins.module_utils._errors import KernelError


def run(argv):
    """(exit status, output) of a command."""
    try:
        proc = _command.run(argv, stderr=_command.STDOUT)
    except OSError as error:
        raise KernelError('frr', 'run %s' % argv[0], error.strerror)
    return proc.returncode, proc.stdout


def must(argv):
    _command.must(argv, 'frr')
