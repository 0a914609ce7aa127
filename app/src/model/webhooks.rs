//! Data shapes of the webhooks page.
