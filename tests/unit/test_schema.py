"""One input schema: the topology module's argument_spec is the definition; the network role's
controller-side check and its argument_specs follow from it, and every role declares its interface."""

import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stdout

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

from ansible_collections.netplumb.container.plugins.filter.network_plan import as_variables, network_plan
from ansible_collections.netplumb.container.plugins.module_utils._topology.model import model
from ansible_collections.netplumb.container.plugins.module_utils._topology.spec import ARGUMENT_SPEC, check_arguments
from ansible_collections.netplumb.container.plugins.modules import topology

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLES = [os.path.join(ROOT, 'roles', name) for name in sorted(os.listdir(os.path.join(ROOT, 'roles')))]
ROLES += [os.path.join(ROOT, 'lab', 'roles', 'lab')]
NET = {'name': 'web', 'subnet': '172.18.0.0/16'}

# Bad declarations as a user writes them; each is refused with one message, wherever it is checked.
BAD = [
    ('a network is not a mapping', {'netplumb_networks': ['web']}),
    ('a list is not a list', {'netplumb_networks': 'web'}),
    ('an unknown field', {'netplumb_networks': [dict(NET, colour='red')]}),
    ('a wrong type', {'netplumb_networks': [dict(NET, mtu='big')]}),
    ('not a boolean', {'netplumb_networks': [dict(NET, icc='maybe')]}),
    ('a choice out of range', {'netplumb_networks': [dict(NET, driver='macvlan')]}),
    ('a required field missing', {'netplumb_endpoints': [{'networks': ['web']}], 'netplumb_networks': [NET]}),
    ('a bad name', {'netplumb_networks': [dict(NET, name='no spaces')]}),
    ('overlapping subnets', {'netplumb_networks': [NET, {'name': 'db', 'subnet': '172.18.5.0/24'}]}),
    ('an undeclared network', {'netplumb_networks': [NET], 'netplumb_endpoints': [{'name': 'a', 'networks': ['x']}]}),
    ('an address outside the subnet', {'netplumb_networks': [NET], 'netplumb_endpoints': [
        {'name': 'a', 'networks': [{'name': 'web', 'address': '10.0.0.2'}]}]}),
    ('a port published twice', {'netplumb_networks': [NET], 'netplumb_endpoints': [
        {'name': 'a', 'networks': ['web'], 'published': ['8080:80']},
        {'name': 'b', 'networks': ['web'], 'published': ['8080:81']}]}),
    ('a bad port', {'netplumb_networks': [NET], 'netplumb_endpoints': [
        {'name': 'a', 'networks': ['web'], 'published': ['80:http']}]}),
    ('a bad pool', {'netplumb_default_pools': [{'base': '10.0.0.0/8', 'size': 4}]}),
    ('an endpoint on a network marked absent', {'netplumb_networks': [dict(NET, state='absent')],
                                                'netplumb_endpoints': [{'name': 'a', 'networks': ['web']}]}),
]


def module_failure(arguments):
    """Run the topology module in this process on ``arguments``, as a task would (no host is touched:
    the input is refused before the module looks at anything)."""
    out = io.StringIO()
    with patch_module_args(dict(arguments, _ansible_module_name='netplumb.container.topology')), \
            redirect_stdout(out), pytest.raises(SystemExit):
        topology.main()
    result = json.loads(out.getvalue())
    assert result.get('failed'), result
    return result['msg']


@pytest.mark.parametrize('what, variables', BAD, ids=[b[0] for b in BAD])
def test_the_controller_and_the_module_refuse_with_the_same_message(what, variables):
    problem = network_plan({'host1': variables}, ['host1'], ['host1'])['host1']['problem']
    arguments = dict((key.replace('netplumb_', '', 1), value) for key, value in variables.items())
    assert problem is not None
    message = module_failure(arguments)
    if check_arguments(arguments)[1] is None:
        assert problem == as_variables(message)     # the module's checks, under the role's variable names
    else:
        # a bad type: the module fails with Ansible's own message, the role's says where it is
        assert problem.startswith('netplumb_') and problem != message, (problem, message)


def test_good_declarations_pass_the_controller_check():
    endpoints = [{'name': 'a', 'networks': ['web']}, {'name': 'b', 'networks': ['web'], 'units': ['b.service']}]
    variables = {'netplumb_networks': [dict(NET, icc=False)], 'netplumb_endpoints': endpoints}
    planned = network_plan({'host1': variables}, ['host1'], ['host1'])['host1']
    assert planned['problem'] is None
    # what the module would fill in again is left out (Ansible templates and sends the plan twice a host) ...
    assert planned['arguments']['networks'] == [dict(NET, icc=False)]
    assert planned['arguments']['endpoints'] == [{'name': 'a', 'networks': [{'name': 'web'}]},
                                                 {'name': 'b', 'networks': [{'name': 'web'}], 'units': ['b.service']}]
    # ... and the module's own validation makes the very arguments the controller checked of them
    validated, problem = check_arguments(planned['arguments'])
    declared, _problem = check_arguments({'networks': variables['netplumb_networks'], 'endpoints': endpoints,
                                          'restore_at_boot': True})
    assert problem is None
    assert [model(validated)[part] == model(declared)[part] for part in ('networks', 'endpoints')] == [True, True]
    assert validated['networks'][0]['masquerade'] is True and validated['networks'][0]['icc'] is False


def test_the_role_interface_is_generated_from_the_module_documentation():
    check = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'role_argument_specs.py'), '--check'],
                           check=False)
    assert check.returncode == 0


def _load(*parts):
    with open(os.path.join(*parts)) as handle:
        return yaml.safe_load(handle) or {}


def test_the_network_role_documents_the_module_defaults():
    options = _load(ROOT, 'roles', 'network', 'meta', 'argument_specs.yml')['argument_specs']['main']['options']
    for option in ('networks', 'endpoints', 'default_pools', 'gateway_bridge', 'purge', 'state_dir', 'backend'):
        assert options['netplumb_' + option].get('default') == ARGUMENT_SPEC[option].get('default'), option
    networks = options['netplumb_networks']['options']
    assert 'local' not in networks and 'peers' not in networks          # the control plane's, not the user's
    for name, spec in networks.items():
        assert spec.get('default') == ARGUMENT_SPEC['networks']['options'][name].get('default'), name


@pytest.mark.parametrize('role', ROLES, ids=[os.path.basename(r) for r in ROLES])
def test_every_role_declares_its_interface_and_has_a_readme(role):
    assert os.path.isfile(os.path.join(role, 'README.md'))
    options = _load(role, 'meta', 'argument_specs.yml')['argument_specs']['main']['options']
    if os.path.basename(role) == 'network':
        return          # no defaults/main.yml: an undefined variable takes the module's default
    defaults = _load(role, 'defaults', 'main.yml')
    name = os.path.basename(role)
    assert sorted(options) == sorted(defaults), 'options and defaults differ'
    for option, spec in options.items():
        assert spec.get('default') == defaults[option], '%s: documented default differs from defaults/main.yml' % option
        assert option.startswith(name + '_'), '%s: role variables are prefixed with the role name' % option


# Every bad type in the role's two lists names where it is, with the value (Ansible's own check
# names neither: "Elements value for option 'netplumb_networks' is of type str").
BAD_TYPES = [
    ({'netplumb_networks': [NET, 'web2']}, ["netplumb_networks[1]: 'web2' is not a mapping of fields"]),
    ({'netplumb_networks': [dict(NET, mtu='big')]}, ["netplumb_networks[0] (web).mtu: 'big' - "]),
    ({'netplumb_networks': [dict(NET, icc='maybe')]}, ["netplumb_networks[0] (web).icc: 'maybe' - "]),
    ({'netplumb_networks': [dict(NET, aux_addresses='172.18.0.5')]}, []),       # a string is a list of one
    ({'netplumb_networks': [dict(NET, colour='red')]}, ['netplumb_networks[0] (web): unknown field colour']),
    ({'netplumb_networks': [{'subnet': '10.1.0.0/24'}]}, ['netplumb_networks[0].name: required']),
    ({'netplumb_networks': 'web'}, ["netplumb_networks: 'web' - "]),
    ({'netplumb_networks': [NET], 'netplumb_endpoints': [{'name': 'nginx01', 'published': {'9000': 80}}]},
     ["netplumb_endpoints[0] (nginx01).published: {'9000': 80} - "]),
    # a value of the right type that is no port mapping: where it is, in the role's words
    ({'netplumb_networks': [NET], 'netplumb_endpoints': [{'name': 'a', 'networks': ['web']},
                                                         {'name': 'nginx01', 'networks': ['web'], 'published': ['80:']}]},
     ["netplumb_endpoints[1] (nginx01).published[0]: '80:' is not a port mapping"]),
    ({'netplumb_networks': [NET], 'netplumb_endpoints': [{'name': 'nginx01', 'pid': 'init'}]},
     ["netplumb_endpoints[0] (nginx01).pid: 'init' - "]),
    ({'netplumb_networks': [NET], 'netplumb_endpoints': [{'name': 'a'}, 7]},
     ['netplumb_endpoints[1]: 7 is not a mapping of fields']),
    ({'netplumb_networks': [NET], 'netplumb_endpoints': [{'name': 'a', 'units': {'a': 1}}]},
     ["netplumb_endpoints[0] (a).units: {'a': 1} - "]),
    ({'netplumb_default_pools': [{'base': '10.0.0.0/8', 'size': 'x'}]},
     ["netplumb_default_pools[0].size: 'x' - "]),
    ({'netplumb_gateway_bridge': 'gw'}, ["netplumb_gateway_bridge: 'gw' - "]),
    # a declared network is checked whether or not an endpoint of this host is on it
    ({'netplumb_networks': [{'name': 'ov', 'driver': 'overlay', 'subnet': '10.9.0.0/24', 'gateway_mode': 'routed'}]},
     ['netplumb_networks[0] (ov).gateway_mode: routed - only bridge networks have a gateway mode']),
]


@pytest.mark.parametrize('variables, fragments', BAD_TYPES, ids=[str(i) for i in range(len(BAD_TYPES))])
def test_a_bad_value_of_the_role_names_where_it_is(variables, fragments):
    problem = network_plan({'host1': variables}, ['host1'], ['host1'])['host1']['problem']
    if not fragments:
        assert problem is None
    for fragment in fragments:
        assert problem is not None and fragment in problem, problem
