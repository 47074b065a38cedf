//! The runner's side of exec sessions, with stand-in ports: refusals before anything opens,
//! the access review it asks for, the audit's opened and closed lines (never what was typed),
//! the shell fallback and a session cut off.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use super::{ClusterAccess, Mode, Runner};
use crate::action::exec::{ExecChannels, ExecEnd, ExecInput, ExecOutput, ExecSession, ExecSpec};
use crate::action::{
    Action, ActionError, ApiCall, AuditLog, AuditRecord, HubConfig, KubeExecutor, Pending, PodExec,
};
use crate::fleet::{ClusterId, Component, HubId, WorkloadKind};

/// Answers access reviews as told and records them; every other call fails.
struct Kube {
    denied: bool,
    reviews: Mutex<Vec<String>>,
}

fn nothing<'a, T: Send + 'a>() -> Pending<'a, T> {
    Box::pin(async { Err(ActionError::Failed("not in this test".into())) })
}

impl KubeExecutor for Kube {
    fn access_review<'a>(
        &'a self,
        _cluster: &'a ClusterId,
        call: &'a ApiCall,
    ) -> Pending<'a, Option<String>> {
        self.reviews.lock().unwrap().push(call.describe());
        let denied = self.denied;
        Box::pin(
            async move { Ok(denied.then(|| format!("missing permission: {}", call.describe()))) },
        )
    }
    fn precondition<'a>(&'a self, _action: &'a Action) -> Pending<'a, ()> {
        Box::pin(async { Ok(()) })
    }
    fn restart<'a>(&'a self, _: &'a ClusterId, _: &'a str, _: &'a str) -> Pending<'a, String> {
        nothing()
    }
    fn scale<'a>(
        &'a self,
        _: &'a ClusterId,
        _: WorkloadKind,
        _: &'a str,
        _: &'a str,
        _: u32,
    ) -> Pending<'a, String> {
        nothing()
    }
    fn delete_pod<'a>(&'a self, _: &'a ClusterId, _: &'a str, _: &'a str) -> Pending<'a, String> {
        nothing()
    }
    fn write_values<'a>(
        &'a self,
        _: &'a ClusterId,
        _: &'a str,
        _: &'a str,
        _: &'a str,
        _: &'a str,
    ) -> Pending<'a, String> {
        nothing()
    }
    fn read_values<'a>(&'a self, _: &'a HubId) -> Pending<'a, HubConfig> {
        nothing()
    }
    fn stop_dask_cluster<'a>(
        &'a self,
        _: &'a ClusterId,
        _: &'a str,
        _: &'a str,
    ) -> Pending<'a, String> {
        nothing()
    }
}

/// How a stand-in container answers a command.
#[derive(Clone, Copy)]
enum Answer {
    /// The runtime cannot start it.
    Missing,
    /// Echoes stdin back; `exit N` typed ends it with N.
    Echo,
    /// Cut off after the first input.
    CutOff,
}

/// Opens sessions as `answer` says per command, recording each command opened.
struct Exec {
    answer: fn(&str) -> Answer,
    opened: Mutex<Vec<String>>,
}

impl PodExec for Exec {
    type Session = ExecChannels;

    fn open<'a>(&'a self, spec: &'a ExecSpec) -> Pending<'a, (String, ExecChannels)> {
        self.opened.lock().unwrap().push(spec.command.join(" "));
        let answer = (self.answer)(&spec.command[0]);
        Box::pin(async move {
            let (input, mut rx) = mpsc::channel(8);
            let (tx, output) = mpsc::channel(8);
            tokio::spawn(async move {
                if let Answer::Missing = answer {
                    let why = "exec: \"bash\": executable file not found in $PATH".to_string();
                    let _ = tx.send(ExecOutput::End(ExecEnd::NotStarted(why))).await;
                    return;
                }
                while let Some(i) = rx.recv().await {
                    let ExecInput::Stdin(b) = i else { continue };
                    if let Answer::CutOff = answer {
                        let _ = tx
                            .send(ExecOutput::End(ExecEnd::Lost("reset".into())))
                            .await;
                        return;
                    }
                    let text = String::from_utf8_lossy(&b).to_string();
                    let _ = tx.send(ExecOutput::Stdout(b)).await;
                    if let Some(code) = text.trim().strip_prefix("exit ") {
                        let code = code.parse().unwrap_or(2);
                        let _ = tx.send(ExecOutput::End(ExecEnd::Exited(code))).await;
                        return;
                    }
                }
            });
            Ok(("notebook".to_string(), ExecChannels { input, output }))
        })
    }
}

struct Setup {
    runner: Runner,
    kube: Arc<Kube>,
    exec: Arc<Exec>,
    audit: AuditLog,
    _dir: tempfile::TempDir,
}

fn setup(readonly: bool, denied: bool, answer: fn(&str) -> Answer) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::new(dir.path().join("audit.jsonl"));
    let kube = Arc::new(Kube {
        denied,
        reviews: Mutex::default(),
    });
    let exec = Arc::new(Exec {
        answer,
        opened: Mutex::default(),
    });
    let access = HashMap::from([(
        ClusterId::new("leap"),
        ClusterAccess {
            context: "leap".into(),
            identity: "admin".into(),
            readonly: false,
        },
    )]);
    let runner = Runner::new(access, kube.clone(), readonly, audit.clone()).with_exec(exec.clone());
    Setup {
        runner,
        kube,
        exec,
        audit,
        _dir: dir,
    }
}

fn shell() -> Action {
    let hub = crate::fleet::fixtures::hub_id("leap", "prod");
    Action::Exec {
        server: Some(crate::fleet::ServerId {
            hub: hub.clone(),
            user: "ada".into(),
            server: "".into(),
        }),
        hub,
        component: Component::SingleuserServer,
        namespace: "prod".into(),
        pod: "jupyter-ada".into(),
        container: None,
        command: Vec::new(),
    }
}

/// Everything the session printed, and how it ended.
async fn carry(session: &mut ExecSession, typed: &[&str]) -> (String, ExecEnd) {
    for t in typed {
        session
            .input
            .send(ExecInput::Stdin(t.as_bytes().to_vec()))
            .await
            .unwrap();
    }
    let mut out = String::new();
    loop {
        let next = tokio::time::timeout(Duration::from_secs(10), session.output.recv())
            .await
            .expect("the session answers");
        match next {
            Some(ExecOutput::Stdout(b) | ExecOutput::Stderr(b)) => {
                out.push_str(&String::from_utf8_lossy(&b));
            }
            Some(ExecOutput::End(end)) => return (out, end),
            None => panic!("the session ended without an End"),
        }
    }
}

fn records(audit: &AuditLog) -> Vec<AuditRecord> {
    audit.read().unwrap()
}

#[tokio::test]
async fn read_only_refuses_before_any_review_or_session() {
    let s = setup(true, false, |_| Answer::Echo);
    let Err(outcome) = s.runner.open_exec(&shell(), Mode::Run, true).await else {
        panic!("read-only opened a session")
    };
    assert!(
        matches!(&outcome.result, Err(ActionError::Refused(m)) if m.contains("read-only")),
        "{:?}",
        outcome.result
    );
    assert!(s.kube.reviews.lock().unwrap().is_empty());
    assert!(s.exec.opened.lock().unwrap().is_empty());
    let outcomes: Vec<String> = records(&s.audit).into_iter().map(|r| r.outcome).collect();
    assert_eq!(outcomes, ["pending", "refused"]);
}

#[tokio::test]
async fn a_denied_access_review_names_the_missing_permission_and_opens_nothing() {
    let s = setup(false, true, |_| Answer::Echo);
    let Err(outcome) = s.runner.open_exec(&shell(), Mode::Run, true).await else {
        panic!("opened without the permission")
    };
    assert_eq!(
        outcome.result.unwrap_err().to_string(),
        "refused: missing permission: create pods/exec prod/jupyter-ada"
    );
    assert_eq!(
        *s.kube.reviews.lock().unwrap(),
        ["create pods/exec prod/jupyter-ada"]
    );
    assert!(s.exec.opened.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_dry_run_checks_and_opens_nothing() {
    let s = setup(false, false, |_| Answer::Echo);
    let Err(outcome) = s.runner.open_exec(&shell(), Mode::DryRun, false).await else {
        panic!("a dry run opened a session")
    };
    assert!(outcome.result.is_ok());
    assert_eq!(
        *s.kube.reviews.lock().unwrap(),
        [
            "create pods/exec prod/jupyter-ada",
            "get pods/exec prod/jupyter-ada"
        ],
        "a WebSocket upgrade is authorized as get, and since 1.35 as create too"
    );
    assert!(s.exec.opened.lock().unwrap().is_empty());
}

#[tokio::test]
async fn opening_and_closing_are_audited_and_what_is_typed_is_not() {
    let s = setup(false, false, |_| Answer::Echo);
    let mut session = s.runner.open_exec(&shell(), Mode::Run, true).await.unwrap();
    assert_eq!(session.summary, "shell in server leap/prod/ada");
    assert_eq!(session.container, "notebook");
    let (out, end) = carry(&mut session, &["cat ~/.secret-keystrokes\r", "exit 3"]).await;
    assert!(out.contains("secret-keystrokes"), "{out}");
    assert_eq!(end, ExecEnd::Exited(3));
    assert!(s.runner.wait_idle(Duration::from_secs(5)).await);
    let r = records(&s.audit);
    let lines: Vec<(&str, &str)> = r
        .iter()
        .map(|r| (r.outcome.as_str(), r.detail.as_str()))
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0].0, "pending");
    assert_eq!(
        lines[1],
        ("opened", "exec opened: bash in container notebook")
    );
    assert_eq!(lines[2].0, "closed");
    assert!(
        lines[2].1.starts_with("exec closed: exit status 3 after "),
        "{lines:?}"
    );
    assert!(
        r.iter()
            .all(|x| x.id == r[0].id && x.target == "leap/prod/ada")
    );
    let file = std::fs::read_to_string(s.audit.path()).unwrap();
    assert!(!file.contains("secret-keystrokes"), "{file}");
}

#[tokio::test]
async fn a_container_without_bash_gets_sh_with_what_was_typed_meanwhile() {
    let s = setup(false, false, |c| {
        if c == "bash" {
            Answer::Missing
        } else {
            Answer::Echo
        }
    });
    let mut session = s.runner.open_exec(&shell(), Mode::Run, true).await.unwrap();
    let (out, end) = carry(&mut session, &["echo early\r", "exit 0"]).await;
    assert_eq!(
        out, "echo early\rexit 0",
        "sh got what was typed before bash failed"
    );
    assert_eq!(end, ExecEnd::Exited(0));
    assert_eq!(*s.exec.opened.lock().unwrap(), ["bash", "sh"]);
    assert!(s.runner.wait_idle(Duration::from_secs(5)).await);
    let closed = records(&s.audit).pop().unwrap();
    assert_eq!(closed.outcome, "closed");
    assert!(
        closed
            .detail
            .contains("bash could not start (exec: \"bash\": executable file not found"),
        "{}",
        closed.detail
    );
}

#[tokio::test]
async fn a_session_cut_off_ends_lost_and_is_audited_as_failed() {
    let s = setup(false, false, |_| Answer::CutOff);
    let mut session = s.runner.open_exec(&shell(), Mode::Run, true).await.unwrap();
    let (_, end) = carry(&mut session, &["ls\r"]).await;
    assert_eq!(end, ExecEnd::Lost("reset".into()));
    assert!(s.runner.wait_idle(Duration::from_secs(5)).await);
    let closed = records(&s.audit).pop().unwrap();
    assert_eq!(closed.outcome, "failed");
    assert!(
        closed
            .detail
            .starts_with("exec closed: connection lost: reset after"),
        "{}",
        closed.detail
    );
}
