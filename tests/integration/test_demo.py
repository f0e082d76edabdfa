"""make demo's drawing: the demo's declarations (inventories/demo) converged on a lab of three
virtual hosts, then playbooks/graph.yml; every endpoint, network and published port the demo
declares is in the SVG, whose PNG is a PNG. Read-only on the hosts: a --check of site.yml after
it changes nothing."""

import os
import subprocess
import sys

import pytest
import yaml

from conftest import COLLECTIONS_PATH, ROOT

pytestmark = pytest.mark.any_interpreter     # the hosts' Python is the lab inventory's, whatever the pass
DEMO = os.path.join(ROOT, 'inventories', 'demo')


def playbook(lab, name, *options):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_PATH, ANSIBLE_NOCOLOR='1')
    return subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'),
                           '-i', os.path.join(lab.dir, 'inventory.yml'), '-i', DEMO,
                           os.path.join(ROOT, 'playbooks', name)] + list(options),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, env=env, check=False)


def declared():
    """(networks, endpoints, published ports) the demo inventory declares."""
    with open(os.path.join(DEMO, 'group_vars', 'all.yml')) as handle:
        networks = set(n['name'] for n in yaml.safe_load(handle)['netplumb_networks'])
    endpoints, published = set(), set()
    for name in os.listdir(os.path.join(DEMO, 'host_vars')):
        with open(os.path.join(DEMO, 'host_vars', name)) as handle:
            for ep in yaml.safe_load(handle).get('netplumb_endpoints', []):
                endpoints.add(ep['name'])
                published.update(ep.get('published', []))
    return networks, endpoints, published


def test_the_demo_drawing_shows_every_endpoint_network_and_published_port(lab, tmp_path):
    lab(lab_count=3, lab_outside=True)
    converged = playbook(lab, 'site.yml')
    assert converged.returncode == 0, converged.stdout[-3000:]
    drawn = playbook(lab, 'graph.yml', '-e', 'netplumb_graph_dir=%s' % tmp_path)
    assert drawn.returncode == 0, drawn.stdout[-3000:]
    assert 'the networks of the inventory: %s/networks.svg and %s/networks.png' % (tmp_path, tmp_path) in drawn.stdout
    svg = (tmp_path / 'networks.svg').read_text()
    networks, endpoints, published = declared()
    assert networks and endpoints and published
    # Graphviz writes each label line as a <text> element
    texts = set(line.split('>', 1)[1].split('<', 1)[0] for line in svg.splitlines() if '<text' in line)
    for host in ('host1', 'host2', 'host3'):
        assert any(t.startswith(host + ' ') for t in texts), host
    assert networks <= texts, networks - texts
    assert endpoints <= texts, endpoints - texts
    for port in published:
        assert 'published %s' % port in texts
    assert (tmp_path / 'networks.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    check = playbook(lab, 'site.yml', '--check')
    assert check.returncode == 0 and 'changed=1' not in check.stdout, check.stdout[-3000:]
