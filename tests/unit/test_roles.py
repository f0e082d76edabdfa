"""Every role declares its interface: meta/argument_specs.yml matches defaults/main.yml."""

import os

import pytest
import yaml

ROLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'roles')


def _load(*parts):
    with open(os.path.join(ROLES, *parts)) as handle:
        return yaml.safe_load(handle) or {}


@pytest.mark.parametrize('role', sorted(os.listdir(ROLES)))
def test_argument_specs_match_defaults(role):
    options = _load(role, 'meta', 'argument_specs.yml')['argument_specs']['main']['options']
    defaults = _load(role, 'defaults', 'main.yml')
    assert sorted(options) == sorted(defaults), 'options and defaults differ'
    for name, spec in options.items():
        assert spec.get('default') == defaults[name], '%s: documented default differs from defaults/main.yml' % name
        assert name.startswith(role + '_'), '%s: role variables are prefixed with the role name' % name
