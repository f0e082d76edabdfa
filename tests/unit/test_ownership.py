"""What is ours: the record written before a run's first change keeps everything the run could
leave behind, and the kernel's marks (aliases, derived names) tell ours from someone else's when
the record does not - so a run cut short is repaired by the next, and a name taken by something
netplumb did not make is refused before any change."""

import pytest

from ansible_collections.netplumb.container.plugins.module_utils._errors import Conflict
from ansible_collections.netplumb.container.plugins.module_utils._topology.names import (
    bridge_alias, endpoint_alias, host_ifname, vtep_temporary_name, veth_alias)
from ansible_collections.netplumb.container.plugins.module_utils._topology.record import pending
from test_topology import DEFAULT, NEW, empty_host, link, model, plan

MOVED = [{'name': 'k19', 'networks': ['bridge']}]
ON_NEW = [{'name': 'k19', 'networks': ['new_network']}]
EXISTS = {'exists': True, 'stale': False, 'id': 9, 'loopback_up': True}


def underlay(**extra):
    """A host with the overlay's local address on its underlay interface."""
    eth0 = link('eth0', 'veth', addresses=['198.51.100.11/24'])
    return empty_host(**dict(extra, host_links=dict(extra.get('host_links', {}), eth0=eth0)))


def namespace(links):
    return {'netns': EXISTS, 'links': dict(links, lo=link('lo', None, index=1)), 'routes': []}


def test_an_endpoints_alias_names_the_endpoint_and_the_network():
    assert endpoint_alias(veth_alias('k19', 'new_network')) == ('k19', 'new_network')
    assert endpoint_alias(bridge_alias('new_network')) is None and endpoint_alias(None) is None


def test_the_pending_record_keeps_the_attachments_of_an_endpoint_that_moves():
    old = {'networks': {'new_network': {'bridge': 'brn'}}, 'endpoints': {
        'k19': {'namespace': 'k19', 'created': True,
                'attachments': {'new_network': {'host': 'npa', 'ifname': 'eth0', 'namespace': None}}}}}
    new = {'networks': {'bridge': {'bridge': 'np0'}}, 'endpoints': {
        'k19': {'namespace': 'k19', 'created': True,
                'attachments': {'bridge': {'host': 'npb', 'ifname': 'eth0', 'namespace': None}}}}}
    union = pending(old, new)
    assert sorted(union['networks']) == ['bridge', 'new_network']
    assert sorted(union['endpoints']['k19']['attachments']) == ['bridge', 'new_network']
    assert old['endpoints']['k19']['attachments'].keys() == {'new_network'}      # given records left as they are


def test_a_leftover_of_ours_in_the_endpoints_namespace_goes_even_when_no_record_lists_it():
    """kill -9 after the record said k19 is on bridge only: its eth0 on new_network is ours by its
    alias, deleted before the new eth0 is made."""
    old_eth0 = link('eth0', 'veth', index=2, peer_index=7, peer_netnsid=0, alias=veth_alias('k19', 'new_network'))
    record = {'networks': {}, 'endpoints': {'k19': {'namespace': 'k19', 'created': True, 'mode': 'bridge',
                                                    'attachments': {}}}}
    host = empty_host(record=record, namespaces={'k19': namespace({'eth0': old_eth0})})
    result = plan(model([DEFAULT, NEW], MOVED), host)
    ops = [(op.action, op.namespace, op.name) for op in result.ops]
    assert ops.index(('link_del', 'k19', 'eth0')) < ops.index(('link_add', None, host_ifname('k19', 'bridge')))


def test_an_interface_in_the_namespace_that_is_not_ours_is_refused():
    theirs = link('eth0', 'veth', index=2, peer_index=7, peer_netnsid=0, alias='made by hand')
    host = empty_host(namespaces={'k19': namespace({'eth0': theirs})})
    with pytest.raises(Conflict) as error:
        plan(model([DEFAULT, NEW], MOVED), host)
    assert "peer name eth0 is already taken in namespace k19 by a veth (alias 'made by hand')" in str(error.value)


def test_a_foreign_bridge_of_the_declared_name_is_refused():
    host = empty_host(host_links={'brtaken': link('brtaken', 'bridge')})
    with pytest.raises(Conflict) as error:
        plan(model([{'name': 'taken', 'subnet': '10.60.0.0/24', 'bridge': 'brtaken'}], []), host)
    assert 'network taken: bridge brtaken already exists in the host namespace and netplumb did not make it ' \
           '(no alias of ours)' in str(error.value)
    host = empty_host(host_links={'brtaken': link('brtaken', 'bridge', alias='lab uplink')})
    with pytest.raises(Conflict) as error:
        plan(model([{'name': 'taken', 'subnet': '10.60.0.0/24', 'bridge': 'brtaken'}], []), host)
    assert "(alias 'lab uplink')" in str(error.value)


def test_a_bridge_the_record_lists_is_ours_before_it_carries_the_alias():
    """A run cut short between creating the bridge and setting its alias: the pending record lists it."""
    record = {'networks': {'taken': {'bridge': 'brtaken', 'namespace': None, 'driver': 'bridge'}}, 'endpoints': {}}
    host = empty_host(record=record, host_links={'brtaken': link('brtaken', 'bridge', up=False)})
    result = plan(model([{'name': 'taken', 'subnet': '10.60.0.0/24', 'bridge': 'brtaken'}], []), host)
    assert ('link_set', 'brtaken', {'alias': bridge_alias('taken')}) in [(o.action, o.name, o.args) for o in result.ops]


def test_a_host_end_named_like_ours_that_we_did_not_make_is_refused():
    name = host_ifname('k19', 'bridge')
    host = empty_host(host_links={name: link(name, 'veth', alias='someone else')})
    with pytest.raises(Conflict) as error:
        plan(model([DEFAULT], MOVED), host)
    assert 'interface %s already exists in the host namespace and netplumb did not make it' % name in str(error.value)


def test_a_gone_network_takes_the_leftover_ports_of_ours_and_refuses_foreign_ones():
    record = {'networks': {'new_network': {'bridge': 'brn', 'namespace': None, 'driver': 'bridge'}}, 'endpoints': {}}
    bridge = link('brn', 'bridge', alias=bridge_alias('new_network'))
    ours = link('npx', 'veth', master='brn', alias=veth_alias('k19', 'new_network'))
    result = plan(model([DEFAULT], []), empty_host(record=record, host_links={'brn': bridge, 'npx': ours}))
    assert [(o.action, o.name) for o in result.ops[:2]] == [('link_del', 'npx'), ('link_del', 'brn')]
    theirs = link('tap0', 'tun', master='brn')
    with pytest.raises(Conflict) as error:
        plan(model([DEFAULT], []), empty_host(record=record, host_links={'brn': bridge, 'npx': ours, 'tap0': theirs}))
    assert 'still has ports tap0 that netplumb did not make' in str(error.value)


OVERLAY = {'name': 'net1', 'driver': 'overlay', 'subnet': '10.0.1.0/24', 'vni': 4096, 'local': '198.51.100.11'}


def test_a_foreign_namespace_named_like_an_overlays_is_refused():
    host = underlay(namespaces={'ov-net1': namespace({})})
    with pytest.raises(Conflict) as error:
        plan(model([OVERLAY], [{'name': 'w', 'networks': ['net1']}], ), host)
    assert 'network net1: namespace ov-net1 already exists and netplumb did not make it' in str(error.value)


def test_a_vtep_left_in_the_host_namespace_by_a_run_cut_short_is_deleted_first():
    temporary = vtep_temporary_name('net1')
    vtep = link(temporary, 'vxlan', vxlan={'vni': 4096, 'local': '198.51.100.11', 'dstport': 4789})
    record = {'networks': {'net1': {'bridge': 'br0', 'namespace': 'ov-net1', 'driver': 'overlay', 'vni': 4096}},
              'endpoints': {}}
    result = plan(model([OVERLAY], [{'name': 'w', 'networks': ['net1']}]),
                  underlay(record=record, host_links={temporary: vtep}))
    ops = [(o.action, o.namespace, o.name) for o in result.ops]
    assert ops.index(('link_del', None, temporary)) < ops.index(('link_add', None, temporary))
    with pytest.raises(Conflict) as error:      # not recorded: someone else's device of that name
        plan(model([OVERLAY], [{'name': 'w', 'networks': ['net1']}]), underlay(host_links={temporary: vtep}))
    assert 'vxlan %s already exists in the host namespace and netplumb did not make it' % temporary in str(error.value)
