"""Names the validators accept that a shell would read as code: each is a name, unchanged, from the
validator through the planner to the operations, the files, the sysctls and the firewall facts.
(tests/integration/test_hostile_names.py makes them in the kernel.)"""

import pytest

from ansible_collections.netplumb.container.plugins.module_utils import _validate as validate
from ansible_collections.netplumb.container.plugins.module_utils._errors import InvalidInput
from ansible_collections.netplumb.container.plugins.module_utils._kernel.netns import hosts_path
from test_topology import empty_host, model, plan

# accepted by the kernel as interface names (at most 15 bytes, no '/', ':' or white space)
HOSTILE_INTERFACES = ['b$(reboot)', 'b$(>x)', 'b`reboot`', 'b;reboot', 'b|x', 'b&x', "b'x", 'b"x', 'b\\x', '-bx',
                      '--help']
# accepted as namespace names (a file name)
HOSTILE_NAMESPACES = HOSTILE_INTERFACES + ['$(touch x)', 'ns; reboot', '-n x|y & z', "a'b\"c\\d`e`"]


@pytest.mark.parametrize('name', HOSTILE_INTERFACES)
def test_the_interface_validator_returns_a_hostile_name_unchanged(name):
    assert validate.ifname(name) == name


@pytest.mark.parametrize('name', HOSTILE_NAMESPACES)
def test_the_namespace_validator_returns_a_hostile_name_unchanged(name):
    assert validate.netns_name(name) == name


@pytest.mark.parametrize('name', ['web$(x)', 'a;b', 'a|b', 'a&b', "a'b", 'a"b', 'a\\b', '-web', 'a`b`'])
def test_network_and_endpoint_names_refuse_what_is_no_plain_name(name):
    """Network and endpoint names make file names, pool names and derived interface names: plain
    names only, refused naming the value."""
    for networks, endpoints in (([{'name': name, 'subnet': '10.9.0.0/24'}], []),
                                ([{'name': 'web', 'subnet': '10.9.0.0/24'}], [{'name': name, 'networks': ['web']}])):
        with pytest.raises(InvalidInput) as error:
            model(networks, endpoints)
        assert repr(name) in str(error.value) or name in str(error.value)


# a bridge's name is written in the firewall's rules too: all but the double quote (below)
HOSTILE_BRIDGES = [name for name in HOSTILE_INTERFACES if '"' not in name]


def test_a_bridge_name_with_a_double_quote_is_refused_naming_why():
    """nftables cannot write it in a rule; iptables-restore reads it as quoting and writes the rule
    for another interface (b"x becomes bx): refused before any change."""
    with pytest.raises(InvalidInput) as error:
        model([{'name': 'web', 'bridge': 'b"x', 'subnet': '10.9.0.0/24'}], [])
    assert 'networks[0] (web).bridge' in str(error.value) and 'double quote' in str(error.value)


@pytest.mark.parametrize('bridge, namespace', list(zip(HOSTILE_BRIDGES, HOSTILE_NAMESPACES[::-1])))
def test_hostile_names_reach_every_operation_file_and_fact_literally(bridge, namespace):
    result = plan(model([{'name': 'web', 'bridge': bridge, 'subnet': '10.9.0.0/24'}],
                        [{'name': 'app', 'namespace': namespace, 'networks': ['web'], 'published': ['8080:80']}]),
                  empty_host())
    ops = [(op.action, op.name, op.namespace) for op in result.ops]
    assert ('link_add', bridge, None) in ops and ('netns_create', namespace, None) in ops
    assert [op for op in result.ops if op.namespace == namespace and op.action == 'route_add']
    assert hosts_path(namespace) in result.files
    assert result.sysctls['net.ipv4.conf.%s.route_localnet' % bridge] == '1'
