//! The server in this process on a free port of 127.0.0.1, with the shipped G2P model: good
//! requests answer what the library predicts, every bad request gets its status and message,
//! the queue and the deadline are bounded, and shutdown finishes requests in flight.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use inference::DecodingOptions;
use runtime::Loaded;
use serde_json::{Value, json};
use server::{ServedModel, ServerOptions};
use tokio::sync::oneshot;

/// The shipped G2P model, loaded once per test.
fn g2p() -> Arc<Loaded> {
    let run = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/g2p-cmudict");
    Arc::new(Loaded::load(&run, None).unwrap())
}

/// A server running on its own thread; dropping it shuts it down and waits for it.
struct Running {
    address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl Running {
    fn start(model: Arc<Loaded>, options: ServerOptions) -> Self {
        let (stop, stopped) = oneshot::channel::<()>();
        let (address_tx, address_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                address_tx.send(listener.local_addr().unwrap()).unwrap();
                let models = vec![ServedModel {
                    name: "g2p".into(),
                    loaded: model,
                }];
                server::serve(listener, models, options, async {
                    let _ = stopped.await;
                })
                .await
            })
        });
        Self {
            address: address_rx.recv().unwrap(),
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Stops taking connections and waits until the requests in flight are answered.
    fn shut_down(&mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.thread.take().map_or(Ok(()), |t| t.join().unwrap())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.shut_down();
    }
}

/// An answer: status, headers (lower-cased names) and body.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn error(&self) -> String {
        self.json()["error"].as_str().unwrap().to_string()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request over a fresh connection (bounded in time), read to the end.
fn request(address: SocketAddr, method: &str, path: &str, body: &[u8]) -> Answer {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    // A body over the limit may be refused before it is all read: the answer still comes.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap_or_default()
        .split(' ')
        .nth(1)
        .unwrap_or("0");
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
        .collect();
    Answer {
        status: status.parse().unwrap(),
        headers,
        body: body.to_string(),
    }
}

fn predict(address: SocketAddr, body: &Value) -> Answer {
    request(
        address,
        "POST",
        "/v1/models/g2p/predict",
        body.to_string().as_bytes(),
    )
}

#[test]
fn good_requests_answer_what_the_library_predicts() {
    let model = g2p();
    let server = Running::start(model.clone(), ServerOptions::default());
    let health = request(server.address, "GET", "/health", b"");
    assert_eq!(
        (health.status, health.json()),
        (200, json!({"status": "ok", "models": 1}))
    );
    let models = request(server.address, "GET", "/v1/models", b"").json();
    assert_eq!(models["models"][0]["name"], "g2p");
    assert_eq!(models["models"][0]["task"], "g2p");
    assert_eq!(models["models"][0]["input_limit"], 88);

    let words = ["attention", "hello", "zebra"].map(String::from);
    let greedy = DecodingOptions {
        beam: 1,
        ..model.config.decoding.clone()
    };
    let expected: Vec<String> = model
        .predict(&words, &greedy)
        .unwrap()
        .into_iter()
        .map(|p| p.output)
        .collect();
    let answer = predict(server.address, &json!({"inputs": words, "beam": 1}));
    assert_eq!(answer.status, 200, "{}", answer.body);
    let outputs: Vec<String> = answer.json()["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["output"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(outputs, expected);

    let answer = predict(
        server.address,
        &json!({"inputs": ["attention"], "nbest": 3, "attention": true}),
    );
    let prediction = &answer.json()["predictions"][0];
    assert_eq!(prediction["n_best"].as_array().unwrap().len(), 3);
    assert_eq!(prediction["n_best"][0]["output"], prediction["output"]);
    let weights = prediction["attention"]["weights"].as_array().unwrap();
    assert_eq!(
        weights.len(),
        prediction["attention"]["outputs"].as_array().unwrap().len()
    );
    for row in weights {
        let row: Vec<f64> = row
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_f64().unwrap())
            .collect();
        assert_eq!(row.len(), 9);
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-4);
    }
}

#[test]
fn clients_sending_one_word_each_are_answered_from_shared_batches() {
    let model = g2p();
    let options = ServerOptions {
        batch_wait: Duration::from_millis(20),
        ..ServerOptions::default()
    };
    let server = Running::start(model.clone(), options);
    let words: Vec<String> = [
        "cat",
        "dog",
        "bird",
        "attention",
        "zebra",
        "phoneme",
        "hello",
        "world",
    ]
    .iter()
    .map(|w| (*w).to_string())
    .collect();
    let expected: Vec<String> = model
        .predict(&words, &model.config.decoding)
        .unwrap()
        .into_iter()
        .map(|p| p.output)
        .collect();
    let address = server.address;
    let clients: Vec<_> = (0..32)
        .map(|k| {
            let word = words[k % words.len()].clone();
            std::thread::spawn(move || predict(address, &json!({"inputs": [word]})))
        })
        .collect();
    for (k, client) in clients.into_iter().enumerate() {
        let answer = client.join().unwrap();
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(
            answer.json()["predictions"][0]["output"],
            expected[k % words.len()]
        );
    }
}

#[test]
fn every_bad_request_gets_its_status_and_a_message_naming_the_fault() {
    let options = ServerOptions {
        max_body_bytes: 4096,
        max_inputs: 3,
        ..ServerOptions::default()
    };
    let server = Running::start(g2p(), options);
    let address = server.address;
    let cases: Vec<(Answer, u16, &str)> = vec![
        (
            request(
                address,
                "POST",
                "/v1/models/g2p/predict",
                &vec![b' '; 10_000],
            ),
            413,
            "length limit",
        ),
        (
            request(
                address,
                "POST",
                "/v1/models/g2p/predict",
                b"{\"inputs\": [\"a\"",
            ),
            400,
            "EOF while parsing a list at line 1 column 15",
        ),
        (
            predict(address, &json!({"inputs": ["a"], "bogus": 1})),
            400,
            "unknown field `bogus`",
        ),
        (
            predict(address, &json!({"inputs": [1]})),
            400,
            "invalid type: integer `1`, expected a string",
        ),
        (
            predict(address, &json!({"inputs": []})),
            400,
            "inputs is empty",
        ),
        (
            predict(address, &json!({"inputs": ["a", "b", "c", "d"]})),
            400,
            "4 inputs, more than the 3 one request may carry",
        ),
        (
            predict(address, &json!({"inputs": ["ok", "a".repeat(200)]})),
            400,
            "inputs[1]: the input (\"aaaaaaaaaaaaaaaaaaaaaaaa\"… of 200 characters) has 200 tokens, more than the input limit of 88 tokens",
        ),
        (
            predict(address, &json!({"inputs": ["ok", "  "]})),
            400,
            "inputs[1]: \"  \" is empty",
        ),
        (
            predict(address, &json!({"inputs": ["a"], "beam": 0})),
            400,
            "beam = 0 is invalid",
        ),
        (
            predict(address, &json!({"inputs": ["a"], "beam": 2, "nbest": 3})),
            400,
            "nbest = 3 is invalid: must be between 1 and the beam width (2)",
        ),
        (
            request(address, "POST", "/v1/models/nope/predict", b"{}"),
            404,
            "no model named \"nope\"; the server has: g2p",
        ),
        (
            request(address, "GET", "/v2/anything", b""),
            404,
            "no such endpoint",
        ),
    ];
    for (answer, status, needle) in cases {
        assert_eq!(answer.status, status, "{needle}: {}", answer.body);
        let message = if status == 413 {
            answer.body.clone()
        } else {
            answer.error()
        };
        assert!(message.contains(needle), "{needle:?} not in {message:?}");
    }
    // After all of that the server still answers.
    assert_eq!(predict(address, &json!({"inputs": ["cat"]})).status, 200);
}

#[test]
fn a_full_queue_is_503_with_retry_after_and_a_late_request_is_503_undecoded() {
    let options = ServerOptions {
        queue_capacity: 1,
        max_batch_inputs: 1,
        batch_wait: Duration::ZERO,
        deadline: Duration::from_millis(600),
        ..ServerOptions::default()
    };
    let server = Running::start(g2p(), options);
    let address = server.address;
    // A slow request occupies the decoding thread well past the deadline...
    let long: Vec<String> = (0..1000)
        .map(|k| format!("antidisestablishment{k}"))
        .collect();
    let slow = std::thread::spawn(move || predict(address, &json!({"inputs": long, "beam": 5})));
    std::thread::sleep(Duration::from_millis(200));
    // ... so of two more, one waits in the one-place queue and the other finds it full.
    let queued = std::thread::spawn(move || predict(address, &json!({"inputs": ["cat"]})));
    std::thread::sleep(Duration::from_millis(150));
    let refused = predict(address, &json!({"inputs": ["dog"]}));
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert!(refused.error().contains("the model's queue is full"));
    let slow = slow.join().unwrap();
    assert_eq!(slow.status, 503, "{}", slow.body);
    assert!(
        slow.error()
            .contains("no answer within the deadline of 600 ms")
    );
    // Its deadline passed while it waited: answered 503 (and, still queued then, never decoded).
    let queued = queued.join().unwrap();
    assert_eq!(queued.status, 503, "{}", queued.body);
    assert!(queued.error().contains("deadline"), "{}", queued.body);
    // Once the slow batch is done, a client that retries as told is answered.
    let mut answer = predict(address, &json!({"inputs": ["cat"]}));
    for _ in 0..240 {
        if answer.status != 503 {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
        answer = predict(address, &json!({"inputs": ["cat"]}));
    }
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[test]
fn shutdown_finishes_the_requests_in_flight() {
    let options = ServerOptions {
        batch_wait: Duration::from_millis(500),
        ..ServerOptions::default()
    };
    let mut server = Running::start(g2p(), options);
    let address = server.address;
    let in_flight = std::thread::spawn(move || predict(address, &json!({"inputs": ["attention"]})));
    std::thread::sleep(Duration::from_millis(150));
    server.shut_down().unwrap();
    let answer = in_flight.join().unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.json()["predictions"][0]["output"],
        "AH T EH N SH AH N"
    );
    assert!(TcpStream::connect_timeout(&address, Duration::from_millis(500)).is_err());
}
