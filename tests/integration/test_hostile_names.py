"""Names that a shell would run are names: a bridge ``b'$(>x);\\`` and an endpoint namespace holding
``$(touch y)``, backticks, ``;``, ``|``, ``&``, quotes and a leading ``-`` are made in the kernel
under exactly those names by the topology module, carry traffic, and go again - and not one
of the commands in them ever ran (each would have made a file in the module's working directory)."""

import json
import os
import sys

import pytest

from conftest import COLLECTIONS_PATH

BRIDGE = "b'$(>x);\\"       # quote, command, separator, backslash: 10 bytes of an interface name
NAMESPACE = "-n;$(touch y)|`touch z`&'q\"\\"
COMMAND_FILES = ('x', 'y', 'z')


def _topology(host, cwd, networks, endpoints, python_options=()):
    module = os.path.join(COLLECTIONS_PATH, 'ansible_collections', 'netplumb', 'container', 'plugins', 'modules',
                          'topology.py')
    arguments = os.path.join(cwd, 'args.json')
    with open(arguments, 'w') as handle:
        json.dump({'ANSIBLE_MODULE_ARGS': {'networks': networks, 'endpoints': endpoints}}, handle)
    done = host.run([sys.executable] + list(python_options) + [module, arguments], env={'PYTHONPATH': COLLECTIONS_PATH}, cwd=cwd, check=False)
    result = json.loads(done.stdout)
    assert not result.get('failed'), result
    result['imported'] = done.stderr
    return result


@pytest.mark.any_interpreter     # run as a plain module (Ansible on the path): the names are the point
def test_hostile_names_are_made_literally_carry_traffic_and_never_run(host, probe, tmp_path):
    before = probe.state()
    network = {'name': 'hostile', 'bridge': BRIDGE, 'subnet': '10.9.0.0/24'}
    endpoint = {'name': 'app', 'namespace': NAMESPACE, 'networks': ['hostile'], 'published': ['8080:80']}
    result = _topology(host, str(tmp_path), [network], [endpoint])
    assert result['changed'] and result['endpoints']['app']['namespace'] == NAMESPACE
    # the kernel holds exactly these names
    assert host.run(['ip', 'link', 'show', 'dev', BRIDGE]).returncode == 0
    assert NAMESPACE in os.listdir('/proc/%d/root/run/netns' % host.pid)
    netns = ['nsenter', '--net=/run/netns/' + NAMESPACE]
    # traffic: the endpoint reaches its gateway on the hostile bridge, the host reaches the endpoint
    assert host.run(netns + ['ping', '-c', '1', '-W', '2', '-q', '10.9.0.1'], check=False).returncode == 0
    assert host.run(['ping', '-c', '1', '-W', '2', '-q', '10.9.0.2'], check=False).returncode == 0
    assert host.run(['sysctl', '-n', 'net.ipv4.conf.%s.route_localnet' % BRIDGE]).stdout.strip() == '1'
    assert BRIDGE in host.run(['nft', 'list', 'set', 'inet', 'netplumb', 'bridges']).stdout
    assert not _topology(host, str(tmp_path), [network], [endpoint])['changed']
    # a removal-only run deletes links and namespaces without loading pyroute2 (a third of a second)
    teardown = _topology(host, str(tmp_path), [], [], python_options=['-X', 'importtime'])
    assert teardown['changed'] and 'pyroute2' not in teardown['imported']
    assert [name for name in COMMAND_FILES if os.path.exists(str(tmp_path / name))] == [], 'a name ran as a command'
    after = probe.state()
    # the sysctls Docker turns on (forwarding, bridge netfilter) stay on, by design
    assert dict(after, sysctl=None) == dict(before, sysctl=None)
