"""Every command in README.md and docs/*.md runs as written (convention: top of docs/testing.md).

Commands are the lines of fenced ```bash blocks (here-document bodies left out). Each simple command (split at `;`, `&&`, `||`,
`|`, `$(...)`, loop keywords) is checked by what it starts with:
- `nba-backfill`: parsed by the CLI's own parser (a wrong flag fails), then, in a runnable block,
  run against a `dagster dev` of the project started for this module (offline source, temporary
  DAGSTER_HOME and NBA_BACKFILL_HOME). `backfill` gets `--dry-run` when it lacks it; a `--url`
  value is replaced by the test server's; the exit code must be one the command documents for a
  valid invocation, never 2 (bad input), and no traceback — unless its comment (on the line
  above or at its end) says `exit code N`: then it must end with exactly N.
- `python -m MODULE ARGS`: the module exists; if it parses arguments with argparse, ARGS are
  parsed by its own parser in a child process that stops right after parsing.
  `python -c CODE`: CODE compiles. `pytest ARGS`: `pytest --collect-only ARGS` succeeds.
- `dagster ...`: parsed by Dagster's own click CLI (command path, options, arguments).
- `bash FILE`: FILE exists and `bash -n` accepts it. `pip install -e '.[X]'`: extra X exists.
- anything else: a shell builtin, a program on PATH, or a file of the repository.
A block preceded by `<!-- not-run: reason -->` (production credentials, hours of work) is parsed
only: its `nba-backfill` lines by the CLI's parser, repository files and modules must exist,
programs outside the repository (gcloud, bq) need not be installed.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from nba_backfill import cli
from nba_backfill_tests.dagster_harness import dagster_dev

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
VENV_BIN = Path(sys.executable).parent
NOT_RUN = re.compile(r"^<!--\s*not-run:\s*(\S.*?)\s*-->$")
FENCE = re.compile(r"^(\s*)```\s*([\w+-]*)")
SHELL_INFOS = {"sh", "shell", "console", "zsh", "shell-session"}  # must be spelled `bash`
KEYWORDS = {"do", "done", "then", "fi", "else", "elif", "until", "while", "if", "!", "{", "}"}
SEPARATORS = {";", "&&", "||", "|", "&", "(", ")", ";;", "\n"}
REDIRECTS = {">", ">>", "<", ">&", "<&", "&>", "2>", "2>&1", "<<", "<<-"}
HEREDOC = re.compile(r"<<-?\s*['\"]?(\w+)['\"]?")
EXPECT = re.compile(r"#.*\bexit code (\d+)")
BUILTINS = {"cd", "export", "echo", "sleep", "break", "continue", "test", "[", "true", "false",
            "exit", "read", "set", "source", "."}
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
# exit codes a valid invocation may end with (nba_backfill/cli.py, docs/cli.md)
VALID_EXIT = {"backfill": {0}, "preflight": {0, 1}, "status": {0, 1}, "stale": {0, 3}}


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]
    runnable: bool
    where: str  # file:line
    expect: int | None = None  # `exit code N` in its comment: the exit code it must end with

    def __str__(self) -> str:
        return f"{self.where}: {shlex.join(self.words)}"


def fenced_blocks(path: Path):
    """(info string, first line number, lines, not-run reason or None) of every fenced block."""
    lines = path.read_text().splitlines()
    at = 0
    while at < len(lines):
        match = FENCE.match(lines[at])
        if not match:
            at += 1
            continue
        indent, info = match.groups()
        previous = next((l.strip() for l in reversed(lines[:at]) if l.strip()), "")
        reason = NOT_RUN.match(previous)
        end = at + 1
        while end < len(lines) and not lines[end].strip().startswith("```"):
            end += 1
        body = [line[len(indent):] if line.startswith(indent) else line for line in lines[at + 1:end]]
        yield info, at + 2, body, reason.group(1) if reason else None
        at = end + 1


def logical_lines(body: list[str], first: int):
    """Lines of a block with `\\` continuations joined and here-document bodies left out:
    (line number, text)."""
    pending, start, heredoc_end = "", first, None
    for number, line in enumerate(body, first):
        if heredoc_end is not None:
            if line.strip() == heredoc_end:
                heredoc_end = None
            continue
        heredoc = HEREDOC.search(line)
        if heredoc:
            heredoc_end = heredoc.group(1)
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        yield start, pending + line
        pending = ""


def simple_commands(text: str) -> list[list[str]]:
    """The simple commands of one shell line: words between separators, without redirections,
    leading assignments, loop keywords and `for NAME in WORDS` clauses."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    commands: list[list[str]] = [[]]
    skip_for = skip_target = False
    for token in lexer:
        if skip_target:
            skip_target = False
            continue
        if token in SEPARATORS:
            skip_for = False
            commands.append([])
            continue
        if token in REDIRECTS:
            skip_target = True
            continue
        current = commands[-1]
        if not current and token == "for":
            skip_for = True
        if skip_for:
            continue
        if not current and (token in KEYWORDS or ASSIGNMENT.match(token)):
            continue
        current.append(token.removesuffix("$") if token.endswith("$") and not current else token)
    return [words for words in commands if words and words != [""]]


def documented_commands() -> list[Command]:
    found = []
    for path in DOCS:
        for info, first, body, reason in fenced_blocks(path):
            where = f"{path.relative_to(ROOT)}:{first}"
            if info in SHELL_INFOS:
                raise AssertionError(f"{where}: shell blocks are ```bash (docs/testing.md), not ```{info}")
            if info != "bash":
                continue
            expect = None  # from a comment line right above a command, or the command's own
            for number, text in logical_lines(body, first):
                commands = simple_commands(text)
                declared = EXPECT.search(text)
                if declared:
                    expect = int(declared.group(1))
                for words in commands:
                    found.append(Command(tuple(words), reason is None,
                                         f"{path.relative_to(ROOT)}:{number}", expect))
                if commands:
                    expect = None
    return found


COMMANDS = documented_commands()


def program(word: str) -> str:
    """`.venv/bin/x`, `x` -> `x` for the programs the project installs."""
    return word.removeprefix(".venv/bin/")


def of_kind(*names: str) -> list[Command]:
    return [c for c in COMMANDS if program(c.words[0]) in names]


def ids(commands: list[Command]) -> list[str]:
    return [c.where for c in commands]


# --- nba-backfill -------------------------------------------------------------------------------


CLI_COMMANDS = of_kind("nba-backfill")
RUNNABLE_CLI = [c for c in CLI_COMMANDS if c.runnable]


def test_the_docs_hold_commands_of_every_kind():
    """The extraction itself works: README's two commands and CLI examples are found."""
    texts = {shlex.join(c.words) for c in COMMANDS}
    assert "bash scripts/up.sh" in texts and "bash scripts/test.sh" in texts
    assert RUNNABLE_CLI and of_kind("python", "python3") and of_kind("pytest")
    assert simple_commands('id=$(nba-backfill backfill --season $s) || break  # c') == [
        ["nba-backfill", "backfill", "--season", "$s"], ["break"]]
    assert simple_commands("for s in a b; do nba-backfill status $s | head -1; done") == [
        ["nba-backfill", "status", "$s"], ["head", "-1"]]
    heredoc = ["cat > /tmp/x.yaml <<'EOF'", "ops:", "EOF", "ls"]
    assert [text for _, text in logical_lines(heredoc, 1)] == ["cat > /tmp/x.yaml <<'EOF'", "ls"]


@pytest.mark.parametrize("command", CLI_COMMANDS, ids=ids(CLI_COMMANDS))
def test_cli_example_parses(command):
    try:
        cli.build_parser().parse_args(list(command.words[1:]))
    except SystemExit as exc:
        pytest.fail(f"{command}: the CLI refused it (exit {exc.code})")


@pytest.fixture(scope="module")
def dev(tmp_path_factory):
    with dagster_dev(tmp_path_factory.mktemp("docs_commands")) as running:
        yield running


def as_run(words: tuple[str, ...], url: str) -> list[str]:
    args = list(words[1:])
    if "--url" in args:
        args[args.index("--url") + 1] = url
    if args and args[0] == "backfill" and "--dry-run" not in args:
        args.append("--dry-run")
    return [str(VENV_BIN / "nba-backfill"), *args]


@pytest.mark.parametrize("command", RUNNABLE_CLI, ids=ids(RUNNABLE_CLI))
def test_cli_example_runs_against_a_test_instance(command, dev):
    variables = [w for w in command.words if "$" in w]
    assert not variables, f"{command}: a runnable example is literal; mark its block not-run"
    env = {**dev.env, "NBA_BACKFILL_DAGSTER_URL": dev.graphql_url}
    done = subprocess.run(as_run(command.words, dev.graphql_url), env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    report = f"{command}\nexit {done.returncode}\nstdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr, report
    if command.expect is not None:
        assert done.returncode == command.expect, report
    else:
        assert done.returncode in VALID_EXIT.get(command.words[1], {0, 1}), report


# --- python -m / -c, pytest ----------------------------------------------------------------------


PARSE_ONLY = """
import argparse, os, runpy, sys
real = argparse.ArgumentParser.parse_args
def parse_then_stop(self, args=None, namespace=None):
    real(self, args, namespace)
    print("parsed", flush=True)
    os._exit(0)
argparse.ArgumentParser.parse_args = parse_then_stop
sys.argv = sys.argv[1:]
runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
sys.exit("the module finished without parsing arguments")
"""

PYTHON_COMMANDS = of_kind("python", "python3")


def module_source(name: str) -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        return None
    origin = Path(spec.origin)
    main = origin.with_name("__main__.py")
    return main if origin.name == "__init__.py" and main.exists() else origin


@pytest.mark.parametrize("command", PYTHON_COMMANDS, ids=ids(PYTHON_COMMANDS))
def test_python_example_is_valid(command):
    args = list(command.words[1:])
    while args and args[0].startswith("-W"):
        args = args[2:] if args[0] == "-W" else args[1:]
    if args[:1] == ["-c"]:
        compile(args[1], command.where, "exec")
        return
    assert args[:1] == ["-m"], f"{command}: expected `python -m MODULE` or `python -c CODE`"
    source = module_source(args[1])
    assert source is not None, f"{command}: no module {args[1]}"
    if "ArgumentParser" not in source.read_text():
        return  # no argparse: the module exists, its arguments are its own
    done = subprocess.run([sys.executable, "-c", PARSE_ONLY, *args[1:]], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip().endswith("parsed"), (
        f"{command}: its parser refused the arguments\n{done.stderr[-2000:]}")


PYTEST_COMMANDS = of_kind("pytest")


@pytest.mark.parametrize("command", PYTEST_COMMANDS, ids=ids(PYTEST_COMMANDS))
def test_pytest_example_collects(command):
    done = subprocess.run([str(VENV_BIN / "pytest"), "--collect-only", "-q", *command.words[1:]],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"


# --- dagster, bash, pip, everything else ---------------------------------------------------------


DAGSTER_COMMANDS = of_kind("dagster")


def click_parse(group: click.Group, argv: list[str]) -> click.Command:
    """Resolve a command path and parse its options the way the click CLI does, without running."""
    ctx = group.make_context("dagster", argv)
    command: click.Command = group
    while isinstance(command, click.Group):
        name, sub, rest = command.resolve_command(ctx, [*ctx._protected_args, *ctx.args])  # noqa: SLF001
        ctx = sub.make_context(name, rest, parent=ctx)
        command = sub
    return command


@pytest.mark.parametrize("command", DAGSTER_COMMANDS, ids=ids(DAGSTER_COMMANDS))
def test_dagster_example_parses(command):
    from dagster._cli import cli as dagster_cli

    try:
        click_parse(dagster_cli, list(command.words[1:]))
    except click.ClickException as exc:
        pytest.fail(f"{command}: {exc.format_message()}")


HANDLED = {"nba-backfill", "python", "python3", "pytest", "dagster"}
OTHER_COMMANDS = [c for c in COMMANDS if program(c.words[0]) not in HANDLED]


def repository_path(word: str) -> Path | None:
    if "/" not in word or word.startswith(("$", "/", "~", "http")):
        return None
    return ROOT / word


@pytest.mark.parametrize("command", OTHER_COMMANDS, ids=ids(OTHER_COMMANDS))
def test_other_example_is_valid(command):
    first = command.words[0]
    if program(first) == "pip":
        pyproject = (ROOT / "pyproject.toml").read_text()
        for word in command.words:
            for extra in re.findall(r"^\.\[([\w,-]+)\]$", word):
                for name in extra.split(","):
                    assert re.search(rf"^{name} = \[", pyproject, re.M), f"{command}: no extra {name}"
        return
    local = repository_path(first)
    if local is not None:
        assert local.exists(), f"{command}: no file {first} in the repository"
        return
    if first == "bash":
        script = ROOT / command.words[1]
        assert script.is_file(), f"{command}: no script {command.words[1]}"
        syntax = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert syntax.returncode == 0, f"{command}: {syntax.stderr}"
        return
    if first in BUILTINS or not command.runnable:
        return
    assert shutil.which(first), f"{command}: `{first}` is neither a shell builtin nor on PATH"
