# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The network role's interface, in one table: inventory variable -> topology module option ->
the role's default where it is not the module's -> its documentation where the module has none.

Read by the role's controller-side plan (``plugins/filter/network_plan.py``: which variables it
validates and hands to the module), by the generator of ``roles/network/meta/argument_specs.yml``
(``tools/role_argument_specs.py``: what ``ansible-doc -t role`` shows) and held against
``roles/network/tasks/main.yml`` and the role's README by ``tests/unit/test_role_interface.py``."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from collections import namedtuple

# the EVPN fabric's AS number when none is given, a private one (RFC 6996); the bgp_evpn module's too
DEFAULT_ASN = 65000

# option: the topology module's option it sets (None: the role's own, used by its control plane)
# role_default: the role's default where it is not the module's (NO_DEFAULT: the module's)
# why: why the role's default differs; doc: the documentation of a role-only variable
Variable = namedtuple('Variable', 'name option role_default why doc')
NO_DEFAULT = object()


def _variable(name, option, role_default=NO_DEFAULT, why=None, doc=None):
    return Variable(name, option, role_default, why, doc)


VARIABLES = (
    _variable('netplumb_networks', 'networks'),
    _variable('netplumb_endpoints', 'endpoints'),
    _variable('netplumb_default_pools', 'default_pools'),
    _variable('netplumb_gateway_bridge', 'gateway_bridge'),
    _variable('netplumb_purge', 'purge'),
    _variable('netplumb_state_dir', 'state_dir'),
    _variable('netplumb_backend', 'backend'),
    _variable('netplumb_firewall_coexistence', 'firewall_coexistence'),
    _variable('netplumb_name_server', 'name_server'),
    # a host the role manages comes back by itself after a reboot
    _variable('netplumb_restore_at_boot', 'restore_at_boot', role_default=True,
              why="The role turns it on; a lab of namespace hosts (which share the machine's files) turns it off."),
    _variable('netplumb_underlay_address', None, doc=dict(
        description=["This host's VTEP address for overlays. Omit to use the address on the interface of the "
                     "default route, or the host's only IPv4 address."], type='str')),
    _variable('netplumb_all_or_nothing', None, doc=dict(
        description=['What a host that is down (unreachable, or its reading fails) does to the others. V(false): the '
                     'static overlays and LANs it spans are held back on every other host, as the last change left '
                     'them, and the rest applies (the run still reports the host). V(true): no host changes, as long '
                     'as one is down. See docs/rolling.md.'], type='bool', default=False)),
    _variable('netplumb_vni_base', None, doc=dict(
        description=['The first VNI handed out to overlays that declare none (kept on the hosts once given).'],
        type='int', default=4096)),
    _variable('netplumb_evpn_reflector_group', None, doc=dict(
        description=['The inventory group of the BGP route reflectors of overlays with control_plane evpn (at least '
                     'one; two or more for a fabric that survives one). They run the role too (they need no network '
                     'of their own), and FRR on them reflects every VTEP\'s routes. See docs/evpn.md.'],
        type='str', default='evpn_route_reflectors')),
    _variable('netplumb_evpn_asn', None, doc=dict(
        description=['The AS number of the EVPN fabric (iBGP: every VTEP and reflector shares it).'],
        type='int', default=DEFAULT_ASN)),
    _variable('netplumb_evpn_cluster_id', None, doc=dict(
        description=['The cluster-id every route reflector shares. Omit for the lowest reflector address.'],
        type='str')),
    _variable('netplumb_evpn_listen_range', None, doc=dict(
        description=['Where a route reflector accepts BGP sessions from, so a new VTEP needs no change on it. Omit '
                     'for the subnet of the reflector\'s underlay address.'], type='str')),
)

# options the role passes that no variable sets: the plan works them out (networks held back)
PLANNED = ('hold',)

# module option -> role variable, for the options the role passes
OPTION_VARIABLES = dict((v.option, v.name) for v in VARIABLES if v.option)
ROLE_ONLY = dict((v.name, v.doc) for v in VARIABLES if not v.option)
ROLE_DEFAULTS = dict((v.option, v.role_default) for v in VARIABLES if v.role_default is not NO_DEFAULT)
