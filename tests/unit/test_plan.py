"""Planners are pure: exhaustively checked here without root or a kernel."""

import pytest

from ansible_collections.netplumb.container.plugins.module_utils._errors import Conflict, InvalidInput, NotFound
from ansible_collections.netplumb.container.plugins.module_utils._kernel.op import Op
from ansible_collections.netplumb.container.plugins.module_utils._objects.plan import (
    plan_bridge, plan_interface, plan_netns, plan_veth)
from ansible_collections.netplumb.container.plugins.module_utils._objects.routes import plan_routes


def link(name, index, kind=None, **extra):
    base = {'name': name, 'index': index, 'kind': kind, 'mtu': 1500, 'mac': '02:00:00:00:00:%02x' % index,
            'up': True, 'master': None, 'peer_index': None, 'peer_netnsid': None, 'stp': None, 'addresses': []}
    base.update(extra)
    return base


def links(*items):
    return dict((item['name'], item) for item in items)


def actions(plan):
    return [(op.action, op.namespace, op.name, op.args) for op in plan.ops]


# ------------------------------------------------------------------ interface

def test_interface_unmanaged_fields_are_left_alone():
    ops, before, after = plan_interface(None, 'eth0', {'mtu': None, 'addresses': None}, link('eth0', 2))
    assert ops == [] and before == {} and after == {}


def test_interface_orders_mac_mtu_master_addresses_up():
    observed = link('v1', 3, up=False, addresses=['10.0.0.9/24'])
    want = {'mac': '02:42:0a:00:00:02', 'mtu': 1450, 'master': 'br0', 'addresses': ['10.0.0.2/24'], 'up': True}
    ops, before, after = plan_interface('c1', 'v1', want, observed)
    assert [(op.action, op.args) for op in ops] == [
        ('link_set', {'address': '02:42:0a:00:00:02'}), ('link_set', {'mtu': 1450}),
        ('link_set', {'master': 'br0'}), ('addr_del', {'address': '10.0.0.9/24'}),
        ('addr_add', {'address': '10.0.0.2/24'}), ('link_set', {'up': True})]
    assert before == {'mac': '02:00:00:00:00:03', 'mtu': 1500, 'master': None, 'addresses': ['10.0.0.9/24'], 'up': False}
    assert after == want


def test_op_describes_object_and_namespace():
    assert Op('link_set', 'c1', 'eth0', 'bring up', up=True).describe() == 'eth0 (in c1): bring up'
    assert Op('netns_create', None, 'web', 'create network namespace').describe() == 'netns web: create network namespace'


# ------------------------------------------------------------------ bridge

def bridge_want(**kw):
    want = dict(name='br0', namespace=None, state='present', mtu=None, mac=None, stp=None, addresses=None,
                up=True, ports=None, exclusive=False, force=False)
    want.update(kw)
    return want


def test_bridge_create_in_order():
    plan = plan_bridge(bridge_want(addresses=['10.0.0.1/24'], stp=True, ports=['v1']), links(link('v1', 2, 'veth')))
    assert actions(plan) == [
        ('link_add', None, 'br0', {'kind': 'bridge'}),
        ('addr_add', None, 'br0', {'address': '10.0.0.1/24'}),
        ('link_set', None, 'br0', {'stp': True}),
        ('link_set', None, 'v1', {'master': 'br0'}),
        ('link_set', None, 'br0', {'up': True})]
    assert plan.before == {'state': 'absent'}
    assert plan.after == {'state': 'present', 'addresses': ['10.0.0.1/24'], 'stp': True, 'ports': ['v1'], 'up': True}


def test_bridge_converged_is_empty():
    observed = links(link('br0', 3, 'bridge', stp=False, addresses=['10.0.0.1/24']), link('v1', 2, 'veth', master='br0'))
    plan = plan_bridge(bridge_want(addresses=['10.0.0.1/24'], stp=False, ports=['v1']), observed)
    assert plan.ops == [] and plan.before == plan.after


def test_bridge_ports_additive_or_exclusive():
    observed = links(link('br0', 3, 'bridge'), link('v1', 2, 'veth', master='br0'), link('v2', 4, 'veth'))
    additive = plan_bridge(bridge_want(ports=['v2']), observed)
    assert actions(additive) == [('link_set', None, 'v2', {'master': 'br0'})]
    assert additive.after['ports'] == ['v1', 'v2']
    exclusive = plan_bridge(bridge_want(ports=['v2'], exclusive=True), observed)
    assert actions(exclusive) == [('link_set', None, 'v2', {'master': 'br0'}), ('link_set', None, 'v1', {'master': ''})]
    assert exclusive.before['ports'] == ['v1'] and exclusive.after['ports'] == ['v2']


def test_bridge_moves_port_from_another_bridge():
    observed = links(link('br0', 3, 'bridge'), link('br1', 5, 'bridge'), link('v1', 2, 'veth', master='br1'))
    assert actions(plan_bridge(bridge_want(ports=['v1']), observed)) == [('link_set', None, 'v1', {'master': 'br0'})]


@pytest.mark.parametrize('observed, want, error, words', [
    (links(link('br0', 2, 'veth')), bridge_want(), Conflict, ['br0', 'veth']),
    (links(), bridge_want(ports=['ghost']), NotFound, ['ghost', 'host namespace']),
    (links(link('br0', 2, 'bridge')), bridge_want(ports=['br0']), InvalidInput, ['itself']),
    (links(link('br1', 2, 'bridge')), bridge_want(ports=['br1']), InvalidInput, ['br1', 'bridge']),
    (links(link('br0', 2, 'bridge'), link('v1', 3, 'veth', master='br0')), bridge_want(state='absent'),
     Conflict, ['br0', 'v1', 'force']),
])
def test_bridge_refusals(observed, want, error, words):
    with pytest.raises(error) as raised:
        plan_bridge(want, observed)
    for word in words:
        assert word in str(raised.value)


def test_bridge_absent():
    observed = links(link('br0', 2, 'bridge'), link('v1', 3, 'veth', master='br0'))
    plan = plan_bridge(bridge_want(state='absent', force=True), observed)
    assert actions(plan) == [('link_del', None, 'br0', {})]
    assert plan.before == {'state': 'present', 'ports': ['v1']}
    assert plan_bridge(bridge_want(state='absent'), links()).ops == []


def test_bridge_in_namespace_names_it_in_errors():
    with pytest.raises(NotFound) as raised:
        plan_bridge(bridge_want(namespace='ovl', ports=['x']), links())
    assert 'namespace ovl' in str(raised.value)


# ------------------------------------------------------------------ veth

def veth_want(**kw):
    want = dict(name='v1', namespace=None, peer='eth0', peer_namespace='c1', state='present', mtu=None, mac=None,
                peer_mac=None, addresses=None, peer_addresses=None, master=None, up=True)
    want.update(kw)
    return want


def test_veth_create_with_peer_in_namespace():
    plan = plan_veth(veth_want(peer_addresses=['10.0.0.2/24'], master='br0'), links(link('br0', 2, 'bridge')), links())
    assert actions(plan) == [
        ('link_add', None, 'v1', {'kind': 'veth', 'peer': 'eth0', 'peer_namespace': 'c1'}),
        ('addr_add', 'c1', 'eth0', {'address': '10.0.0.2/24'}),
        ('link_set', 'c1', 'eth0', {'up': True}),
        ('link_set', None, 'v1', {'master': 'br0'}),
        ('link_set', None, 'v1', {'up': True})]
    assert plan.after == {'state': 'present', 'master': 'br0', 'up': True,
                          'peer': {'name': 'eth0', 'namespace': 'c1', 'addresses': ['10.0.0.2/24'], 'up': True}}


def test_veth_matched_pair_converged():
    host = links(link('v1', 7, 'veth', peer_index=2, peer_netnsid=0))
    peer = links(link('eth0', 2, 'veth', peer_index=7, peer_netnsid=0, addresses=['10.0.0.2/24']))
    plan = plan_veth(veth_want(peer_addresses=['10.0.0.2/24']), host, peer)
    assert plan.ops == [] and plan.before == plan.after


def test_veth_peer_index_alone_is_not_a_match():
    """Indexes repeat across namespaces: both ends must point at each other."""
    host = links(link('v1', 7, 'veth', peer_index=2, peer_netnsid=0))
    stranger = links(link('eth9', 2, 'veth', peer_index=99, peer_netnsid=0))
    plan = plan_veth(veth_want(), host, stranger)
    assert [op.action for op in plan.ops][:2] == ['link_del', 'link_add']
    assert plan.before['peer'] == {'name': None, 'namespace': 'unknown', 'up': False}


def test_veth_hand_made_peer_is_moved_renamed_and_readdressed():
    host = links(link('veth_d366', 5, 'veth', peer_index=4, up=False),
                 link('veth_d366_peer', 4, 'veth', peer_index=5, addresses=['10.0.0.2/24']))
    plan = plan_veth(veth_want(name='veth_d366', peer_namespace='netns666', peer_addresses=['10.0.0.2/24']), host, links())
    assert actions(plan) == [
        ('link_move', None, 'veth_d366_peer', {'to_namespace': 'netns666', 'new_name': 'eth0', 'same_namespace': False}),
        ('addr_add', 'netns666', 'eth0', {'address': '10.0.0.2/24'}),     # moving drops addresses
        ('link_set', 'netns666', 'eth0', {'up': True}),
        ('link_set', None, 'veth_d366', {'up': True})]
    assert plan.before['peer']['name'] == 'veth_d366_peer' and plan.before['peer']['namespace'] is None


def test_veth_rename_in_same_namespace_keeps_addresses():
    host = links(link('va', 5, 'veth', peer_index=4), link('old', 4, 'veth', peer_index=5, addresses=['10.9.0.2/30']))
    plan = plan_veth(veth_want(name='va', peer='vb', peer_namespace=None, peer_addresses=['10.9.0.2/30']), host, host)
    assert actions(plan) == [
        ('link_move', None, 'old', {'to_namespace': None, 'new_name': 'vb', 'same_namespace': True}),
        ('link_set', None, 'vb', {'up': True})]


def test_veth_peer_renamed_where_it_is_keeps_its_addresses():
    """An endpoint's eth0 that should now be called lan0: renamed inside its namespace, not recreated."""
    host = links(link('v1', 7, 'veth', peer_index=2, peer_netnsid=0))
    peer = links(link('eth0', 2, 'veth', peer_index=7, peer_netnsid=0, addresses=['10.0.0.2/24']))
    plan = plan_veth(veth_want(peer='lan0', peer_addresses=['10.0.0.2/24']), host, peer)
    assert actions(plan) == [
        ('link_move', 'c1', 'eth0', {'to_namespace': 'c1', 'new_name': 'lan0', 'same_namespace': True}),
        ('link_set', 'c1', 'lan0', {'up': True})]
    assert plan.before['peer']['name'] == 'eth0' and plan.after['peer']['name'] == 'lan0'


@pytest.mark.parametrize('host, peer, want, error, words', [
    (links(link('v1', 2, 'bridge')), links(), veth_want(), Conflict, ['v1', 'bridge']),
    (links(), links(link('eth0', 2, 'bridge')), veth_want(), Conflict, ['eth0', 'namespace c1', 'taken']),
    (links(), links(), veth_want(master='br9'), NotFound, ['br9']),
    (links(link('v2', 3, 'veth')), links(), veth_want(master='v2'), InvalidInput, ['v2', 'not a bridge']),
    (links(), links(), veth_want(peer='v1', peer_namespace=None), InvalidInput, ['v1']),
])
def test_veth_refusals(host, peer, want, error, words):
    with pytest.raises(error) as raised:
        plan_veth(want, host, peer)
    for word in words:
        assert word in str(raised.value)


def test_veth_absent():
    assert actions(plan_veth(veth_want(state='absent'), links(link('v1', 2, 'veth')), {})) == [
        ('link_del', None, 'v1', {})]
    assert plan_veth(veth_want(state='absent'), links(), {}).ops == []


def test_veth_mtu_applies_to_both_ends():
    host = links(link('v1', 7, 'veth', peer_index=2, peer_netnsid=0))
    peer = links(link('eth0', 2, 'veth', peer_index=7, peer_netnsid=0))
    plan = plan_veth(veth_want(mtu=1450), host, peer)
    assert actions(plan) == [('link_set', 'c1', 'eth0', {'mtu': 1450}), ('link_set', None, 'v1', {'mtu': 1450})]


# ------------------------------------------------------------------ routes

def route(dst, gateway=None, dev='eth0', metric=0, proto=4):
    return {'dst': dst, 'gateway': gateway, 'dev': dev, 'metric': metric, 'proto': proto}


def routes_want(routes, **kw):
    want = dict(namespace='c1', routes=routes, state='present', exclusive=False)
    want.update(kw)
    return want


CONNECTED = route('10.0.0.0/24', proto=2)
DEVS = links(link('eth0', 2, 'veth'), link('eth1', 3, 'veth'))


def test_routes_add_then_converged():
    want = routes_want([{'dst': '0.0.0.0/0', 'gateway': '10.0.0.1', 'dev': None, 'metric': None}])
    plan = plan_routes(want, [CONNECTED], DEVS)
    assert actions(plan) == [('route_add', 'c1', '0.0.0.0/0', {'route': {'dst': '0.0.0.0/0', 'gateway': '10.0.0.1'}})]
    assert plan.before == {'routes': []}
    assert plan.after == {'routes': [{'dst': '0.0.0.0/0', 'gateway': '10.0.0.1'}]}
    converged = plan_routes(want, [CONNECTED, route('0.0.0.0/0', '10.0.0.1')], DEVS)
    assert converged.ops == [] and converged.before == converged.after


def test_routes_replace_keeps_the_metric_key():
    want = routes_want([{'dst': '0.0.0.0/0', 'gateway': '10.0.0.3', 'dev': None, 'metric': None}])
    plan = plan_routes(want, [route('0.0.0.0/0', '10.0.0.1', metric=100)], DEVS)
    assert actions(plan) == [('route_replace', 'c1', '0.0.0.0/0',
                              {'route': {'dst': '0.0.0.0/0', 'gateway': '10.0.0.3', 'metric': 100}})]
    assert plan.before == {'routes': [{'dst': '0.0.0.0/0', 'gateway': '10.0.0.1'}]}


def test_routes_exclusive_spares_connected_routes():
    want = routes_want([], exclusive=True)
    plan = plan_routes(want, [CONNECTED, route('203.0.113.0/24', dev='eth1')], DEVS)
    assert actions(plan) == [('route_del', 'c1', '203.0.113.0/24',
                              {'route': {'dst': '203.0.113.0/24', 'dev': 'eth1', 'metric': 0}})]


def test_routes_absent_matches_given_fields_only():
    want = routes_want([{'dst': '0.0.0.0/0', 'gateway': None, 'dev': None, 'metric': None}], state='absent')
    plan = plan_routes(want, [CONNECTED, route('0.0.0.0/0', '10.0.0.1')], DEVS)
    assert [op.action for op in plan.ops] == ['route_del']
    assert plan.after == {'routes': []}


def test_routes_unknown_device():
    with pytest.raises(NotFound) as raised:
        plan_routes(routes_want([{'dst': '0.0.0.0/0', 'gateway': None, 'dev': 'eth7', 'metric': None}]), [], DEVS)
    assert 'eth7' in str(raised.value) and 'namespace c1' in str(raised.value)


# ------------------------------------------------------------------ netns

def netns_want(**kw):
    want = dict(name='web', state='present', pid=None, force=False, loopback=True)
    want.update(kw)
    return want


ABSENT = {'exists': False, 'stale': False, 'id': None, 'loopback_up': None}


def test_netns_create_brings_lo_up():
    plan = plan_netns(netns_want(), ABSENT)
    assert actions(plan) == [('netns_create', None, 'web', {}), ('link_set', 'web', 'lo', {'up': True})]
    assert plan.after == {'state': 'present', 'loopback_up': True}


def test_netns_present_converged_and_loopback_unmanaged():
    present = {'exists': True, 'stale': False, 'id': 11, 'loopback_up': True}
    assert plan_netns(netns_want(), present).ops == []
    assert actions(plan_netns(netns_want(loopback=False), ABSENT)) == [('netns_create', None, 'web', {})]


def test_netns_adopt_and_rebind():
    observed = dict(ABSENT, pid_id=42, pid_loopback_up=False)
    assert actions(plan_netns(netns_want(pid=7), observed)) == [
        ('netns_attach', None, 'web', {'pid': 7}), ('link_set', 'web', 'lo', {'up': True})]
    same = {'exists': True, 'stale': False, 'id': 42, 'loopback_up': True, 'pid_id': 42, 'pid_loopback_up': True}
    assert plan_netns(netns_want(pid=7), same).ops == []
    other = dict(same, id=41)
    with pytest.raises(Conflict) as raised:
        plan_netns(netns_want(pid=7), other)
    assert 'force' in str(raised.value) and '41' in str(raised.value) and '42' in str(raised.value)
    plan = plan_netns(netns_want(pid=7, force=True), other)
    assert [op.action for op in plan.ops] == ['netns_delete', 'netns_attach']
    assert plan.before['id'] == 41 and plan.after['id'] == 42


def test_netns_absent_and_stale():
    assert plan_netns(netns_want(state='absent'), ABSENT).ops == []
    stale = dict(ABSENT, stale=True)
    assert actions(plan_netns(netns_want(state='absent'), stale)) == [('netns_delete', None, 'web', {})]


# ------------------------------------------------------------------ check mode on a bare host

def test_missing_references_can_be_assumed():
    """In check mode the runner passes a callback that records instead of raising."""
    noted = []
    plan = plan_veth(veth_want(master='br0', peer_addresses=['10.0.0.2/24']), links(), links(), noted.append)
    assert noted == ['master: bridge br0 does not exist in the host namespace']
    assert ('link_set', None, 'v1', {'master': 'br0'}) in actions(plan)
    plan = plan_bridge(bridge_want(ports=['v1']), links(), noted.append)
    assert plan.after['ports'] == ['v1'] and noted[-1].startswith('ports: interface v1')
    plan = plan_routes(routes_want([{'dst': '0.0.0.0/0', 'gateway': None, 'dev': 'eth0', 'metric': None}]),
                       [], {}, noted.append)
    assert [op.action for op in plan.ops] == ['route_add'] and 'eth0' in noted[-1]
