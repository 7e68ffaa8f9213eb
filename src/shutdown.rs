//! Graceful shutdown: on SIGTERM or SIGINT stop accepting connections, let every request already
//! started finish (within a grace period), refuse any later one, and only then stop the HTTP
//! workers and close the database pool.
//!
//! Why a gate of our own: each actix worker runs its own Tokio runtime, and the pool's
//! connections are bound to the runtime that opened them. actix stops each worker as soon as
//! *that* worker is idle, so a request still running on another worker could find its pooled
//! connection's runtime gone ("A Tokio 1.x context was found, but it is being shutdown") after
//! its write had committed. So no worker may stop while any request, on any worker, is running.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};
use keygate_runtime::error::ApiError;

/// The bit of [`InFlight`]'s state that says no request may start any more.
const CLOSED: usize = 1 << (usize::BITS - 1);

/// How often [`InFlight::close`] looks whether the last request finished.
const POLL: Duration = Duration::from_millis(10);

/// Counts the requests running on every worker, and closes once none is.
#[derive(Debug, Default)]
pub struct InFlight {
    /// The number of running requests, plus [`CLOSED`] once closed.
    state: AtomicUsize,
}

/// A running request; dropping it (response produced, or the request abandoned) ends it.
#[derive(Debug)]
pub struct Running(Arc<InFlight>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.state.fetch_sub(1, Ordering::SeqCst);
    }
}

impl InFlight {
    /// Starts a request, or `None` once the gate is closed.
    pub fn enter(self: &Arc<Self>) -> Option<Running> {
        let running = Running(Arc::clone(self));
        let before = self.state.fetch_add(1, Ordering::SeqCst);
        (before & CLOSED == 0).then_some(running)
    }

    /// The number of requests running now.
    pub fn running(&self) -> usize {
        self.state.load(Ordering::SeqCst) & !CLOSED
    }

    /// Closes the gate at the first moment no request is running, or when `grace` has passed.
    /// Returns how many requests were still running then (0 when drained in time).
    pub async fn close(&self, grace: Duration) -> usize {
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            if self.state.compare_exchange(0, CLOSED, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
                return 0;
            }
            if tokio::time::Instant::now() >= deadline {
                return self.state.fetch_or(CLOSED, Ordering::SeqCst) & !CLOSED;
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

/// Middleware counting each request in the app's [`InFlight`] (app data); once it is closed,
/// a request is answered `503` with `Retry-After` and `Connection: close` without running, so
/// a load balancer retries it elsewhere.
pub async fn track(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let gate = request.app_data::<web::Data<InFlight>>().map(|gate| gate.clone().into_inner());
    let running = match gate {
        Some(gate) => match gate.enter() {
            Some(running) => Some(running),
            None => return Ok(request.into_response(refusal()).map_into_right_body()),
        },
        None => None,
    };
    let response = next.call(request).await;
    drop(running);
    Ok(response?.map_into_left_body())
}

/// The answer to a request arriving after the gate closed.
fn refusal() -> actix_web::HttpResponse {
    let mut response = ApiError::unavailable("the server is shutting down; retry", 1).error_response();
    response.head_mut().set_connection_type(ConnectionType::Close);
    response
}

/// Resolves at the first SIGTERM or SIGINT (Ctrl-C).
pub async fn signalled() -> anyhow::Result<&'static str> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(tokio::select! {
        _ = terminate.recv() => "SIGTERM",
        _ = interrupt.recv() => "SIGINT",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn closes_only_once_no_request_runs_and_then_refuses_new_ones() {
        let gate = Arc::new(InFlight::default());
        let running = gate.enter().expect("open");
        let closing = tokio::spawn({
            let gate = gate.clone();
            async move { gate.close(Duration::from_secs(5)).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!closing.is_finished(), "a running request holds the gate open");
        assert!(gate.enter().is_some(), "a request may still start while one runs");
        drop(running);
        assert_eq!(closing.await.unwrap(), 0, "drained in time");
        assert!(gate.enter().is_none(), "closed: nothing starts any more");
        assert_eq!(gate.running(), 0);
    }

    #[tokio::test]
    async fn the_grace_period_bounds_the_wait() {
        let gate = Arc::new(InFlight::default());
        let _stuck = gate.enter().expect("open");
        assert_eq!(gate.close(Duration::from_millis(30)).await, 1, "one request abandoned");
        assert!(gate.enter().is_none());
    }
}
