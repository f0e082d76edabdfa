"""tools/debian_mirror.py: the lab image's mirror read from the machine's apt sources."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'tools'))

from debian_mirror import mirror  # noqa: E402


def sources(tmp_path, files):
    directory = tmp_path / 'etc' / 'apt' / 'sources.list.d'
    directory.mkdir(parents=True)
    for name, text in files.items():
        (tmp_path / 'etc' / 'apt' / name if name == 'sources.list' else directory / name).write_text(text)
    return str(tmp_path)


def test_a_deb822_source_of_a_release_is_the_mirror_and_security_updates_and_others_are_not(tmp_path):
    root = sources(tmp_path, {
        'a-security.sources': 'Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n'
                              'Components: main\n',
        'b-tools.sources': 'Types: deb\nURIs: http://tools.example/apt\nSuites: nodistro\nComponents: contrib\n',
        'debian.sources': '# http://old.example/archive\nTypes: deb\nURIs: http://mirror.example/debian/\n'
                          'Suites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/k.gpg\n',
    })
    assert mirror(root) == 'http://mirror.example/debian'


def test_a_one_line_source_with_options_and_a_disabled_stanza(tmp_path):
    root = sources(tmp_path, {
        'sources.list': '# deb http://commented.example/debian bookworm main\n'
                        'deb [arch=amd64 signed-by=/k.gpg] http://proxy.example:3142/debian trixie main contrib\n',
        'off.sources': 'Enabled: no\nTypes: deb\nURIs: http://off.example/debian\nSuites: bookworm\nComponents: main\n',
    })
    assert mirror(root) == 'http://proxy.example:3142/debian'


def test_no_debian_source(tmp_path):
    assert mirror(sources(tmp_path, {'x.list': 'deb-src http://src.example/debian bookworm main\n'})) is None
