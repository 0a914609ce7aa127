//! Server functions of the webhooks page.
