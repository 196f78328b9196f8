"""The outbox: a receiver down for several cycles delays an alert and never loses it; once it
is back the alert arrives exactly once, also across a restart; quiet hours hold all but critical."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from alerts.check import Channels
from alerts.config import AlertsFile
from alerts.outbox import Outbox
from tests.test_channels import SECRETS, receiver, sample_message  # noqa: F401  (fixture)
from yuqing.schema import SHANGHAI

T0 = datetime(2026, 6, 20, 10, 0, tzinfo=SHANGHAI)


def channels_for(url: str) -> Channels:
    config = AlertsFile.model_validate(
        {"channels": [{"name": "hook", "type": "webhook", "url": url, "secret_env": "HOOK_SECRET"}]}
    )
    return Channels(config, SECRETS)


def test_a_receiver_down_for_cycles_gets_the_alert_once_when_back(tmp_path, receiver):  # noqa: F811
    channels = channels_for(receiver.url + "/webhook")
    outbox = Outbox(tmp_path / "outbox.sqlite3", base_backoff=30, max_backoff=300)
    message = sample_message()
    assert outbox.enqueue(message, ["hook"], T0) == 1
    assert outbox.enqueue(message, ["hook"], T0) == 0  # the same event again: nothing new
    receiver.down = True
    now, delays = T0, []
    for _ in range(6):  # six cycles with the receiver down
        report = outbox.deliver(channels, now)
        row = outbox.rows()[0]
        delays.append(round(row["due_at"] - now.timestamp()) if report["failed"] else None)
        now += timedelta(seconds=301)
    assert delays == [30, 60, 120, 240, 300, 300]  # exponential backoff, capped
    assert receiver.accepted == [] and outbox.backlog() == {"hook": 1}
    assert "503" in outbox.rows()[0]["last_error"]
    outbox.close()

    receiver.down = False
    outbox = Outbox(tmp_path / "outbox.sqlite3", base_backoff=30, max_backoff=300)  # a restart
    assert outbox.deliver(channels, now - timedelta(seconds=200))["delivered"] == 0  # not yet due
    assert outbox.deliver(channels, now)["delivered"] == 1
    for _ in range(3):
        now += timedelta(hours=1)
        assert outbox.deliver(channels, now) == {"delivered": 0, "failed": 0, "waiting": 0}
    assert [b["alert"]["id"] for _, b, _ in receiver.accepted] == [message.alert_id]
    assert outbox.backlog() == {} and outbox.rows()[0]["attempts"] == 7


def test_an_update_is_a_second_delivery_and_each_channel_gets_one(tmp_path, receiver):  # noqa: F811
    channels = channels_for(receiver.url + "/webhook")
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    first = sample_message()
    update = sample_message("update")
    update.alert["history"].append({"event": "update"})
    outbox.enqueue(first, ["hook", "gone"], T0)
    outbox.enqueue(update, ["hook"], T0)
    report = outbox.deliver(channels, T0)
    assert report == {"delivered": 2, "failed": 1, "waiting": 1}  # `gone` is not configured
    assert [b["event"] for _, b, _ in receiver.accepted] == ["new", "update"]
    assert outbox.backlog() == {"gone": 1}  # kept, never dropped


def test_quiet_hours_hold_warnings_but_not_critical_alerts(tmp_path, receiver):  # noqa: F811
    config = AlertsFile.model_validate({"quiet_hours": {"start": "22:00", "end": "07:00"}})
    channels = channels_for(receiver.url + "/webhook")
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    night = datetime(2026, 6, 20, 23, 0, tzinfo=SHANGHAI)
    outbox.enqueue(sample_message(), ["hook"], night, config.quiet_hours)
    critical = replace(sample_message(severity="critical"), alert_id="severe-post-1")
    outbox.enqueue(critical, ["hook"], night, config.quiet_hours)
    assert outbox.deliver(channels, night)["delivered"] == 1
    assert [b["alert"]["severity"] for _, b, _ in receiver.accepted] == ["critical"]
    assert (
        outbox.deliver(channels, night.replace(hour=6, minute=59) + timedelta(days=1))["delivered"]
        == 0
    )
    assert outbox.deliver(channels, night.replace(hour=7) + timedelta(days=1))["delivered"] == 1
    assert [b["alert"]["severity"] for _, b, _ in receiver.accepted] == ["critical", "warning"]
