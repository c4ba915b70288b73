"""`pacsbox setup`: resolve the answers (flags, then prompts), apply them, print where to go next.

Exit status: 0 done (or `--check` found nothing wrong), 1 `--check` found a
problem, 2 an answer is missing or malformed (the message names it), 130
interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys

from pacsbox.core.settings import Settings
from pacsbox.wizard import check, network
from pacsbox.wizard.answers import AnswerError
from pacsbox.wizard.apply import apply
from pacsbox.wizard.current import Current
from pacsbox.wizard.files import Layout
from pacsbox.wizard.flags import add_arguments, require_complete, resolve
from pacsbox.wizard.summary import summary

__all__ = ["add_arguments", "run"]


def _check(settings: Settings) -> int:
    findings = check.check(settings)
    print(check.render(findings, settings.paths.config_dir))
    return 1 if any(f.level is check.Level.FAIL for f in findings) else 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the wizard as `args` ask, on the files `settings` point at."""
    if args.check:
        return _check(settings)
    layout = Layout.from_settings(settings)
    interactive = not args.non_interactive
    try:
        if interactive and not sys.stdin.isatty():
            raise AnswerError("no terminal to ask questions on: add --non-interactive and give the answers as flags")
        if args.force and not args.yes:
            if not interactive:
                raise AnswerError("--force: confirm starting over with --yes")
            from pacsbox.wizard.questions import confirm_force

            if not confirm_force():
                print("Nothing changed.")
                return 0
        current = Current() if args.force else Current.read(layout)
        offered = network.candidates()
        answers = resolve(args, os.environ, current, offered, sys.stdin)
        if interactive:
            from pacsbox.wizard.questions import ask

            answers = ask(answers, current, offered)
        require_complete(answers, current)
    except AnswerError as error:
        print(f"pacsbox setup: {error}", file=sys.stderr)
        return 2
    outcome = apply(answers, layout)
    print(summary(answers, outcome, layout.ca_crt))
    return 0
