//! Data shapes of the API keys page.
