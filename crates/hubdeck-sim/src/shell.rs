//! The small shell behind pod exec: `echo`, `ls`, `df -h`, `pwd`, `whoami`, `hostname`,
//! `stty size` and `exit [N]`, with `sh: X: not found` (127) for anything else. With a tty it
//! prompts, echoes what is typed and ends lines with CR LF, as a pty does.
//!
//! What a container has depends on its image, as on a real cluster: the notebook and hub
//! images are Debian-based (bash and sh), configurable-http-proxy's is node on alpine (busybox
//! sh, no bash), kube-scheduler's and pause are distroless (no shell at all).

/// The userland of a container image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Userland {
    /// A jupyter notebook image: bash in a conda env, home /home/jovyan.
    Notebook,
    /// JupyterHub's k8s-hub image: Debian, bash, /srv/jupyterhub.
    Hub,
    /// Alpine with busybox: sh and its applets, no bash.
    Busybox,
    /// Distroless: the binary and nothing else.
    Distroless,
}

impl Userland {
    /// The userland of an image reference.
    pub fn of(image: &str) -> Userland {
        let name = image.rsplit('/').next().unwrap_or(image);
        let name = name.split([':', '@']).next().unwrap_or(name);
        match name {
            "configurable-http-proxy" | "traefik" => Userland::Busybox,
            "kube-scheduler" | "pause" => Userland::Distroless,
            "k8s-hub" => Userland::Hub,
            _ => Userland::Notebook,
        }
    }

    /// Whether `argv[0]` is a program the container has (a shell, or one of its commands).
    pub fn has(self, program: &str) -> bool {
        let base = program.rsplit('/').next().unwrap_or(program);
        match self {
            Userland::Distroless => false,
            Userland::Busybox if base == "bash" => false,
            _ => matches!(
                base,
                "sh" | "bash"
                    | "echo"
                    | "ls"
                    | "df"
                    | "pwd"
                    | "whoami"
                    | "hostname"
                    | "stty"
                    | "true"
                    | "false"
            ),
        }
    }

    fn home(self) -> &'static str {
        match self {
            Userland::Notebook | Userland::Distroless => "/home/jovyan",
            Userland::Hub => "/srv/jupyterhub",
            Userland::Busybox => "/srv/configurable-http-proxy",
        }
    }

    fn user(self) -> &'static str {
        match self {
            Userland::Busybox => "nobody",
            _ => "jovyan",
        }
    }

    fn listing(self) -> &'static [&'static str] {
        match self {
            Userland::Notebook | Userland::Distroless => HOME_LS,
            Userland::Hub => &["jupyterhub_config.py", "jupyterhub.sqlite", "z2jh.py"],
            Userland::Busybox => &["bin", "index.js", "lib", "node_modules", "package.json"],
        }
    }
}

/// What a command line did.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Ran {
    pub stdout: String,
    pub stderr: String,
    pub status: i32,
    /// `exit` was called.
    pub exit: bool,
}

/// One shell session in a container.
#[derive(Debug)]
pub(crate) struct Shell {
    pub pod: String,
    pub userland: Userland,
    pub tty: bool,
    pub size: (u16, u16),
    pub last_status: i32,
}

const HOME_LS: &[&str] = &["analysis.ipynb", "data", "environment.yml", "shared"];

fn df(human: bool) -> String {
    if human {
        "Filesystem      Size  Used Avail Use% Mounted on\n\
         overlay          95G   31G   64G  33% /\n\
         tmpfs            64M     0   64M   0% /dev\n\
         /dev/sdb        9.8G  2.1G  7.7G  22% /home/jovyan\n\
         shm              64M     0   64M   0% /dev/shm\n\
         /dev/sda1        95G   31G   64G  33% /etc/hosts\n"
            .to_string()
    } else {
        "Filesystem     1K-blocks     Used Available Use% Mounted on\n\
         overlay         98831908 32468752  66346772  33% /\n\
         tmpfs              65536        0     65536   0% /dev\n\
         /dev/sdb        10218772  2201432   8000956  22% /home/jovyan\n\
         shm                65536        0     65536   0% /dev/shm\n\
         /dev/sda1       98831908 32468752  66346772  33% /etc/hosts\n"
            .to_string()
    }
}

fn unquote(w: &str) -> &str {
    w.strip_prefix('"')
        .and_then(|w| w.strip_suffix('"'))
        .or_else(|| w.strip_prefix('\'').and_then(|w| w.strip_suffix('\'')))
        .unwrap_or(w)
}

/// Whether `argv[0]` is a shell.
pub(crate) fn is_shell(program: &str) -> bool {
    matches!(program.rsplit('/').next(), Some("sh" | "bash"))
}

impl Shell {
    /// The prompt: bash's in jupyter's images (a conda env) and the hub's, busybox's `\w \$`.
    pub fn prompt(&self) -> String {
        match self.userland {
            Userland::Notebook | Userland::Distroless => format!("(base) jovyan@{}:~$ ", self.pod),
            Userland::Hub => format!("jovyan@{}:/srv/jupyterhub$ ", self.pod),
            Userland::Busybox => "/srv/configurable-http-proxy $ ".to_string(),
        }
    }

    /// Runs a line (`;`-separated commands).
    pub fn line(&mut self, line: &str) -> Ran {
        let mut out = Ran::default();
        for cmd in line.split(';') {
            let words: Vec<&str> = cmd.split_whitespace().map(unquote).collect();
            if words.is_empty() {
                continue;
            }
            let r = self.command(&words);
            out.stdout.push_str(&r.stdout);
            out.stderr.push_str(&r.stderr);
            out.status = r.status;
            self.last_status = r.status;
            if r.exit {
                out.exit = true;
                break;
            }
        }
        out
    }

    /// Runs one command given as words.
    pub fn command(&mut self, words: &[&str]) -> Ran {
        let ok = |stdout: String| Ran {
            stdout,
            ..Ran::default()
        };
        let program = words[0].rsplit('/').next().unwrap_or(words[0]);
        let args = &words[1..];
        match program {
            "echo" => ok(format!("{}\n", args.join(" "))),
            "ls" => {
                let sep = if self.tty { "  " } else { "\n" };
                ok(format!("{}\n", self.userland.listing().join(sep)))
            }
            "df" => ok(df(args
                .iter()
                .any(|a| a.starts_with('-') && a.contains('h')))),
            "pwd" => ok(format!("{}\n", self.userland.home())),
            "whoami" => ok(format!("{}\n", self.userland.user())),
            "hostname" => ok(format!("{}\n", self.pod)),
            "stty" if args.first() == Some(&"size") => {
                ok(format!("{} {}\n", self.size.1, self.size.0))
            }
            "true" => ok(String::new()),
            "false" => Ran {
                status: 1,
                ..Ran::default()
            },
            "exit" => {
                let status = match args.first() {
                    Some(n) => n.parse::<i32>().map_or(2, |n| n & 0xff),
                    None => self.last_status,
                };
                Ran {
                    status,
                    exit: true,
                    ..Ran::default()
                }
            }
            "sh" | "bash" if args.first() == Some(&"-c") => {
                let script = args[1..].join(" ");
                let mut r = self.line(&script);
                r.exit = false;
                r
            }
            other => Ran {
                stderr: format!("sh: {other}: not found\n"),
                status: 127,
                ..Ran::default()
            },
        }
    }

    /// Text for the terminal: a pty turns LF into CR LF.
    pub fn to_terminal(&self, s: &str) -> String {
        if self.tty {
            s.replace('\n', "\r\n")
        } else {
            s.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell() -> Shell {
        Shell {
            pod: "jupyter-ada".into(),
            userland: Userland::Notebook,
            tty: false,
            size: (80, 24),
            last_status: 0,
        }
    }

    #[test]
    fn commands_answer_as_a_shell_does() {
        let mut sh = shell();
        assert_eq!(sh.line("echo hi there").stdout, "hi there\n");
        assert_eq!(sh.line("echo 'quoted'").stdout, "quoted\n");
        assert!(sh.line("ls").stdout.contains("analysis.ipynb\n"));
        assert!(sh.line("df -h").stdout.starts_with("Filesystem      Size"));
        let r = sh.line("frobnicate --now");
        assert_eq!(
            (r.stderr.as_str(), r.status),
            ("sh: frobnicate: not found\n", 127)
        );
        let r = sh.line("exit");
        assert_eq!(
            (r.status, r.exit),
            (127, true),
            "exit keeps the last status"
        );
        let r = sh.line("echo a; exit 3; echo b");
        assert_eq!((r.stdout.as_str(), r.status, r.exit), ("a\n", 3, true));
        assert_eq!(sh.command(&["sh", "-c", "echo", "x"]).stdout, "x\n");
    }

    #[test]
    fn images_have_the_shells_their_base_has() {
        let chp = Userland::of("quay.io/jupyterhub/configurable-http-proxy:4.6.3");
        assert!(chp.has("sh") && chp.has("/bin/sh") && !chp.has("bash"));
        let sched = Userland::of("registry.k8s.io/kube-scheduler:v1.30.8");
        assert!(!sched.has("sh") && !sched.has("bash"));
        let hub = Userland::of("quay.io/jupyterhub/k8s-hub:4.1.0");
        assert!(hub.has("bash") && hub.has("sh"));
        assert!(Userland::of("pangeo/pangeo-notebook:2024.11.11").has("bash"));
    }
}
