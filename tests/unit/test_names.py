"""The name server's plan without a host: who is answered what, from which view, where it asks,
what is forwarded, and what is done to the server; the configuration unbound reads."""

import pytest

from ansible_collections.netplumb.container.plugins.module_utils._dns import unbound
from ansible_collections.netplumb.container.plugins.module_utils._dns.server import _hex_address, upstream_servers
from ansible_collections.netplumb.container.plugins.module_utils._errors import Conflict, InvalidInput
from ansible_collections.netplumb.container.plugins.module_utils._kernel.netns import resolv_path
from declared import declarations
from test_topology import empty_host, no_name_server, plan

FRONT = {'name': 'front', 'subnet': '172.21.0.0/24', 'ipv6_subnet': 'fd00:21::/64', 'dns_search': ['corp.example']}
BACK = {'name': 'back', 'subnet': '172.22.0.0/24', 'internal': True}
DEFAULT = {'name': 'bridge', 'bridge': 'np0', 'subnet': '172.17.0.0/24', 'resolve_names': False}
ENDPOINTS = [{'name': 'web1', 'networks': [{'name': 'front', 'aliases': ['web']}, 'back']},
             {'name': 'web2', 'networks': [{'name': 'front', 'aliases': ['web']}]},
             {'name': 'db', 'networks': ['back']},
             {'name': 'lone', 'networks': ['bridge']}]


def planned(endpoints=None, networks=None, **seen):
    host = empty_host(dns=no_name_server(**seen))
    return plan(declarations({'networks': networks or [FRONT, BACK, DEFAULT], 'endpoints': endpoints or ENDPOINTS}),
                host)


def views_of(result):
    """endpoint address -> (forwards, sorted names) as the configuration text says."""
    text = result.name_server['config']
    views, current, clients = {}, None, {}
    for line in text.splitlines():
        if line.startswith('  access-control-view: '):
            address, view = line.split()[1:]
            clients[address.split('/')[0]] = view
        elif line.startswith('  name: "np-'):
            current = line.split('"')[1]
            views[current] = {'forward': True, 'names': set()}
        elif current and line == '  local-zone: "." static':
            views[current]['forward'] = False
        elif current and line.startswith('  local-data: "') and ' PTR ' not in line:
            views[current]['names'].add(line.split('"')[1].split('.')[0])
    return dict((address, (views[view]['forward'], sorted(views[view]['names']))) for address, view in clients.items())


def address(result, endpoint):
    return result.returns['endpoints'][endpoint]['interfaces']['eth0']['address'].split('/')[0]


def test_each_endpoint_is_answered_the_names_of_its_own_networks_only():
    result = planned()
    views = views_of(result)
    # web1 on front and back: both networks' names; web2 on front only; db on the internal back
    assert views[address(result, 'web1')] == (True, ['db', 'web', 'web1', 'web2'])
    assert views[address(result, 'web2')] == (True, ['web', 'web1', 'web2'])
    assert views[address(result, 'db')] == (False, ['db', 'web1'])          # internal: nothing forwarded
    assert views[address(result, 'lone')] == (True, [])                       # the default network: no names
    # every answer of an alias holds both endpoints' addresses, both families
    text = result.name_server['config']
    web = [line for line in text.splitlines() if line.startswith('  local-data: "web. ')]
    assert len(web) == 4 * 2                # 2 endpoints x (A + AAAA), in the two views that see front
    assert '  local-data: "%s. 60 IN PTR web1."' % __import__('ipaddress').ip_address(
        address(result, 'web1')).reverse_pointer in text


def test_endpoints_ask_their_first_network_with_a_gateway_and_search_its_domains():
    result = planned()
    web1 = result.files[resolv_path('web1')]
    assert 'nameserver 172.21.0.1\n' in web1 and 'search corp.example\n' in web1 and 'options ndots:0' in web1
    assert 'nameserver 172.22.0.1\n' in result.files[resolv_path('db')]
    assert result.returns['endpoints']['lone']['name_server'] == '172.17.0.1'
    assert unbound.listen_of(result.name_server['config']) == ['172.17.0.1', '172.21.0.1', '172.22.0.1']
    # port 53 of each gateway is open to its own bridge only
    assert 'name_server_v4 { 172.21.0.1 . "%s"' % result.returns['networks']['front']['bridge'] in result.firewall
    own = planned(endpoints=[{'name': 'web1', 'networks': ['front'], 'dns_search': ['mine.example']}])
    assert 'search mine.example\n' in own.files[resolv_path('web1')]


def test_the_forwarding_goes_to_the_hosts_upstream_and_loopback_stubs_are_redirected():
    result = planned(upstream=['127.0.0.53', '198.51.100.53'])
    text = result.name_server['config']
    assert 'forward-addr: 127.0.0.53' in text and 'forward-addr: 198.51.100.53' in text
    assert result.redirects['web1'] == {'server': '172.21.0.1', 'ifname': 'eth0', 'stubs': ['127.0.0.11', '127.0.0.53']}
    assert 'dnat to 172.21.0.1' in unbound.redirect_script('172.21.0.1', ['127.0.0.11', '127.0.0.53'])
    # no upstream at all: nothing forwards (unbound would otherwise ask the root servers itself)
    alone = planned(upstream=[])
    assert 'forward-zone' not in alone.name_server['config']
    assert alone.redirects['web1']['stubs'] == ['127.0.0.11', '127.0.0.1']      # the C library's default
    assert set(forward for forward, _names in views_of(alone).values()) == {False}


def test_what_the_server_needs_start_reload_restart_stop():
    first = planned()
    assert first.name_server['action'] == 'start'
    text = first.name_server['config']
    unchanged = planned(config=text, running=True).name_server
    assert unchanged == {'config': text, 'unit': None, 'action': None, 'changed': False}
    one_more = ENDPOINTS + [{'name': 'web3', 'networks': ['front']}]
    assert planned(one_more, config=text, running=True).name_server['action'] == 'reload'
    # a run cut short after writing the file, before the reload: the server still has the old names
    cut = planned(one_more, config=text, written=planned(one_more).name_server['config'], running=True)
    assert cut.name_server['action'] == 'reload' and not [a for a in cut.actions if 'unbound.conf:' in a]
    fewer = [ep for ep in ENDPOINTS if ep['name'] != 'lone']       # the default network's gateway goes
    assert planned(fewer, config=text, running=True).name_server['action'] == 'restart'
    gone = plan(declarations({'networks': [], 'endpoints': []}), empty_host(dns=no_name_server(config=text, running=True)))
    assert gone.name_server['action'] == 'stop' and gone.name_server['config'] is None
    hosts_only = plan(declarations({'networks': [FRONT], 'endpoints': ENDPOINTS[1:2], 'name_server': 'hosts'}),
                      empty_host())
    assert hosts_only.name_server['config'] is None and resolv_path('web2') not in hosts_only.files
    systemd = planned(supervisor='systemd')
    assert '/etc/systemd/system/netplumb-dns.service: write' in systemd.actions
    assert 'ExecStart=/usr/sbin/unbound -d -p -c /var/lib/netplumb/dns/unbound.conf' in systemd.name_server['unit']


def test_a_port_53_taken_or_no_unbound_is_refused_before_any_change():
    taken = {'proto': 'udp', 'address': '0.0.0.0', 'program': 'dnsmasq (pid 42)', 'ours': False, 'inode': '1'}
    with pytest.raises(Conflict, match=r'port 53/udp on every address \(0.0.0.0\) is taken by dnsmasq \(pid 42\)'):
        planned(listeners=[taken])
    with pytest.raises(Conflict, match='172.21.0.1 is taken by'):
        planned(listeners=[dict(taken, address='172.21.0.1')])
    planned(listeners=[dict(taken, address='127.0.0.53'), dict(taken, ours=True)])      # a stub, our own: fine
    with pytest.raises(Conflict, match=r'unbound.*is not installed.*name_server: hosts'):
        planned(installed=False)
    planned(endpoints=[{'name': 'alone', 'mode': 'none'}], installed=False)              # nobody asks: no need


@pytest.mark.parametrize('field, value, message', [
    ('aliases', ['web', 'web'], 'aliases[1]: web is listed twice'),
    ('aliases', ['bad name'], "aliases[0]: 'bad name' is not a valid name"),
])
def test_bad_aliases_are_refused_naming_them(field, value, message):
    with pytest.raises(InvalidInput, match=message.replace('[', r'\[').replace(']', r'\]')):
        declarations({'networks': [FRONT], 'endpoints': [{'name': 'x', 'networks': [{'name': 'front', field: value}]}]})


def test_bad_search_domains_are_refused_naming_them():
    with pytest.raises(InvalidInput, match=r"networks\[0\] \(front\).dns_search\[0\]: 'a b' is not a domain name"):
        declarations({'networks': [dict(FRONT, dns_search=['a b'])], 'endpoints': []})
    with pytest.raises(InvalidInput, match=r'dns_search: 7 domains'):
        domains = ['d%d.example' % i for i in range(7)]
        declarations({'networks': [], 'endpoints': [{'name': 'x', 'mode': 'none', 'dns_search': domains}]})


def test_the_hosts_upstream_and_port_53_listeners_are_read_as_the_kernel_writes_them():
    assert upstream_servers('# x\nnameserver 127.0.0.53\nnameserver fe80::1%eth0\nsearch a\nnameserver ::1\n') == [
        '127.0.0.53', '::1']
    # /proc/net/udp and udp6 write an address as host-order 32-bit words
    assert _hex_address('3500007F') == '127.0.0.53'
    assert _hex_address('00000000000000000000000001000000') == '::1'
