"""The network role's interface is one table (module_utils/_topology/role_interface.py): the role's
tasks, its generated argument specs, its README and its controller-side plan must all follow it.
Each test fails on one kind of drift."""

import os
import re

import yaml

from ansible_collections.netplumb.container.plugins.filter.network_plan import network_plan
from ansible_collections.netplumb.container.plugins.module_utils._topology.role_interface import (
    NO_DEFAULT, OPTION_VARIABLES, PLANNED, VARIABLES)
from ansible_collections.netplumb.container.plugins.module_utils._topology.spec import ARGUMENT_SPEC

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLE = os.path.join(ROOT, 'roles', 'network')


def _tasks():
    with open(os.path.join(ROLE, 'tasks', 'main.yml')) as handle:
        return yaml.safe_load(handle)


def _module_calls(tasks, module):
    for task in tasks:
        if module in task:
            yield task[module]
        for inner in task.get('block', []):
            if module in inner:
                yield inner[module]


def test_every_module_option_of_the_table_exists_and_its_role_default_is_valid():
    for variable in VARIABLES:
        assert variable.name.startswith('netplumb_')
        if variable.option:
            assert variable.option in ARGUMENT_SPEC, variable
        else:
            assert variable.doc and variable.doc.get('description') and variable.doc.get('type'), variable


def test_the_role_passes_every_option_of_the_table_and_nothing_else_from_the_plan():
    calls = list(_module_calls(_tasks(), 'netplumb.container.topology'))
    assert calls, 'the role no longer calls the topology module'
    for arguments in calls:
        assert set(arguments) == set(OPTION_VARIABLES) | set(PLANNED), 'tasks/main.yml and the table differ'
        for option, value in arguments.items():
            # what the plan checked, never a variable read around it
            assert value == '{{ network_plan[inventory_hostname].arguments.%s | default(omit) }}' % option, option


def test_the_gathering_step_reads_the_state_directory_variable_of_the_table():
    gather = list(_module_calls(_tasks(), 'netplumb.container.topology_info'))
    # the batch's own hosts, and the play's other hosts by delegation (their own variable)
    assert [set(re.findall(r'netplumb_\w+', str(g))) for g in gather] == [{OPTION_VARIABLES['state_dir']}] * 2
    assert 'hostvars[item].netplumb_state_dir' in str(gather[1])


def test_every_variable_the_tasks_read_is_in_the_table():
    with open(os.path.join(ROLE, 'tasks', 'main.yml')) as handle:
        used = set(re.findall(r'\bnetplumb_\w+', handle.read()))
    assert used <= set(v.name for v in VARIABLES), used - set(v.name for v in VARIABLES)


def test_the_argument_specs_and_the_readme_list_every_variable_with_its_default():
    with open(os.path.join(ROLE, 'meta', 'argument_specs.yml')) as handle:
        options = yaml.safe_load(handle)['argument_specs']['main']['options']
    with open(os.path.join(ROLE, 'README.md')) as handle:
        readme = handle.read()
    assert set(options) == set(v.name for v in VARIABLES)
    for variable in VARIABLES:
        assert '| `%s` |' % variable.name in readme, variable.name
        if variable.role_default is not NO_DEFAULT:
            expected = variable.role_default
        elif variable.option:
            expected = ARGUMENT_SPEC[variable.option].get('default')
        else:
            expected = variable.doc.get('default')
        assert options[variable.name].get('default') == expected, variable.name


def test_the_plan_checks_every_variable_the_role_passes():
    """One bad value per variable of the table: the plan names it, for every option the role passes."""
    # a string or a path takes any value (Ansible converts it), so only one with choices can be bad;
    # netplumb_underlay_address is checked as an address where an overlay needs it (test_overlay)
    bad = {'str': 'no-such-choice', 'bool': 'maybe', 'int': 'many', 'list': 'one', 'dict': 'x'}
    for variable in VARIABLES:
        spec = ARGUMENT_SPEC[variable.option] if variable.option else variable.doc
        kind = spec['type']
        if kind == 'path' or (kind == 'str' and not spec.get('choices')):
            continue
        hostvars = {'h1': {variable.name: bad[kind]}}
        plan = network_plan(hostvars, ['h1'], ['h1'])
        assert plan['h1']['arguments'] is None, variable.name
        assert variable.name in plan['h1']['problem'], (variable.name, plan['h1']['problem'])


def test_the_plan_hands_on_what_differs_from_the_module_default_and_paths_as_written():
    plan = network_plan({'h1': {'netplumb_purge': False, 'netplumb_state_dir': '~/np', 'netplumb_backend': 'auto'}},
                        ['h1'], ['h1'])['h1']
    assert plan['problem'] is None
    arguments = plan['arguments']
    assert arguments['purge'] is False and arguments['restore_at_boot'] is True     # the role's default
    assert arguments['state_dir'] == '~/np'         # expanded on the host, not on the controller
    assert 'backend' not in arguments and 'firewall_coexistence' not in arguments    # the module's defaults
