//! Tests of api_keys (filled in by its work).
