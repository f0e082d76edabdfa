#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: play_info
short_description: What kind of run the network role is in - its run and strategy - and refuse one it cannot serve
version_added: 0.3.0
description:
  - Runs on the controller only (an action plugin; it never connects to the host).
  - Returns an identifier of the run of the play (the same in every C(serial) batch, another in the next play or the
    next C(ansible-playbook)), so what was read of every host in a rolling update's first batch serves its later
    batches, and never a later play.
  - Fails, naming the strategy, under a strategy that lets hosts run ahead of each other (C(free), C(host_pinned)),
    since the C(netplumb.container.network) role plans the whole inventory once and every host must wait for that
    plan. Use the C(linear) strategy (the default), with C(serial) for a rolling update.
author:
  - netplumb developers (@netplumb)
options: {}
attributes:
  check_mode:
    support: full
    description: Reads the play only; the same in check mode.
  diff_mode:
    support: none
    description: Nothing to show a difference of.
  platform:
    support: full
    platforms: all
    description: Runs on the controller.
  action:
    support: full
    description: An action plugin on the controller; nothing runs on the host.
seealso:
  - module: netplumb.container.topology_info
'''

EXAMPLES = r'''
- name: What kind of run this is
  netplumb.container.play_info:
  register: play

- name: Read what the host holds once per run, for every batch
  netplumb.container.topology_info:
  when: hostvars[inventory_hostname].gathered_in | default('') != play.run
'''

RETURN = r'''
run:
  description: The run of the play (unique to this play of this C(ansible-playbook); the same in all its batches).
  returned: always
  type: str
  sample: 0242ac11-0002-b3d4-2e7f-000000000006
strategy:
  description: The play's strategy.
  returned: always
  type: str
  sample: linear
'''
