"""netplumb-restore: a host that lost its kernel state (as after a reboot) rebuilds its networks
from the desired state the topology module kept, with no controller and no Ansible (the Debian
interpreter run has no Ansible at all), proved by packets; then the playbook finds nothing to do."""

import os
import sys
import time

from helpers import converge
from test_firewall import ADDRESSES, TCP, lab, topology

from conftest import COLLECTIONS_PATH

RESTORE = ('import sys; sys.path.insert(0, %r); from ansible_collections.netplumb.container.plugins.module_utils.'
           '_topology.restore import main; sys.exit(main(sys.argv[1:]))' % COLLECTIONS_PATH)


def restore(host, python, *args):
    return host.run([python, '-c', RESTORE] + list(args), check=False)


def lose_kernel_state(host):
    """What a reboot takes: namespaces, bridges, veths, our nftables table, the sysctls. Files
    (the state directory, the hosts files) stay."""
    for ns in host.run(['ip', 'netns', 'list']).stdout.split('\n'):
        if ns.strip() and ns.split()[0] not in ('world', 'lan'):      # the uplinks stand for the host's own NICs
            host.run(['ip', 'netns', 'del', ns.split()[0]])
    for line in host.run(['ip', '-o', 'link', 'show', 'type', 'bridge']).stdout.splitlines():
        host.run(['ip', 'link', 'del', line.split(':')[1].strip()])
    host.run(['nft', 'delete', 'table', 'inet', 'netplumb'])
    for key in ('net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding'):
        host.run(['sysctl', '-qw', key + '=0'])


def connect(host, ns, ip, port):
    argv = (['ip', 'netns', 'exec', ns] if ns else []) + ['python3', TCP, 'connect', ip, str(port)]
    return host.run(argv, check=False).returncode == 0


def test_restore_rebuilds_what_a_reboot_took(host, play, probe, tmp_path, module_python):
    python = module_python or sys.executable
    lab(host, play)
    item = topology('nat', 'nftables')
    converge(play, probe, [item])
    assert os.path.exists('/proc/%d/root/var/lib/netplumb/desired.json' % host.pid)
    assert 'nothing to do' in restore(host, python).stdout             # converged: a restore changes nothing
    lose_kernel_state(host)
    assert not connect(host, 'world', ADDRESSES[4]['HOST'], 8080)
    check = restore(host, python, '--check')
    assert check.returncode == 0 and '(check) netns web: create network namespace' in check.stdout, check.stdout
    assert probe.namespaces() == ['lan', 'world']           # --check changed nothing
    done = restore(host, python)
    assert done.returncode == 0 and 'changes applied' in done.stdout, done.stdout + done.stderr
    log = str(tmp_path / 'web.log')
    host.spawn(['ip', 'netns', 'exec', 'web', 'python3', TCP, 'serve', '80', log])
    time.sleep(0.5)
    for version in (4, 6):       # the same addresses, the published port, client addresses kept
        at = ADDRESSES[version]
        assert connect(host, 'world', at['HOST'], 8080), version
        assert open(log).read().split()[-1] == at['REMOTE']
        assert connect(host, 'peer', at['WEB'], 80)
        assert open(log).read().split()[-1] == at['PEER']
    names = host.run(['ip', 'netns', 'exec', 'peer', 'getent', 'ahosts', 'web']).stdout.split()
    assert ADDRESSES[4]['WEB'] in names and ADDRESSES[6]['WEB'] in names      # names of both families
    assert 'nothing to do' in restore(host, python).stdout
    again = play([item], check=True, expect_rc=0).results[0]
    assert again['status'] == 'ok' and again['result']['actions'] == [], again['result']['actions']
