"""A host converged by release 0.2 (its iptables layout) upgrades: the old rules are replaced by
this release's, or torn down in the same run when the backend becomes nftables."""

from ansible_collections.netplumb.container.plugins.module_utils._firewall import iptables as _iptables
from ansible_collections.netplumb.container.plugins.module_utils._firewall import nftables as _nftables
from ansible_collections.netplumb.container.plugins.module_utils._firewall.facts import network_facts
from ansible_collections.netplumb.container.plugins.module_utils._topology import planner
from ansible_collections.netplumb.container.plugins.module_utils._topology.host import retired_backend
from ansible_collections.netplumb.container.plugins.module_utils._topology.resolve import resolve
from declared import declarations
from release_0_2 import IPTABLES_SAVE_0_2
from test_firewall import NET
from test_topology import no_name_server


def test_the_iptables_layout_of_0_2_is_replaced_by_this_one():
    """Staying on iptables: the network's rules are rewritten, and 0.2's hooks and ISOLATION
    chains, which this release no longer makes, go in the same transaction."""
    payload, actions, _before, _after = _iptables.plan_version(4, {'web': network_facts(NET)}, [],
                                                               _iptables.parse_save(IPTABLES_SAVE_0_2))
    lines = payload['restore']['filter'] + payload['restore']['nat']
    assert '-D NETPLUMB-FORWARD -m comment --comment netplumb -j NETPLUMB-ISOLATION-1' in lines
    assert '-D OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -m comment --comment netplumb -j NETPLUMB' in lines
    assert lines.index('-X NETPLUMB-ISOLATION-2') > lines.index('-D NETPLUMB-FORWARD -m comment --comment netplumb '
                                                                '-j NETPLUMB-ISOLATION-1')
    assert 'filter: delete the old chain NETPLUMB-ISOLATION-1' in actions
    # the FORWARD hook 0.2 made is also this release's: kept
    assert '-D FORWARD -m comment --comment netplumb -j NETPLUMB-FORWARD' not in lines


def test_switching_to_nftables_tears_the_0_2_rules_down_in_the_same_run():
    record = {'networks': {'web': {'bridge': 'br0', 'subnet': '10.0.0.0/24', 'driver': 'bridge', 'namespace': None,
                                   'vni': None}}, 'endpoints': {}}      # 0.2's record: no firewall_backend
    observed = {'record': record, 'pools': {}, 'host_links': {}, 'namespaces': {}, 'hosts': {}, 'host_routes': [],
                'resolv': {}, 'dns': no_name_server(),
                'firewall': {'backend': 'nftables', 'state': _nftables.EMPTY}, 'foreign': [], 'sysctl': {},
                'hostname': 'host1',
                'retired_firewall': {'backend': 'iptables', 'state': {4: _iptables.parse_save(IPTABLES_SAVE_0_2), 6: {}}}}
    declared = declarations({'networks': [{'name': 'web', 'bridge': 'br0', 'subnet': '10.0.0.0/24'}]})
    result = planner.plan(resolve(declared, observed), observed)
    backend, payload = result.retired
    assert backend == 'iptables' and payload[4]['prune'] == ['filter', 'nat']
    assert '-X NETPLUMB-ISOLATION-1' in payload[4]['restore']['filter']
    assert 'firewall (iptables, used before): nat: delete chain NETPLUMB' in result.actions
    assert 'add table inet netplumb' in result.firewall and result.record['firewall_backend'] == 'nftables'
    assert retired_backend(record, 'nftables') == 'iptables'
    assert retired_backend(dict(record, firewall_backend='iptables-legacy'), 'iptables') is None
    assert retired_backend(dict(record, firewall_backend='nftables'), 'nftables') is None
    assert retired_backend({'networks': {}, 'endpoints': {}}, 'nftables') is None
