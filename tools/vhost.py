"""Throw-away virtual hosts: a network, mount and UTS namespace kept alive by a holder
process, with a private tmpfs on /run (so its /run/netns is its own).

Everything a test or demo does runs inside one through ``VirtualHost.run``; nothing
touches the machine's own network namespace. ``destroy`` kills every process that
lives in the host's namespaces (or carries its tag) and then the holder, and with the
holder's mount namespace every named namespace created inside goes away.

CLI (for humans and the demo):  vhost.py create NAME | exec NAME -- CMD... | destroy NAME | list
"""

import os
import signal
import subprocess
import sys
import time

REGISTRY = '/run/netplumb-vhosts'      # holder PIDs of vhosts created from the CLI
TAG = 'NETPLUMB_VHOST'

_SETUP = r'''
set -e
mount -t tmpfs -o mode=755 netplumb-vhost /run
hostname "$1"
ip link set lo up
echo ready
exec sleep infinity
'''


def _ns_id(pid, kind):
    try:
        return os.stat('/proc/%s/ns/%s' % (pid, kind)).st_ino
    except OSError:
        return None


def _tagged(pid, name):
    try:
        with open('/proc/%s/environ' % pid, 'rb') as environ:
            return ('%s=%s' % (TAG, name)).encode() in environ.read().split(b'\0')
    except OSError:
        return False


class VirtualHost(object):
    def __init__(self, name, pid):
        self.name = name
        self.pid = pid

    @classmethod
    def create(cls, name):
        proc = subprocess.Popen(
            ['unshare', '--net', '--mount', '--uts', '--propagation', 'private',
             '--', 'sh', '-c', _SETUP, 'vhost-setup', name],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True, env=dict(os.environ, **{TAG: name}))
        line = proc.stdout.readline().decode().strip()
        if line != 'ready':
            proc.kill()
            proc.wait()
            raise RuntimeError('virtual host %s did not start: %s' % (name, proc.stderr.read().decode().strip()))
        proc.stdout.close()
        proc.stderr.close()
        host = cls(name, proc.pid)
        host._proc = proc
        return host

    def env(self, extra=None):
        env = dict(os.environ, **{TAG: self.name})
        env.update(extra or {})
        return env

    def command(self, argv):
        return ['nsenter', '-t', str(self.pid), '--net', '--mount', '--uts', '--'] + list(argv)

    def run(self, argv, check=True, env=None, timeout=120, **kwargs):
        """Run ``argv`` inside the virtual host; returns CompletedProcess with text output."""
        return subprocess.run(self.command(argv), check=check, env=self.env(env), timeout=timeout,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, **kwargs)

    def spawn(self, argv):
        """Start a long-running process inside; destroy() stops it."""
        return subprocess.Popen(self.command(argv), env=self.env(), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def namespace_ids(self):
        """Ids of the holder's namespaces and of every named namespace inside."""
        ids = set(filter(None, (_ns_id(self.pid, kind) for kind in ('net', 'mnt', 'uts'))))
        netns_dir = '/proc/%d/root/run/netns' % self.pid
        try:
            names = os.listdir(netns_dir)
        except OSError:
            names = []
        for name in names:
            try:
                ids.add(os.stat(os.path.join(netns_dir, name)).st_ino)
            except OSError:
                pass
        return ids

    def processes(self, ids=None):
        """PIDs (other than the holder) living in this host's namespaces or carrying its tag."""
        ids = self.namespace_ids() if ids is None else ids
        found = []
        for entry in os.listdir('/proc'):
            if not entry.isdigit() or int(entry) in (self.pid, os.getpid()):
                continue
            if _ns_id(entry, 'net') in ids or _ns_id(entry, 'mnt') in ids or _tagged(entry, self.name):
                found.append(int(entry))
        return found

    def destroy(self, timeout=10):
        ids = self.namespace_ids()
        deadline = time.time() + timeout
        while True:
            victims = self.processes(ids)
            if not victims:
                break
            for pid in victims:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            if time.time() > deadline:
                raise RuntimeError('virtual host %s: processes %s would not stop' % (self.name, victims))
            time.sleep(0.05)
        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:
            pass
        proc = getattr(self, '_proc', None)
        if proc is not None:
            proc.wait()
        else:
            while os.path.exists('/proc/%d' % self.pid) and time.time() < deadline:
                time.sleep(0.05)


# ---------------------------------------------------------------- CLI

def _registered(name):
    try:
        with open(os.path.join(REGISTRY, name)) as pid_file:
            pid = int(pid_file.read())
    except (OSError, ValueError):
        return None
    return VirtualHost(name, pid) if os.path.exists('/proc/%d' % pid) else None


def main(argv):
    if len(argv) >= 2 and argv[0] == 'create':
        name = argv[1]
        if _registered(name):
            print('virtual host %s exists' % name)
            return 0
        host = VirtualHost.create(name)
        os.makedirs(REGISTRY, exist_ok=True)
        with open(os.path.join(REGISTRY, name), 'w') as pid_file:
            pid_file.write(str(host.pid))
        print('virtual host %s created (holder pid %d)' % (name, host.pid))
        return 0
    if len(argv) >= 4 and argv[0] == 'exec' and argv[2] == '--':
        host = _registered(argv[1])
        if host is None:
            sys.exit('no virtual host %s' % argv[1])
        return subprocess.call(host.command(argv[3:]), env=host.env())
    if len(argv) == 2 and argv[0] == 'destroy':
        host = _registered(argv[1])
        if host is not None:
            host.destroy()
        try:
            os.unlink(os.path.join(REGISTRY, argv[1]))
            os.rmdir(REGISTRY)
        except OSError:
            pass
        print('virtual host %s destroyed' % argv[1])
        return 0
    if argv == ['list']:
        for name in sorted(os.listdir(REGISTRY)) if os.path.isdir(REGISTRY) else []:
            print(name, 'up' if _registered(name) else 'gone')
        return 0
    sys.exit(__doc__)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
