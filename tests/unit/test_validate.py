import pytest

from ansible_collections.netplumb.container.plugins.module_utils import _validate as v
from ansible_collections.netplumb.container.plugins.module_utils._errors import InvalidInput


@pytest.mark.parametrize('name', ['eth0', 'veth_d366', 'a' * 15, 'br-0.1'])
def test_ifname_accepts(name):
    assert v.ifname(name) == name


@pytest.mark.parametrize('name, words', [
    ('a' * 16, ['16 bytes', '15']),
    ('é' * 8, ['16 bytes']),                  # bytes, not characters
    ('', ['empty']),
    ('a/b', ['a/b']), ('a:b', ['a:b']), ('a b', ['a b']), ('.', ["'.'"]), ('..', ["'..'"]),
])
def test_ifname_rejects_naming_the_value(name, words):
    with pytest.raises(InvalidInput) as error:
        v.ifname(name, 'peer')
    assert str(error.value).startswith('peer: ')
    for word in words:
        assert word in str(error.value)


@pytest.mark.parametrize('value, canonical', [
    ('10.0.0.1/24', '10.0.0.1/24'), (' 10.0.0.2/24 ', '10.0.0.2/24'),
    ('2001:DB8::1/64', '2001:db8::1/64'), ('10.0.0.0/31', '10.0.0.0/31'), ('10.0.0.5/32', '10.0.0.5/32'),
])
def test_interface_address_canonical(value, canonical):
    assert v.interface_address(value) == canonical


@pytest.mark.parametrize('value, words', [
    ('10.0.0.1', ['prefix length']), ('10.0.0.300/24', ['10.0.0.300/24']), ('10.0.0.1/33', ['10.0.0.1/33']),
    ('10.0.0.0/24', ['network address']), ('bogus', ['bogus']),
])
def test_interface_address_rejects(value, words):
    with pytest.raises(InvalidInput) as error:
        v.interface_address(value, 'peer_addresses')
    for word in words + ['peer_addresses']:
        assert word in str(error.value)


def test_interface_addresses_sorted_and_deduplicated():
    assert v.interface_addresses(['2001:db8::1/64', '10.0.0.9/24', '10.0.0.10/24', '10.0.0.9/24']) == [
        '10.0.0.9/24', '10.0.0.10/24', '2001:db8::1/64']
    assert v.interface_addresses(None) is None
    assert v.interface_addresses([]) == []


@pytest.mark.parametrize('value', [67, 65536, 0, -1, 'big'])
def test_mtu_range(value):
    with pytest.raises(InvalidInput) as error:
        v.mtu(value)
    assert str(value) in str(error.value)


def test_mtu_bounds():
    assert v.mtu(68) == 68 and v.mtu('1450') == 1450 and v.mtu(65535) == 65535


@pytest.mark.parametrize('value, canonical', [('02:42:0A:00:00:02', '02:42:0a:00:00:02'),
                                              ('02-42-0a-00-00-05', '02:42:0a:00:00:05')])
def test_mac_canonical(value, canonical):
    assert v.mac(value) == canonical


@pytest.mark.parametrize('value, word', [('01:00:5e:00:00:01', 'multicast'), ('00:00:00:00:00:00', 'cannot'),
                                         ('02:42:0a:00:00', 'not a MAC'), ('zz:42:0a:00:00:01', 'not a MAC')])
def test_mac_rejects(value, word):
    with pytest.raises(InvalidInput) as error:
        v.mac(value)
    assert word in str(error.value)


@pytest.mark.parametrize('name', ['', '.', '..', 'a/b', 'x' * 256])
def test_netns_name_rejects(name):
    with pytest.raises(InvalidInput):
        v.netns_name(name)


def test_route_destination():
    assert v.route_destination('default') == '0.0.0.0/0'
    assert v.route_destination('default', family_hint=6) == '::/0'
    assert v.route_destination('203.0.113.0/24') == '203.0.113.0/24'
    with pytest.raises(InvalidInput) as error:
        v.route_destination('203.0.113.7/24', 'routes[0].dst')
    assert 'routes[0].dst' in str(error.value) and '203.0.113.7/24' in str(error.value)


def test_pid():
    assert v.pid('42') == 42
    for bad in (0, -3, 'abc'):
        with pytest.raises(InvalidInput):
            v.pid(bad)
