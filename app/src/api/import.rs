//! Server functions of the import page.
