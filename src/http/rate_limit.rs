//! API rate limits (tower-governor): an hourly and a daily quota per caller, where the
//! caller is the user of a valid bearer token (an API key that verified recently counts
//! by its prefix), else the client's IP address. The sync routes also have a per-IP
//! limit per minute of their own (`sync_rate_limit`).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request as AxumRequest};
use axum::http::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio_util::sync::CancellationToken;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::KeyExtractor;
use tower_governor::{GovernorError, GovernorLayer};

use crate::auth::{ApiKeyAuth, JwtKeys, bearer_token};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CallerKey {
    User(i64),
    /// An API key that verified recently, by its public prefix.
    ApiKey(String),
    Ip(IpAddr),
    /// No token and no peer address (only in-process tests serve without one).
    Unknown,
}

/// Keys requests by authenticated user or API key, else by peer IP. An API key counts
/// as itself only once it has verified (it is in the verified-key cache): unverified
/// strings shaped like keys share their IP's quota, so inventing keys gains nothing.
#[derive(Clone)]
pub struct CallerKeyExtractor {
    jwt: Arc<JwtKeys>,
    api_keys: Arc<ApiKeyAuth>,
}

impl KeyExtractor for CallerKeyExtractor {
    type Key = CallerKey;

    fn extract<T>(&self, req: &Request<T>) -> Result<CallerKey, GovernorError> {
        if let Some(token) = bearer_token(req.headers()) {
            if let Some(prefix) = self.api_keys.cached_prefix(token) {
                return Ok(CallerKey::ApiKey(prefix));
            }
            if let Ok(user_id) = self.jwt.verify(token) {
                return Ok(CallerKey::User(user_id));
            }
        }
        Ok(peer_ip(req).map_or(CallerKey::Unknown, CallerKey::Ip))
    }
}

fn peer_ip<T>(req: &Request<T>) -> Option<IpAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

/// The per-IP limiter of the sync routes, handed to them as a request extension.
#[derive(Clone)]
struct SyncLimiter(Arc<DefaultKeyedRateLimiter<IpAddr>>);

/// Middleware of the sync routes: `SYNC_RATE_LIMIT_PER_MINUTE` requests per client IP
/// (when rate limiting is enabled), else 429 with `Retry-After`.
pub async fn sync_rate_limit(request: AxumRequest, next: Next) -> Response {
    let limited = request
        .extensions()
        .get::<SyncLimiter>()
        .zip(peer_ip(&request))
        .and_then(|(SyncLimiter(limiter), ip)| limiter.check_key(&ip).err());
    match limited {
        Some(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            AppError::TooManyRequests {
                retry_after_secs: wait.as_secs().max(1),
            }
            .into_response()
        }
        None => next.run(request).await,
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
        api_keys: state.api_keys.clone(),
    };
    let router = match std::num::NonZeroU32::new(config.sync_rate_limit_per_minute) {
        Some(per_minute) => {
            let limiter = Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute)));
            forget_idle_callers(limiter.clone(), state.shutdown.clone());
            router.layer(axum::Extension(SyncLimiter(limiter)))
        }
        None => router,
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
