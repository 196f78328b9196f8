"""Alert channels, one small class each behind the `Channel` protocol; `build_channel` makes one
from its alerts.yaml entry, reading its secrets from the environment."""

from alerts.channels.base import Channel, ChannelError, build_channel

__all__ = ["Channel", "ChannelError", "build_channel"]
