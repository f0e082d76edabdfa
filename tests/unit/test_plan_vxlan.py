"""The VXLAN device's planner, pure: its forwarding entries and neighbours, what it changes in
place and what makes it again, and what it refuses."""

import pytest

from ansible_collections.netplumb.container.plugins.module_utils._errors import Conflict, NotFound
from ansible_collections.netplumb.container.plugins.module_utils._objects.vxlan import plan_vxlan
from test_plan import actions, link, links


def vxlan_want(**kw):
    want = dict(name='vx1', namespace='ovl', state='present', vni=256, local='198.51.100.11', dev=None,
                dstport=4789, learning=False, mtu=None, master=None, addresses=None, up=True, fdb=[],
                neighbours=[], exclusive=False)
    want.update(kw)
    return want


def vx_link(**kw):
    data = dict(vni=256, local='198.51.100.11', dev=None, dstport=4789, learning=False)
    data.update(kw)
    return link('vx1', 5, 'vxlan', vxlan=data)


FLOOD = '00:00:00:00:00:00'


def test_vxlan_create_with_flood_entries_and_neighbour():
    want = vxlan_want(fdb=[{'mac': FLOOD, 'dst': '198.51.100.13'}, {'mac': FLOOD, 'dst': '198.51.100.12'}],
                      neighbours=[{'ip': '10.0.0.5', 'mac': '02:42:0a:00:00:05'}])
    plan = plan_vxlan(want, links(), [], [])
    assert [(op.action, op.args) for op in plan.ops] == [
        ('link_add', {'kind': 'vxlan', 'vni': 256, 'local': '198.51.100.11', 'dev': None, 'dstport': 4789,
                      'learning': False}),
        ('fdb_add', {'mac': FLOOD, 'dst': '198.51.100.12'}),
        ('fdb_add', {'mac': FLOOD, 'dst': '198.51.100.13'}),
        ('neigh_add', {'ip': '10.0.0.5', 'mac': '02:42:0a:00:00:05'}),
        ('link_set', {'up': True})]
    assert plan.before == {'state': 'absent'}
    assert plan.after['fdb'] == [[FLOOD, '198.51.100.12'], [FLOOD, '198.51.100.13']]


def test_vxlan_converged_is_empty_and_additive_keeps_unlisted():
    fdb = [{'mac': FLOOD, 'dst': '198.51.100.12'}, {'mac': FLOOD, 'dst': '198.51.100.14'}]
    plan = plan_vxlan(vxlan_want(fdb=fdb[:1]), links(vx_link()), fdb, [])
    assert plan.ops == [] and plan.before == plan.after


def test_vxlan_exclusive_removes_and_replaces():
    fdb = [{'mac': FLOOD, 'dst': '198.51.100.12'}, {'mac': FLOOD, 'dst': '198.51.100.14'}]
    neigh = [{'ip': '10.0.0.5', 'mac': '02:42:0a:00:00:05'}, {'ip': '10.0.0.6', 'mac': '02:42:0a:00:00:06'}]
    want = vxlan_want(exclusive=True, fdb=fdb[:1], neighbours=[{'ip': '10.0.0.5', 'mac': '02:42:0a:00:00:99'}])
    plan = plan_vxlan(want, links(vx_link()), fdb, neigh)
    assert [(op.action, op.args) for op in plan.ops] == [
        ('fdb_del', {'mac': FLOOD, 'dst': '198.51.100.14'}),
        ('neigh_replace', {'ip': '10.0.0.5', 'mac': '02:42:0a:00:00:99'}),
        ('neigh_del', {'ip': '10.0.0.6', 'mac': '02:42:0a:00:00:06'})]
    assert plan.after['neighbours'] == [['10.0.0.5', '02:42:0a:00:00:99']]


def test_vxlan_an_endpoint_that_moved_host_has_its_entry_replaced_not_removed():
    """A unicast MAC has one VTEP: the kernel ignores a second one appended, so adding the new place
    and removing the old one would leave the endpoint no entry at all (found on a host that only
    learned a moved endpoint's new place on the next run)."""
    web1 = '02:42:0a:00:01:02'
    have = [{'mac': FLOOD, 'dst': '198.51.100.11'}, {'mac': FLOOD, 'dst': '198.51.100.12'},
            {'mac': web1, 'dst': '198.51.100.11'}]
    wanted = have[:2] + [{'mac': web1, 'dst': '198.51.100.12'}]
    for exclusive in (True, False):
        plan = plan_vxlan(vxlan_want(fdb=wanted, exclusive=exclusive), links(vx_link()), have, [])
        assert [(op.action, op.args) for op in plan.ops] == [
            ('fdb_replace', {'mac': web1, 'dst': '198.51.100.12', 'was': '198.51.100.11'})], exclusive
        assert plan.ops[0].text == 'move forwarding entry %s: 198.51.100.11 -> 198.51.100.12' % web1
        assert plan.after['fdb'] == sorted([e['mac'], e['dst']] for e in wanted)
    # flood entries are a set: one more VTEP is one more entry
    plan = plan_vxlan(vxlan_want(fdb=have + [{'mac': FLOOD, 'dst': '198.51.100.13'}], exclusive=True),
                      links(vx_link()), have, [])
    assert [op.action for op in plan.ops] == ['fdb_add']


@pytest.mark.parametrize('field, value', [('vni', 257), ('dstport', 8472), ('local', '198.51.100.99')])
def test_vxlan_fixed_attribute_recreates(field, value):
    fdb = [{'mac': FLOOD, 'dst': '198.51.100.12'}]
    plan = plan_vxlan(vxlan_want(fdb=fdb, **{field: value}), links(vx_link()), fdb, [])
    assert [op.action for op in plan.ops][:3] == ['link_del', 'link_add', 'fdb_add']
    assert 'cannot change in place' in plan.ops[0].text and field in plan.ops[0].text
    assert plan.before[field] != plan.after[field] and plan.before['fdb'] == plan.after['fdb']


def test_vxlan_learning_changes_in_place():
    plan = plan_vxlan(vxlan_want(learning=True), links(vx_link()), [], [])
    assert actions(plan) == [('link_set', 'ovl', 'vx1', {'learning': True})]


def test_vxlan_refusals():
    with pytest.raises(Conflict):
        plan_vxlan(vxlan_want(), links(link('vx1', 2, 'bridge')), [], [])
    with pytest.raises(NotFound) as raised:
        plan_vxlan(vxlan_want(dev='eth9'), links(), [], [])
    assert 'eth9' in str(raised.value)
