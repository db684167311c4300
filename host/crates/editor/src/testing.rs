//! A local OpenAI-compatible chat-completions server with scripted faults (feature
//! `testing`), for this crate's tests and the end-to-end `vapr generate --editor openai`
//! tests.
//!
//! ```no_run
//! use vapr_editor::testing::{Fault, FakeOpenAi};
//!
//! // Answers every prompt with its user message upper-cased, except: the first request
//! // gets a 429 with `Retry-After: 1`, the third a 500.
//! let server = FakeOpenAi::builder(|req| req.user.to_uppercase())
//!     .fault_at(0, Fault::RateLimited { retry_after_secs: 1 })
//!     .fault_at(2, Fault::ServerError)
//!     .start();
//! let endpoint = server.base_url(); // "http://127.0.0.1:PORT/v1"
//! # let _ = endpoint;
//! assert_eq!(server.request_count(), 0);
//! ```
//!
//! The server runs on its own thread and tokio runtime (so it works from sync and async
//! tests alike), listens on `127.0.0.1` at a free port, and stops when dropped. Requests
//! are numbered from 0 in arrival order. A fault is chosen per request: first a fault
//! scheduled for its number ([`FakeOpenAi::fault_at`]), else the next fault queued for a
//! prompt containing some text ([`FakeOpenAi::faults_for_prompt`], deterministic even when
//! requests race), else the [`FakeOpenAi::always`] fault, else a normal reply.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// Builds the reply text for a prompt.
pub type Responder = Arc<dyn Fn(&ChatRequest) -> String + Send + Sync>;

/// What the server makes of one chat-completions request.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// Arrival number, from 0.
    pub index: usize,
    /// The `model` field.
    pub model: String,
    /// The system message (empty when none was sent).
    pub system: String,
    /// The last user message.
    pub user: String,
    /// The whole request body.
    pub body: Value,
}

/// A scripted misbehaviour for one request.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Fault {
    /// HTTP 429 with `Retry-After: <secs>`.
    RateLimited {
        /// The `Retry-After` value, seconds.
        retry_after_secs: u64,
    },
    /// HTTP 429 with `Retry-After` as an HTTP date this many seconds ahead (HTTP dates
    /// have one-second resolution, so the client may wait up to a second less).
    RateLimitedUntil {
        /// Seconds from now.
        after_secs: u64,
    },
    /// HTTP 500 with an OpenAI-style error body.
    ServerError,
    /// HTTP 503, with `Retry-After` when given.
    Unavailable {
        /// The `Retry-After` value, seconds.
        retry_after_secs: Option<u64>,
    },
    /// Any status with this body.
    Status {
        /// The HTTP status.
        status: u16,
        /// The body.
        body: String,
    },
    /// Wait this long, then reply normally (longer than the client timeout: a timeout).
    Slow(Duration),
    /// HTTP 200 with a truncated JSON body.
    MalformedJson,
    /// HTTP 200 with valid JSON whose `choices` is empty.
    NoChoices,
    /// A normal reply whose text is the input answer (see [`FakeOpenAiBuilder::echo_with`]),
    /// i.e. an edit that changed nothing.
    Echo,
    /// Close the connection without answering.
    Disconnect,
    /// A normal reply with this text.
    Reply(String),
}

/// One request as the server received it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedRequest {
    /// Arrival number, from 0.
    pub index: usize,
    /// The raw body.
    pub body: String,
    /// The `Authorization` header, if sent.
    pub authorization: Option<String>,
    /// The fault applied, if any.
    pub fault: Option<Fault>,
}

/// The fault schedule.
#[derive(Debug, Default)]
struct Plan {
    by_index: BTreeMap<usize, Fault>,
    by_prompt: Vec<(String, VecDeque<Fault>)>,
    always: Option<Fault>,
}

impl Plan {
    fn take(&mut self, index: usize, user: &str) -> Option<Fault> {
        if let Some(fault) = self.by_index.remove(&index) {
            return Some(fault);
        }
        for (needle, queue) in &mut self.by_prompt {
            if user.contains(needle.as_str())
                && let Some(fault) = queue.pop_front()
            {
                return Some(fault);
            }
        }
        self.always.clone()
    }
}

struct State {
    responder: Responder,
    echo: Responder,
    latency: Duration,
    model_name: Option<String>,
    plan: Mutex<Plan>,
    count: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    log: Mutex<Vec<ReceivedRequest>>,
}

/// Configures a [`FakeOpenAi`] before it starts.
pub struct FakeOpenAiBuilder {
    responder: Responder,
    echo: Responder,
    latency: Duration,
    model_name: Option<String>,
    plan: Plan,
}

impl FakeOpenAiBuilder {
    /// Delays every answer by `latency` (so concurrent requests overlap).
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Names this model in replies (default: the model the request asked for).
    pub fn model_name(mut self, name: impl Into<String>) -> Self {
        self.model_name = Some(name.into());
        self
    }

    /// How [`Fault::Echo`] finds the input answer in a prompt (default: the whole user
    /// message). The pipeline's test extracts the correct answer from its template here.
    pub fn echo_with(
        mut self,
        echo: impl Fn(&ChatRequest) -> String + Send + Sync + 'static,
    ) -> Self {
        self.echo = Arc::new(echo);
        self
    }

    /// Request number `index` (from 0, arrival order) gets `fault`.
    pub fn fault_at(mut self, index: usize, fault: Fault) -> Self {
        self.plan.by_index.insert(index, fault);
        self
    }

    /// The n-th request whose user message contains `needle` gets `faults[n]`.
    pub fn faults_for_prompt(mut self, needle: impl Into<String>, faults: Vec<Fault>) -> Self {
        self.plan.by_prompt.push((needle.into(), faults.into()));
        self
    }

    /// Every request without a scheduled fault gets `fault`.
    pub fn always(mut self, fault: Fault) -> Self {
        self.plan.always = Some(fault);
        self
    }

    /// Binds `127.0.0.1:0` and starts serving in the background.
    pub fn start(self) -> FakeOpenAi {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("FakeOpenAi: cannot bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("FakeOpenAi: cannot make the listener non-blocking");
        let addr = listener.local_addr().expect("FakeOpenAi: no local address");
        let state = Arc::new(State {
            responder: self.responder,
            echo: self.echo,
            latency: self.latency,
            model_name: self.model_name,
            plan: Mutex::new(self.plan),
            count: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            log: Mutex::new(Vec::new()),
        });
        let (shutdown, shutdown_rx) = oneshot::channel();
        let serving = state.clone();
        let thread = std::thread::Builder::new()
            .name("fake-openai".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("FakeOpenAi: cannot start a tokio runtime");
                // Dropping the runtime at the end cancels open connections.
                runtime.block_on(serve(listener, serving, shutdown_rx));
            })
            .expect("FakeOpenAi: cannot spawn its thread");
        FakeOpenAi {
            base_url: format!("http://{addr}/v1"),
            state,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }
}

/// A running fake OpenAI-compatible server; stops when dropped.
pub struct FakeOpenAi {
    base_url: String,
    state: Arc<State>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for FakeOpenAi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeOpenAi")
            .field("base_url", &self.base_url)
            .field("requests", &self.request_count())
            .finish()
    }
}

impl FakeOpenAi {
    /// A server answering every prompt with `responder`, no faults, started.
    pub fn start(responder: impl Fn(&ChatRequest) -> String + Send + Sync + 'static) -> Self {
        Self::builder(responder).start()
    }

    /// A builder for a server answering with `responder`.
    pub fn builder(
        responder: impl Fn(&ChatRequest) -> String + Send + Sync + 'static,
    ) -> FakeOpenAiBuilder {
        FakeOpenAiBuilder {
            responder: Arc::new(responder),
            echo: Arc::new(|req: &ChatRequest| req.user.clone()),
            latency: Duration::ZERO,
            model_name: None,
            plan: Plan::default(),
        }
    }

    /// The base URL to configure clients with: `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Schedules `fault` for request number `index` (from 0), also after start.
    pub fn fault_at(&self, index: usize, fault: Fault) {
        self.plan().by_index.insert(index, fault);
    }

    /// Queues `faults` for the next requests whose user message contains `needle`.
    pub fn faults_for_prompt(&self, needle: impl Into<String>, faults: Vec<Fault>) {
        self.plan().by_prompt.push((needle.into(), faults.into()));
    }

    /// Sets (or with `None` clears) the fault for requests without a scheduled one.
    pub fn always(&self, fault: Option<Fault>) {
        self.plan().always = fault;
    }

    /// Chat-completions requests received so far.
    pub fn request_count(&self) -> usize {
        self.state.count.load(Ordering::SeqCst)
    }

    /// The most chat-completions requests that were being handled at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    /// Every chat-completions request received, in arrival order.
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        let mut log = self
            .state
            .log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        log.sort_by_key(|r| r.index);
        log
    }

    fn plan(&self) -> std::sync::MutexGuard<'_, Plan> {
        self.state.plan.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for FakeOpenAi {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    listener: std::net::TcpListener,
    state: Arc<State>,
    mut shutdown: oneshot::Receiver<()>,
) {
    let listener =
        tokio::net::TcpListener::from_std(listener).expect("FakeOpenAi: cannot adopt listener");
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let state = state.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(state.clone(), req));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        }
    }
}

/// Counts a request as in flight until dropped.
struct InFlight<'a>(&'a State);

impl<'a> InFlight<'a> {
    fn enter(state: &'a State) -> Self {
        let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        state.max_in_flight.fetch_max(now, Ordering::SeqCst);
        Self(state)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

type HttpResponse = Response<Full<Bytes>>;

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<HttpResponse, std::io::Error> {
    let path = req.uri().path().to_owned();
    if req.method() == Method::GET && path.ends_with("/models") {
        let model = state.model_name.clone().unwrap_or_else(|| "fake".into());
        let list = json!({"object": "list", "data": [{"id": model, "object": "model"}]});
        return Ok(json_response(StatusCode::OK, &list.to_string(), &[]));
    }
    if req.method() != Method::POST || !path.ends_with("/chat/completions") {
        return Ok(error_response(
            StatusCode::NOT_FOUND,
            &format!("no route for {path}"),
        ));
    }
    let authorization = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = req
        .into_body()
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    let index = state.count.fetch_add(1, Ordering::SeqCst);
    let _in_flight = InFlight::enter(&state);
    let body = String::from_utf8_lossy(&bytes).into_owned();
    let request = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|value| ChatRequest::from_body(index, value));
    let fault = request.as_ref().and_then(|r| {
        state
            .plan
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take(index, &r.user)
    });
    state
        .log
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(ReceivedRequest {
            index,
            body,
            authorization,
            fault: fault.clone(),
        });
    let Some(request) = request else {
        return Ok(error_response(
            StatusCode::BAD_REQUEST,
            "the body is not a chat-completions request",
        ));
    };
    if !state.latency.is_zero() {
        tokio::time::sleep(state.latency).await;
    }
    let reply =
        |text: String| json_response(StatusCode::OK, &completion(&state, &request, &text), &[]);
    Ok(match fault {
        None => reply((state.responder)(&request)),
        Some(Fault::Reply(text)) => reply(text),
        Some(Fault::Echo) => reply((state.echo)(&request)),
        Some(Fault::Slow(delay)) => {
            tokio::time::sleep(delay).await;
            reply((state.responder)(&request))
        }
        Some(Fault::RateLimited { retry_after_secs }) => json_response(
            StatusCode::TOO_MANY_REQUESTS,
            &error_body("Rate limit reached", "rate_limit_exceeded"),
            &[("retry-after", retry_after_secs.to_string())],
        ),
        Some(Fault::RateLimitedUntil { after_secs }) => json_response(
            StatusCode::TOO_MANY_REQUESTS,
            &error_body("Rate limit reached", "rate_limit_exceeded"),
            &[(
                "retry-after",
                httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(after_secs)),
            )],
        ),
        Some(Fault::ServerError) => {
            error_response(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
        Some(Fault::Unavailable { retry_after_secs }) => {
            let headers: Vec<(&str, String)> = retry_after_secs
                .map(|s| ("retry-after", s.to_string()))
                .into_iter()
                .collect();
            json_response(
                StatusCode::SERVICE_UNAVAILABLE,
                &error_body("The server is overloaded", "server_error"),
                &headers,
            )
        }
        Some(Fault::Status { status, body }) => json_response(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            &body,
            &[],
        ),
        Some(Fault::MalformedJson) => {
            let full = completion(&state, &request, &(state.responder)(&request));
            let mut cut = full.len() / 2;
            while !full.is_char_boundary(cut) {
                cut -= 1;
            }
            json_response(StatusCode::OK, &full[..cut], &[])
        }
        Some(Fault::NoChoices) => json_response(
            StatusCode::OK,
            &json!({"id": format!("chatcmpl-fake-{index}"), "object": "chat.completion",
                    "model": request.model, "choices": []})
            .to_string(),
            &[],
        ),
        Some(Fault::Disconnect) => {
            // Failing the service makes hyper drop the connection without a response.
            return Err(std::io::Error::other("scripted disconnect"));
        }
    })
}

impl ChatRequest {
    fn from_body(index: usize, body: Value) -> Option<Self> {
        let model = body.get("model")?.as_str()?.to_owned();
        let messages = body.get("messages")?.as_array()?;
        let text_of = |role: &str| {
            messages
                .iter()
                .rev()
                .find(|m| m.get("role").and_then(Value::as_str) == Some(role))
                .map(|m| content_text(m.get("content").unwrap_or(&Value::Null)))
        };
        let user = text_of("user")?;
        let system = text_of("system").unwrap_or_default();
        Some(Self {
            index,
            model,
            system,
            user,
            body,
        })
    }
}

/// Message content as text: a string, or the text parts of a content array.
fn content_text(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

fn completion(state: &State, request: &ChatRequest, text: &str) -> String {
    let prompt_tokens = word_count(&request.system) + word_count(&request.user);
    let completion_tokens = word_count(text);
    json!({
        "id": format!("chatcmpl-fake-{}", request.index),
        "object": "chat.completion",
        "created": 0,
        "model": state.model_name.clone().unwrap_or_else(|| request.model.clone()),
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "finish_reason": "stop"
        }],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens
        }
    })
    .to_string()
}

fn error_body(message: &str, code: &str) -> String {
    json!({"error": {"message": message, "type": code, "code": code}}).to_string()
}

fn error_response(status: StatusCode, message: &str) -> HttpResponse {
    json_response(status, &error_body(message, "fake_error"), &[])
}

fn json_response(status: StatusCode, body: &str, headers: &[(&str, String)]) -> HttpResponse {
    let mut builder = Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, "application/json");
    for (name, value) in headers {
        builder = builder.header(*name, value.as_str());
    }
    builder
        .body(Full::new(Bytes::from(body.to_owned())))
        .expect("static response parts are valid")
}
