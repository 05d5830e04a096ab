"""The sign-in mode and its settings, from one place: config/auth.toml (or YIPING_AUTH_CONFIG), and the
environment variable YIPING_AUTH=local|oidc|off, which overrides the file's ``mode``.

Fail closed: ``auto`` means sign-in (local) on every database except the default sample database of the
two-command demo, which runs open with a visible 演示模式 banner. A mode that is misspelt is an error,
never "off".
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .engine import DEFAULT_URL, PROJECT_DIR, database_url

MODES = ("local", "oidc", "off", "demo")
ENV = "YIPING_AUTH"


class ConfigError(ValueError):
    """The auth configuration is unusable; str() is for people."""


@dataclass(frozen=True)
class AuthSettings:
    mode: str                     # local | oidc | off | demo
    idle_minutes: int = 30
    max_failures: int = 5
    lock_minutes: int = 15
    oidc: dict = field(default_factory=dict)
    source: str = ""              # where the mode came from (for the start-up log line)


def config_path() -> Path:
    return Path(os.environ.get("YIPING_AUTH_CONFIG") or PROJECT_DIR / "config" / "auth.toml")


def settings() -> AuthSettings:
    """The effective settings (read on every call: a small file, and edits apply without a restart)."""
    path = config_path()
    raw: dict = {}
    if path.exists():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"登录配置文件 {path} 格式错误：{exc}") from exc
    mode, source = str(raw.get("mode", "auto")).strip().lower(), str(path)
    env = os.environ.get(ENV, "").strip().lower()
    if env:
        mode, source = env, f"环境变量 {ENV}"
    if mode == "auto":
        mode = "demo" if database_url() == DEFAULT_URL else "local"
    if mode not in MODES or (mode == "demo" and database_url() != DEFAULT_URL):
        raise ConfigError(f"登录方式 {mode!r}（来自 {source}）无效，可选 local、oidc、off。")
    try:
        return AuthSettings(mode, int(raw.get("idle_minutes", 30)), int(raw.get("max_failures", 5)),
                            int(raw.get("lock_minutes", 15)), dict(raw.get("oidc", {})), source)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"登录配置文件 {path} 中的数值无效：{exc}") from exc
