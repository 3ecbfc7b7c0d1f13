//! JSON numbers read the way the API documents them: JSON does not tell `53` from
//! `53.0`, and JSON Schema calls both integers, so neither do request bodies. Shared by
//! the route bodies and the commit batch wire format.

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
}
