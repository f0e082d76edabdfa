# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What makes a host come back by itself (``restore_at_boot``): the engine and the
``netplumb-restore`` command, the systemd unit that runs it at boot and when the firewall service
is restarted or reloaded, and drop-ins that start the endpoints' workloads (``units``) in their
namespace after it.

The engine written to the host is this very module's code - the sources of the engine modules
loaded in this process (from the module's own payload) - so the command runs the code that
applied the change, with no Ansible and no copy of the collection. Every file is planned like any
other object: compared with what is there, shown by --check --diff, removed when no longer
wanted. Drop-ins of ours are found by name (``netplumb-ENDPOINT.conf``) and known by their first
line (HEADER), so a unit dropped from the list loses its drop-in, and a drop-in of that name that
someone else wrote is never removed or overwritten (the run stops, naming it)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import os
import re
import shutil
import sys

from ansible_collections.netplumb.container.plugins.module_utils._errors import InvalidInput, KernelError
from ansible_collections.netplumb.container.plugins.module_utils._files import ensure_dir, write_atomically
from ansible_collections.netplumb.container.plugins.module_utils._boot.desired import digest
from ansible_collections.netplumb.container.plugins.module_utils._dns.unbound import UNIT as NAME_SERVER_UNIT
from ansible_collections.netplumb.container.plugins.module_utils import _command
from ansible_collections.netplumb.container.plugins.module_utils._kernel.netns import hosts_path, resolv_path

PACKAGE = 'ansible_collections.netplumb.container.plugins.module_utils'
ENGINE_ROOT = '/usr/lib/netplumb'
COMMAND = '/usr/sbin/netplumb-restore'
UNIT_DIR = '/etc/systemd/system'
UNIT = 'netplumb-restore.service'
ENABLED = os.path.join(UNIT_DIR, 'multi-user.target.wants', UNIT)
DROP_IN = re.compile(r'^netplumb-(?P<endpoint>[A-Za-z0-9][A-Za-z0-9_.-]{0,62})\.conf$')
HEADER = '# managed by netplumb.container: edits are overwritten'
FIREWALLS = 'nftables.service firewalld.service'

COMMAND_TEXT = '''#!%s
%s
"""Rebuild the container networks netplumb.container last applied on this host (see --help)."""
import sys

sys.dont_write_bytecode = True      # the engine's files stay exactly as the module wrote them
sys.path.insert(0, %r)
from %s._topology.restore import main  # noqa: E402

sys.exit(main())
''' % (sys.executable or '/usr/bin/python3', HEADER, ENGINE_ROOT, PACKAGE)   # the interpreter the module runs with


def unit_text(state_dir):
    restore = '%s --state-dir %s' % (COMMAND, state_dir)
    return '\n'.join([
        HEADER,
        '[Unit]',
        'Description=Container networks of netplumb.container, restored from %s/desired.json' % state_dir,
        # the firewall service first: its restart flushes what we restore (Debian's nftables.conf
        # starts with "flush ruleset"); restarted and reloaded with it
        'After=local-fs.target %s' % FIREWALLS,
        'Before=network-online.target',
        'PartOf=%s' % FIREWALLS,
        'ReloadPropagatedFrom=%s' % FIREWALLS,
        '',
        '[Service]',
        'Type=oneshot',
        'RemainAfterExit=yes',
        'ExecStart=%s' % restore,
        'ExecReload=%s' % restore,
        '',
        '[Install]',
        'WantedBy=multi-user.target',
        ''])


def drop_in_text(endpoint, namespace):
    """A workload of ``endpoint``: in its namespace, with its names, once the restore ran."""
    lines = [HEADER, '# the workload of netplumb endpoint %s' % endpoint,
             '[Unit]', 'Wants=%s %s' % (UNIT, NAME_SERVER_UNIT), 'After=%s %s' % (UNIT, NAME_SERVER_UNIT)]
    if namespace:
        # its resolv.conf where the endpoint has a name server ("-": none, and the host's stays)
        lines += ['', '[Service]', 'NetworkNamespacePath=/run/netns/%s' % namespace,
                  'BindReadOnlyPaths=%s:/etc/hosts' % hosts_path(namespace),
                  'BindReadOnlyPaths=-%s:/etc/resolv.conf' % resolv_path(namespace)]
    return '\n'.join(lines) + '\n'


def drop_in_path(unit, endpoint):
    return os.path.join(UNIT_DIR, unit + '.d', 'netplumb-%s.conf' % endpoint)


def engine_files():
    """path -> source of every engine module loaded here: the restore command's too, which the
    topology loads before it asks (this layer cannot: the command is above it)."""
    if PACKAGE + '._topology.restore' not in sys.modules:
        raise KernelError('restore at boot', 'copy the engine', 'the restore command (_topology.restore) is not loaded')
    files = {}
    for name, module in sorted(sys.modules.items()):
        if module is None or not (name == PACKAGE or name.startswith(PACKAGE + '.')):
            continue
        loader = getattr(module, '__loader__', None)
        source = loader.get_source(name) if loader is not None and hasattr(loader, 'get_source') else None
        if source is None:
            continue
        leaf = '__init__.py' if hasattr(module, '__path__') else None
        parts = name.split('.')
        path = os.path.join(ENGINE_ROOT, *(parts if leaf else parts[:-1] + [parts[-1] + '.py']))
        files[os.path.join(path, leaf) if leaf else path] = source
    return files


def wanted_files(model, state_dir, enabled, engine):
    """path -> (mode, text) of every file of ours that should be on the host; symlinks as mode
    'link' with their target. ``engine``: what ``engine_files`` read (pure: no file read here)."""
    present = [e for e in model['endpoints'] if e['state'] == 'present']
    if not enabled or not (present or [n for n in model['networks'] if n['state'] == 'present']):
        return {}
    files = dict((path, (0o644, text)) for path, text in engine.items())
    files[COMMAND] = (0o755, COMMAND_TEXT)
    files[os.path.join(UNIT_DIR, UNIT)] = (0o644, unit_text(state_dir))
    files[ENABLED] = ('link', os.path.join(UNIT_DIR, UNIT))
    namespaces = dict((e['name'], e['namespace']) for e in present)
    for ep in present:
        namespace = namespaces[ep['shares']] if ep['shares'] else ep['namespace']
        for unit in ep['units']:
            files[drop_in_path(unit, ep['name'])] = (0o644, drop_in_text(ep['name'], namespace))
    return files


def observe_files():
    """path -> (mode, text) of every file of ours on the host: the command, the unit and its
    link, the engine's sources and the drop-ins named like ours."""
    paths = set(glob.glob(os.path.join(UNIT_DIR, '*.d', 'netplumb-*.conf')))
    paths |= set([COMMAND, os.path.join(UNIT_DIR, UNIT), ENABLED])
    for root, _dirs, names in os.walk(ENGINE_ROOT):
        paths |= set(os.path.join(root, n) for n in names if n.endswith('.py'))
    found = {}
    for path in paths:
        if os.path.islink(path):
            found[path] = ('link', os.readlink(path))
        elif os.path.isfile(path):
            with open(path) as handle:
                found[path] = (os.stat(path).st_mode & 0o7777, handle.read())
    return found


def plan_files(wanted, present):
    """(changes {path: (mode, text) or None}, actions, before, after): views give each file's
    digest, not its text."""
    changes, actions = {}, []
    for path in sorted(set(wanted) | set(present)):
        want, have = wanted.get(path), present.get(path)
        if want == have:
            continue
        if have is not None and not _ours(path, have):
            if path in wanted:
                raise InvalidInput('%s exists and netplumb did not write it (its first line is not "%s"): move it '
                                   'away, or name another unit for the endpoint' % (path, HEADER))
            continue
        changes[path] = want
        actions.append('%s: %s' % (path, 'remove' if want is None else 'write' if have is None else 'update'))
    before = dict((p, _view(f)) for p, f in present.items() if p in wanted or _ours(p, f))
    return changes, actions, before, dict((p, _view(f)) for p, f in wanted.items())


def _view(found):
    """'0o644 <digest>' or 'link <digest of the target>': what --diff shows of a file."""
    mode, text = found
    return '%s %s' % ('link' if mode == 'link' else oct(mode), digest(text))


def _ours(path, found):
    """Ours by path (the engine, the command, the unit and its link), or a drop-in named like ours
    that we wrote (``found``: its (mode, text))."""
    if path.startswith(ENGINE_ROOT + '/') or path in (COMMAND, os.path.join(UNIT_DIR, UNIT), ENABLED):
        return True
    return bool(DROP_IN.match(os.path.basename(path)) and path.startswith(UNIT_DIR + '/')) and \
        found[0] != 'link' and found[1].startswith(HEADER + '\n')


def apply_files(changes):
    """Write and remove; empty directories of ours go too; systemd reloads its units when it runs."""
    for path, want in sorted(changes.items()):
        if want is None:
            if os.path.lexists(path):
                os.unlink(path)
            _prune(os.path.dirname(path))
        elif want[0] == 'link':
            ensure_dir(os.path.dirname(path), 0o755)
            if os.path.lexists(path):
                os.unlink(path)
            os.symlink(want[1], path)
        else:
            ensure_dir(os.path.dirname(path), 0o755)
            write_atomically(path, want[1], want[0])
    if any(p.startswith(UNIT_DIR + '/') for p in changes) and os.path.isdir('/run/systemd/system'):
        _command.must(['systemctl', 'daemon-reload'], 'systemd')


def _prune(directory):
    """Remove ``directory`` and its parents while empty, up to what is not ours to remove."""
    while directory.startswith(ENGINE_ROOT) or (directory.startswith(UNIT_DIR + '/') and directory.endswith('.d')):
        if os.path.isdir(os.path.join(directory, '__pycache__')):
            shutil.rmtree(os.path.join(directory, '__pycache__'))     # bytecode of a Python that ran it
        if not os.path.isdir(directory) or os.listdir(directory):
            return
        os.rmdir(directory)
        if directory == ENGINE_ROOT:
            return
        directory = os.path.dirname(directory)
