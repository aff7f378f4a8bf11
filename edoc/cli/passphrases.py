"""Where the CLI gets passphrases: ``--passphrase-file``, ``EDOC_PASSPHRASE_FILE``, or a prompt.

Passphrases are never taken as plain command-line values (they would show in ``ps`` and in
shell history).
"""

from __future__ import annotations

import getpass
import os
import sys

from edoc.cli.state import State
from edoc.errors import PassphraseRequired
from edoc.pki.keys import Passphrases, passphrases_from_file


class PromptPassphrases(Passphrases):
    """Ask at a hidden prompt, once per owner per command; refuse when there is no terminal."""

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


def passphrases_for(st: State) -> Passphrases:
    path = st.passphrase_file or os.environ.get("EDOC_PASSPHRASE_FILE") or None
    if path:
        return passphrases_from_file(path)
    return PromptPassphrases(st.lang)
