"""How the applier groups planned operations into netlink requests (_kernel/changes.py, _requests): settings
of one link that one request carries go together, also across that link's address changes,
and nothing else is merged or reordered."""

from ansible_collections.netplumb.container.plugins.module_utils._kernel.changes import _requests
from ansible_collections.netplumb.container.plugins.module_utils._kernel.op import Op


def shape(ops):
    return [[(op.action, op.name, sorted(op.args)) for op in group] for group in _requests(ops)]


def test_a_new_veth_pair_takes_one_request_per_end_and_address():
    ops = [Op('link_add', None, 'np1', 'create', kind='veth', peer='eth0', peer_namespace='ep'),
           Op('link_set', 'ep', 'eth0', 'set MAC', address='02:42:0a:00:00:02'),
           Op('addr_add', 'ep', 'eth0', 'add address', address='10.0.0.2/24'),
           Op('link_set', 'ep', 'eth0', 'bring up', up=True),
           Op('link_set', None, 'np1', 'set alias', alias='x'),
           Op('link_set', None, 'np1', 'attach', master='br0'),
           Op('link_set', None, 'np1', 'hairpin', hairpin=True),
           Op('link_set', None, 'np1', 'bring up', up=True),
           Op('route_add', 'ep', '0.0.0.0/0', 'add route', route={'dst': '0.0.0.0/0'})]
    assert shape(ops) == [
        [('link_add', 'np1', ['kind', 'peer', 'peer_namespace'])],
        [('link_set', 'eth0', ['address']), ('link_set', 'eth0', ['up'])],     # up before the address is added
        [('addr_add', 'eth0', ['address'])],
        [('link_set', 'np1', ['alias']), ('link_set', 'np1', ['master']), ('link_set', 'np1', ['hairpin']),
         ('link_set', 'np1', ['up'])],
        [('route_add', '0.0.0.0/0', ['route'])]]


def test_other_links_operations_and_repeated_settings_keep_their_order():
    ops = [Op('link_set', None, 'a', 'down', up=False),
           Op('link_set', None, 'b', 'up', up=True),           # another link: a new group
           Op('link_set', None, 'b', 'mtu', mtu=1400),
           Op('addr_add', None, 'a', 'address', address='10.0.0.1/24'),   # a's group is closed by b
           Op('link_set', None, 'a', 'up', up=True),
           Op('link_set', None, 'a', 'up again', up=True),     # the same setting twice: not merged
           Op('link_del', None, 'c', 'delete'),
           Op('link_set', None, 'a', 'alias', alias='x')]      # after another link's change: not merged
    assert [[op.text for op in group] for group in _requests(ops)] == [
        ['down'], ['up', 'mtu'], ['address'], ['up'], ['up again'], ['delete'], ['alias']]
