//! The checks of single parameter values, each a 400 naming its parameter.

use chrono::NaiveDate;

use super::params::{DEFAULT_SIZE, HEIGHT, RepoName, Theme, WIDTH};
use crate::error::{AppError, AppResult};

/// Dates outside these years are refused (GitHub started in 2008).
const YEARS: (i32, i32) = (1970, 9999);

pub(super) fn given(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

pub(super) fn required<'a>(name: &str, value: Option<&'a str>) -> AppResult<&'a str> {
    given(value).ok_or_else(|| AppError::bad_request(format!("Missing required parameter: {name}")))
}

/// `owner/name` with GitHub's characters (the rules of `POST /repositories`).
pub(super) fn repo_name(param: &str, text: &str) -> AppResult<RepoName> {
    let bad = || {
        AppError::bad_request(format!(
            "Invalid {param}: expected owner/name (letters, digits, '-', '_'; the name also '.'), got {:?}",
            text.chars().take(100).collect::<String>()
        ))
    };
    let (owner, name) = text.trim().split_once('/').ok_or_else(bad)?;
    let owner_ok = (1..=100).contains(&owner.len())
        && owner
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !owner.starts_with('-');
    let name_ok = (1..=100).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && name != "."
        && name != "..";
    if owner_ok && name_ok {
        Ok(RepoName {
            owner: owner.to_string(),
            name: name.to_string(),
        })
    } else {
        Err(bad())
    }
}

pub(super) fn one_of<T: Copy>(
    param: &str,
    value: Option<&str>,
    choices: &[(&str, T)],
    default: T,
) -> AppResult<T> {
    let Some(value) = given(value) else {
        return Ok(default);
    };
    choices
        .iter()
        .find(|(text, _)| *text == value)
        .map(|(_, choice)| *choice)
        .ok_or_else(|| {
            let names: Vec<&str> = choices.iter().map(|(text, _)| *text).collect();
            AppError::bad_request(format!("Invalid {param}: use {}", names.join(" or ")))
        })
}

pub(super) fn theme(value: Option<&str>) -> AppResult<Theme> {
    one_of(
        "theme",
        value,
        &[("light", Theme::Light), ("dark", Theme::Dark)],
        Theme::Light,
    )
}

pub(super) fn date(param: &str, value: Option<&str>) -> AppResult<Option<NaiveDate>> {
    let Some(value) = given(value) else {
        return Ok(None);
    };
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .filter(|d| (YEARS.0..=YEARS.1).contains(&chrono::Datelike::year(d)))
        .map(Some)
        .ok_or_else(|| {
            AppError::bad_request(format!(
                "Invalid {param}: expected a date as YYYY-MM-DD between {} and {}",
                YEARS.0, YEARS.1
            ))
        })
}

pub(super) fn number(
    param: &str,
    value: Option<&str>,
    (min, max): (u32, u32),
) -> AppResult<Option<u32>> {
    let Some(value) = given(value) else {
        return Ok(None);
    };
    value
        .parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .map(Some)
        .ok_or_else(|| {
            AppError::bad_request(format!(
                "Invalid {param}: expected a whole number from {min} to {max}"
            ))
        })
}

pub(super) fn size(width: Option<&str>, height: Option<&str>) -> AppResult<(u32, u32)> {
    Ok((
        number("width", width, WIDTH)?.unwrap_or(DEFAULT_SIZE.0),
        number("height", height, HEIGHT)?.unwrap_or(DEFAULT_SIZE.1),
    ))
}
