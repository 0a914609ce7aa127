//! API keys for the REST API: created by admins, shown once, stored hashed, revocable.
