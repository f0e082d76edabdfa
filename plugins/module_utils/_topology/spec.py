# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one definition of the topology module's input: fields, types, choices and defaults.

The module hands it to AnsibleModule; the network role's controller-side check validates every
host's declarations with the very same spec (``check_arguments``) before the semantic checks of
``model``, so a bad value fails the same way, with the same message, on the controller and on
the host. The module's DOCUMENTATION and the role's ``meta/argument_specs.yml`` describe it; the
sanity tests and ``tests/unit/test_schema.py`` hold them to it."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

MODULE_NAME = 'netplumb.container.topology'

NETWORK_OPTIONS = dict(
    name=dict(type='str', required=True),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    driver=dict(type='str', default='bridge', choices=['bridge', 'overlay', 'macvlan', 'ipvlan']),
    parent=dict(type='str'),
    macvlan_mode=dict(type='str', choices=['bridge', 'private', 'vepa', 'passthru']),
    ipvlan_mode=dict(type='str', choices=['l2', 'l3']),
    host_shim=dict(type='bool', default=False),
    shim_address=dict(type='str'),
    subnet=dict(type='str'),
    gateway=dict(type='str'),
    ip_range=dict(type='str'),
    aux_addresses=dict(type='list', elements='str'),
    enable_ipv6=dict(type='bool', default=False),
    ipv6_subnet=dict(type='str'),
    ipv6_gateway=dict(type='str'),
    bridge=dict(type='str'),
    mtu=dict(type='int'),
    icc=dict(type='bool', default=True),
    masquerade=dict(type='bool', default=True),
    internal=dict(type='bool', default=False),
    gateway_mode=dict(type='str', default='nat', choices=['nat', 'nat-unprotected', 'routed', 'isolated']),
    host_ip=dict(type='str'),
    resolve_names=dict(type='bool', default=True),
    dns_search=dict(type='list', elements='str'),
    force=dict(type='bool', default=False),
    vni=dict(type='int'),
    control_plane=dict(type='str', default='static', choices=['static', 'evpn']),
    egress=dict(type='bool', default=True),
    local=dict(type='str'),
    peers=dict(type='list', elements='dict', options=dict(
        vtep=dict(type='str'),
        endpoints=dict(type='list', elements='dict', default=[], options=dict(
            ip=dict(type='str', required=True),
            mac=dict(type='str', required=True),
            name=dict(type='str'),
            ipv6=dict(type='str'),
            aliases=dict(type='list', elements='str'),
        )),
    )),
)

ENDPOINT_OPTIONS = dict(
    name=dict(type='str', required=True),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    namespace=dict(type='str'),
    pid=dict(type='int'),
    mode=dict(type='str', default='bridge'),
    networks=dict(type='list', elements='raw'),
    published=dict(type='list', elements='str'),
    units=dict(type='list', elements='str', default=[]),
    dns_search=dict(type='list', elements='str'),
)

ARGUMENT_SPEC = dict(
    networks=dict(type='list', elements='dict', default=[], options=NETWORK_OPTIONS),
    endpoints=dict(type='list', elements='dict', default=[], options=ENDPOINT_OPTIONS),
    default_pools=dict(type='list', elements='dict', default=[{'base': '172.31.0.0/16', 'size': 24}],
                       options=dict(base=dict(type='str', required=True), size=dict(type='int', required=True))),
    gateway_bridge=dict(type='dict', default={'name': 'gwbridge', 'bridge': 'np_gwbridge', 'subnet': '172.30.0.0/16'},
                        options=dict(name=dict(type='str', default='gwbridge'),
                                     bridge=dict(type='str', default='np_gwbridge'),
                                     subnet=dict(type='str', default='172.30.0.0/16'))),
    firewall_coexistence=dict(type='str', default='fail', choices=['fail', 'integrate', 'ignore']),
    name_server=dict(type='str', default='unbound', choices=['unbound', 'hosts']),
    purge=dict(type='bool', default=True),
    hold=dict(type='list', elements='str', default=[]),
    restore_at_boot=dict(type='bool', default=False),
    state_dir=dict(type='path', default='/var/lib/netplumb'),
    backend=dict(type='str', default='auto', choices=['auto', 'nftables', 'iptables', 'iptables-nft', 'iptables-legacy']),
)


def check_arguments(params, names=None):
    """Validate ``params`` exactly as AnsibleModule validates the module's arguments: returns
    (parameters with their defaults, None) or (None, the message). ``names``: option -> the name
    the user wrote it under (the role's variables); given, a bad value's message says where it
    is and what it is (``netplumb_endpoints[0] (web).published: {'9000': 80} - ...``), where
    AnsibleModule names neither. Ansible is imported here, not above: the host-side restore
    command runs the engine from arguments validated at apply time, on hosts that have no Ansible."""
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    from ansible.module_utils.errors import UnsupportedError
    result = ArgumentSpecValidator(ARGUMENT_SPEC).validate(params)
    if not result.errors.errors:
        return result.validated_parameters, None
    message = result.errors.msg
    if isinstance(result.errors.errors[0], UnsupportedError):
        message = 'Unsupported parameters for (%s) module: %s' % (MODULE_NAME, message)
    if names is not None:
        message = locate(params, names) or message
    return None, message


def invalid(spec, key, value):
    """Ansible's message for one field's ``value`` alone, or None."""
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    errors = ArgumentSpecValidator({key: dict(spec, required=False)}).validate({key: value}).errors
    return errors.msg if errors.errors else None


def _item_problem(item, options, where):
    unknown = sorted(set(item) - set(options))
    if unknown:
        return '%s: unknown field %s (known: %s)' % (where, ', '.join(map(str, unknown)), ', '.join(sorted(options)))
    for key, spec in options.items():
        if spec.get('required') and item.get(key) is None:
            return '%s.%s: required' % (where, key)
    for key in sorted(item):
        problem = invalid(options[key], key, item[key])
        if problem:
            return '%s.%s: %r - %s' % (where, key, item[key], problem)
    return None


def locate(params, names):
    """The first bad value of ``params`` with where it is, or None; a failure path only (it
    validates field by field)."""
    for option in sorted(params):
        if option not in ARGUMENT_SPEC:
            continue
        spec, value, where = ARGUMENT_SPEC[option], params[option], names.get(option, option)
        if spec['type'] == 'list' and spec.get('elements') == 'dict' and isinstance(value, list):
            for index, item in enumerate(value):
                label = '%s[%d]' % (where, index)
                if not isinstance(item, dict):
                    return '%s: %r is not a mapping of fields (%s)' % (label, item, ', '.join(sorted(spec['options'])))
                if isinstance(item.get('name'), str):
                    label += ' (%s)' % item['name']
                problem = _item_problem(item, spec['options'], label)
                if problem:
                    return problem
        else:
            problem = invalid(spec, option, value)
            if problem:
                return '%s: %r - %s' % (where, value, problem)
    return None
