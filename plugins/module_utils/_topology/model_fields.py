# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Field checks that network and endpoint declarations share: names, lists of names (aliases),
search domains; each message names the option path and the value."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.netplumb.container.plugins.module_utils._errors import InvalidInput
from ansible_collections.netplumb.container.plugins.module_utils._topology.names import NAME

UNIT_NAME = re.compile(r'^[A-Za-z0-9:_.\\-]+(@[A-Za-z0-9:_.\\-]*)?\.service$')
DOMAIN = re.compile(r'^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$')


def name(value, option):
    if not isinstance(value, str) or not NAME.match(value):
        raise InvalidInput('%s: %r is not a valid name (letters, digits, "_", "." and "-", at most 63, '
                           'starting with a letter or digit)' % (option, value))
    return value


def names(values, option):
    """A list of names (aliases), each a valid name, none twice."""
    if values is None:
        return []
    if not isinstance(values, (list, tuple)):
        raise InvalidInput('%s: %r is not a list of names' % (option, values))
    for index, value in enumerate(values):
        name(value, '%s[%d]' % (option, index))
        if value in values[:index]:
            raise InvalidInput('%s[%d]: %s is listed twice' % (option, index, value))
    return list(values)


def domains(values, option):
    """dns_search: domain names, as a resolv.conf search line holds them."""
    for index, value in enumerate(values or []):
        if not DOMAIN.match(value) or len(value) > 253:
            raise InvalidInput('%s[%d]: %r is not a domain name (labels of letters, digits and "-", joined by ".")'
                               % (option, index, value))
    if len(values or []) > 6:
        raise InvalidInput('%s: %d domains - a resolver reads at most 6' % (option, len(values)))
    return list(values or [])


def check_units(units, option):
    """An endpoint's ``units``: service unit names."""
    for unit in units or []:
        if not isinstance(unit, str) or not UNIT_NAME.match(unit):
            raise InvalidInput('%s: %r is not a service unit name (NAME.service)' % (option, unit))
    return list(units or [])
