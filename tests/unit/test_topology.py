"""The topology planner without a kernel: validation, names, and plans against observed data."""

import json

import pytest

from ansible_collections.netplumb.container.plugins.module_utils._errors import Conflict, InvalidInput
from ansible_collections.netplumb.container.plugins.module_utils._firewall.nftables import EMPTY
from ansible_collections.netplumb.container.plugins.module_utils._topology import planner
from ansible_collections.netplumb.container.plugins.module_utils._boot.desired import digest
from ansible_collections.netplumb.container.plugins.module_utils._topology.host import diff_view
from ansible_collections.netplumb.container.plugins.module_utils._kernel.netns import hosts_path
from ansible_collections.netplumb.container.plugins.module_utils._topology.names import (
    bridge_alias, bridge_name, host_ifname, mac_of, ula_prefix, veth_alias)
from ansible_collections.netplumb.container.plugins.module_utils._kernel.sysctl import SYSCTL_NEIGHBOURS
from ansible_collections.netplumb.container.plugins.module_utils._topology.resolve import resolve
from declared import declarations

DEFAULT = {'name': 'bridge', 'bridge': 'np0', 'subnet': '172.17.0.0/16', 'resolve_names': False}
NEW = {'name': 'new_network', 'subnet': '172.18.0.0/16'}
SEED_003 = [{'name': 'nginx01', 'networks': ['new_network'], 'published': ['8080:80']},
            {'name': 'nginx02', 'networks': ['new_network']},
            {'name': 'nginx03'}]


def model(networks, endpoints, default_pools=None):
    """The module's way in: its argument spec, then the semantic checks."""
    params = {'networks': networks, 'endpoints': endpoints}
    if default_pools is not None:
        params['default_pools'] = default_pools
    return declarations(params)


def plan(declared, observed, purge=True):
    return planner.plan(resolve(declared, observed), observed, purge)


ULA_48 = ula_prefix('host1')[:-3]     # 'fdxx:xxxx:xxxx::'


def no_name_server(**seen):
    """The name server as a host without one shows it (``seen`` changes what it shows; the
    configuration file holds what the server loaded unless ``written`` says otherwise)."""
    seen.setdefault('written', seen.get('config'))
    return dict({'paths': {'directory': '/var/lib/netplumb/dns', 'config': '/var/lib/netplumb/dns/unbound.conf',
                           'pidfile': '/var/lib/netplumb/dns/unbound.pid'},
                 'config': None, 'running': False, 'pid': None, 'supervisor': 'engine', 'program': '/usr/sbin/unbound',
                 'installed': True, 'upstream': ['203.0.113.53'], 'listeners': [], 'unit': None}, **seen)


def empty_host(**extra):
    observed = {'record': {'networks': {}, 'endpoints': {}}, 'pools': {}, 'resolv': {}, 'dns': no_name_server(),
                'host_links': {'lo': link('lo', None, addresses=['127.0.0.1/8'])},
                'namespaces': {}, 'hosts': {}, 'firewall': {'backend': 'nftables', 'state': EMPTY}, 'foreign': [],
                'host_routes': [], 'sysctl': {}, 'hostname': 'host1'}
    observed.update(extra)
    return observed


def link(name, kind, **fields):
    return dict({'name': name, 'index': hash(name) % 1000, 'kind': kind, 'mtu': 1500, 'mac': None, 'up': True,
                 'master': None, 'alias': None, 'addresses': [], 'peer_index': None, 'peer_netnsid': None}, **fields)


def test_a_subnet_on_top_of_what_the_host_routes_is_refused_and_carving_skips_it():
    docker0 = link('docker0', 'bridge', addresses=['172.20.0.1/16'])
    vpn = {'dst': '172.31.0.0/24', 'gateway': None, 'dev': 'tun0', 'metric': 0, 'proto': 3}
    default = {'dst': '0.0.0.0/0', 'gateway': '198.51.100.1', 'dev': 'eth0', 'metric': 0, 'proto': 3}
    host = empty_host(host_links={'docker0': docker0}, host_routes=[vpn, default])
    with pytest.raises(Conflict) as error:
        plan(model([{'name': 'web', 'subnet': '172.20.5.0/24'}], []), host)
    assert "networks (web).subnet: 172.20.5.0/24 overlaps the host's address 172.20.0.1/16 of docker0" in str(error.value)
    with pytest.raises(Conflict) as error:
        plan(model([{'name': 'web', 'subnet': '172.31.0.0/16'}], []), host)
    assert 'route 172.31.0.0/24 dev tun0' in str(error.value)
    result = plan(model([{'name': 'web'}], []), host)
    assert result.returns['networks']['web']['subnet'] == '172.31.1.0/24'     # past the VPN's route


def test_names_fit_the_kernel_and_are_stable():
    assert len(bridge_name('a' * 63)) <= 15 and bridge_name('web') == bridge_name('web') != bridge_name('db')
    assert len(host_ifname('x' * 63, 'y' * 63)) <= 15
    assert host_ifname('a', 'b') != host_ifname('b', 'a')
    assert mac_of('172.18.0.2') == '02:42:ac:12:00:02'


@pytest.mark.parametrize('networks, endpoints, fragments', [
    ([DEFAULT], [{'name': 'a', 'networks': ['nowhere']}], ['endpoints[0] (a).networks', 'nowhere', 'not declared']),
    ([DEFAULT, dict(NEW, subnet='172.17.5.0/24')], [], ['networks[1] (new_network).subnet', 'overlaps', 'bridge']),
    ([DEFAULT, dict(NEW, name='bridge')], [], ['name bridge']),
    ([DEFAULT, dict(NEW, bridge='np0')], [], ['bridge np0']),
    ([DEFAULT, dict(NEW, bridge='name-longer-than-15')], [], ['name-longer-than-15']),
    ([{'name': 'bad name'}], [], ["'bad name'"]),
    ([dict(DEFAULT, icc='maybe')], [], ['maybe', 'icc']),
    ([dict(DEFAULT, gateway='10.0.0.1')], [], ['10.0.0.1']),
    ([{'name': 'x', 'gateway': '10.0.0.1'}], [], ['need a subnet']),
    ([DEFAULT], [{'name': 'a'}, {'name': 'a'}], ['endpoint a is declared twice']),
    ([DEFAULT], [{'name': 'a', 'namespace': 'ns'}, {'name': 'b', 'namespace': 'ns'}], ['ns', 'endpoint a']),
    ([DEFAULT], [{'name': 'a', 'networks': [{'name': 'bridge', 'address': '172.17.0.1'}]}], ['gateway']),
    ([DEFAULT], [{'name': 'a', 'networks': [{'name': 'bridge', 'address': '172.17.0.9'}]},
                 {'name': 'b', 'networks': [{'name': 'bridge', 'address': '172.17.0.9'}]}], ['172.17.0.9', 'a']),
    ([{'name': 'auto'}], [{'name': 'a', 'networks': [{'name': 'auto', 'address': '10.0.0.9'}]}], ['subnet declared']),
    ([DEFAULT], [{'name': 'a', 'networks': ['bridge', {'name': 'bridge', 'ifname': 'eth5'}]}], ['network bridge']),
    ([DEFAULT], [{'name': 'a', 'networks': [{'name': 'bridge', 'ifname': 'lo'}]}], ['lo']),
    ([DEFAULT], [{'name': 'a', 'published': ['8080:80']}, {'name': 'b', 'published': ['8080:8080']}],
     ['endpoints (b).published[0]', '8080', 'endpoint a']),
    ([DEFAULT], [{'name': 'a', 'published': ['8000-8010:8000-8010']}, {'name': 'b', 'published': ['9000:80', '8005:80']}],
     ['endpoints (b).published[1]', '8005', 'endpoint a']),
    ([DEFAULT], [{'name': 'a', 'published': ['1.2.3.4:8080:80']}, {'name': 'b', 'published': ['8080:80']}],
     ['8080']),
    ([dict(DEFAULT, internal=True)], [{'name': 'a', 'published': ['8080:80']}], ['non-internal']),
    ([DEFAULT], [{'name': 'a', 'mode': 'container:b'}], ['container:b', 'no such endpoint']),
    ([DEFAULT], [{'name': 'a', 'mode': 'host'}, {'name': 'b', 'mode': 'container:a'}], ['mode host']),
    ([DEFAULT], [{'name': 'a', 'mode': 'vm'}], ["'vm'"]),
    ([DEFAULT], [{'name': 'a', 'mode': 'none', 'networks': ['bridge']}], ['mode none']),
    ([DEFAULT], [{'name': 'a', 'mode': 'host', 'pid': 5}], ['pid']),
    ([NEW], [{'name': 'a'}], ['no network named "bridge"']),
    ([dict(NEW, state='absent')], [{'name': 'a', 'networks': ['new_network']}], ['marked absent', 'force']),
    ([dict(DEFAULT, driver='overlay')], [], ['overlay']),
    ([dict(DEFAULT, colour='red')], [], ['colour']),
    ([dict(DEFAULT, subnet='fd00::/64')], [], ['networks[0] (bridge).subnet', 'fd00::/64 is IPv6', 'ipv6_subnet']),
    ([dict(DEFAULT, ipv6_subnet='10.9.0.0/24')], [], ['ipv6_subnet', '10.9.0.0/24']),
    ([dict(DEFAULT, ipv6_subnet='fd00::/126')], [], ['ipv6_subnet', 'fd00::/126']),
    ([dict(DEFAULT, ipv6_gateway='fd00::1')], [], ['ipv6_gateway', 'needs an ipv6_subnet']),
    ([dict(DEFAULT, ipv6_subnet='fd00::/64'), dict(NEW, ipv6_subnet='fd00::/48')], [],
     ['networks[1] (new_network).ipv6_subnet', 'overlaps network bridge']),
    ([DEFAULT], [{'name': 'a', 'networks': [{'name': 'bridge', 'ipv6_address': 'fd00::9'}]}], ['ipv6_subnet declared']),
    ([dict(DEFAULT, ipv6_subnet='fd00::/64')], [{'name': 'a', 'networks': [{'name': 'bridge',
                                                                            'ipv6_address': 'fd01::9'}]}],
     ['ipv6_address', 'fd01::9 is not in the subnet fd00::/64']),
    ([DEFAULT], [{'name': 'a', 'published': ['[::1]:8080:80']}], ['::1 is an IPv6 host address', 'no IPv6']),
    ([{'name': 'ov', 'driver': 'overlay', 'subnet': '10.9.0.0/24', 'enable_ipv6': True, 'vni': 5,
       'local': '10.0.0.1'}], [],
     ['ipv6_subnet: required for an overlay']),
    ([DEFAULT], [], []),
])
def test_model_rejects_naming_the_value(networks, endpoints, fragments):
    if not fragments:
        model(networks, endpoints)      # the baseline: the same declarations without the fault pass
        return
    with pytest.raises(InvalidInput) as error:
        model(networks, endpoints)
    for fragment in fragments:
        assert fragment in str(error.value)


def test_a_bridge_network_takes_as_many_endpoints_as_the_kernel_gives_its_bridge_ports():
    wide = dict(DEFAULT, subnet='10.0.0.0/16')
    model([wide], [{'name': 'e%d' % i} for i in range(1023)] + [{'name': 'gone', 'state': 'absent'}])
    with pytest.raises(InvalidInput) as error:
        model([wide], [{'name': 'e%d' % i} for i in range(1024)])
    assert str(error.value).startswith('networks (bridge): 1024 endpoints on this host, and its bridge np0 holds at '
                                       'most 1023 ports')
    overlay = {'name': 'ov', 'driver': 'overlay', 'subnet': '10.9.0.0/16', 'vni': 5, 'local': '10.0.0.1'}
    model([overlay], [{'name': 'e%d' % i, 'networks': ['ov']} for i in range(1022)])
    with pytest.raises(InvalidInput, match='1023 endpoints .* 1023 ports with the VXLAN device'):
        model([overlay], [{'name': 'e%d' % i, 'networks': ['ov']} for i in range(1023)])


def test_model_defaults_like_docker():
    wanted = model([DEFAULT, NEW], SEED_003 + [{'name': 'side', 'mode': 'container:nginx01'}])
    eps = dict((e['name'], e) for e in wanted['endpoints'])
    assert [a['name'] for a in eps['nginx03']['networks']] == ['bridge']         # the default network
    assert eps['nginx01']['namespace'] == 'nginx01' and eps['side']['namespace'] is None
    assert [a['ifname'] for a in model([DEFAULT, NEW], [{'name': 'x', 'networks': ['bridge', 'new_network']}])[
        'endpoints'][0]['networks']] == ['eth0', 'eth1']


def test_hosts_files_name_each_endpoint_once_by_its_address_on_the_first_shared_network():
    other = {'name': 'other', 'subnet': '172.19.0.0/16'}
    eps = [{'name': 'a', 'networks': ['new_network']}, {'name': 'b', 'networks': ['other', 'new_network']},
           {'name': 'c', 'networks': ['other']}, {'name': 'd', 'networks': ['new_network']}]
    files = plan(model([DEFAULT, NEW, other], eps), empty_host()).files
    header = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback']

    def entries(name):
        return files[hosts_path(name)].splitlines()[1:]
    assert entries('a') == header + ['172.18.0.2\ta', '172.18.0.3\tb', '172.18.0.4\td']
    # b: itself on its first network, c there, then new_network's others (not b again)
    assert entries('b') == header + ['172.19.0.2\tb', '172.19.0.3\tc', '172.18.0.2\ta', '172.18.0.4\td']
    assert entries('c') == header + ['172.19.0.3\tc', '172.19.0.2\tb']
    assert entries('d') == header + ['172.18.0.4\td', '172.18.0.2\ta', '172.18.0.3\tb']
    assert files[hosts_path('a')].startswith('# netplumb endpoint a: managed by netplumb.container')


def test_the_diff_shows_hosts_files_by_digest_so_it_grows_with_the_endpoints_not_their_square():
    def diff_of(count):
        wide = dict(NEW, subnet='10.0.0.0/16')
        result = plan(model([wide], [{'name': 'e%d' % i, 'networks': ['new_network']} for i in range(count)]),
                      empty_host())
        return result, diff_view(result.after)
    small, large = diff_of(100)[1], diff_of(400)
    result, view = large
    path = hosts_path('e7')
    assert view['endpoints']['e7']['hosts'] == {'path': path, 'digest': digest(result.files[path])}
    # the names are the network's leases, listed once
    assert view['networks']['new_network']['leases']['e399'] == '10.0.1.145'
    assert len(json.dumps(view)) / len(json.dumps(small)) < 4.5      # 4 x the endpoints; in full, 16 x the size


def test_plan_on_an_empty_host_lists_every_object():
    result = plan(model([DEFAULT, NEW], SEED_003), empty_host())
    ops = [(op.action, op.name) for op in result.ops]
    assert ops.count(('netns_create', 'nginx01')) == 1 and ('link_add', 'np0') in ops
    assert ('link_add', bridge_name('new_network')) in ops
    # the gateway's MAC is the bridge's own, not its lowest port's: it stays as endpoints come and go
    made = [op.args for op in result.ops if op.name == bridge_name('new_network') and op.namespace is None]
    assert '02:42:ac:12:00:01' in repr(made), made
    assert ('link_add', host_ifname('nginx03', 'bridge')) in ops
    # a namespace before its veth, the veth before the route through it
    assert ops.index(('netns_create', 'nginx01')) < ops.index(('link_add', host_ifname('nginx01', 'new_network')))
    assert [op.args['route'] for op in result.ops if op.action == 'route_add' and op.namespace == 'nginx03'] == [
        {'dst': '0.0.0.0/0', 'gateway': '172.17.0.1'}]
    assert result.returns['endpoints']['nginx02']['interfaces']['eth0']['address'] == '172.18.0.3/16'
    assert result.returns['endpoints']['nginx01']['published'] == [
        {'mapping': '8080:80', 'host_ip': None, 'host_ports': [8080, 8080], 'container_ports': [80, 80],
         'proto': 'tcp', 'network': 'new_network'}]
    assert result.returns['endpoints']['nginx02']['published'] == []
    assert sorted(result.pools) == ['bridge', 'new_network']
    assert result.sysctls == {'net.ipv4.ip_forward': '1', 'net.bridge.bridge-nf-call-iptables': '1',
                              'net.ipv4.conf.%s.route_localnet' % bridge_name('new_network'): '1'}
    assert 'add table inet netplumb' in result.firewall
    assert 'ports_v4 { 0.0.0.0/0 . tcp . 8080 comment "new_network" : 172.18.0.2 . 80 }' in result.firewall
    # names: peers of a resolving network, nobody on the default one
    assert '172.18.0.3\tnginx02' in result.files[hosts_path('nginx01')]
    assert result.files[hosts_path('nginx03')].count('\n') == 4        # header, localhost x2, itself
    assert result.record['endpoints']['nginx01'] == {
        'mode': 'bridge', 'namespace': 'nginx01', 'created': True,
        'dns': {'server': '172.18.0.1', 'ifname': 'eth0', 'stubs': ['127.0.0.11']},
        'attachments': {'new_network': {'host': host_ifname('nginx01', 'new_network'), 'ifname': 'eth0',
                                        'namespace': None}}}
    assert result.after['endpoints']['nginx01']['interfaces']['eth0']['peer']['mac'] == '02:42:ac:12:00:02'
    assert result.before == {'networks': {}, 'endpoints': {}, 'sysctl': dict.fromkeys(result.sysctls)}


def test_subnets_are_carved_past_the_ones_in_use():
    host = empty_host(host_links={'eth0': link('eth0', None, addresses=['172.31.0.10/24'])},
                      pools={'old': {'pool': {'name': 'old', 'subnet': '172.31.1.0/24', 'gateway': '172.31.1.1',
                                              'ip_range': None, 'reserved': []}, 'leases': {}}})
    result = plan(model([{'name': 'a'}, {'name': 'b', 'subnet': '172.31.2.0/24'}, {'name': 'c'}], []), host)
    assert result.returns['networks']['a']['subnet'] == '172.31.3.0/24'
    assert result.returns['networks']['c']['subnet'] == '172.31.4.0/24'
    with pytest.raises(Conflict) as error:
        plan(model([{'name': 'a'}], [], default_pools=[{'base': '172.31.0.0/23', 'size': 24}]), host)
    assert 'no free subnet' in str(error.value)


def test_a_carved_subnet_is_kept_from_its_pool():
    pool = {'name': 'a', 'subnet': '172.31.9.0/24', 'gateway': '172.31.9.1', 'ip_range': None, 'reserved': []}
    result = plan(model([{'name': 'a'}], []), empty_host(pools={'a': {'pool': pool, 'leases': {}}}))
    assert result.returns['networks']['a']['subnet'] == '172.31.9.0/24' and 'a' not in result.pools


def test_removal_touches_only_what_carries_our_mark():
    record = {'networks': {'old': {'bridge': 'br-old', 'subnet': '10.9.0.0/24'}},
              'endpoints': {'gone': {'mode': 'bridge', 'namespace': 'gone', 'created': True,
                                     'attachments': {'old': {'host': 'npgone', 'ifname': 'eth0'}}},
                            'borrowed': {'mode': 'bridge', 'namespace': 'theirs', 'created': False,
                                         'attachments': {'old': {'host': 'npborrowed', 'ifname': 'eth0'}}}}}
    links = {'br-old': link('br-old', 'bridge', alias=bridge_alias('old')),
             'npgone': link('npgone', 'veth', alias=veth_alias('gone', 'old'), master='br-old'),
             'npborrowed': link('npborrowed', 'veth', alias='someone else', master='br-old')}
    namespaces = dict((ns, {'netns': {'exists': True}, 'links': {}, 'routes': []}) for ns in ('gone', 'theirs'))
    with pytest.raises(Conflict) as error:
        plan(model([], []), empty_host(record=record, host_links=links, namespaces=namespaces))
    assert 'npborrowed' in str(error.value) and 'did not make' in str(error.value)
    del links['npborrowed']
    result = plan(model([], []), empty_host(record=record, host_links=links, namespaces=namespaces))
    # no process in the namespace: its name goes, and the kernel takes the veth pair with it
    assert [(op.action, op.name) for op in result.ops] == [('netns_delete', 'gone'), ('link_del', 'br-old')]
    assert result.ops[0].args['takes'] == [{'namespace': None, 'name': 'npgone', 'index': links['npgone']['index']}]
    assert 'veth pairs npgone with it' in result.actions[0]
    assert result.record == {'firewall_backend': 'nftables', 'networks': {}, 'endpoints': {}}
    assert sorted(result.before['endpoints']) == ['borrowed', 'gone'] and result.after['endpoints'] == {}
    # a process still in it keeps the namespace alive: the veth pair is deleted first, by name
    namespaces['gone']['netns']['held'] = True
    result = plan(model([], []), empty_host(record=record, host_links=links, namespaces=namespaces))
    assert [(op.action, op.name) for op in result.ops] == [
        ('link_del', 'npgone'), ('netns_delete', 'gone'), ('link_del', 'br-old')]
    assert 'takes' not in result.ops[1].args


def test_without_purge_unlisted_entries_stay():
    record = {'networks': {'old': {'bridge': 'br-old', 'subnet': '10.9.0.0/24'}}, 'endpoints': {}}
    links = {'br-old': link('br-old', 'bridge', alias=bridge_alias('old'))}
    result = plan(model([], []), empty_host(record=record, host_links=links), purge=False)
    assert result.ops == [] and result.record == dict(record, firewall_backend='nftables')


def test_predict_derives_links_from_operations_and_leaves_its_input_alone():
    from ansible_collections.netplumb.container.plugins.module_utils._kernel.op import Op
    from ansible_collections.netplumb.container.plugins.module_utils._topology.networks import predict
    observed = {None: {'old': link('old', 'bridge'), 'np1': link('np1', 'veth', master='old')}, 'gone': {}}
    ops = [Op('link_del', None, 'old', 'delete bridge'),
           Op('link_add', None, 'br1', 'create bridge', kind='bridge'),
           Op('link_set', None, 'np1', 'attach', master='br1'),
           Op('netns_create', None, 'ep', 'create'),
           Op('link_move', None, 'np1', 'move', to_namespace='ep', new_name='eth0', same_namespace=False),
           Op('netns_delete', None, 'gone', 'remove')]
    after = predict(observed, ops)
    assert sorted(after[None]) == ['br1'] and after[None]['br1']['kind'] == 'bridge'
    assert after['ep']['eth0']['master'] == 'br1' and after['ep']['eth0']['name'] == 'eth0'
    assert 'gone' not in after
    assert sorted(observed[None]) == ['np1', 'old'] and observed[None]['np1']['master'] == 'old'


def test_a_warning_when_the_endpoints_would_fill_the_hosts_neighbour_table():
    """One IPv4 neighbour table serves every namespace; each endpoint reaching its gateway takes two entries."""
    def warnings(count, limit):
        endpoints = [{'name': 'e%d' % i} for i in range(count)]
        return plan(model([DEFAULT], endpoints), empty_host(sysctl={SYSCTL_NEIGHBOURS: limit})).warnings
    assert warnings(3, '8') == [] and warnings(4, None) == []      # None: not readable (not the host's namespace)
    assert warnings(4, '8') == ['4 endpoint interfaces need up to 8 IPv4 neighbour entries, as many as '
                                'net.ipv4.neigh.default.gc_thresh3=8 allows for the whole host: some would not reach '
                                'their gateway; raise it (and gc_thresh2) in /etc/sysctl.d']


def test_a_bridge_a_network_left_under_another_name_is_removed_not_taken_for_someone_elses():
    """Our alias says the bridge is the network's: its route is not a foreign one, and it goes."""
    left = link('np-left', 'bridge', alias=bridge_alias('web'), addresses=['172.28.0.1/16'])
    route = {'dst': '172.28.0.0/16', 'gateway': None, 'dev': 'np-left', 'metric': 0, 'proto': 2}
    host = empty_host(host_links={'np-left': left}, host_routes=[route])
    result = plan(model([{'name': 'web', 'subnet': '172.28.0.0/16', 'bridge': 'np-new'}], []), host)
    assert [(op.action, op.name) for op in result.ops if op.action == 'link_del'] == [('link_del', 'np-left')]
    assert ('link_add', 'np-new') in [(op.action, op.name) for op in result.ops]
    someone = dict(left, alias=None)            # no alias of ours, no record: someone else's, refused
    with pytest.raises(Conflict, match='overlaps the host'):
        plan(model([{'name': 'web', 'subnet': '172.28.0.0/16', 'bridge': 'np-new'}], []),
             empty_host(host_links={'np-left': someone}, host_routes=[route]))
