"""The virtual host itself: private namespaces, and a destroy that leaves nothing."""

import os
import time

from ansible_collections.netplumb.lab.plugins.module_utils._vhost import VirtualHost


def test_destroy_stops_processes_in_named_namespaces_and_frees_them():
    host = VirtualHost.create('np-harness-%d' % os.getpid())
    try:
        host.run(['ip', 'netns', 'add', 'web'])
        inode = int(host.run(['stat', '-Lc', '%i', '/run/netns/web']).stdout)
        host.spawn(['ip', 'netns', 'exec', 'web', 'sleep', '300'])
        deadline = time.time() + 10         # the spawned process enters the namespace when it gets there
        while not host.run(['ip', 'netns', 'pids', 'web']).stdout.strip() and time.time() < deadline:
            time.sleep(0.05)
        assert host.run(['ip', 'netns', 'pids', 'web']).stdout.strip()
        assert 'web' not in (os.listdir('/run/netns') if os.path.isdir('/run/netns') else [])
        assert host.run(['hostname']).stdout.strip() == host.name
    finally:
        host.destroy()
    assert host.processes() == []
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            assert os.stat('/proc/%s/ns/net' % pid).st_ino != inode, 'process %s still in the namespace' % pid
        except OSError:
            pass        # ended, or not ours to inspect


def test_the_state_snapshot_sees_every_kind_of_change(host, probe):
    """The snapshot behind every "nothing changed" assertion fails on one change of each kind."""
    host.run(['ip', 'link', 'add', 'brx', 'type', 'bridge'])
    host.run(['ip', 'netns', 'add', 'nsx'])
    host.run(['ip', 'link', 'add', 'vx', 'type', 'vxlan', 'id', '5', 'dstport', '4789', 'local', '127.0.0.1'])
    for listing in (['iptables-legacy', '-nL'], ['ip6tables-legacy', '-nL']):
        host.run(listing)       # the legacy filter table exists from the first look on, and stays
    changes = [
        (['ip', 'link', 'set', 'brx', 'alias', 'x'], ['ip', 'link', 'set', 'brx', 'alias', '']),
        (['ip', 'addr', 'add', '10.99.0.1/24', 'dev', 'brx'], ['ip', 'addr', 'del', '10.99.0.1/24', 'dev', 'brx']),
        (['ip', 'link', 'set', 'brx', 'mtu', '1400'], ['ip', 'link', 'set', 'brx', 'mtu', '1500']),
        (['ip', '-n', 'nsx', 'addr', 'add', '10.97.0.1/32', 'dev', 'lo'],
         ['ip', '-n', 'nsx', 'addr', 'del', '10.97.0.1/32', 'dev', 'lo']),
        (['ip', 'route', 'add', '10.98.0.0/24', 'dev', 'lo'], ['ip', 'route', 'del', '10.98.0.0/24', 'dev', 'lo']),
        (['ip', 'neigh', 'add', '10.99.0.2', 'lladdr', '02:42:0a:63:00:02', 'dev', 'brx', 'nud', 'permanent'],
         ['ip', 'neigh', 'del', '10.99.0.2', 'dev', 'brx']),
        (['bridge', 'fdb', 'append', '02:42:0a:63:00:03', 'dev', 'vx', 'dst', '127.0.0.2'],
         ['bridge', 'fdb', 'del', '02:42:0a:63:00:03', 'dev', 'vx', 'dst', '127.0.0.2']),
        (['nft', 'add', 'table', 'inet', 'x'], ['nft', 'delete', 'table', 'inet', 'x']),
        (['iptables-legacy', '-N', 'X'], ['iptables-legacy', '-X', 'X']),
        (['ip6tables-legacy', '-N', 'X'], ['ip6tables-legacy', '-X', 'X']),
        (['sysctl', '-qw', 'net.ipv4.conf.brx.route_localnet=1'], ['sysctl', '-qw', 'net.ipv4.conf.brx.route_localnet=0']),
        (['sysctl', '-qw', 'net.ipv4.ip_forward=1'], ['sysctl', '-qw', 'net.ipv4.ip_forward=0']),
        (['mkdir', '/etc/netns/x'], ['rmdir', '/etc/netns/x']),      # an empty directory is not a file ...
        (['touch', '/var/lib/netplumb/x'], ['rm', '/var/lib/netplumb/x']),
    ]
    for change, undo in changes:
        before = probe.state()
        host.run(change)
        after = probe.state()
        host.run(undo)
        if change[0] == 'mkdir':
            assert after == before      # ... the snapshot compares files (hosts files come with their directory)
            continue
        assert after != before, 'the snapshot missed: %s' % ' '.join(change)
        assert probe.state() == before, 'undo did not restore: %s' % ' '.join(undo)
