"""Integration fixtures: every test gets a throw-away virtual host (own network and
mount namespaces) and runs real ansible-playbook inside it. The whole session is
guarded: the machine's root namespace must be exactly as before, and nothing the
tests made may be left behind."""

import hashlib
import itertools
import json
import os
import re
import time

import pytest

import hostguard
from playbook import Runner
from ansible_collections.netplumb.lab.plugins.module_utils._vhost import VirtualHost, lab_processes

COLLECTIONS_PATH = os.environ["NETPLUMB_COLLECTIONS_PATH"]   # set by tests/conftest.py
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB_PLAYBOOK = os.path.join(ROOT, 'playbooks', 'lab.yml')

_serial = itertools.count(1)
# what the collection writes in a virtual host (units and /usr are not: restore_at_boot is off there)
WRITTEN = ('/var/lib/netplumb', '/etc/netns')


def pytest_collection_modifyitems(config, items):
    if os.geteuid() == 0:
        return
    if os.environ.get('NETPLUMB_REQUIRE_ROOT'):
        raise pytest.UsageError('integration tests need root (NETPLUMB_REQUIRE_ROOT is set)')
    skip = pytest.mark.skip(reason='integration tests need root to create namespaces')
    for item in items:
        if 'integration' in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope='session', autouse=True)
def root_namespace_guard():
    if os.geteuid() != 0:
        yield
        return
    before = hostguard.snapshot()
    yield
    problems = hostguard.differences(before, hostguard.snapshot())
    assert not problems, 'the test run changed the machine:\n' + '\n'.join(problems)


@pytest.fixture
def host():
    """A fresh virtual host; destroyed (with every process inside) even when the test fails."""
    vhost = VirtualHost.create('np-test-%d-%d' % (os.getpid(), next(_serial)))
    try:
        yield vhost
    finally:
        vhost.destroy()
        assert not vhost.processes(), 'processes survived destroy'


@pytest.fixture(scope='session')
def module_python():
    """Interpreter the modules run with on the 'managed host'; CI runs the suite once with
    the newest pyroute2 and once with Debian 12's python3-pyroute2 0.7.2."""
    return os.environ.get('NETPLUMB_TEST_PYTHON') or None


@pytest.fixture
def play(host, tmp_path, module_python):
    return Runner(host, str(tmp_path), COLLECTIONS_PATH, module_python)


class Probe(object):
    """Read kernel state inside a virtual host with iproute2 (independent of the modules)."""

    def __init__(self, host):
        self.host = host

    def ip(self, *args, namespace=None):
        argv = ['ip', '-j'] + (['-n', namespace] if namespace else []) + list(args)
        out = self.host.run(argv).stdout
        return json.loads(out) if out.strip() else []

    def link(self, name, namespace=None):
        for link in self.ip('-d', 'addr', 'show', namespace=namespace):
            if link['ifname'] == name:
                return link
        return None

    def addresses(self, name, namespace=None):
        link = self.link(name, namespace)
        return sorted('%s/%d' % (a['local'], a['prefixlen']) for a in link.get('addr_info', [])
                      if not a['local'].startswith('fe80:'))

    def namespaces(self):
        return sorted(n['name'] for n in self.ip('netns', 'list'))

    def settle(self, timeout=10):
        """Wait for IPv6 duplicate address detection, which adds routes by itself."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not any(self.ip('-6', 'addr', 'show', 'tentative', namespace=ns) for ns in [None] + self.namespaces()):
                return
            time.sleep(0.1)

    def state(self):
        """Everything in the host that a run of ours could change: named namespaces and, for each,
        links, addresses, routes, neighbours and forwarding entries; the whole firewall of both
        backends; the sysctls the collection sets; every file under the directories it writes.
        What "nothing changed" is compared on (test_harness proves each kind is seen)."""
        self.settle()
        state = {'netns': self.namespaces()}
        for ns in [None] + state['netns']:
            state[ns or ''] = {'links': sorted((l['ifname'], l.get('mtu'), l.get('master'), tuple(l.get('flags', [])),
                                                tuple(sorted(a['local'] for a in l.get('addr_info', []))))
                                               for l in self.ip('addr', 'show', namespace=ns)),
                               'marks': sorted((l['ifname'], l.get('ifalias'), l.get('address'))
                                               for l in self.ip('link', 'show', namespace=ns)),
                               'routes': self.ip('route', 'show', namespace=ns),
                               'routes6': self.ip('-6', 'route', 'show', namespace=ns),
                               'neighbours': sorted(json.dumps(n, sort_keys=True) for n in
                                                    self.ip('neigh', 'show', 'nud', 'permanent', namespace=ns)),
                               'fdb': sorted(json.dumps(f, sort_keys=True) for f in self.fdb(ns))}
        state['nft'] = self.host.run(['nft', '-s', 'list', 'ruleset']).stdout
        # iptables-save is the nft variant here: the legacy tables (a backend of ours too) apart
        for save in ('iptables-save', 'ip6tables-save', 'iptables-legacy-save', 'ip6tables-legacy-save'):
            # without the chains' packet counters, which traffic moves
            state[save] = [re.sub(r' \[\d+:\d+\]$', '', line) for line in
                           self.host.run([save], check=False).stdout.splitlines() if not line.startswith('#')]
        state['sysctl'] = self.host.run(['sysctl', '-a', '-r', r'ip_forward$|\.forwarding$|route_localnet|bridge-nf'],
                                        check=False).stdout
        state['files'] = self.files()
        # a server restarted is a new process: what runs inside (the name server) is host state too
        state['processes'] = sorted((pid, _cmdline(pid)) for pid in self.host.processes())
        return state

    def fdb(self, namespace):
        """Forwarding entries written, not learned: a bridge learns a MAC (state '') from any frame,
        an IPv6 solicitation flooded over a VXLAN device too ('show static' does not filter them)."""
        argv = ['bridge', '-j'] + (['-n', namespace] if namespace else []) + ['fdb', 'show']
        out = self.host.run(argv, check=False).stdout
        return [entry for entry in (json.loads(out) if out.strip() else []) if entry.get('state')]

    def files(self):
        """path -> SHA-1 of every file under the directories the collection writes in a virtual host."""
        root, found = '/proc/%d/root' % self.host.pid, {}
        for top in WRITTEN:
            for directory, _dirs, names in os.walk(root + top):
                for name in names:
                    with open(os.path.join(directory, name), 'rb') as handle:
                        found[os.path.join(directory, name)[len(root):]] = hashlib.sha1(handle.read()).hexdigest()
        return found

    def ping(self, namespace, address, count=1):
        argv = (['ip', 'netns', 'exec', namespace] if namespace else []) + [
            'ping', '-c', str(count), '-W', '2', '-q', address]
        return self.host.run(argv, check=False)


def _cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid) as handle:
            return handle.read().replace('\0', ' ').strip()
    except OSError:
        return None


@pytest.fixture
def probe(host):
    return Probe(host)


@pytest.fixture
def lab(tmp_path, module_python):
    """Run playbooks/lab.yml on this machine for a lab of this test's own; destroyed at the end."""
    name = 'np-itest-%d' % os.getpid()
    runner = Runner(None, str(tmp_path), COLLECTIONS_PATH, module_python)

    def reconcile(check=False, expect_rc=0, **variables):
        variables.setdefault('lab_name', name)
        return runner(None, playbook=LAB_PLAYBOOK, extra_vars=variables, check=check, expect_rc=expect_rc)

    reconcile.name = name
    reconcile.dir = '/var/lib/netplumb-lab/' + name
    try:
        yield reconcile
    finally:
        reconcile(lab_state='absent')
        assert lab_processes(name) == []
