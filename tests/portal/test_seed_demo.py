"""seed_demo takes its password from --password, $DEMO_PASSWORD or a prompt, so that a
chosen one need not appear in the process list; unattended, the documented default."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from portal.demo import Login
from portal.management.commands import seed_demo as command
from portal.models import User

DEFAULT = "demo-password-2026"


@pytest.fixture
def seeded(monkeypatch):
    """Replaces the (slow) seeding: records the password it was given."""
    passwords: list[str] = []

    def fake_seed_demo(*, password):
        passwords.append(password)
        return [Login("owner@client-a.test", "owner of Client A")]

    monkeypatch.setattr(command, "seed_demo", fake_seed_demo)
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    return passwords


def terminal(monkeypatch, *answers: str) -> None:
    monkeypatch.setattr(command.sys.stdin, "isatty", lambda: True, raising=False)
    replies = iter(answers)
    monkeypatch.setattr(command, "getpass", lambda prompt: next(replies))


@pytest.mark.django_db
def test_the_password_comes_from_the_environment(monkeypatch, capsys):
    monkeypatch.setenv("DEMO_PASSWORD", "chosen in the environment")
    call_command("seed_demo")
    user = User.objects.get(email="owner@client-a.test")
    assert user.check_password("chosen in the environment")
    out = capsys.readouterr().out
    assert "chosen in the environment" not in out and "the one you chose" in out


def test_unattended_without_a_password_the_default_is_used_and_shown(seeded, capsys, monkeypatch):
    monkeypatch.setattr(command.sys.stdin, "isatty", lambda: False, raising=False)
    call_command("seed_demo")
    assert seeded == [DEFAULT]
    assert f"Password for all of them: {DEFAULT}" in capsys.readouterr().out


def test_in_a_terminal_it_asks(seeded, monkeypatch, capsys):
    terminal(monkeypatch, "typed at the prompt", "typed at the prompt")
    call_command("seed_demo")
    assert seeded == ["typed at the prompt"]
    assert "typed at the prompt" not in capsys.readouterr().out


def test_enter_at_the_prompt_keeps_the_default(seeded, monkeypatch):
    terminal(monkeypatch, "")
    call_command("seed_demo")
    assert seeded == [DEFAULT]


def test_two_different_answers_stop_it(seeded, monkeypatch):
    terminal(monkeypatch, "one password", "another one")
    with pytest.raises(CommandError, match="The two passwords differ"):
        call_command("seed_demo")
    assert seeded == []


def test_the_argument_and_the_environment_win_over_the_prompt(seeded, monkeypatch):
    terminal(monkeypatch)  # any prompt would raise StopIteration
    call_command("seed_demo", "--password", "from the argument")
    monkeypatch.setenv("DEMO_PASSWORD", "from the environment")
    call_command("seed_demo")
    assert seeded == ["from the argument", "from the environment"]


def test_make_run_passes_the_default_through_the_environment():
    from tests.child_django import ROOT

    makefile = (ROOT / "Makefile").read_text()
    assert f"export DEMO_PASSWORD ?= {DEFAULT}" in makefile
    assert "seed_demo --password" not in makefile
