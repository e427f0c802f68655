"""Who may connect to ``funnel serve``: an authorized-keys file in OpenSSH format.

Each line is ``[OPTIONS] TYPE BASE64 [COMMENT]``, as in ``~/.ssh/authorized_keys``.
Each key is one person, and that person's name becomes ``by`` in the history and
``me`` in filters:

- ``environment="FUNNEL_USER=anna" ssh-ed25519 AAAA… anna@laptop`` names the user
  explicitly (the same line works for plain OpenSSH with
  ``PermitUserEnvironment FUNNEL_USER``), else
- the comment names them: its first word, up to an ``@`` (``anna@laptop`` → ``anna``).

Options that only take rights away (``restrict``, ``no-port-forwarding``,
``no-agent-forwarding``, ``no-X11-forwarding``, ``no-user-rc``, ``pty``) are accepted:
``funnel serve`` grants none of those rights anyway. Any other option (``from=``,
``command=``, ``cert-authority`` …) is refused with the file and line rather than
silently ignored, since ignoring a restriction would widen access.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from funnel.engine.errors import FunnelError

KEY_TYPES = frozenset({
    "ssh-ed25519", "ssh-rsa", "ssh-dss",
    "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
})
HARMLESS_OPTIONS = frozenset({"restrict", "no-port-forwarding", "no-agent-forwarding",
                              "no-x11-forwarding", "no-user-rc", "pty"})
CERTIFICATE = "-cert-v01@openssh.com"
USER_VARIABLE = "FUNNEL_USER"
MAX_NAME = 64
EXAMPLE = 'ssh-ed25519 AAAA… anna@laptop'


@dataclass(frozen=True)
class AuthorizedKey:
    user: str
    line: int
    key_type: str
    fingerprint: str  # SHA256:…, as `ssh-keygen -lf` prints it
    public_data: bytes  # the key's wire form: what a client offers


def check_user_name(name: str) -> str | None:
    """Why ``name`` cannot be a user name, or None when it can."""
    if not name:
        return "the user name is empty"
    if len(name) > MAX_NAME:
        return f"the user name is longer than {MAX_NAME} characters"
    if not name.isprintable() or any(char.isspace() for char in name):
        return f"the user name {name!r} has spaces or control characters"
    # The name is also the user's folder under `funnel serve --files DIR`: checked here,
    # once, where it comes in, so DIR/NAME can never lead out of DIR or hide.
    if "/" in name or "\\" in name or name.startswith("."):
        return (f"the user name {name!r} cannot be a folder name (no '/', '\\', or "
                "leading '.')")
    return None


def user_from_comment(comment: str) -> str:
    """``anna@laptop`` → ``anna``; ``Anna Smith`` → ``Anna``; empty stays empty."""
    words = comment.split()
    return words[0].partition("@")[0] if words else ""


def _split_options(text: str) -> tuple[str, str]:
    """Split ``OPTIONS rest`` at the first whitespace outside double quotes."""
    quoted = False
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and quoted and index + 1 < len(text):
            index += 2
            continue
        if char == '"':
            quoted = not quoted
        elif char in " \t" and not quoted:
            return text[:index], text[index:].lstrip()
        index += 1
    if quoted:
        raise ValueError("an option's double quote is never closed")
    return text, ""


def _parse_options(text: str) -> list[tuple[str, str | None]]:
    """``a,b="x,y"`` → [("a", None), ("b", "x,y")], as sshd reads them."""
    options: list[tuple[str, str | None]] = []
    index = 0
    while index < len(text):
        end = index
        while end < len(text) and text[end] not in ',="':
            end += 1
        name = text[index:end]
        if not name:
            raise ValueError(f"an empty option near {text[index:index + 20]!r}")
        if end < len(text) and text[end] == "=":
            if end + 1 >= len(text) or text[end + 1] != '"':
                raise ValueError(f'option {name!r}: write its value in double quotes, '
                                 f'{name}="…"')
            value_chars = []
            position = end + 2
            while position < len(text) and text[position] != '"':
                if text[position] == "\\" and position + 1 < len(text) \
                        and text[position + 1] == '"':
                    position += 1
                value_chars.append(text[position])
                position += 1
            if position >= len(text):
                raise ValueError(f"option {name!r}: its double quote is never closed")
            options.append((name, "".join(value_chars)))
            end = position + 1
        elif end < len(text) and text[end] == '"':
            raise ValueError(f"option {name!r}: unexpected double quote")
        else:
            options.append((name, None))
        if end < len(text):
            if text[end] != ",":
                raise ValueError(f"options must be separated by commas near "
                                 f"{text[end:end + 20]!r}")
            end += 1
            if end >= len(text):
                raise ValueError("the options end with a comma")
        index = end
    return options


def _user_from_options(options: list[tuple[str, str | None]]) -> str | None:
    user = None
    for name, value in options:
        lowered = name.lower()
        if lowered in HARMLESS_OPTIONS and value is None:
            continue
        if lowered == "environment" and value is not None:
            variable, equals, setting = value.partition("=")
            if not equals or variable != USER_VARIABLE:
                raise ValueError(f'environment="{value}": only '
                                 f'environment="{USER_VARIABLE}=NAME" is understood')
            user = setting
            continue
        raise ValueError(f"unsupported option {name!r}; funnel serve understands "
                         f'environment="{USER_VARIABLE}=NAME" and the restrict and '
                         "no-*-forwarding options (it never grants forwarding)")
    return user


def parse_line(text: str) -> tuple[str, str, str, str | None]:
    """One non-empty line → (key type, base64, comment, user from the options)."""
    words = text.split()
    if not any(word in KEY_TYPES or word.endswith(CERTIFICATE) for word in words):
        raise ValueError(f"{words[0][:40]!r} is not a public key line; each line reads "
                         f"like '{EXAMPLE}' (copy the user's .pub file)")
    first = words[0]
    options_user = None
    rest = text
    if first not in KEY_TYPES and not first.endswith(CERTIFICATE):
        options_text, rest = _split_options(text)
        options_user = _user_from_options(_parse_options(options_text))
        if not rest:
            raise ValueError(f"no key after the options; write OPTIONS {EXAMPLE}")
    parts = rest.split(None, 2)
    key_type = parts[0]
    if key_type.endswith(CERTIFICATE):
        raise ValueError(f"{key_type}: certificates are not supported; list the plain "
                         "public key (the .pub file)")
    if key_type not in KEY_TYPES:
        raise ValueError(f"{key_type[:40]!r} is not a public key type; each line reads "
                         f"like '{EXAMPLE}' (copy the user's .pub file)")
    if len(parts) < 2:
        raise ValueError(f"the {key_type} key has no data; copy the whole line of the "
                         ".pub file")
    comment = parts[2].strip() if len(parts) > 2 else ""
    return key_type, parts[1], comment, options_user


def parse_authorized_keys(text: str, source: str) -> list[AuthorizedKey]:
    """Every key of an authorized-keys text; a bad line raises FunnelError naming it."""
    import asyncssh

    keys: list[AuthorizedKey] = []
    seen: dict[bytes, AuthorizedKey] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{source}:{number}"
        try:
            key_type, blob, comment, options_user = parse_line(line)
        except ValueError as error:
            raise FunnelError(f"{where}: {error}") from None
        try:
            key = asyncssh.import_public_key(f"{key_type} {blob}")
        except (asyncssh.KeyImportError, ValueError) as error:
            raise FunnelError(f"{where}: the {key_type} key does not decode ({error}); "
                              "copy the whole line of the user's .pub file") from None
        if key.get_algorithm() != key_type:
            raise FunnelError(f"{where}: the key says {key_type} but holds a "
                              f"{key.get_algorithm()} key; copy the .pub file unchanged")
        user = options_user if options_user is not None else user_from_comment(comment)
        if not user:
            raise FunnelError(f'{where}: no user name; add environment="{USER_VARIABLE}=NAME" '
                              f"before the key or a comment after it ({EXAMPLE})")
        problem = check_user_name(user)
        if problem:
            raise FunnelError(f"{where}: {problem}")
        entry = AuthorizedKey(user, number, key_type, key.get_fingerprint("sha256"),
                              key.public_data)
        if entry.public_data in seen:
            earlier = seen[entry.public_data]
            raise FunnelError(f"{where}: this key is already on line {earlier.line} "
                              f"(for {earlier.user}); one key is one person")
        seen[entry.public_data] = entry
        keys.append(entry)
    return keys


def read_authorized_keys(path: Path) -> list[AuthorizedKey]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FunnelError(f"{path}: no such authorized-keys file; put each salesperson's "
                          f"public key on a line of its own ({EXAMPLE}), or point "
                          "--authorized-keys at your file") from None
    except IsADirectoryError:
        raise FunnelError(f"{path}: is a directory; --authorized-keys takes a file") from None
    except OSError as error:
        raise FunnelError(f"{path}: cannot read the authorized-keys file "
                          f"({error.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise FunnelError(f"{path}:{line}: not UTF-8 text; authorized-keys files are "
                          "text (one public key per line)") from None
    keys = parse_authorized_keys(text, str(path))
    if not keys:
        raise FunnelError(f"{path}: holds no keys, so nobody could log in; add one line "
                          f"per salesperson ({EXAMPLE})")
    return keys


class KeyRing:
    """The authorized keys, re-read when the file changes (no restart to add someone)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.keys = read_authorized_keys(path)
        self._by_data = {key.public_data: key for key in self.keys}
        self._stamp = self._file_stamp()

    def _file_stamp(self) -> tuple[int, int, int] | None:
        try:
            status = os.stat(self.path)
        except OSError:
            return None
        return (status.st_ino, status.st_size, status.st_mtime_ns)

    def reload_if_changed(self) -> str | None:
        """Re-read a changed file. Returns what was wrong when the new file is unusable
        (the keys read before stay in force), else None."""
        stamp = self._file_stamp()
        if stamp == self._stamp:
            return None
        try:
            keys = read_authorized_keys(self.path)
        except FunnelError as error:
            self._stamp = stamp  # report a broken file once, not on every connection
            return f"{error} (keeping the {len(self.keys)} keys read before)"
        self.keys = keys
        self._by_data = {key.public_data: key for key in keys}
        self._stamp = stamp
        return None

    def find(self, public_data: bytes) -> AuthorizedKey | None:
        return self._by_data.get(public_data)

    def users(self) -> list[str]:
        return sorted({key.user for key in self.keys})
