# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The topology engine: a host's container networks and endpoints, reconciled as one plan, a
file per job. docs/architecture.md says what each file does, in the order data flows through them
(one index, kept whole by tests/unit/test_architecture_index.py: a second list here would drift).
"""
