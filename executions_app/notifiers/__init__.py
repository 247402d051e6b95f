"""Notification channels: one small class per kind (email, webhook, apprise) behind a registry,
with a common send() and a DeliveryError that says whether retrying can help.

Modules: base (Notification, SendResult, DeliveryError, Notifier), addresses (which addresses
may be targets), safe_http and transport (outbound HTTP under that policy), signing (Standard
Webhooks), email / webhook / apprise (the channels), registry (kind name -> notifier class).
"""
