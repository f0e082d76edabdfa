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
