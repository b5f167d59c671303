"""Follow-up strategies and channels, with their registries."""

from loyaltysim.followups.channels import DEFAULT_CHANNELS, Channel, ChannelOverride
from loyaltysim.followups.strategy import KINDS, TARGETS, Followup, select_contacts

__all__ = [
    "DEFAULT_CHANNELS",
    "KINDS",
    "TARGETS",
    "Channel",
    "ChannelOverride",
    "Followup",
    "select_contacts",
]
