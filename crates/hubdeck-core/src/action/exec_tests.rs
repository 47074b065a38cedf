//! Exec requests bound to the model: the pod a server or a hub component runs in, the plan's
//! one `create pods/exec` call (what the runner reviews access for), and refusals that name why.

use super::*;
use crate::fleet::fixtures::{healthy_hub, hub_id, server, t0};
use crate::fleet::{Component, Delta, Fleet, FleetUpdate, HubRef, PodPhase, Thresholds};

fn leap() -> Fleet {
    let mut f = Fleet::new(Thresholds::default());
    f.apply_all(healthy_hub("leap", "prod", &["ada", "bob"]), t0());
    f
}

fn prod() -> HubRef {
    "leap/prod".parse().unwrap()
}

fn shell_of(user: &str) -> Request {
    Request::Exec {
        pod: PodSource::Server(ServerRef {
            hub: prod(),
            user: user.into(),
            server: String::new(),
        }),
        container: None,
        command: Vec::new(),
    }
}

#[test]
fn a_servers_shell_opens_in_its_pod_through_one_exec_call() {
    let a = resolve(&leap(), &shell_of("ada"), t0()).unwrap();
    let Action::Exec {
        namespace,
        pod,
        server,
        container,
        ..
    } = &a
    else {
        panic!("not an exec: {a:?}")
    };
    assert_eq!((namespace.as_str(), pod.as_str()), ("prod", "jupyter-ada"));
    assert_eq!(
        server.as_ref().map(|s| s.to_string()).as_deref(),
        Some("leap/prod/ada")
    );
    assert_eq!(*container, None);
    assert_eq!(a.name(), "exec");
    assert_eq!(a.target(), "leap/prod/ada");
    let plan = a.plan(false);
    assert_eq!(plan.summary, "shell in server leap/prod/ada");
    assert_eq!(plan.confirm, Confirm::Simple);
    let [step] = plan.steps.as_slice() else {
        panic!("one step: {plan:?}")
    };
    assert_eq!(
        step.what,
        "open a shell (bash, else sh) in pod prod/jupyter-ada, its default container"
    );
    let Via::Kubernetes { call } = &step.via else {
        panic!("a Kubernetes call")
    };
    assert_eq!(call.describe(), "create pods/exec prod/jupyter-ada");
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("never what is typed")),
        "{plan:?}"
    );
    assert_eq!(
        a.exec_commands(),
        vec![vec!["bash".to_string()], vec!["sh".to_string()]]
    );
}

#[test]
fn a_hub_component_shell_opens_in_its_running_pod() {
    let request = Request::Exec {
        pod: PodSource::Component(prod(), Component::Proxy),
        container: Some("chp".into()),
        command: vec!["ls".into(), "-l".into(), "/srv/my dir".into()],
    };
    let a = resolve(&leap(), &request, t0()).unwrap();
    assert!(
        matches!(&a, Action::Exec { pod, component: Component::Proxy, server: None, .. } if pod == "proxy-5c4b-fghij"),
        "{a:?}"
    );
    assert_eq!(a.target(), "leap/prod/proxy/proxy-5c4b-fghij");
    let plan = a.plan(false);
    assert_eq!(
        plan.summary,
        "run `ls -l '/srv/my dir'` in proxy pod of leap/prod"
    );
    assert!(plan.steps[0].what.ends_with("container chp"), "{plan:?}");
    assert_eq!(
        a.exec_commands(),
        vec![vec!["ls".to_string(), "-l".into(), "/srv/my dir".into()]],
        "a command given is run as given, never through another shell"
    );
}

#[test]
fn a_pod_named_outright_is_a_server_when_it_has_an_owner_else_its_component() {
    let named = |name: &str| Request::Exec {
        pod: PodSource::Pod(prod(), name.into()),
        container: None,
        command: Vec::new(),
    };
    let a = resolve(&leap(), &named("jupyter-bob"), t0()).unwrap();
    assert_eq!(a.plan(false).summary, "shell in server leap/prod/bob");
    let a = resolve(&leap(), &named("proxy-5c4b-fghij"), t0()).unwrap();
    assert!(
        matches!(
            &a,
            Action::Exec {
                component: Component::Proxy,
                server: None,
                ..
            }
        ),
        "{a:?}"
    );
    assert_eq!(a.plan(false).summary, "shell in proxy pod of leap/prod");
    let e = resolve(&leap(), &named("hub-gone"), t0()).unwrap_err();
    assert_eq!(
        e,
        ResolveError::NotFound("leap/prod: no pod hub-gone".into())
    );
}

#[test]
fn a_server_that_is_not_running_has_no_shell_and_says_why() {
    let mut f = leap();
    let mut pending = server("prod", "prod", "cy");
    pending.phase = PodPhase::Pending;
    pending.ready = false;
    f.apply(
        FleetUpdate::Pods {
            cluster: hub_id("leap", "prod").cluster,
            delta: Delta::Upsert(pending),
        },
        t0(),
    );
    let e = resolve(&f, &shell_of("cy"), t0()).unwrap_err();
    assert!(matches!(e, ResolveError::NotFound(_)), "{e:?}");
    assert_eq!(
        e.to_string(),
        "server leap/prod/cy: pod jupyter-cy is Pending, not running: there is no process to open a shell in"
    );
    let e = resolve(&f, &shell_of("nobody"), t0()).unwrap_err();
    assert_eq!(e.to_string(), "leap/prod/nobody: no server pod");
    let missing = Request::Exec {
        pod: PodSource::Component(prod(), Component::UserScheduler),
        container: None,
        command: Vec::new(),
    };
    assert_eq!(
        resolve(&f, &missing, t0()).unwrap_err().to_string(),
        "leap/prod: no user-scheduler pod"
    );
}

#[test]
fn empty_commands_and_containers_are_refused_before_anything_is_asked() {
    let mut r = shell_of("ada");
    if let Request::Exec { command, .. } = &mut r {
        *command = vec![" ".into()];
    }
    assert!(matches!(
        resolve(&leap(), &r, t0()),
        Err(ResolveError::Invalid(_))
    ));
    if let Request::Exec {
        command, container, ..
    } = &mut r
    {
        *command = Vec::new();
        *container = Some(String::new());
    }
    assert!(matches!(
        resolve(&leap(), &r, t0()),
        Err(ResolveError::Invalid(_))
    ));
}

#[test]
fn commands_are_quoted_as_typed_and_stripped_of_control_characters() {
    let argv = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(quote_command(&argv(&["echo", "hi"])), "echo hi");
    assert_eq!(
        quote_command(&argv(&["sh", "-c", "exit 3"])),
        "sh -c 'exit 3'"
    );
    assert_eq!(quote_command(&argv(&["echo", "it's"])), r"echo 'it'\''s'");
    assert!(!quote_command(&argv(&["echo", "\u{1b}[2J"])).contains('\u{1b}'));
}
