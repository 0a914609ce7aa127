//! Webhooks: endpoints admins register, deliveries queued in the transaction of their cause,
//! signed with HMAC-SHA256 and retried with backoff.
