//! Server functions of the API keys page.
