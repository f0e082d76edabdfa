"""The desired state the topology module keeps for the host-side restore: what it holds, and
how a missing, corrupt or stale file is refused."""

import json
import os

import pytest

from ansible_collections.netplumb.container.plugins.module_utils._errors import InvalidInput
from ansible_collections.netplumb.container.plugins.module_utils._boot import desired
from ansible_collections.netplumb.container.plugins.module_utils._boot import files as boot
from ansible_collections.netplumb.container.plugins.module_utils._topology import planner
from ansible_collections.netplumb.container.plugins.module_utils._topology.model import model, thaw
from ansible_collections.netplumb.container.plugins.module_utils._topology.resolve import resolve
from ansible_collections.netplumb.container.plugins.module_utils._topology.restore import restore
from ansible_collections.netplumb.container.plugins.module_utils._topology.spec import check_arguments

from test_topology import empty_host


ADOPTED = [{'name': 'app', 'pid': os.getpid(), 'networks': [{'name': 'web', 'ifname': 'eth9'}]},
           {'name': 'side', 'mode': 'container:app'}]


def arguments(adopted=(), **extra):
    params = {'networks': [{'name': 'web', 'enable_ipv6': True}, {'name': 'old', 'state': 'absent'}],
              'endpoints': [{'name': 'api', 'networks': ['web'], 'published': ['8080:80']}] + list(adopted)}
    params.update(extra)
    validated, problem = check_arguments(params)
    assert problem is None, problem
    return validated


def kept(params):
    result = planner.plan(resolve(model(params), empty_host()), empty_host())
    return desired.desired_state(params, thaw(result.returns))


def test_the_desired_state_fills_in_what_was_decided_and_rebuilds_the_same_plan():
    params = arguments()
    state = kept(params)
    nets = state['arguments']['networks']
    assert [n['name'] for n in nets] == ['web'] and nets[0]['subnet'] == '172.31.0.0/24'
    assert nets[0]['ipv6_subnet'].endswith('::/64') and state['arguments']['purge'] is False
    api = state['arguments']['endpoints'][0]
    assert api['networks'] == [{'name': 'web', 'address': '172.31.0.2', 'ipv6_address': nets[0]['ipv6_subnet'][:-3] + '2'}]
    assert state['processes'] == {}
    again = kept(state['arguments'])        # kept from its own restore: the same, nothing new decided
    assert again['arguments'] == state['arguments']


def test_endpoints_of_a_gone_process_are_left_out_with_those_sharing_their_namespace():
    interface = {'network': 'web', 'address': '172.31.0.3/24', 'ipv6_address': None}
    state = desired.desired_state(arguments(ADOPTED), {
        'networks': {'web': {'subnet': '172.31.0.0/24'}},
        'endpoints': {'api': {'interfaces': {'eth0': dict(interface, address='172.31.0.2/24')}},
                      'app': {'interfaces': {'eth9': interface}}, 'side': {'interfaces': {}}}})
    assert state['processes'] == {'app': desired.process_start(os.getpid())}
    assert state['arguments']['endpoints'][1]['networks'] == [{'name': 'web', 'ifname': 'eth9', 'address': '172.31.0.3'}]
    assert desired.living(state) == (state['arguments'], [])
    stale = dict(state, processes={'app': desired.process_start(os.getpid()) + 1})   # the PID is another process now
    arguments_left, gone = desired.living(stale)
    assert gone == ['app', 'side'] and [e['name'] for e in arguments_left['endpoints']] == ['api']


@pytest.mark.parametrize('content, fragment', [
    (None, 'nothing to restore'),
    ('{"version": 1, "argu', 'is corrupt'),
    (json.dumps({'version': 0, 'arguments': {}}), 'not a desired state of version 1'),
])
def test_a_missing_or_corrupt_state_is_refused_naming_the_file(tmp_path, content, fragment):
    if content is not None:
        (tmp_path / 'desired.json').write_text(content)
    with pytest.raises(InvalidInput, match=fragment):
        desired.read_desired(str(tmp_path))

    class Out(list):
        write = list.append
    out = Out()
    assert restore(str(tmp_path), out=out) == 2 and str(tmp_path / 'desired.json') in out[0]


def test_the_plan_holds_every_file_a_run_writes_the_desired_state_and_the_boot_files():
    """host.py only observes and applies: the desired state file and the restore-at-boot files are
    planned with everything else, and go with the last network."""
    params = arguments(restore_at_boot=True, state_dir='/var/lib/np')
    host = empty_host(desired=None, boot_files={}, engine=boot.engine_files())
    result = planner.plan(resolve(model(params), host), host, True, params)
    path = desired.desired_path('/var/lib/np')
    assert json.loads(result.files[path])['arguments']['networks'][0]['name'] == 'web'
    assert '%s: write' % path in result.actions
    assert '/usr/sbin/netplumb-restore' in result.boot_files
    # nothing declared any more: both go
    written = dict((p, f) for p, f in result.boot_files.items())
    empty = check_arguments({'restore_at_boot': True, 'state_dir': '/var/lib/np'})[0]
    host = empty_host(desired=result.files[path], boot_files=written, engine=boot.engine_files())
    gone = planner.plan(resolve(model(empty), host), host, True, empty)
    assert gone.files[path] is None and '%s: remove' % path in gone.actions
    assert set(gone.boot_files) == set(written) and set(gone.boot_files.values()) == {None}
