//! API rate limits (tower-governor): an hourly and a daily quota per caller, where the
//! caller is the user of a valid bearer token, else the client's IP address.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::response::IntoResponse;
use governor::middleware::NoOpMiddleware;
use tokio_util::sync::CancellationToken;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::KeyExtractor;
use tower_governor::{GovernorError, GovernorLayer};

use crate::auth::{JwtKeys, bearer_token};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CallerKey {
    User(i64),
    Ip(IpAddr),
    /// No token and no peer address (only in-process tests serve without one).
    Unknown,
}

/// Keys requests by authenticated user, else by peer IP.
#[derive(Clone)]
pub struct CallerKeyExtractor {
    jwt: Arc<JwtKeys>,
}

impl KeyExtractor for CallerKeyExtractor {
    type Key = CallerKey;

    fn extract<T>(&self, req: &Request<T>) -> Result<CallerKey, GovernorError> {
        if let Some(user_id) = bearer_token(req.headers()).and_then(|t| self.jwt.verify(t).ok()) {
            return Ok(CallerKey::User(user_id));
        }
        Ok(req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(CallerKey::Unknown, |ConnectInfo(addr)| {
                CallerKey::Ip(addr.ip())
            }))
    }
}

/// Wraps `router` in the hour and day quotas when rate limiting is enabled.
pub fn apply(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    let config = &state.config;
    if !config.rate_limit_enabled {
        return router;
    }
    let extractor = CallerKeyExtractor {
        jwt: state.jwt.clone(),
    };
    let quotas = [
        (Duration::from_secs(3600), config.rate_limit_per_hour),
        (Duration::from_secs(86_400), config.rate_limit_per_day),
    ];
    quotas.into_iter().fold(router, |router, (window, limit)| {
        match quota_layer(extractor.clone(), window, limit, &state.shutdown) {
            Some(layer) => router.layer(layer),
            None => router,
        }
    })
}

/// A layer allowing `limit` requests per `window` per caller, refilled evenly.
fn quota_layer<K>(
    extractor: K,
    window: Duration,
    limit: u32,
    shutdown: &CancellationToken,
) -> Option<GovernorLayer<K, NoOpMiddleware>>
where
    K: KeyExtractor + Send + Sync + 'static,
    K::Key: Send + Sync + 'static,
{
    let config = GovernorConfigBuilder::default()
        .key_extractor(extractor)
        .period(window / limit.max(1))
        .burst_size(limit)
        .error_handler(too_many_requests)
        .finish()?;
    let config = Arc::new(config);
    forget_idle_callers(config.limiter().clone(), shutdown.clone());
    Some(GovernorLayer { config })
}

fn too_many_requests(error: GovernorError) -> axum::response::Response {
    match error {
        GovernorError::TooManyRequests { wait_time, .. } => AppError::TooManyRequests {
            retry_after_secs: wait_time.max(1),
        }
        .into_response(),
        other => AppError::internal(format!("rate limiter: {other}")).into_response(),
    }
}

/// Drops the state of callers whose quota is full again, so memory stays bounded.
fn forget_idle_callers<K>(
    limiter: Arc<governor::DefaultKeyedRateLimiter<K>>,
    shutdown: CancellationToken,
) where
    K: std::hash::Hash + Eq + Clone + Send + Sync + 'static,
{
    if tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tick.tick() => {
                    limiter.retain_recent();
                    limiter.shrink_to_fit();
                }
            }
        }
    });
}
