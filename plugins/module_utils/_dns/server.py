# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The name server on the host: what is there (its configuration, whether it runs, who else holds
port 53, the host's upstream servers), and the steps that change it.

Supervised by systemd where the host runs it (``netplumb-dns.service``, enabled, so it is back
after a reboot before any playbook runs); elsewhere - a namespace lab, a container - started by
the engine as a daemon and tracked by its pid file, as netavark starts aardvark-dns. Either way
a change of names is a reload (SIGHUP: unbound re-reads everything but its sockets) and a change
of the addresses it listens on a restart."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import os
import signal
import time

from ansible_collections.netplumb.container.plugins.module_utils._errors import KernelError
from ansible_collections.netplumb.container.plugins.module_utils._files import ensure_dir, read_text, remove_file, write_atomically
from ansible_collections.netplumb.container.plugins.module_utils import _command
from ansible_collections.netplumb.container.plugins.module_utils._dns.unbound import PROGRAM, UNIT, UNIT_PATH

CHECKCONF = '/usr/sbin/unbound-checkconf'
HOST_RESOLV_CONF = '/etc/resolv.conf'
PORT = '0035'       # 53, as /proc/net/{udp,tcp} write it
TCP_LISTEN = '0A'


def paths(state_dir):
    directory = os.path.join(state_dir, 'dns')
    # loaded: a copy of the configuration as the server last read it (written once it did): the
    # file itself may be newer, when a run was cut short between writing it and the reload
    return {'directory': directory, 'config': os.path.join(directory, 'unbound.conf'),
            'loaded': os.path.join(directory, 'unbound.conf.loaded'),
            'pidfile': os.path.join(directory, 'unbound.pid')}


def supervisor():
    """systemd where it is the host's init (sd_booted), else the engine."""
    return 'systemd' if os.path.isdir('/run/systemd/system') else 'engine'


def upstream_servers(text):
    """The host's name servers, in order, from its resolv.conf text: what the server forwards to.
    It runs in the host's namespace, so a stub on the host's loopback (127.0.0.53) works."""
    servers = []
    for line in (text or '').splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == 'nameserver' and '%' not in words[1] and words[1] not in servers:
            servers.append(words[1])
    return servers


def _hex_address(text):
    """/proc/net/{udp,tcp}[6] local address (host byte order words) -> its text."""
    import socket
    import struct
    raw = bytes.fromhex(text)
    words = b''.join(struct.pack('<I', struct.unpack('>I', raw[i:i + 4])[0]) for i in range(0, len(raw), 4))
    return socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, words)


def listeners(our_pid):
    """Sockets bound to port 53 in this namespace: [{proto, address, inode, program, ours}]."""
    found, ours = [], _socket_inodes(our_pid) if our_pid else set()
    for proto in ('udp', 'tcp', 'udp6', 'tcp6'):
        for line in (read_text('/proc/net/' + proto) or '').splitlines()[1:]:
            fields = line.split()
            address, port = fields[1].rsplit(':', 1)
            if port != PORT or (proto.startswith('tcp') and fields[3] != TCP_LISTEN):
                continue
            inode = fields[9]
            found.append({'proto': proto.rstrip('6'), 'address': _hex_address(address), 'inode': inode,
                          'ours': inode in ours, 'program': None})
    for sock in found:
        # whose it is, read (every process's descriptors) only where it can be in the way: a stub
        # on the host's loopback (systemd-resolved's) never is
        if not sock['ours'] and not ipaddress.ip_address(sock['address']).is_loopback:
            sock['program'] = _owner(sock['inode'])
    return found


def _socket_inodes(pid):
    inodes = set()
    try:
        for fd in os.listdir('/proc/%d/fd' % pid):
            target = os.readlink('/proc/%d/fd/%s' % (pid, fd))
            if target.startswith('socket:['):
                inodes.add(target[8:-1])
    except OSError:
        pass
    return inodes


def _owner(inode):
    """'program (pid N)' holding a socket: read only when it is in the way, to say whose it is."""
    for pid in [p for p in os.listdir('/proc') if p.isdigit()]:
        if inode in _socket_inodes(int(pid)):
            return '%s (pid %s)' % ((read_text('/proc/%s/comm' % pid) or '?').strip(), pid)
    return None


def _running_pid(config):
    """The pid of our server, or None: systemd's main pid of the unit, or the pid file's process
    when its command line names our configuration (a pid reused by another process is not it)."""
    if supervisor() == 'systemd':
        proc = _command.run(['systemctl', 'show', '--property=MainPID', '--value', UNIT], stderr=_command.DEVNULL)
        pid = proc.stdout.strip()
        return int(pid) if pid.isdigit() and int(pid) > 0 else None
    text = read_text(config['pidfile'])
    if not text or not text.strip().isdigit():
        return None
    pid = int(text.strip())
    cmdline = (read_text('/proc/%d/cmdline' % pid) or '').split('\0')
    return pid if config['config'] in cmdline else None


def observe(state_dir, needed):
    """What the planner reads (``needed``: whether the run declares anything that asks names;
    the costlier looks are skipped when nothing does and nothing of ours runs)."""
    where = paths(state_dir)
    written = read_text(where['config'])
    pid = _running_pid(where) if written is not None or needed else None
    text = read_text(where['loaded']) if pid else written
    upstream = upstream_servers(read_text(HOST_RESOLV_CONF))
    return {'paths': where, 'config': text, 'written': written, 'running': pid is not None, 'pid': pid,
            'supervisor': supervisor(),
            'program': PROGRAM, 'installed': os.access(PROGRAM, os.X_OK), 'upstream': upstream,
            'listeners': listeners(pid) if needed else [],
            'unit': read_text(UNIT_PATH) if supervisor() == 'systemd' else None}


def _run(argv):
    _command.must(argv, 'name server', package='unbound')


def _write_config(where, text):
    """Written beside, checked by unbound itself, then put in place: a bad file never replaces
    a good one."""
    ensure_dir(where['directory'], 0o755)
    trial = where['config'] + '.check'
    write_atomically(trial, text, 0o644)
    try:
        if os.access(CHECKCONF, os.X_OK):
            _run([CHECKCONF, trial])
        os.rename(trial, where['config'])
    finally:
        remove_file(trial)


def _wait_gone(pid, seconds=5.0):
    """Until the process has ended: gone, or a zombie its new parent has not reaped yet (the
    daemon is no child of ours)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        stat = read_text('/proc/%d/stat' % pid)
        if stat is None or stat.rsplit(')', 1)[1].split()[0] == 'Z':
            return
        time.sleep(0.02)
    raise KernelError('name server', 'stop unbound (pid %d)' % pid, 'still running after %.0f s' % seconds)


def _wait_started(where, seconds=5.0):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if _running_pid(where):
            return
        time.sleep(0.02)
    raise KernelError('name server', 'start unbound', 'no pid file %s after %.0f s' % (where['pidfile'], seconds))


def _start(where):
    """unbound daemonizes once its sockets are open: a failure to bind is its exit status."""
    _command.must([PROGRAM, '-c', where['config']], 'name server', package='unbound')


def apply(change, seen):
    """``change``: the plan's {config, action}; ``seen``: what ``observe`` found."""
    where, action = seen['paths'], change['action']
    if change['config'] is not None and change['config'] != seen['written']:
        _write_config(where, change['config'])
    if seen['supervisor'] == 'systemd':
        _apply_systemd(change, seen, action)
    elif action in ('stop', 'restart'):
        os.kill(seen['pid'], signal.SIGTERM)
        _wait_gone(seen['pid'])
    if seen['supervisor'] != 'systemd':
        if action in ('start', 'restart'):
            _start(where)
            _wait_started(where)
        elif action == 'reload':
            os.kill(seen['pid'], signal.SIGHUP)
    if change['config'] is not None:
        write_atomically(where['loaded'], change['config'], 0o644)
    else:
        for path in (where['config'], where['loaded'], where['pidfile']):
            remove_file(path)
        if os.path.isdir(where['directory']) and not os.listdir(where['directory']):
            os.rmdir(where['directory'])


def _apply_systemd(change, seen, action):
    if change['config'] is not None:
        if seen['unit'] != change['unit']:
            write_atomically(UNIT_PATH, change['unit'], 0o644)
            _run(['systemctl', 'daemon-reload'])
        if action == 'start':
            _run(['systemctl', 'enable', '--now', UNIT])
        elif action in ('restart', 'reload'):
            _run(['systemctl', action, UNIT])
        return
    if seen['unit'] is not None or action == 'stop':
        _run(['systemctl', 'disable', '--now', UNIT])
        remove_file(UNIT_PATH)
        _run(['systemctl', 'daemon-reload'])
