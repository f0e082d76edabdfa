"""What restore_at_boot puts on a host: the engine and command, the unit, the workloads'
drop-ins - planned like every other object, removed when no longer wanted."""

import os
import subprocess
import sys

import pytest

from ansible_collections.netplumb.container.plugins.module_utils._errors import InvalidInput
from ansible_collections.netplumb.container.plugins.module_utils._topology import restore  # noqa: F401 - the engine copy holds it # pylint: disable=unused-import
from ansible_collections.netplumb.container.plugins.module_utils._boot import files as boot
from declared import declarations

NETWORKS = [{'name': 'web', 'subnet': '10.1.0.0/24'}]
ENDPOINTS = [{'name': 'api', 'networks': ['web'], 'units': ['nginx.service', 'app@1.service']},
             {'name': 'side', 'mode': 'container:api', 'units': ['sidecar.service']}]


def wanted(restore_at_boot=True, endpoints=None):
    endpoints = ENDPOINTS if endpoints is None else endpoints
    return boot.wanted_files(declarations({'networks': NETWORKS, 'endpoints': endpoints,
                                           'restore_at_boot': restore_at_boot}), '/var/lib/netplumb', restore_at_boot,
                             boot.engine_files())


def test_the_files_of_a_host_that_comes_back_by_itself():
    files = wanted()
    assert files[boot.COMMAND][0] == 0o755 and files[boot.ENABLED] == ('link', '/etc/systemd/system/' + boot.UNIT)
    unit = files['/etc/systemd/system/netplumb-restore.service'][1]
    assert 'ExecStart=/usr/sbin/netplumb-restore --state-dir /var/lib/netplumb' in unit
    assert 'PartOf=nftables.service firewalld.service' in unit and 'WantedBy=multi-user.target' in unit
    drop_in = files['/etc/systemd/system/nginx.service.d/netplumb-api.conf'][1]
    assert 'NetworkNamespacePath=/run/netns/api' in drop_in and 'BindReadOnlyPaths=/etc/netns/api/hosts:/etc/hosts' in drop_in
    # a sidecar sharing api's namespace runs in it
    assert 'NetworkNamespacePath=/run/netns/api' in files['/etc/systemd/system/sidecar.service.d/netplumb-side.conf'][1]
    engine = [p for p in files if p.startswith(boot.ENGINE_ROOT + '/')]
    assert boot.ENGINE_ROOT + '/ansible_collections/netplumb/container/plugins/module_utils/_topology/restore.py' in engine
    assert boot.ENGINE_ROOT + '/ansible_collections/netplumb/container/plugins/module_utils/_kernel/observe.py' in engine


def test_the_engine_written_to_the_host_runs_without_ansible(tmp_path):
    """The engine files alone (no Ansible on sys.path) import the restore command."""
    for path, (_mode, text) in wanted().items():
        if path.startswith(boot.ENGINE_ROOT + '/'):
            target = tmp_path / os.path.relpath(path, boot.ENGINE_ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
    code = ('import sys; sys.path = [p for p in sys.path if "site-packages" not in p and "collections" not in p]; '
            'sys.path.insert(0, %r); import builtins; real = builtins.__import__\n'
            'def guard(name, *a, **k):\n'
            '    if name == "ansible" or name.startswith("ansible."): raise ImportError(name)\n'
            '    return real(name, *a, **k)\n'
            'builtins.__import__ = guard\n'
            'from ansible_collections.netplumb.container.plugins.module_utils._topology.restore import main\n'
            'print(main.__module__)' % str(tmp_path))
    proc = subprocess.run([sys.executable, '-c', code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith('_topology.restore')


def test_planned_like_any_object_and_removed_when_turned_off():
    files = wanted()
    changes, actions, before, after = boot.plan_files(files, {})
    assert set(changes) == set(files) and '/usr/sbin/netplumb-restore: write' in actions and before == {}
    assert after['/usr/sbin/netplumb-restore'].startswith('0o755 ')
    assert boot.plan_files(files, dict(files))[:2] == ({}, [])                # converged
    foreign = {'/etc/systemd/system/nginx.service.d/override.conf': (0o644, '[Service]\n')}
    changes, actions, _b, _a = boot.plan_files(wanted(False, []), dict(files, **foreign))
    assert set(changes) == set(files) and all(v is None for v in changes.values())   # all ours go, nothing else
    one_unit = [dict(ENDPOINTS[0], units=['nginx.service']), ENDPOINTS[1]]
    changes, _a, _b, _after = boot.plan_files(wanted(endpoints=one_unit), files)
    assert changes == {'/etc/systemd/system/app@1.service.d/netplumb-api.conf': None}


def test_a_drop_in_named_like_ours_that_someone_else_wrote_is_left_alone():
    files = wanted()
    theirs = '/etc/systemd/system/cron.service.d/netplumb-tuning.conf'
    present = dict(files, **{theirs: (0o644, '[Service]\nNice=5\n')})
    changes, actions, before, _after = boot.plan_files(files, present)
    assert (changes, actions) == ({}, []) and theirs not in before          # not ours to remove, nor to show
    changes, _a, _b, _after = boot.plan_files(wanted(False, []), present)
    assert theirs not in changes and all(v is None for v in changes.values())
    # at a path we would write: the run stops, naming it, before anything changes
    path = '/etc/systemd/system/app@1.service.d/netplumb-api.conf'
    with pytest.raises(InvalidInput, match=r'app@1.service.d/netplumb-api.conf exists and netplumb did not write it'):
        boot.plan_files(files, dict(files, **{path: (0o644, '[Service]\nNice=5\n')}))


def test_units_are_checked_and_need_restore_at_boot():
    with pytest.raises(InvalidInput, match=r"endpoints\[0\] \(api\).units: 'nginx' is not a service unit name"):
        wanted(endpoints=[{'name': 'api', 'networks': ['web'], 'units': ['nginx']}])
    with pytest.raises(InvalidInput, match=r'endpoints \(api\).units: a workload unit needs restore_at_boot'):
        wanted(restore_at_boot=False)
