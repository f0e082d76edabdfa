"""The engine keeps few descriptors open whatever the number of endpoints: 1000 endpoints built
and torn down on one host under the usual soft limit of open files (1024, where holding a socket
per namespace runs out) and under a raised one (where libnftables' select() aborts the module on
a descriptor of 1024 or more). Names on: every endpoint is served by the name server."""

import contextlib
import resource
import subprocess
import sys

import pytest

from helpers import task

ENDPOINTS = 1000
NETWORK = {'name': 'wide', 'bridge': 'npwide', 'subnet': '10.96.0.0/16', 'masquerade': False}
RAISED = 1048576        # what many container hosts set; capped at the hard limit where that is lower


def has_nftables_binding(python):
    """libnftables in-process (Debian's python3-nftables) is where select() aborts: the
    integration run on Debian's Python has it, a virtual environment's Python does not."""
    return subprocess.run([python or sys.executable, '-c', 'import nftables'], check=False,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


@contextlib.contextmanager
def open_files(soft):
    """The soft limit of open files for what this process starts (the hard one allowing)."""
    before = resource.getrlimit(resource.RLIMIT_NOFILE)
    hard = before[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, hard) if hard != resource.RLIM_INFINITY else soft, hard))
    try:
        yield resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, before)


@pytest.mark.parametrize('soft', [pytest.param(1024, marks=pytest.mark.any_interpreter), RAISED],
                         ids=['soft-1024', 'raised'])
def test_a_thousand_endpoints_under_any_open_file_limit(host, play, probe, module_python, soft):
    if soft == RAISED and not has_nftables_binding(module_python):
        pytest.skip('the modules\' Python has no libnftables binding, whose select() a raised limit breaks')
    endpoints = [{'name': 'ep%d' % i, 'networks': ['wide']} for i in range(ENDPOINTS)]
    with open_files(soft) as limit:
        assert limit >= 1024
        built = play([task('topology', networks=[NETWORK], endpoints=endpoints)], diff=False)
        assert built.rc == 0, (limit, [r["result"].get("msg") for r in built.results], built.stderr[-2000:])
        assert len(probe.namespaces()) == ENDPOINTS
        # the first and the last endpoint reach each other, by name (the name server answers both)
        assert probe.ping('ep0', 'ep%d' % (ENDPOINTS - 1)).returncode == 0
        gone = play([task('topology', networks=[], endpoints=[])], diff=False)
        assert gone.rc == 0, (limit, gone.stdout[-3000:], gone.stderr[-2000:])
    assert probe.namespaces() == []
