//! Tests of webhooks (filled in by its work).
