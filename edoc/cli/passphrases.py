"""Where the CLI gets passphrases: ``--passphrase-file``, ``EDOC_PASSPHRASE_FILE``, or a prompt.

Passphrases are never taken as plain command-line values (they would show in ``ps`` and in
shell history).
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from edoc.cli.state import State
from edoc.errors import PassphraseRequired
from edoc.pki.keys import Passphrases, passphrases_from_file

DEMO_PASSPHRASES = "demo-passphrases.toml"
"""Written by ``edoc demo`` (see :mod:`edoc.pilot.pki`); used in demo homes only."""


class PromptPassphrases(Passphrases):
    """Ask at a hidden prompt, once per owner per command; refuse when there is no terminal."""

    interactive = True

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self._asked: dict[str, bytes] = {}

    def get(self, owner: str) -> bytes:
        if owner in self._asked:
            return self._asked[owner]
        if not sys.stdin.isatty():
            raise PassphraseRequired(owner)
        prompt = f"รหัสผ่านของ {owner}: " if self.lang == "th" else f"Passphrase for {owner}: "
        value = getpass.getpass(prompt).encode("utf-8")
        self._asked[owner] = value
        return value


class DemoPassphrases(Passphrases):
    """A demo home's ``demo-passphrases.toml``, used only when no other source is given; says
    so on stderr the first time a key is unlocked."""

    def __init__(self, path: Path, lang: str) -> None:
        self.path = path
        self.lang = lang
        self._source: Passphrases | None = None

    def get(self, owner: str) -> bytes:
        if self._source is None:
            self._source = passphrases_from_file(self.path)
            if self.lang == "th":
                note = f"edoc: สำนักงานสาธิต: ใช้รหัสผ่านสาธิตจาก {self.path} (ไม่ใช่ความลับ)"
            else:
                note = f"edoc: demo home: using the demo passphrases in {self.path} (not secret)"
            print(note, file=sys.stderr)
        return self._source.get(owner)


def demo_passphrases(home: Path, lang: str) -> Passphrases | None:
    """The demo passphrases of a demo home (``office.demo = true``), or None."""
    path = home / DEMO_PASSPHRASES
    if not path.is_file():
        return None
    from edoc.errors import EdocError
    from edoc.settings import load_settings

    try:
        if not load_settings(home).office.demo:
            return None
    except EdocError:
        return None
    return DemoPassphrases(path, lang)


def passphrases_for(st: State) -> Passphrases:
    """``--passphrase-file``, else ``EDOC_PASSPHRASE_FILE``, else (demo homes only) the demo's
    passphrase file, else a hidden prompt."""
    path = st.passphrase_file or os.environ.get("EDOC_PASSPHRASE_FILE") or None
    if path:
        return passphrases_from_file(path)
    return demo_passphrases(st.home, st.lang) or PromptPassphrases(st.lang)
