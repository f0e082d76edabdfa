# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine's one way to run a program (nft, iptables-restore, unbound, systemctl, firewall-cmd,
frr-reload.py): an argument vector, never a shell string; text in and out; LC_ALL=C, so the
messages it parses read alike on every host; no standard input unless given.

Not AnsibleModule.run_command: the engine runs without a module too - at boot, where
netplumb-restore.service runs it alone - so it cannot hold one."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shlex
import subprocess

from ansible_collections.netplumb.container.plugins.module_utils._errors import KernelError

PIPE, STDOUT, DEVNULL = subprocess.PIPE, subprocess.STDOUT, subprocess.DEVNULL


def run(argv, stdin_text=None, stdout=PIPE, stderr=PIPE):
    """The finished process (``returncode``, ``stdout``, ``stderr`` as text); OSError when the
    program cannot be started."""
    # the one call of its kind (see above for why not run_command)
    return subprocess.run(  # pylint: disable=ansible-bad-function
        list(argv), input=stdin_text, stdin=DEVNULL if stdin_text is None else None, stdout=stdout, stderr=stderr,
        universal_newlines=True, env=dict(os.environ, LC_ALL='C'), check=False)


def must(argv, obj, stdin_text=None, package=None):
    """The standard output of a command that must succeed. Else a KernelError that names ``obj``
    (what the command was for), the command and what it said - never a traceback; ``package``:
    what to install when the program is missing."""
    try:
        proc = run(argv, stdin_text=stdin_text)
    except OSError as error:
        raise KernelError(obj, 'run %s' % argv[0], error.strerror + (' (install %s)' % package if package else ''))
    if proc.returncode != 0:
        said = (proc.stderr or '').strip() or (proc.stdout or '').strip() or 'exit code %d' % proc.returncode
        raise KernelError(obj, 'run %s' % ' '.join(shlex.quote(a) for a in argv), said[-500:])
    return proc.stdout
