# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The record of what the topology module made on a host (``<state_dir>/topology.json``): the
networks and endpoints it lists are the ones a later run may remove."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

from ansible_collections.netplumb.container.plugins.module_utils._errors import InvalidInput
from ansible_collections.netplumb.container.plugins.module_utils._files import write_atomically
from ansible_collections.netplumb.container.plugins.module_utils._topology.names import RECORD


def record_path(state_dir):
    return os.path.join(state_dir, RECORD)


def read_record(state_dir):
    path = record_path(state_dir)
    try:
        with open(path) as handle:
            record = json.load(handle)
    except IOError:
        return {'networks': {}, 'endpoints': {}}
    except ValueError as error:
        raise InvalidInput('%s is corrupt (%s); fix or remove it by hand, nothing was changed' % (path, error))
    if not isinstance(record.get('networks'), dict) or not isinstance(record.get('endpoints'), dict):
        raise InvalidInput('%s is corrupt (no networks or endpoints); fix or remove it by hand' % path)
    return record


def pending(old, new):
    """The record written before a run's first change: everything the run could leave behind if it
    is cut short (kill -9, power loss) - the old record's networks and endpoints and the new ones,
    and for an endpoint in both, the attachments of either (an endpoint that moves between networks
    holds both until the run ends), so the next run still knows what is its own. An endpoint's
    DNS redirect is the one its namespace surely holds: the old record's (none for a new one),
    so a run cut short before the redirect was made makes it next time."""
    endpoints = dict((name, dict(rec, dns=None)) for name, rec in new['endpoints'].items())
    endpoints = dict(old['endpoints'], **endpoints)
    for name, rec in old['endpoints'].items():
        if name in new['endpoints']:
            attachments = dict(rec.get('attachments') or {}, **new['endpoints'][name]['attachments'])
            endpoints[name] = dict(new['endpoints'][name], attachments=attachments, dns=rec.get('dns'))
    return dict(old, networks=dict(old['networks'], **new['networks']), endpoints=endpoints)


def write_record(state_dir, record):
    write_atomically(record_path(state_dir), json.dumps(record, indent=1, sort_keys=True))
