"""docs/architecture.md indexes the code: every Python file under plugins/ and lab/ is named in
its tree (other files by a directory listed as a whole), and everything the tree names exists.
A file added without its line, or a line left for a file gone, fails here."""

import fnmatch
import os
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join(ROOT, 'docs', 'architecture.md')
NAME = re.compile(r'^[\w.*-]+(/[\w.*-]+)*/?$')


def tree(text):
    """The paths the first code block of ``text`` names: a line's names (comma-separated) come
    before its description (two spaces or more); a name is under the nearest directory above it
    that is indented less. Indented text without a name continues a description."""
    block = text.split('```')[1].split('\n', 1)[1]
    stack, named = [], []
    for line in block.splitlines():
        indent = len(line) - len(line.lstrip(' '))
        head = re.split(r'\s{2,}', line.strip(), maxsplit=1)[0]
        names = [part.strip() for part in head.split(',') if part.strip()]
        if not names or not all(NAME.match(name) and ('.' in name or name.endswith('/')) for name in names):
            continue
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1] if stack else ''
        for name in names:
            named.append(parent + name)
            if name.endswith('/'):
                stack.append((indent, parent + name))
    return named


def files():
    listed = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard', 'plugins', 'lab'], cwd=ROOT, check=True,
                            stdout=subprocess.PIPE, universal_newlines=True).stdout.split()
    return [path for path in listed if os.path.basename(path) != '__init__.py']


def unindexed(named, paths):
    """The paths that ``named`` does not cover: a Python file by its name (or a pattern), any
    other file by a listed directory that holds it."""
    missing = []
    for path in paths:
        if any(fnmatch.fnmatch(path, name) for name in named if not name.endswith('/')):
            continue
        if not path.endswith('.py') and any(path.startswith(name) for name in named if name.endswith('/')):
            continue
        missing.append(path)
    return missing


def test_every_file_under_plugins_and_lab_is_in_the_architecture_index():
    with open(DOC) as handle:
        named = tree(handle.read())
    assert unindexed(named, files()) == []


def test_everything_the_index_names_exists():
    with open(DOC) as handle:
        named = tree(handle.read())
    listed = files()

    def exists(name):
        if name.endswith('/'):
            return os.path.isdir(os.path.join(ROOT, name))
        return bool(fnmatch.filter(listed, name)) or os.path.exists(os.path.join(ROOT, name))
    assert [name for name in named if not exists(name)] == []


def test_the_index_parser_nests_names_under_directories():
    text = '```\nplugins/x/     the x\n  a.py, b.py     two\n                 more words\n  c/        c\n    d.py    d\n' \
           '  e.py      e\nlab/k/    k, as a whole\n```\n'
    assert tree(text) == ['plugins/x/', 'plugins/x/a.py', 'plugins/x/b.py', 'plugins/x/c/', 'plugins/x/c/d.py',
                          'plugins/x/e.py', 'lab/k/']
    assert unindexed(tree(text), ['plugins/x/c/d.py', 'plugins/x/f.py', 'lab/k/t.yml', 'lab/k/m.py']) == \
        ['plugins/x/f.py', 'lab/k/m.py']
