"""The ``acs`` telephony provider: Azure Communication Services Call Automation with
bidirectional media streaming (PCM16 16 kHz mono), reached through the gateway."""
