"""Channel secrets, read at send time only: webhook URLs, Apprise URLs and SMTP credentials
never travel.

They come from the environment variable or Prefect Secret block a channel names, and live only
for one delivery; a sentence saying what is missing never holds a value. Prefect is imported
here for its Secret blocks (tests/test_layout.py allows this one home besides the flows).
"""

from __future__ import annotations

from dataclasses import dataclass

from claimwatch.flows import settings
from claimwatch.flows.alerts import apprise
from claimwatch.flows.alerts.policy import AlertsConfig, Channel
from claimwatch.flows.alerts.slack import webhook_ok


def secret(env_name: str | None, block_name: str | None) -> str | None:
    """The value of an environment variable, else of a Prefect Secret block; None when neither."""
    # The *names* come from alerts.toml; the value is read right here, where it is needed,
    # so it never travels (no task parameter, no result, no log).
    value = settings.env_secret(env_name) if env_name else None
    if value:
        return value
    if block_name:
        return _prefect_secret(block_name)
    return None


def _prefect_secret(name: str) -> str | None:
    settings.quiet_prefect()  # calm and offline, as in every other place that starts Prefect
    # Imported only for a channel that names a Secret block: Prefect costs 1.4 s to import,
    # which a plain `claimwatch run` does not pay (issue 14).
    from prefect.blocks.system import Secret

    try:
        value = Secret.load(name).get()  # type: ignore[union-attr]
    except Exception:
        return None  # missing block or no API: the channel is reported unconfigured
    return str(value) if value else None


@dataclass(frozen=True, slots=True)
class Credentials:
    """What one send needs that must never be logged, stored or passed to Prefect."""

    webhook_url: str | None = None
    apprise_url: str | None = None
    username: str | None = None
    password: str | None = None

    def __repr__(self) -> str:  # a traceback or a debugger must not show the values
        return "Credentials(…)"


def credentials(channel: Channel) -> Credentials | str:
    """The channel's secrets, or a sentence saying what is missing (never the values)."""
    if channel.kind == "slack":
        url = secret(channel.webhook_url_env, channel.webhook_url_secret)
        if not url:
            return f"unconfigured: {_where(channel.webhook_url_env, channel.webhook_url_secret)}"
        if not webhook_ok(url):
            return ("misconfigured: the webhook URL is not a well-formed http(s) URL "
                    f"({_where(channel.webhook_url_env, channel.webhook_url_secret)})")
        return Credentials(webhook_url=url)
    if channel.kind == "apprise":
        url = secret(channel.url_env, channel.url_secret)
        if not url:
            return f"unconfigured: {_where(channel.url_env, channel.url_secret)}"
        problem = apprise.problem(url)
        if problem:
            return f"misconfigured: {problem} ({_where(channel.url_env, channel.url_secret)})"
        return Credentials(apprise_url=url)
    username = channel.username or secret(channel.username_env, None)
    if not (channel.username_env or channel.username):
        return Credentials()
    password = secret(channel.password_env, channel.password_secret)
    if not username or not password:
        missing = [_where(channel.username_env, None)] if not username else []
        missing += [_where(channel.password_env, channel.password_secret)] if not password else []
        return f"unconfigured: {' and '.join(missing)}"
    return Credentials(username=username, password=password)


def _where(env_name: str | None, block_name: str | None) -> str:
    names = [f"${env_name}"] if env_name else []
    names += [f"Secret block {block_name!r}"] if block_name else []
    return "set " + " or ".join(names)


def unconfigured(config: AlertsConfig) -> dict[str, str]:
    """Channel name -> what is missing, for every channel that cannot send right now."""
    found: dict[str, str] = {}
    for channel in config.channels:
        creds = credentials(channel)
        if isinstance(creds, str):
            found[channel.name] = creds
    return found
