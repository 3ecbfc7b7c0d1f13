//! Extractors whose rejections become our JSON errors instead of axum's plain text.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// A JSON body: malformed JSON, a wrong content type or an oversized body answer
/// `{"message": ...}` with 400 or 413. It parses straight from the body bytes (axum's
/// `Json` tracks the path of every value it reads, which costs measurably on large
/// batches; serde's own messages already say where a problem is).
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        if !is_json(request.headers()) {
            return Err(AppError::bad_request(
                "Expected a JSON body with the header Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::PayloadTooLarge("Request body is too large".into())
                } else {
                    AppError::bad_request(format!(
                        "Could not read the request body: {}",
                        rejection.body_text()
                    ))
                }
            })?;
        serde_json::from_slice(&bytes)
            .map(Json)
            .map_err(|e| match e.classify() {
                serde_json::error::Category::Data => {
                    AppError::bad_request(format!("Invalid request body: {e}"))
                }
                _ => AppError::bad_request(format!("Malformed JSON: {e}")),
            })
    }
}

/// `application/json` or `application/<something>+json`, parameters allowed.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mime = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Query` with JSON errors.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct Query<T>(pub T);

/// `axum::extract::Path` with JSON errors.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct Path<T>(pub T);

/// The `i64` a JSON number stands for, when it is a whole number in range: JSON does not
/// tell `53` from `53.0`, and JSON Schema calls both integers, so neither does the API.
pub fn whole_number(value: f64) -> Option<i64> {
    // -2^63 is exactly representable; 2^63 is the first value out of range.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (value.fract() == 0.0 && (-LIMIT..LIMIT).contains(&value)).then_some(value as i64)
}

/// `deserialize_with` for an optional whole-number field (absent or null is `None`);
/// see [`whole_number`]. Use it with `#[serde(default)]`.
pub fn optional_whole_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    struct WholeNumber;
    impl<'de> serde::de::Visitor<'de> for WholeNumber {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a whole number")
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            i64::try_from(v)
                .map(Some)
                .map_err(|_| E::custom(format!("{v} is too large")))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
            whole_number(v)
                .map(Some)
                .ok_or_else(|| E::custom(format!("{v} is not a whole number")))
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(WholeNumber)
        }
    }
    deserializer.deserialize_option(WholeNumber)
}

/// Names of the required fields that are absent or blank, in the order given.
pub fn missing_fields<'a>(fields: &[(&'a str, Option<&str>)]) -> Vec<&'a str> {
    fields
        .iter()
        .filter(|(_, value)| value.is_none_or(|v| v.trim().is_empty()))
        .map(|(name, _)| *name)
        .collect()
}

/// 400 `Missing required fields: a, b` when any field is absent or blank.
pub fn require_fields(fields: &[(&str, Option<&str>)]) -> Result<(), AppError> {
    let missing = missing_fields(fields);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(AppError::bad_request(format!(
            "Missing required fields: {}",
            missing.join(", ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_floats_are_integers() {
        assert_eq!(whole_number(53.0), Some(53));
        assert_eq!(whole_number(-0.0), Some(0));
        assert_eq!(whole_number(53.5), None);
        assert_eq!(whole_number(9.3e18), None);
        assert_eq!(whole_number(f64::NAN), None);
        #[derive(serde::Deserialize)]
        struct Body {
            #[serde(default, deserialize_with = "optional_whole_number")]
            n: Option<i64>,
        }
        let parse = |json: &str| serde_json::from_str::<Body>(json).map(|b| b.n);
        assert_eq!(parse(r#"{"n": 7}"#).ok(), Some(Some(7)));
        assert_eq!(parse(r#"{"n": 7.0}"#).ok(), Some(Some(7)));
        assert_eq!(parse(r#"{"n": null}"#).ok(), Some(None));
        assert_eq!(parse("{}").ok(), Some(None));
        assert!(parse(r#"{"n": 7.5}"#).is_err());
        assert!(parse(r#"{"n": "7"}"#).is_err());
    }

    #[test]
    fn lists_every_missing_field() {
        assert_eq!(
            missing_fields(&[("username", None), ("password", Some(" "))]),
            ["username", "password"]
        );
        assert!(require_fields(&[("a", Some("x"))]).is_ok());
        let err = require_fields(&[("owner", Some("x")), ("name", None)]).expect_err("missing");
        assert_eq!(err.to_string(), "Missing required fields: name");
    }
}
