"""Inbound email: parsing, reply extraction and mail-loop (auto-reply / bounce) detection."""
