//! `cargo lambda watch` (the Lambda runtime emulator) running every function of the workspace
//! as deployed, with its environment wired; invoked through its Lambda Invoke API or with
//! `cargo lambda invoke`.

use crate::functions::*;
use serde_json::Value;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The workspace's root.
pub const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// The project's `cargo-lambda`, installed by `make test`.
pub fn cargo_lambda() -> PathBuf {
    let path = PathBuf::from(ROOT).join(".venv/bin/cargo-lambda");
    assert!(
        path.exists(),
        "{} is missing: run the tests with `make test`, which installs cargo-lambda",
        path.display()
    );
    path
}

/// `cargo lambda watch`, stopped with its whole process group when dropped.
pub struct Watch {
    child: Child,
    /// The port of its Lambda and function URLs.
    pub port: u16,
    log: PathBuf,
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-s", "TERM", "--", &format!("-{}", self.child.id())])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Watch {
    /// Starts it with `vars`; waits until it listens.
    pub fn start(vars: &[(String, String)]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = PathBuf::from(ROOT).join(format!("target/cargo-lambda-watch-{port}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(cargo_lambda());
        cmd.args([
            "lambda",
            "watch",
            "--ignore-changes",
            "--invoke-address",
            "127.0.0.1",
            "--invoke-port",
            &port.to_string(),
        ]);
        for (k, v) in vars {
            // cargo lambda refuses an empty --env-var; the functions inherit its environment.
            match v.is_empty() {
                true => cmd.env(k, v),
                false => cmd.arg("--env-var").arg(format!("{k}={v}")),
            };
        }
        // cargo test sets these for the test process; inherited, they reach watch's cargo and
        // its build scripts (CARGO_MANIFEST_DIR is tracked), which then rebuild shared
        // dependencies in place, and the next `make test` recompiles the whole workspace.
        for (k, _) in std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v))) {
            let set_by_cargo_test = k.starts_with("CARGO_PKG_")
                || k.starts_with("CARGO_BIN_EXE_")
                || [
                    "CARGO_MANIFEST_DIR",
                    "CARGO_MANIFEST_PATH",
                    "CARGO_CRATE_NAME",
                    "CARGO_BIN_NAME",
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                    "OUT_DIR",
                ]
                .contains(&k.as_str());
            if set_by_cargo_test {
                cmd.env_remove(k);
            }
        }
        let child = cmd
            .current_dir(ROOT)
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("cargo lambda watch starts");
        let watch = Self { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(120);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "cargo lambda watch did not listen: {}",
                watch.log_text()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        watch
    }

    /// Everything it printed so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The Lambda Invoke API of the emulator, as the SDK's `AWS_ENDPOINT_URL_LAMBDA` reaches
    /// it: Ok with the function's JSON result, Err with the function's error.
    pub async fn invoke_api(&self, function: &str, payload: &Value) -> Result<Value, String> {
        let url = format!(
            "http://127.0.0.1:{}/2015-03-31/functions/{function}/invocations",
            self.port
        );
        let resp = reqwest::Client::new()
            .post(url)
            .json(payload)
            .timeout(Duration::from_secs(120))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let failed =
            resp.headers().contains_key("x-amz-function-error") || !resp.status().is_success();
        let text = resp.text().await.unwrap_or_default();
        match failed {
            true => Err(text),
            false => serde_json::from_str(&text).map_err(|e| format!("not JSON ({e}): {text}")),
        }
    }

    /// `cargo lambda invoke`: Ok with the function's JSON result, Err with the error output.
    pub fn invoke(&self, function: &str, payload: &Value) -> Result<Value, String> {
        let out = Command::new(cargo_lambda())
            .args([
                "lambda",
                "invoke",
                function,
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
                &self.port.to_string(),
                "--output-format",
                "json",
                "--data-ascii",
            ])
            .arg(payload.to_string())
            .current_dir(ROOT)
            .output()
            .expect("cargo lambda invoke runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if out.status.success() {
            serde_json::from_str(&stdout).map_err(|e| format!("not JSON ({e}): {stdout} {stderr}"))
        } else {
            Err(format!("{stdout}\n{stderr}"))
        }
    }
}

/// The environment of every function under `cargo lambda watch`: the test platform, JSON logs,
/// `table` on DynamoDB Local, WeChat at `api_base`, tokens sealed under `key` (moto's KMS), and
/// `extra`.
pub fn watch_vars(
    table: &str,
    api_base: &str,
    key: &str,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = [
        ("WECHAT_COMPONENT_APPID", COMPONENT),
        ("WECHAT_COMPONENT_APPSECRET", APPSECRET),
        ("WECHAT_MSG_TOKEN", MSG_TOKEN),
        ("WECHAT_ENCODING_AES_KEY", AES_KEY),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        // The most verbose level the template's LogLevel allows: the logs scanned for secrets
        // below are what an operator who turned it up would see.
        ("AWS_LAMBDA_LOG_LEVEL", "TRACE"),
        ("TABLE_NAME", table),
        ("WECHAT_API_BASE", api_base),
        ("TOKEN_KMS_KEY_ID", key),
    ]
    .iter()
    .chain(extra)
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    for name in [
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_ENDPOINT_URL_KMS",
        "AWS_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ] {
        vars.push((
            name.into(),
            std::env::var(name).unwrap_or_else(|_| panic!("{name} is set by make test")),
        ));
    }
    vars
}

/// Waits until the function URL `url` answers (its first build and cold start).
pub async fn warm(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let answered = reqwest::Client::new()
            .post(url)
            .body("warm-up")
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .is_ok_and(|r| r.status().as_u16() != 404 && r.status().as_u16() < 500);
        if answered {
            return;
        }
        assert!(Instant::now() < deadline, "{url} never answered");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
