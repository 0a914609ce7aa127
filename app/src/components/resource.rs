//! The pages' resources, sent from the server to the browser as JSON and read back the way
//! server functions read their answers.
//!
//! Leptos' default resource codec reads JSON from a `&str`, and server functions read it
//! from bytes. Each reader is its own copy of every DTO's deserializer in the WebAssembly
//! modules (two of `Overview`'s, two of `OpenInvoice`'s…). Reading both from bytes keeps
//! one copy.

use leptos::prelude::*;
use leptos::server::codee::{Decoder, Encoder};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// JSON, read from bytes (`serde_json::from_slice`), as server functions read it.
pub struct Json;

impl<T: Serialize> Encoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(val: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(val)
    }
}

impl<T: DeserializeOwned> Decoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(val: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(val.as_bytes())
    }
}

/// A page's resource: `Resource::new` with the [`Json`] codec. `source` is tracked; each
/// change runs `fetcher` again.
#[track_caller]
pub fn resource<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Resource<T, Json>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: PartialEq + Clone + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_encoded_decodes_to_the_same_value() {
        let value: Result<Vec<(i64, String)>, String> = Ok(vec![(1, "é \"quoted\"".to_owned())]);
        let text = <Json as Encoder<_>>::encode(&value).unwrap_or_default();
        let back: Result<Result<Vec<(i64, String)>, String>, _> =
            <Json as Decoder<_>>::decode(text.as_str());
        assert_eq!(back.ok(), Some(value));
        let broken: Result<Vec<i64>, _> = <Json as Decoder<_>>::decode("[1,");
        assert!(broken.is_err());
    }
}
