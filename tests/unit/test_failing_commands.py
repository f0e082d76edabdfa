"""Every program the modules run can fail, or be missing: each failure is a message that names
the command and what it said, never a traceback. The programs are faked through the engine's one
way to run them (``_command.run``); the modules never run ``ip`` (netlink does that work)."""

import errno
import os
import subprocess

import pytest

from ansible_collections.netplumb.container.plugins.module_utils import _command
from ansible_collections.netplumb.container.plugins.module_utils._errors import NetplumbError
from ansible_collections.netplumb.container.plugins.module_utils._runner import Run, perform
from ansible_collections.netplumb.container.plugins.module_utils._boot import files as boot_files
from ansible_collections.netplumb.container.plugins.module_utils._dns import server, unbound
from ansible_collections.netplumb.container.plugins.module_utils._firewall import firewalld, nftables
from ansible_collections.netplumb.container.plugins.module_utils._firewall.iptables import Iptables
from ansible_collections.netplumb.container.plugins.module_utils._evpn import frr
# frr_host: the fixture of FRR's files in a temporary directory
from test_evpn import PARAMS, frr_host  # noqa: F401 pylint: disable=unused-import

SAID = 'simulated failure'
REAL_RUN = _command.run


@pytest.fixture
def failing(monkeypatch):
    """``failing(program, missing=False)``: from then on, a command whose program (or, behind
    nsenter or an interpreter, whose script) is ``program`` exits 1 saying SAID, or cannot be
    started; every other command succeeds - or does what a fixture set up before this one made
    it do (frr_host's systemctl)."""
    faked_before = _command.run if _command.run is not REAL_RUN else None

    def fail(program, missing=False):
        def run(argv, stdin_text=None, stdout=None, stderr=None):
            if program in [os.path.basename(arg) for arg in argv]:
                if missing:
                    raise OSError(errno.ENOENT, os.strerror(errno.ENOENT), argv[0])
                return subprocess.CompletedProcess(argv, 1, '', '%s: %s\n' % (program, SAID))
            return faked_before(argv) if faked_before else subprocess.CompletedProcess(argv, 0, '', '')
        monkeypatch.setattr(_command, 'run', run)
    return fail


def refused(action, *fragments):
    """``action()`` raises an error of ours (which the runner turns into the module's message)
    naming every fragment."""
    with pytest.raises(NetplumbError) as raised:
        action()
    for fragment in fragments:
        assert fragment in str(raised.value), (fragment, str(raised.value))
    return str(raised.value)


# -- topology: the firewall, the boot files, the name server --------------------------------------

@pytest.mark.parametrize('missing', [False, True], ids=['fails', 'missing'])
def test_nft(failing, monkeypatch, missing):
    monkeypatch.setattr(nftables, 'binding_available', lambda: False)
    failing('nft', missing)
    refused(lambda: nftables.Nft().apply('add table inet netplumb\n'), 'nft',
            'install nftables' if missing else SAID)
    refused(lambda: nftables.Nft('ep1').list_ruleset(), 'nft', 'install nftables' if missing else SAID)


@pytest.mark.parametrize('program', ['iptables-restore', 'ip6tables-restore', 'iptables-save'])
def test_iptables(failing, program):
    failing(program)
    payload = dict((version, {'restore': {'filter': [':NETPLUMB - [0:0]']}, 'prune': []}) for version in (4, 6))
    action = (lambda: Iptables().observe()) if program.endswith('save') else (lambda: Iptables().apply(payload))
    refused(action, program, SAID)


def test_iptables_missing(failing):
    failing('iptables-restore', missing=True)
    refused(lambda: Iptables().apply({4: {'restore': {'nat': []}, 'prune': []}}), 'iptables-restore',
            'install iptables')


def test_systemctl_reloading_the_boot_units(failing, monkeypatch, tmp_path):
    monkeypatch.setattr(boot_files, 'UNIT_DIR', str(tmp_path))
    monkeypatch.setattr(boot_files.os.path, 'isdir', lambda path: True)
    failing('systemctl')
    refused(lambda: boot_files.apply_files({str(tmp_path / boot_files.UNIT): (0o644, '[Unit]\n')}),
            'systemd', 'systemctl daemon-reload', SAID)


def test_firewall_cmd(failing):
    failing('firewall-cmd')
    refused(lambda: firewalld.apply({}, True), 'firewalld', 'firewall-cmd --reload', SAID)


@pytest.mark.parametrize('action', ['start', 'restart', 'reload', 'stop'])
def test_systemctl_for_the_name_server(failing, monkeypatch, tmp_path, action):
    monkeypatch.setattr(server, 'UNIT_PATH', str(tmp_path / unbound.UNIT))
    monkeypatch.setattr(server.os, 'access', lambda path, mode: False)       # no unbound-checkconf
    failing('systemctl')
    config = None if action == 'stop' else 'server:\n'
    seen = {'paths': server.paths(str(tmp_path)), 'supervisor': 'systemd', 'written': None, 'pid': 7,
            'unit': 'old unit'}
    refused(lambda: server.apply({'config': config, 'action': action, 'unit': 'new unit'}, seen),
            'name server', 'systemctl', SAID)


@pytest.mark.parametrize('program', ['unbound', 'unbound-checkconf'])
def test_unbound_without_systemd(failing, monkeypatch, tmp_path, program):
    monkeypatch.setattr(server.os, 'access', lambda path, mode: True)
    failing(program)
    seen = {'paths': server.paths(str(tmp_path)), 'supervisor': None, 'written': None, 'pid': None, 'unit': None}
    refused(lambda: server.apply({'config': 'server:\n', 'action': 'start', 'unit': None}, seen),
            'name server', program, SAID)


# -- bgp_evpn: systemctl and frr-reload.py, through the module's runner -----------------------------

def evpn_error(module, params):
    _change, _applied, _step, error = perform(Run(None, False), module.reconcile, params)
    return error


@pytest.mark.parametrize('missing', [False, True], ids=['fails', 'missing'])
def test_systemctl_starting_frr(frr_host, failing, missing):     # noqa: F811 - the fixture
    module, _calls, paths = frr_host
    failing('systemctl', missing)
    error = evpn_error(module, dict(PARAMS, state_dir=paths['state']))
    assert isinstance(error, NetplumbError), repr(error)
    assert 'systemctl' in str(error) and (('No such file' if missing else SAID) in str(error)), str(error)


def test_frr_reload(frr_host, failing, monkeypatch):     # noqa: F811 - the fixture
    module, _calls, paths = frr_host
    params = dict(PARAMS, state_dir=paths['state'])
    assert evpn_error(module, params) is None                       # FRR started with our configuration
    script = os.path.join(os.path.dirname(paths['reload']), 'frr-reload.py')
    os.rename(paths['reload'], script)
    monkeypatch.setattr(frr, 'RELOAD', script)
    failing('frr-reload.py')
    error = evpn_error(module, dict(params, reflectors=['198.51.100.21']))
    assert isinstance(error, NetplumbError), repr(error)
    assert 'frr-reload.py' in str(error) and SAID in str(error), str(error)
